import { createDatabase, type Database } from '../src/db';
import { createTestDatabaseUrl } from './helpers/test-app';

let db: Database;
beforeAll(async () => {
  db = createDatabase({ databaseUrl: await createTestDatabaseUrl() });
});
afterAll(() => db.destroy());

const pragma = async (name: string) => {
  const [row] = await db.raw(`PRAGMA ${name}`);
  return Object.values(row as object)[0];
};

describe('the SQLite database', () => {
  it('runs every connection in WAL mode with NORMAL sync, foreign keys and a busy timeout', async () => {
    expect(await pragma('journal_mode')).toBe('wal');
    expect(await pragma('synchronous')).toBe(1); // NORMAL
    expect(await pragma('foreign_keys')).toBe(1);
    expect(await pragma('busy_timeout')).toBe(100);
  });

  it('has the sessions table with an index on its expiry column', async () => {
    const indexes: { name: string }[] = await db.raw("PRAGMA index_list('sessions')");
    const columns = await Promise.all(
      indexes.map(async ({ name }) => (await db.raw(`PRAGMA index_info('${name}')`))[0]?.name),
    );
    expect(columns).toContain('expired');
  });

  it('enforces one account per normalised username in the schema itself', async () => {
    await db('users').insert({ username: 'unique', password_hash: 'x' });
    await expect(
      db('users').insert({ username: 'unique', password_hash: 'y' }),
    ).rejects.toMatchObject({
      code: 'SQLITE_CONSTRAINT_UNIQUE',
    });
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
