import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { SECURITY_EVENTS } from '../src/security/events';
import { Browser } from './helpers/browser';
import { sessionIdOf } from './helpers/cookies';
import {
  createTestApp,
  editSessionRow,
  logIn,
  PASSWORD,
  register,
  type TestApp,
} from './helpers/test-app';
import { PasswordWorkBusyError } from '../src/passwords/password-pool';
import * as passwords from '../src/passwords/passwords';

interface LogLine {
  level: number;
  msg: string;
  req?: { id: string; method: string; path: string };
  res?: { statusCode: number };
  [key: string]: unknown;
}

let t: TestApp & { logStream: Writable };
const lines: string[] = [];
const logged = (): LogLine[] => lines.map((line) => JSON.parse(line));

beforeAll(async () => {
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  t = { ...(await createTestApp({ LOG_LEVEL: 'info' }, { logStream })), logStream };
});
afterAll(() => t.close());

describe('request logs', () => {
  it('SECURITY 25: one structured line per request, with the id sent back as X-Request-Id', async () => {
    const res = await new Browser(t.app).get('/about?q=private');
    const id = res.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const line = logged().find((entry) => entry.req?.id === id);
    expect(line).toMatchObject({
      msg: 'request completed',
      req: { method: 'GET', path: '/about' },
      res: { statusCode: 200 },
    });
    expect(JSON.stringify(line)).not.toContain('private');
  });

  it('a refused request is logged as a warning; health probes are not logged at all', async () => {
    const browser = new Browser(t.app);
    const missing = await browser.get('/no-such-page');
    const probe = await browser.get('/healthz');
    expect(
      logged().find((entry) => entry.req?.id === missing.headers['x-request-id']),
    ).toMatchObject({ level: 40, msg: 'request completed', res: { statusCode: 404 } });
    expect(probe.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(logged().filter((entry) => entry.req?.id === probe.headers['x-request-id'])).toEqual([]);
  });

  it('SECURITY 25: a failed login is logged, tied to its request, without what was typed', async () => {
    await register(new Browser(t.app), 'logged_user');
    const res = await logIn(new Browser(t.app), 'logged_user', 'my wrong but secret guess');
    expect(res.status).toBe(401);
    const failure = logged().find(
      (entry) => entry.event === 'login_failed' && entry.req?.id === res.headers['x-request-id'],
    );
    expect(failure).toMatchObject({ msg: 'login failed', account: expect.any(String) });
    expect(JSON.stringify(failure)).not.toContain('logged_user');
  });

  it('SECURITY 25: no password, cookie, session id or CSRF token is ever logged', async () => {
    const browser = new Browser(t.app);
    await register(browser, 'careful_user', PASSWORD);
    await browser.get('/dashboard');
    await browser.submit('/login', { username: 'careful_user', password: PASSWORD });
    // Database failures too: their errors carry SQL with the values bound into it.
    const registering = new Browser(t.app);
    const token = await registering.csrfToken('/register');
    await t.db.schema.renameTable('users', 'users_away');
    try {
      // The session is read with its account, in one query: without the users table, that read
      // fails, and the page is a 503 (try again), as for any failure of the session store.
      expect((await browser.get('/dashboard')).status).toBe(503);
      const res = await registering.post('/register', {
        username: 'typed_into_sql',
        password: PASSWORD,
        _csrf: token,
      });
      expect(res.status).toBe(500);
    } finally {
      await t.db.schema.renameTable('users_away', 'users');
    }
    const errors = logged().filter((entry) => entry.level >= 40 && entry.err);
    expect(errors.map((entry) => [entry.res?.statusCode, JSON.stringify(entry.err)])).toEqual([
      // The store's own warning (its read failed), then the request's line.
      [undefined, expect.stringMatching(/users/i)],
      [503, expect.stringContaining('SessionStoreUnavailableError')],
      [500, expect.stringMatching(/insert into \W*users/i)],
    ]);
    expect(JSON.stringify(errors)).not.toMatch(/typed_into_sql|\$2b\$/);

    const all = lines.join('\n');
    const sessionCookie = String(browser.cookie('sid'));
    for (const secret of [
      PASSWORD,
      sessionCookie,
      sessionIdOf(sessionCookie),
      String(browser.cookie('csrf')),
      String(browser.cookie('csrf')).split('.')[0],
    ]) {
      expect(all).not.toContain(secret);
    }
  });
});

describe('security events', () => {
  /** The security event lines a response's request wrote. */
  const eventsOf = (res: { headers: Record<string, string> }) =>
    logged().filter((entry) => entry.event && entry.req?.id === res.headers['x-request-id']);

  it('SECURITY+ 8: registration, login, logout and a failed login: who, from where, how it ended', async () => {
    const browser = new Browser(t.app);
    const registered = await register(browser, 'eventful');
    const [user] = await t.db('users').where({ username: 'eventful' });
    expect(eventsOf(registered)).toEqual([
      expect.objectContaining({
        event: 'registered',
        outcome: 'success',
        userId: user.id,
        ip: expect.stringMatching(/127\.0\.0\.1/),
      }),
    ]);
    const loggedOut = await browser.submit('/logout', {}, { from: '/' });
    expect(eventsOf(loggedOut)).toEqual([
      expect.objectContaining({ event: 'logged_out', outcome: 'success', userId: user.id }),
    ]);
    const loggedIn = await logIn(browser, 'eventful');
    expect(eventsOf(loggedIn)).toEqual([
      expect.objectContaining({ event: 'login_succeeded', outcome: 'success', userId: user.id }),
    ]);
    const failed = await logIn(new Browser(t.app), 'eventful', 'not my password at all');
    expect(eventsOf(failed)).toEqual([
      expect.objectContaining({
        event: 'login_failed',
        outcome: 'failure',
        account: expect.stringMatching(/^[0-9a-f]{16}$/),
        ip: expect.any(String),
      }),
    ]);
    expect(JSON.stringify(logged())).not.toContain('not my password at all');
  });

  it('SECURITY+ 8: a password change and an account deletion', async () => {
    const browser = new Browser(t.app);
    await register(browser, 'changer');
    const [user] = await t.db('users').where({ username: 'changer' });
    const changed = await browser.submit(
      '/account/password',
      { current_password: PASSWORD, new_password: 'a completely different passphrase' },
      { from: '/account' },
    );
    expect(eventsOf(changed)).toEqual([
      expect.objectContaining({ event: 'password_changed', outcome: 'success', userId: user.id }),
    ]);
    const deleted = await browser.submit(
      '/account/delete',
      { password: 'a completely different passphrase' },
      { from: '/account' },
    );
    expect(eventsOf(deleted)).toEqual([
      expect.objectContaining({ event: 'account_deleted', outcome: 'success', userId: user.id }),
    ]);
  });

  it('SECURITY+ 8: CSRF and cross-site refusals', async () => {
    const browser = new Browser(t.app);
    const csrf = await browser.post('/login', { username: 'x', password: 'y', _csrf: 'forged' });
    expect(eventsOf(csrf)).toEqual([
      expect.objectContaining({
        event: 'csrf_refused',
        outcome: 'refused',
        ip: expect.any(String),
      }),
    ]);
    const crossSite = await browser.submit(
      '/login',
      { username: 'x', password: 'y' },
      { headers: { 'Sec-Fetch-Site': 'cross-site' } },
    );
    expect(eventsOf(crossSite)).toEqual([
      expect.objectContaining({ event: 'cross_site_refused', outcome: 'refused' }),
    ]);
  });

  it('SECURITY+ 8: a throttle refusal names the limit', async () => {
    const throttled = await createTestApp(
      { LOG_LEVEL: 'info', REGISTRATIONS_PER_IP: '1' },
      { logStream: t.logStream },
    );
    try {
      await register(new Browser(throttled.app), 'only_one');
      const res = await new Browser(throttled.app).submit('/register', {
        username: 'one_too_many',
        password: PASSWORD,
      });
      expect(res.status).toBe(429);
      expect(eventsOf(res)).toEqual([
        expect.objectContaining({
          event: 'throttled',
          outcome: 'refused',
          reason: 'registrations per address',
        }),
      ]);
    } finally {
      await throttled.close();
    }
  });

  it('SECURITY+ 8: a session ended by its absolute timeout, and by a password changed elsewhere', async () => {
    const browser = new Browser(t.app);
    await register(browser, 'ended_twice');
    const [user] = await t.db('users').where({ username: 'ended_twice' });
    await editSessionRow(t.db, browser.cookie('sid'), (sess) => {
      sess.loginAt = 0;
    });
    const timedOut = await browser.get('/dashboard');
    expect(eventsOf(timedOut)).toEqual([
      expect.objectContaining({
        event: 'session_ended',
        outcome: 'ended',
        reason: 'absolute timeout',
        userId: user.id,
      }),
    ]);

    // A password changed where the app could not end the sessions itself (a database update):
    // the credential stamp ends them at their next request.
    await logIn(browser, 'ended_twice');
    await t.db('users').where({ id: user.id }).update({ password_hash: 'changed elsewhere' });
    const stale = await browser.get('/dashboard');
    expect(eventsOf(stale)).toEqual([
      expect.objectContaining({ event: 'session_ended', reason: 'credentials changed' }),
    ]);
  });

  it('SECURITY+ 8: "busy" refusals are logged once a second at most, without a stack', async () => {
    jest.spyOn(passwords, 'verifyPassword').mockRejectedValue(new PasswordWorkBusyError());
    const before = lines.length;
    try {
      for (let i = 0; i < 5; i++) {
        expect((await logIn(new Browser(t.app), 'eventful')).status).toBe(503);
      }
    } finally {
      jest.restoreAllMocks();
    }
    const during = lines.slice(before).map((line) => JSON.parse(line) as LogLine);
    expect(during.filter((entry) => entry.event === 'password_work_busy')).toHaveLength(1);
    expect(during.filter((entry) => entry.res?.statusCode === 503)).toEqual([]);
    expect(JSON.stringify(during)).not.toContain('stack');
  });
});

describe('the events table in docs/security.md', () => {
  it('names every security event the code records, and no other', () => {
    const docs = fs.readFileSync(path.join(__dirname, '..', 'docs', 'security.md'), 'utf8');
    const section = docs.slice(docs.indexOf('## Security events in the log'));
    const documented = [...section.matchAll(/^\| `([a-z_]+)` +\|/gm)].map((match) => match[1]);
    // Logged by the error handler itself, once a second at most (src/errors.ts).
    const alsoLogged = ['password_work_busy'];
    expect([...documented].sort()).toEqual([...SECURITY_EVENTS, ...alsoLogged].sort());
  });
});
