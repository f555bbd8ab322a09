import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knex, { type Knex } from 'knex';
import { createAccountTokens } from '../src/accounts/account-tokens';
import { knexConfig, isMySQL } from '../src/db';
import { paths } from '../src/paths';
import { Browser } from './helpers/browser';
import { runCli } from './helpers/cli';
import { sessionIdOf } from './helpers/cookies';
import { createTestApp, register, type TestApp } from './helpers/test-app';
import { countRows, itOnSqlite } from './helpers/test-database';
import { addPasskey, passkeyBrowser } from './helpers/passkeys';
import { SoftwareAuthenticator } from './helpers/software-authenticator';
import { turnOnTwoFactor } from './helpers/two-factor';

/** Every table a signed-in user has rows in, the test's own child table included. */
const TABLES = [
  'users',
  'sessions',
  'account_tokens',
  'rate_limits',
  'totp_authenticators',
  'recovery_codes',
  'passkeys',
  'notes',
];

/**
 * A signed-in user with a row in every table: a session with its owner, a reset link, an
 * authenticator app and its recovery codes, a passkey, the throttle's counts, and a table of the test's own that hangs off users with ON DELETE CASCADE,
 * as an app built on this one would.
 */
async function populated(t: TestApp) {
  const browser = passkeyBrowser(t.app);
  await register(browser, 'keeper');
  await turnOnTwoFactor(browser);
  expect((await addPasskey(browser, new SoftwareAuthenticator())).res.status).toBe(303);
  const { id } = await t.db('users').where({ username: 'keeper' }).first();
  await createAccountTokens(t.db).issue(id, 'reset-password', { minutes: 30 });
  await t.db.schema.createTable('notes', (table) => {
    table.increments('id');
    const userId = table.integer('user_id').notNullable();
    if (isMySQL(t.db)) userId.unsigned();
    userId.references('id').inTable('users').onDelete('CASCADE');
    table.string('text');
  });
  await t.db('notes').insert([
    { user_id: id, text: 'first' },
    { user_id: id, text: 'second' },
  ]);
  return { browser, sid: sessionIdOf(String(browser.cookie('sid'))) };
}

/** Row counts of the tables that exist now. */
async function counts(db: Knex): Promise<Record<string, number>> {
  const present: Record<string, number> = {};
  for (const table of TABLES) {
    if (await db.schema.hasTable(table)) present[table] = await countRows(db, table);
  }
  return present;
}

/** The session row behind `sid`, and whether its user is still there. */
async function sessionLoadsItsUser(db: Knex, sid: string): Promise<boolean> {
  const row = await db('sessions').where({ sid }).first();
  if (!row) return false;
  const sess = typeof row.sess === 'string' ? JSON.parse(row.sess) : row.sess;
  return (await db('users').where({ id: sess.userId }).first()) !== undefined;
}

const completed = async (db: Knex) => (await db.migrate.list())[0] as { name: string }[];

describe('migrations keep every row they do not own', () => {
  let t: TestApp;
  afterEach(() => t?.close());

  it('down to the migration that created users and back up, one at a time: nothing else is lost', async () => {
    t = await createTestApp();
    const { sid } = await populated(t);
    const before = await counts(t.db);
    expect(Object.values(before).every((n) => n > 0)).toBe(true);

    // A table keeps its rows at every step, unless a step drops it (the migration that created
    // it owns it): from then on it is no longer compared.
    const intact = new Set(TABLES);
    const check = async (step: string) => {
      const now = await counts(t.db);
      for (const table of [...intact]) {
        if (!(table in now)) intact.delete(table);
        else expect([step, table, now[table]]).toEqual([step, table, before[table]]);
      }
      if (intact.has('sessions'))
        expect([step, await sessionLoadsItsUser(t.db, sid)]).toEqual([step, true]);
    };

    const first = (await completed(t.db))[0]?.name;
    expect(first).toMatch(/create_users/);
    while ((await completed(t.db)).length > 1) {
      const [, [name]] = await t.db.migrate.down();
      await check(`down ${name}`);
    }
    for (;;) {
      const [, applied] = await t.db.migrate.up();
      if (applied.length === 0) break;
      await check(`up ${applied[0]}`);
    }
    // users and the child table never lost a row, whatever was rebuilt on the way.
    expect([...intact].sort()).toEqual(['notes', 'users']);
  }, 60_000);
});

describe('a migration of your own (the README’s display_name)', () => {
  let t: TestApp;
  let dir: string;
  let migrator: Knex;
  beforeEach(async () => {
    t = await createTestApp();
    // The project's migrations and one more, as `npm run migrate:make` would leave them.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
    for (const file of fs.readdirSync(paths.migrations)) {
      fs.copyFileSync(path.join(paths.migrations, file), path.join(dir, file));
    }
    migrator = knex(knexConfig(t.databaseUrl, dir));
  });
  afterEach(async () => {
    await migrator.destroy();
    await t.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A migration file written the way knex's documentation shows, with nothing to remember. */
  const write = (name: string, up: string, down: string) =>
    fs.writeFileSync(
      path.join(dir, `20991231000000_${name}.ts`),
      `import type { Knex } from 'knex';\n\n` +
        `export async function up(knex: Knex): Promise<void> {\n  ${up}\n}\n\n` +
        `export async function down(knex: Knex): Promise<void> {\n  ${down}\n}\n`,
    );

  it('adding display_name, rolling it back (a dropped column) and adding it again loses nothing and signs nobody out', async () => {
    const { browser, sid } = await populated(t);
    const before = await counts(t.db);
    write(
      'add_display_name',
      `await knex.schema.alterTable('users', (table) => table.string('display_name', 60).nullable());`,
      `await knex.schema.alterTable('users', (table) => table.dropColumn('display_name'));`,
    );
    for (const step of ['latest', 'down', 'latest'] as const) {
      if (step === 'latest') await migrator.migrate.latest();
      else await migrator.migrate.down();
      expect([step, await counts(t.db)]).toEqual([step, before]);
      expect([step, await sessionLoadsItsUser(t.db, sid)]).toEqual([step, true]);
      expect([step, (await browser.get('/dashboard')).status]).toEqual([step, 200]);
      expect(await t.db.schema.hasColumn('users', 'display_name')).toBe(step === 'latest');
    }
  }, 30_000);

  itOnSqlite(
    'a migration that would leave a reference broken fails, says which, and changes nothing',
    async () => {
      await populated(t);
      const before = await counts(t.db);
      const columns = Object.keys(await t.db('users').columnInfo()).sort();
      // Rebuilds users (a dropped column), then deletes the user whose rows other tables hold.
      write(
        'breaks_references',
        `await knex.schema.alterTable('users', (table) => table.dropColumn('pending_email'));\n  await knex('users').delete();`,
        `return;`,
      );
      await expect(migrator.migrate.latest()).rejects.toThrow(
        /breaks_references.*would leave \d+ row\(s\) referring to rows that do not exist \(.*→ users/,
      );
      expect(await counts(t.db)).toEqual(before);
      expect(Object.keys(await t.db('users').columnInfo()).sort()).toEqual(columns);
      const tables: { name: string }[] = await t.db.raw(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '_knex_temp%'",
      );
      expect(tables).toEqual([]);
      expect((await completed(migrator)).at(-1)?.name).not.toMatch(/breaks_references/);
    },
  );
});

describe('npm run db:reset', () => {
  const reset = (databaseUrl: string, env: Record<string, string> = {}) =>
    runCli('reset-database.ts', [], {
      NODE_ENV: 'development',
      BCRYPT_COST: '4',
      DATABASE_URL: databaseUrl,
      ...env,
    });

  it('empties a development database, migrates it again and seeds the demo account', async () => {
    const t = await createTestApp();
    try {
      await register(new Browser(t.app), 'gone_after_reset');
      const result = reset(t.databaseUrl);
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(/\d+ migrations rolled back and \d+ applied/);
      expect(await t.db('users').pluck('username')).toEqual(['demo']);
      expect(await countRows(t.db, 'sessions')).toBe(0);
    } finally {
      await t.close();
    }
  }, 30_000);

  it('refuses anywhere but development, and changes nothing', async () => {
    const t = await createTestApp();
    try {
      await register(new Browser(t.app), 'kept_in_production');
      const result = reset(t.databaseUrl, {
        NODE_ENV: 'production',
        BCRYPT_COST: '10',
        SESSION_SECRETS: 'a-production-secret-that-is-long-enough-000000',
        PUBLIC_URL: 'https://site.example',
      });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('refused with NODE_ENV=production');
      expect(await t.db('users').pluck('username')).toEqual(['kept_in_production']);
    } finally {
      await t.close();
    }
  }, 30_000);
});
