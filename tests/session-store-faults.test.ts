import type { SessionData } from 'express-session';
import { createDatabase, type Database as Knex } from '../src/db';
import { up as createTable } from '../migrations/20261123000200_create_sessions';
import { up as addOwnerColumns } from '../migrations/20261125000200_sessions_know_their_owner';
import { up as addSignInMethod } from '../migrations/20261206000300_sessions_sign_in_method';
import { createLogger } from '../src/logger';
import {
  KnexSessionStore,
  sessionTimestamp,
  SessionStoreUnavailableError,
  SessionTooLargeError,
} from '../src/session-store/knex-store';
import { Browser } from './helpers/browser';
import { countRows, itOnSqlite, testDatabaseKind } from './helpers/test-database';
import {
  createTestApp,
  createTestDatabaseUrl,
  register,
  sessionRowOf,
  type TestApp,
} from './helpers/test-app';

const logger = createLogger({ logLevel: 'silent' });

/** The sessions table as the migrations make it. */
async function createSessionsTable(db: Knex): Promise<void> {
  await createTable(db);
  await addOwnerColumns(db);
  await addSignInMethod(db);
}

/** Resolves with every call of a store callback made within a short while. */
function callsOf<T>(start: (callback: (err?: unknown, value?: T) => void) => unknown) {
  const calls: [unknown, T | undefined][] = [];
  return new Promise<typeof calls>((resolve) => {
    start((err, value) => {
      calls.push([err, value]);
      // Wait a little longer: a second call would show up here.
      setTimeout(() => resolve(calls), 50);
    });
  });
}

const session = (extra: object = {}): SessionData =>
  ({
    cookie: { originalMaxAge: 60_000, maxAge: 60_000, expires: new Date(Date.now() + 60_000) },
    ...extra,
  }) as unknown as SessionData;

describe('the session store with a failing database', () => {
  let db: Knex;
  let store: KnexSessionStore;
  beforeEach(async () => {
    db = createDatabase({ databaseUrl: await createTestDatabaseUrl() });
    store = new KnexSessionStore({ knex: db, logger, cleanupInterval: 0, queryTimeoutMs: 300 });
  });
  afterEach(async () => {
    store.stop();
    await db.destroy().catch(() => undefined);
  });

  it('calls back exactly once, with a 503 error, when the table is gone', async () => {
    await db.schema.dropTable('sessions');
    for (const call of [
      (cb: (err?: unknown) => void) => store.get('abc', cb),
      (cb: (err?: unknown) => void) => store.set('abc', session(), cb),
      (cb: (err?: unknown) => void) => store.destroy('abc', cb),
    ]) {
      const calls = await callsOf(call);
      expect(calls).toHaveLength(1);
      expect(calls[0]?.[0]).toBeInstanceOf(SessionStoreUnavailableError);
      expect((calls[0]?.[0] as SessionStoreUnavailableError).status).toBe(503);
    }
  });

  it('recovers by itself when the table comes back', async () => {
    await db.schema.dropTable('sessions');
    expect((await callsOf((cb) => store.set('abc', session(), cb)))[0]?.[0]).toBeDefined();
    await createSessionsTable(db);
    expect((await callsOf((cb) => store.set('abc', session({ n: 1 }), cb)))[0]?.[0]).toBeNull();
    const [found] = await callsOf<SessionData | null>((cb) => store.get('abc', cb));
    expect(found?.[0]).toBeNull();
    expect(found?.[1]).toMatchObject({ n: 1 });
  });

  itOnSqlite('answers within its time limit when the database does not answer at all', async () => {
    // The pool's only connection is taken by a transaction that never finishes.
    const stuck = await db.transaction();
    try {
      const calls = await callsOf((cb) => store.get('abc', cb));
      expect(calls).toHaveLength(1);
      expect(calls[0]?.[0]).toBeInstanceOf(SessionStoreUnavailableError);
    } finally {
      await stuck.rollback();
    }
  });

  it('does not call a throwing callback a second time, and nothing escapes', async () => {
    let calls = 0;
    store.get('abc', () => {
      calls += 1;
      throw new Error('a callback that throws');
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(calls).toBe(1);
  });

  it('never lets its promises reject, whatever happens', async () => {
    await db.destroy();
    await expect(store.get('abc', () => undefined)).resolves.toBeNull();
    await expect(store.touch('abc', session(), () => undefined)).resolves.toBeUndefined();
    await expect(store.destroy('abc', () => undefined)).resolves.toBe(0);
  });

  it('refuses a session larger than its limit, with a clear error, and writes nothing', async () => {
    const small = new KnexSessionStore({
      knex: db,
      logger,
      cleanupInterval: 0,
      maxSessionBytes: 1024,
    });
    const [call] = await callsOf((cb) => small.set('big', session({ blob: 'x'.repeat(2000) }), cb));
    const err = call?.[0];
    expect(err).toBeInstanceOf(SessionTooLargeError);
    expect(String((err as Error).message)).toMatch(/limit is 1024 bytes/);
    expect(await db('sessions').where({ sid: 'big' })).toHaveLength(0);
    small.stop();
  });
});

describe('expired-session cleanup', () => {
  it('deletes expired rows in batches through the expiry index and keeps live ones', async () => {
    const db = createDatabase({ databaseUrl: await createTestDatabaseUrl() });
    const store = new KnexSessionStore({
      knex: db,
      logger,
      cleanupInterval: 0,
      cleanupBatchSize: 500,
    });
    try {
      const row = (i: number, offset: number) => ({
        sid: `s${i}`,
        sess: '{"cookie":{}}',
        expired: sessionTimestamp(db, Date.now() + offset),
      });
      const rows = [
        ...Array.from({ length: 2_600 }, (_, i) => row(i, -60_000 - i)),
        ...Array.from({ length: 100 }, (_, i) => row(10_000 + i, 60_000)),
      ];
      for (let i = 0; i < rows.length; i += 400)
        await db('sessions').insert(rows.slice(i, i + 400));

      const statements: string[] = [];
      db.on('query', (query: { sql: string }) => statements.push(query.sql));
      expect(await store.cleanup()).toBe(2_600);
      expect(await countRows(db, 'sessions')).toBe(100);
      // Six batches of at most 500: no statement deletes the whole backlog at once.
      expect(statements.filter((sql) => sql.startsWith('delete'))).toHaveLength(6);

      if (testDatabaseKind !== 'sqlite') return;
      const plan: { detail: string }[] = await db.raw(
        'EXPLAIN QUERY PLAN SELECT sid FROM sessions WHERE expired <= ? ORDER BY expired LIMIT 500',
        [new Date().toISOString()],
      );
      expect(plan.map((step) => step.detail).join(' ')).toMatch(
        /USING (COVERING )?INDEX sessions_expired_index/,
      );
    } finally {
      store.stop();
      await db.destroy();
    }
  });
});

describe('the app when the session table fails', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp();
  });
  afterEach(() => t.close());

  it('answers 503 with Retry-After (JSON for JSON clients), then recovers by itself', async () => {
    const browser = new Browser(t.app);
    await register(browser, 'patient');
    await t.db.schema.renameTable('sessions', 'sessions_away');

    const page = await browser.get('/dashboard');
    expect(page.status).toBe(503);
    expect(page.headers['retry-after']).toBe('5');
    expect(page.text).toContain('Temporarily unavailable');
    expect(page.text).not.toMatch(/sessions_away|select|sqlite/i);
    const api = await browser.get('/dashboard', { Accept: 'application/json' });
    expect(api.status).toBe(503);
    expect(api.body).toEqual({ error: expect.stringContaining('try again') });

    await t.db.schema.renameTable('sessions_away', 'sessions');
    expect((await browser.get('/dashboard')).status).toBe(200);
  });

  it('starts even when the table is missing, and works once it exists', async () => {
    await t.db.schema.dropTable('sessions');
    const fresh = await createTestApp({}, { databaseUrl: t.databaseUrl });
    try {
      const browser = new Browser(fresh.app);
      expect((await browser.get('/')).status).toBe(200);
      const failed = await browser.submit('/register', {
        username: 'early',
        password: 'a long and unremarkable passphrase',
      });
      expect(failed.status).toBe(503);

      await createSessionsTable(fresh.db);
      await register(new Browser(fresh.app), 'later');
    } finally {
      await fresh.close();
    }
  });

  itOnSqlite(
    'answers 503 quickly while another connection holds the write lock, then recovers',
    async () => {
      const browser = new Browser(t.app);
      await register(browser, 'locked_out');
      // Another process writing: its transaction holds SQLite's one write lock.
      const other = createDatabase({ databaseUrl: t.databaseUrl });
      const lock = await other.transaction();
      await lock('rate_limits').insert({ key: 'held', points: 1 });
      try {
        // Reading still works in WAL mode; a login needs to write, and waits 100 ms at most.
        expect((await browser.get('/dashboard')).status).toBe(200);
        const login = await new Browser(t.app).submit('/login', {
          username: 'locked_out',
          password: 'a long and unremarkable passphrase',
        });
        expect(login.status).toBe(503);
      } finally {
        await lock.rollback();
        await other.destroy();
      }
      const retry = await new Browser(t.app).submit('/login', {
        username: 'locked_out',
        password: 'a long and unremarkable passphrase',
      });
      expect(retry.status).toBe(303);
    },
  );

  it('writes the expiry forward only when it moves by a meaningful amount', async () => {
    const quiet = await createTestApp({ HISTORY_LENGTH: '0' }, { databaseUrl: t.databaseUrl });
    try {
      const browser = new Browser(quiet.app);
      await register(browser, 'touchy');
      const cookie = browser.cookie('sid');
      const expiry = async () => String((await sessionRowOf(quiet.db, cookie))?.expired);
      const afterLogin = await expiry();

      // Seconds after login: the expiry would move by seconds, so the row is not written.
      for (let i = 0; i < 3; i++) expect((await browser.get('/dashboard')).status).toBe(200);
      expect(await expiry()).toBe(afterLogin);

      // Ten minutes of the thirty have passed as far as the row is concerned.
      await quiet
        .db('sessions')
        .where({ sid: (await sessionRowOf(quiet.db, cookie))?.sid })
        .update({ expired: sessionTimestamp(quiet.db, Date.now() + 20 * 60_000) });
      expect((await browser.get('/dashboard')).status).toBe(200);
      expect(Date.parse(await expiry())).toBeGreaterThan(Date.now() + 29 * 60_000);
    } finally {
      await quiet.close();
    }
  });
});
