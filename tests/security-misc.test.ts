import { Browser } from './helpers/browser';
import { setCookie } from './helpers/cookies';
import {
  createTestApp,
  logIn,
  PASSWORD,
  register,
  sessionRowOf,
  sessionRows,
  type TestApp,
} from './helpers/test-app';
import * as passwords from '../src/passwords/passwords';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  await register(new Browser(t.app), 'existing');
});
afterAll(() => t.close());
afterEach(() => jest.restoreAllMocks());

/** Counts the SQL statements the app sends while `run` runs. */
async function queriesDuring(run: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const listener = (query: { sql: string }) => seen.push(query.sql);
  t.db.on('query', listener);
  try {
    await run();
  } finally {
    t.db.off('query', listener);
  }
  return seen;
}

describe('login failures', () => {
  it('SECURITY 12: an unknown user still costs one bcrypt check at the configured cost', async () => {
    const verify = jest.spyOn(passwords, 'verifyPassword');
    expect((await logIn(new Browser(t.app), 'no_such_user', 'some password guess')).status).toBe(
      401,
    );
    expect(verify).toHaveBeenCalledTimes(1);
    expect(await verify.mock.results[0]?.value).toBe(false);
    expect(verify.mock.calls[0]?.[1]).toMatch(/^\$2b\$04\$/);
  });

  it('SECURITY 12: a wrong password costs the same single bcrypt check', async () => {
    const verify = jest.spyOn(passwords, 'verifyPassword');
    expect((await logIn(new Browser(t.app), 'existing', 'some password guess')).status).toBe(401);
    expect(verify).toHaveBeenCalledTimes(1);
    expect(verify.mock.calls[0]?.[1]).toMatch(/^\$2b\$04\$/);
  });
});

describe('registration races', () => {
  it('SECURITY 13: two simultaneous registrations of one name give one row and a 409', async () => {
    const [a, b] = [new Browser(t.app), new Browser(t.app)];
    const [tokenA, tokenB] = await Promise.all([
      a.csrfToken('/register'),
      b.csrfToken('/register'),
    ]);
    const results = await Promise.all([
      a.post('/register', { username: 'Twin', password: PASSWORD, _csrf: tokenA }),
      b.post('/register', { username: 'twin', password: PASSWORD, _csrf: tokenB }),
    ]);
    expect(results.map((res) => res.status).sort()).toEqual([303, 409]);
    expect(await t.db('users').where({ username: 'twin' })).toHaveLength(1);
  });
});

describe('caching', () => {
  it.each(['/login', '/register'])(
    'SECURITY 23: %s is sent with Cache-Control: no-store',
    async (path) => {
      const res = await new Browser(t.app).get(path);
      expect(res.headers['cache-control']).toBe('no-store');
    },
  );

  it('SECURITY 23: the answer to a login post is not cached', async () => {
    const res = await logIn(new Browser(t.app), 'existing');
    expect(res.status).toBe(303);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it.each(['/', '/about', '/dashboard', '/account'])(
    'SECURITY 23: %s for a signed-in user is sent with Cache-Control: no-store',
    async (path) => {
      const browser = new Browser(t.app);
      await logIn(browser, 'existing');
      const res = await browser.get(path);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
    },
  );
});

describe('malformed and oversized input', () => {
  it('SECURITY 24: arrays where strings belong re-render the login form with 400', async () => {
    const browser = new Browser(t.app);
    const token = await browser.csrfToken('/login');
    const res = await browser.post(
      '/login',
      `username=a&username=b&password=x&password=y&_csrf=${token}`,
    );
    expect(res.status).toBe(400);
    expect(res.text).toContain('<form');
    expect(res.text).toContain('Enter your username.');
  });

  it('SECURITY 24: a bad percent-encoding gets a 4xx, never a 500', async () => {
    const browser = new Browser(t.app);
    const token = await browser.csrfToken('/login');
    const res = await browser.post('/login', `username=%E0%A4%A&password=%&_csrf=${token}`);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });

  it('SECURITY 27: an overlong password is refused before any database or bcrypt work', async () => {
    const verify = jest.spyOn(passwords, 'verifyPassword');
    const browser = new Browser(t.app);
    const token = await browser.csrfToken('/login');
    const queries = await queriesDuring(async () => {
      const res = await browser.post('/login', {
        username: 'existing',
        password: 'p'.repeat(5000),
        _csrf: token,
      });
      expect(res.status).toBe(400);
      expect(res.text).toContain('Passwords are at most 256 characters.');
    });
    expect(queries).toEqual([]);
    expect(verify).not.toHaveBeenCalled();
  });

  it('SECURITY 27: an overlong username at registration is refused before any hashing', async () => {
    const hash = jest.spyOn(passwords, 'hashPassword');
    const res = await new Browser(t.app).submit('/register', {
      username: 'u'.repeat(5000),
      password: PASSWORD,
    });
    expect(res.status).toBe(400);
    expect(hash).not.toHaveBeenCalled();
  });
});

describe('what the session holds', () => {
  it('SECURITY 28: the row holds the user id, login time, credential stamp, sign-in method and history only', async () => {
    const browser = new Browser(t.app);
    await logIn(browser, 'existing');
    await browser.get('/about');
    const row = await sessionRowOf(t.db, browser.cookie('sid'));
    expect(Object.keys(row?.sess ?? {}).sort()).toEqual([
      'authHash',
      'cookie',
      'history',
      'loginAt',
      'signInMethod',
      'userId',
    ]);
    const [user] = await t.db('users').where({ username: 'existing' });
    const raw = JSON.stringify(row);
    expect(raw).not.toContain(user.password_hash);
    expect(raw).not.toContain('existing');
  });
});

describe('anonymous history', () => {
  it('SECURITY 29: is off by default; turned on, it costs a row and a cookie per visitor', async () => {
    const on = await createTestApp({ HISTORY_FOR_ANONYMOUS: 'true' });
    try {
      const visitor = new Browser(on.app);
      await visitor.get('/');
      const page = await visitor.get('/about');
      expect(page.text).toContain('<li><a href="/about">/about</a></li><li><a href="/">/</a></li>');
      expect(await sessionRows(on.db)).toHaveLength(1);
    } finally {
      await on.close();
    }
    const before = (await sessionRows(t.db)).length;
    const res = await new Browser(t.app).get('/about');
    expect(setCookie(res, 'sid')).toBeUndefined();
    expect(await sessionRows(t.db)).toHaveLength(before);
  });
});

describe('output escaping', () => {
  it('SECURITY 30: a hostile `next` reaches the login form encoded and escaped', async () => {
    const hostile = '/"><script>alert(1)</script>?a=1&b=2';
    const res = await new Browser(t.app).get(`/login?next=${encodeURIComponent(hostile)}`);
    expect(res.text).not.toContain('<script>alert(1)');
    expect(res.text).toContain(
      'name="next" value="/%22%3E%3Cscript%3Ealert(1)%3C/script%3E?a=1&amp;b=2"',
    );
  });

  it('SECURITY 30: a username echoed back into the form is escaped', async () => {
    const res = await new Browser(t.app).submit('/register', {
      username: '"><img src=x onerror=alert(1)>',
      password: PASSWORD,
    });
    expect(res.status).toBe(400);
    expect(res.text).not.toContain('<img src=x');
    expect(res.text).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
  });

  it('SECURITY 30: a forged flash cookie cannot put its own text on the page', async () => {
    const browser = new Browser(t.app);
    browser.setCookie('flash', encodeURIComponent('<b>phish</b>'));
    const res = await browser.get('/');
    expect(res.text).not.toContain('phish');
  });
});
