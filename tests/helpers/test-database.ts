import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knex from 'knex';
import { createDatabase, databaseKind, knexConfig, type Database } from '../../src/db';

/**
 * Which database the suite runs on. Unset: a SQLite file per test file. Set to a PostgreSQL or
 * MySQL/MariaDB server URL (npm run test:pg, test:mysql): a fresh database on that server per
 * test file, dropped when the file is done.
 */
const serverUrl = process.env.TEST_DATABASE_URL;
export const testDatabaseKind = serverUrl ? databaseKind(serverUrl) : 'sqlite';

/** `it` where the test is about SQLite itself (pragmas, file locks), skipped elsewhere. */
export const itOnSqlite = testDatabaseKind === 'sqlite' ? it : it.skip;

const created: string[] = [];

/** A fresh, migrated database for one test file. */
export async function createTestDatabaseUrl(): Promise<string> {
  let databaseUrl: string;
  if (!serverUrl) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'session-starter-'));
    databaseUrl = `sqlite:${path.join(dir, 'test.sqlite3')}`;
  } else {
    const name = `sst_${randomBytes(6).toString('hex')}`;
    const admin = knex(knexConfig(serverUrl));
    try {
      await admin.raw(`CREATE DATABASE ${name}`);
    } finally {
      await admin.destroy();
    }
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
  }
  created.push(databaseUrl);
  const db = createDatabase({ databaseUrl });
  await db.migrate.latest();
  await db.destroy();
  return databaseUrl;
}

/** Removes every database this test file created (registered in jest.setup.ts). */
export async function dropTestDatabases(): Promise<void> {
  for (const databaseUrl of created.splice(0)) {
    if (!serverUrl) {
      const file = databaseUrl.slice('sqlite:'.length);
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
      continue;
    }
    const name = new URL(databaseUrl).pathname.slice(1);
    const admin = knex(knexConfig(serverUrl));
    try {
      // FORCE: a connection a test left open must not keep the database alive.
      await admin.raw(
        testDatabaseKind === 'postgres'
          ? `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`
          : `DROP DATABASE IF EXISTS ${name}`,
      );
    } finally {
      await admin.destroy();
    }
  }
}

/** A table's row count as a number (PostgreSQL's count() is a bigint string). */
export async function countRows(db: Database, table: string): Promise<number> {
  const [row] = await db(table).count({ n: '*' });
  return Number(row?.n);
}
