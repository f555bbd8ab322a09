import http from 'node:http';
import type { AddressInfo } from 'node:net';
import session, { type SessionData } from 'express-session';
import { createDatabase, type Database } from '../src/db';
import { createLogger } from '../src/logger';
import { KnexSessionStore, sessionTimestamp } from '../src/session-store/knex-store';
import { createTestDatabaseUrl } from './helpers/test-app';

/**
 * The express-session Store contract, as the published suites of other stores check it
 * (express-session's MemoryStore tests, connect-session-knex, connect-pg-simple,
 * express-mysql-session, better-sqlite3-session-store, connect-redis), called directly the way
 * any caller may, not only express-session. Where this store differs on purpose (a size limit,
 * touch() writing only past a threshold, no resurrection of a row that was deleted while its
 * session was in use), docs/security.md says so and session-store-faults.test.ts covers it.
 */

const logger = createLogger({ logLevel: 'silent' });

let db: Database;
let store: KnexSessionStore;
beforeAll(async () => {
  db = createDatabase({ databaseUrl: await createTestDatabaseUrl() });
  store = new KnexSessionStore({ knex: db, logger, cleanupInterval: 0 });
});
afterAll(async () => {
  store.stop();
  await db.destroy();
});
beforeEach(() => db('sessions').delete());

type Call = [err: unknown, value?: unknown];

/** The arguments of the one callback a store method makes. */
function callback(start: (done: (...args: Call) => void) => unknown): Promise<Call> {
  return new Promise((resolve) => {
    start((...args) => resolve(args));
  });
}

const inAMinute = () => ({
  originalMaxAge: 60_000,
  maxAge: 60_000,
  expires: new Date(Date.now() + 60_000).toISOString(),
});

const plain = (extra: object = {}): SessionData =>
  ({ cookie: inAMinute(), ...extra }) as unknown as SessionData;

/** The row's expiry in ms, or NaN when there is no row. */
async function rowExpiry(sid: string): Promise<number> {
  const row = await db('sessions').where({ sid }).first();
  if (!row) return Number.NaN;
  const value: string | Date = row.expired;
  return value instanceof Date
    ? value.getTime()
    : Date.parse(/[zZ]$/.test(value) ? value : `${value.replace(' ', 'T')}Z`);
}

describe('the session store contract', () => {
  it('get() gives back what set() stored: deep-equal, no hidden keys, copies cleanly', async () => {
    const stored = plain({ visits: 7, history: ['/a', '/b'], nested: { n: 1 } });
    expect(await callback((done) => store.set('s1', stored, done))).toEqual([null]);
    const [err, loaded] = await callback((done) => store.get('s1', done));
    expect(err).toBeNull();
    expect(loaded).toEqual(JSON.parse(JSON.stringify(stored)));
    expect(Object.getOwnPropertySymbols(loaded)).toEqual([]);
    expect({ ...(loaded as object) }).toStrictEqual(JSON.parse(JSON.stringify(stored)));
  });

  it('get() of an unknown id calls back (null, null)', async () => {
    expect(await callback((done) => store.get('nobody', done))).toEqual([null, null]);
  });

  it('every successful callback passes null, not undefined, as its error', async () => {
    expect(await callback((done) => store.set('s2', plain(), done))).toEqual([null]);
    expect((await callback((done) => store.touch('s2', plain(), done)))[0]).toBeNull();
    expect((await callback((done) => store.length(done)))[0]).toBeNull();
    expect((await callback((done) => store.all(done)))[0]).toBeNull();
    expect((await callback((done) => store.destroy('s2', done)))[0]).toBeNull();
    expect((await callback((done) => store.clear(done)))[0]).toBeNull();
  });

  it('destroy() removes the session; get() then finds nothing', async () => {
    await callback((done) => store.set('s3', plain(), done));
    await callback((done) => store.destroy('s3', done));
    expect(await callback((done) => store.get('s3', done))).toEqual([null, null]);
  });

  it('length() and all() count the same live sessions that get() finds, never expired rows', async () => {
    await callback((done) => store.set('live1', plain(), done));
    await callback((done) => store.set('live2', plain(), done));
    await db('sessions').insert({
      sid: 'old',
      sess: JSON.stringify(plain()),
      expired: sessionTimestamp(db, Date.now() - 1000),
    });
    expect(await callback((done) => store.get('old', done))).toEqual([null, null]);
    expect(await callback((done) => store.length(done))).toEqual([null, 2]);
    const [, all] = await callback((done) => store.all(done));
    expect(all).toHaveLength(2);
  });

  it('clear() empties the store', async () => {
    await callback((done) => store.set('c1', plain(), done));
    await callback((done) => store.clear(done));
    expect(await callback((done) => store.length(done))).toEqual([null, 0]);
  });

  it('honours cookie.expires when the session has no maxAge (a plain object)', async () => {
    const expires = new Date(Date.now() + 5 * 60_000);
    const sess = { cookie: { expires: expires.toISOString() } } as unknown as SessionData;
    expect(await callback((done) => store.set('e1', sess, done))).toEqual([null]);
    expect(Math.abs((await rowExpiry('e1')) - expires.getTime())).toBeLessThan(1000);
  });

  it('keeps an expiry to the millisecond, on every database (MySQL’s DATETIME(3))', async () => {
    const expires = '2030-01-01T00:00:00.123Z';
    const sess = { cookie: { expires } } as unknown as SessionData;
    expect(await callback((done) => store.set('ms', sess, done))).toEqual([null]);
    expect(await rowExpiry('ms')).toBe(Date.parse(expires));
  });

  it('stores a session without a cookie for a day, instead of throwing', async () => {
    const sess = { visits: 1 } as unknown as SessionData;
    const [err] = await callback((done) => store.set('nocookie', sess, done));
    expect(err).toBeNull();
    const expiry = await rowExpiry('nocookie');
    expect(expiry).toBeGreaterThan(Date.now() + 23 * 3_600_000);
  });

  it('a maxAge that is not a number falls back to cookie.expires, instead of throwing', async () => {
    const expires = new Date(Date.now() + 10 * 60_000);
    const sess = {
      cookie: { maxAge: Number.NaN, expires: expires.toISOString() },
    } as unknown as SessionData;
    expect(await callback((done) => store.set('nan', sess, done))).toEqual([null]);
    expect(Math.abs((await rowExpiry('nan')) - expires.getTime())).toBeLessThan(1000);
  });

  it('touch() without a session calls back with an error instead of throwing', async () => {
    const [err] = await callback((done) => store.touch('t0', null as unknown as SessionData, done));
    expect(err).toBeInstanceOf(TypeError);
  });

  it('touch() of an id with no row writes nothing, and a later set() of the same object is stored', async () => {
    const sess = plain({ visits: 9 });
    await callback((done) => store.touch('t1', sess, done));
    expect(await rowExpiry('t1')).toBeNaN();
    expect(await callback((done) => store.set('t1', sess, done))).toEqual([null]);
    const [, loaded] = await callback((done) => store.get('t1', done));
    expect(loaded).toMatchObject({ visits: 9 });
  });

  it('touch() moves an existing row’s expiry forward', async () => {
    const sess = plain();
    await callback((done) => store.set('t2', sess, done));
    await db('sessions')
      .where({ sid: 't2' })
      .update({ expired: sessionTimestamp(db, Date.now() + 1000) });
    await callback((done) => store.touch('t2', sess, done));
    expect(await rowExpiry('t2')).toBeGreaterThan(Date.now() + 50_000);
  });

  it('accepts connect-session-knex’s own option names, and refuses the ones it cannot honour', () => {
    const cleanupErrors: unknown[] = [];
    const upstream = new KnexSessionStore({
      knex: db,
      logger,
      tableName: 'sessions',
      cleanupInterval: 0,
      onDbCleanupError: (error) => cleanupErrors.push(error),
    });
    upstream.stop();
    expect(
      () =>
        new KnexSessionStore({
          knex: db,
          logger,
          createTable: true,
        } as unknown as ConstructorParameters<typeof KnexSessionStore>[0]),
    ).toThrow(/createTable/);
    expect(
      () =>
        new KnexSessionStore({
          knex: db,
          logger,
          sidFieldName: 'id',
        } as unknown as ConstructorParameters<typeof KnexSessionStore>[0]),
    ).toThrow(/sidFieldName/);
  });
});

describe('the session store’s cleanup option names', () => {
  it('calls onDbCleanupError when a scheduled cleanup fails, as connect-session-knex does', async () => {
    const own = createDatabase({ databaseUrl: await createTestDatabaseUrl() });
    await own.schema.renameTable('sessions', 'sessions_away');
    const failures: unknown[] = [];
    const reported = new Promise<void>((resolve) => {
      const scheduled = new KnexSessionStore({
        knex: own,
        logger,
        cleanupInterval: 10,
        onDbCleanupError: (error) => {
          failures.push(error);
          scheduled.stop();
          resolve();
        },
      });
    });
    try {
      await reported;
      expect(failures).toHaveLength(1);
    } finally {
      await own.destroy();
    }
  });
});

describe('under express-session on a plain node http server, with no Express', () => {
  let server: http.Server;
  let url: string;
  const errors: unknown[] = [];
  beforeAll(async () => {
    // The way express-session's own tests use a store: its middleware on http.createServer, so
    // the store sees node's own request (no req.get(), no req.ip).
    const middleware = session({
      store,
      secret: 'a secret for the plain http server test',
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: 60_000 },
    });
    server = http.createServer((req, res) => {
      middleware(req as never, res as never, (error?: unknown) => {
        if (error) {
          errors.push(error);
          res.statusCode = 500;
          return res.end('error');
        }
        const own = req as unknown as {
          session: SessionData & { views?: number; destroy(cb: (e?: unknown) => void): void };
        };
        if (req.url === '/destroy') {
          own.session.destroy((destroyError) => res.end(destroyError ? 'error' : 'destroyed'));
          return;
        }
        own.session.views = (own.session.views ?? 0) + 1;
        res.end(String(own.session.views));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const visit = async (path: string, cookie?: string) => {
    const res = await fetch(url + path, {
      headers: { 'user-agent': 'PlainClient/1.0', ...(cookie ? { cookie } : {}) },
    });
    return { text: await res.text(), cookie: res.headers.getSetCookie()[0]?.split(';')[0] };
  };

  it('stores a new session, with the user agent and address read from node’s own request', async () => {
    const first = await visit('/');
    expect(first.text).toBe('1');
    expect(errors).toEqual([]);
    const [row] = await db('sessions').select('user_agent', 'ip');
    expect(row).toEqual({ user_agent: 'PlainClient/1.0', ip: '127.0.0.1' });
  });

  it('loads and saves a session it stored', async () => {
    const { cookie } = await visit('/');
    expect((await visit('/', cookie)).text).toBe('2');
    expect((await visit('/', cookie)).text).toBe('3');
    expect(errors).toEqual([]);
  });

  it('destroys a session: its row goes, and its cookie starts afresh', async () => {
    const { cookie } = await visit('/');
    expect((await visit('/destroy', cookie)).text).toBe('destroyed');
    expect(await db('sessions').select('sid')).toEqual([]);
    expect((await visit('/', cookie)).text).toBe('1');
    expect(errors).toEqual([]);
  });
});
