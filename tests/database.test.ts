import { createDatabase, isUniqueViolation, type Database } from '../src/db';
import { createTestDatabaseUrl } from './helpers/test-app';
import { itOnSqlite, testDatabaseKind } from './helpers/test-database';

let db: Database;
beforeAll(async () => {
  db = createDatabase({ databaseUrl: await createTestDatabaseUrl() });
});
afterAll(() => db.destroy());

const pragma = async (name: string) => {
  const [row] = await db.raw(`PRAGMA ${name}`);
  return Object.values(row as object)[0];
};

/** The columns of every index on a table, whatever the database. */
async function indexedColumns(table: string): Promise<string[]> {
  if (testDatabaseKind === 'postgres') {
    const { rows } = await db.raw('select indexdef from pg_indexes where tablename = ?', [table]);
    return rows.map((row: { indexdef: string }) => row.indexdef);
  }
  if (testDatabaseKind === 'mysql') {
    const [rows] = await db.raw(`SHOW INDEX FROM ${table}`);
    return rows.map((row: { Column_name: string }) => row.Column_name);
  }
  const indexes: { name: string }[] = await db.raw(`PRAGMA index_list('${table}')`);
  return Promise.all(
    indexes.map(async ({ name }) => (await db.raw(`PRAGMA index_info('${name}')`))[0]?.name),
  );
}

describe('the database', () => {
  itOnSqlite(
    'runs every SQLite connection in WAL mode with NORMAL sync, foreign keys, a busy timeout and small checkpoints',
    async () => {
      expect(await pragma('journal_mode')).toBe('wal');
      expect(await pragma('synchronous')).toBe(1); // NORMAL
      expect(await pragma('foreign_keys')).toBe(1);
      expect(await pragma('busy_timeout')).toBe(100);
      expect(await pragma('wal_autocheckpoint')).toBe(100);
    },
  );

  it('has the sessions table with an index on its expiry column', async () => {
    expect((await indexedColumns('sessions')).join(' ')).toMatch(/expired/);
  });

  it('enforces one account per normalised username in the schema itself', async () => {
    await db('users').insert({ username: 'unique', password_hash: 'x' });
    const error = await db('users')
      .insert({ username: 'unique', password_hash: 'y' })
      .catch((caught: unknown) => caught);
    expect(isUniqueViolation(error)).toBe(true);
  });

  it('compares usernames exactly: accents and case are the normaliser’s business', async () => {
    await db('users').insert({ username: 'émile', password_hash: 'x' });
    await db('users').insert({ username: 'emile', password_hash: 'x' });
    expect(await db('users').where({ username: 'emile' })).toHaveLength(1);
  });

  it('migrates down and up again cleanly', async () => {
    await db.migrate.rollback(undefined, true);
    expect(await db.schema.hasTable('users')).toBe(false);
    expect(await db.schema.hasTable('sessions')).toBe(false);
    await db.migrate.latest();
    expect(await db.schema.hasTable('users')).toBe(true);
    expect(await db.schema.hasTable('sessions')).toBe(true);
  });
});
