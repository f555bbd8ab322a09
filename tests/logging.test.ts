import { Writable } from 'node:stream';
import { Browser } from './helpers/browser';
import { sessionIdOf } from './helpers/cookies';
import { createTestApp, logIn, PASSWORD, register, type TestApp } from './helpers/test-app';

interface LogLine {
  level: number;
  msg: string;
  req?: { id: string; method: string; path: string };
  res?: { statusCode: number };
  [key: string]: unknown;
}

let t: TestApp;
const lines: string[] = [];
const logged = (): LogLine[] => lines.map((line) => JSON.parse(line));

beforeAll(async () => {
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  t = await createTestApp({ LOG_LEVEL: 'info' }, { logStream });
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
      expect((await browser.get('/dashboard')).status).toBe(500);
      const res = await registering.post('/register', {
        username: 'typed_into_sql',
        password: PASSWORD,
        _csrf: token,
      });
      expect(res.status).toBe(500);
    } finally {
      await t.db.schema.renameTable('users_away', 'users');
    }
    const errors = logged().filter((entry) => entry.level === 50);
    expect(errors.map((entry) => [entry.res?.statusCode, JSON.stringify(entry.err)])).toEqual([
      [500, expect.stringMatching(/select .*users/i)],
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
