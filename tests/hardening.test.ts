import { Browser } from './helpers/browser';
import { setCookie } from './helpers/cookies';
import { testDatabaseKind } from './helpers/test-database';
import {
  createTestApp,
  logIn,
  PASSWORD,
  PRODUCTION_ENV,
  register,
  type TestApp,
} from './helpers/test-app';

describe('headers and cookies, hardened', () => {
  let prod: TestApp;
  let dev: TestApp;
  beforeAll(async () => {
    prod = await createTestApp(PRODUCTION_ENV);
    dev = await createTestApp({}, { databaseUrl: prod.databaseUrl });
  });
  afterAll(async () => {
    await dev.close();
    await prod.close();
  });

  it.each(['/', '/login', '/no-such-page', '/assets/styles.css'])(
    'SECURITY+ 14: %s turns off the browser features the site never uses (Permissions-Policy)',
    async (path) => {
      const res = await new Browser(dev.app).get(path);
      const policy = String(res.headers['permissions-policy']);
      for (const feature of ['camera', 'microphone', 'geolocation', 'payment', 'usb']) {
        expect(policy).toContain(`${feature}=()`);
      }
    },
  );

  it('SECURITY+ 14: the flash cookie is __Host-flash in production: Secure, Path=/, no Domain', async () => {
    const browser = new Browser(prod.app, { https: true });
    const res = await register(browser, 'flashy');
    const flash = setCookie(res, '__Host-flash');
    expect(flash?.attributes).toMatchObject({ path: '/', secure: true, httponly: true });
    expect(flash?.attributes.domain).toBeUndefined();
    expect(setCookie(res, 'flash')).toBeUndefined();
    expect((await browser.get('/dashboard')).text).toContain('Your account is ready');
  });

  it('SECURITY+ 14: the flash cookie keeps its plain name over development http', async () => {
    const res = await register(new Browser(dev.app), 'flashdev');
    expect(setCookie(res, 'flash')).toBeDefined();
  });
});

describe('CSRF token lifetime', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
    await register(new Browser(t.app), 'patient_user');
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  /** Loads the login form now, and posts it `later` ms from now. */
  async function loginAfter(later: number) {
    const browser = new Browser(t.app);
    const token = await browser.csrfToken('/login');
    const now = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(now + later);
    return browser.post('/login', {
      username: 'patient_user',
      password: PASSWORD,
      _csrf: token,
    });
  }

  it('SECURITY+ 14: a form is still accepted an hour after it was loaded', async () => {
    expect((await loginAfter(59 * 60_000)).status).toBe(303);
  });

  it('SECURITY+ 14: a token older than two hours is refused as an expired form', async () => {
    const res = await loginAfter(2 * 3_600_000 + 60_000);
    expect(res.status).toBe(403);
    expect(res.text).toContain('This form has expired');
  });
});

describe('database errors', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('SECURITY+ 15: a failed query’s message names no value that was bound into it', async () => {
    const error = await t
      .db('users')
      .insert({ username: 'value_in_error', no_such_column: 'another_value' })
      .then(
        () => undefined,
        (thrown: unknown) => thrown as Error,
      );
    // Not toBeInstanceOf(Error): a native driver's errors come from another realm under jest.
    expect(error?.message).toEqual(expect.stringMatching(/no_such_column|column/i));
    expect(String(error?.message)).not.toMatch(/value_in_error|another_value/);
  });

  it(`SECURITY+ 15: a name with a backslash and a quote is only a wrong name (${testDatabaseKind})`, async () => {
    await register(new Browser(t.app), 'obrien');
    for (const username of ["o\\'brien", "o'brien", "obrien' OR '1'='1", 'obrien\\']) {
      const res = await logIn(new Browser(t.app), username, PASSWORD);
      expect(res.status).toBe(401);
    }
    expect((await logIn(new Browser(t.app), 'obrien', PASSWORD)).status).toBe(303);
  });
});

describe('cookies with any value', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ MAIL_URL: 'smtp://127.0.0.1:9', PUBLIC_URL: 'http://127.0.0.1' });
  });
  afterAll(() => t.close());

  // cookie-parser turns "j:"-prefixed values into objects; express-session, reading the same
  // cookie, then called a string method on an object: a 500 on every page.
  const values = [
    'j:{"a":1}',
    'j:["s:x"]',
    'j:"s:abc.def"',
    'j:null',
    's:',
    's:%ZZ',
    '%E0%A4%A',
    'x'.repeat(4000),
  ];
  const names = ['sid', 'csrf', 'flash', 'reset', 'verify'];

  it.each(values.map((value) => [value.length > 40 ? `${value.length} characters` : value, value]))(
    'SECURITY+ 31: %s in any of the site’s cookies gives the anonymous page, never a 500',
    async (_label, value) => {
      for (const name of names) {
        const browser = new Browser(t.app);
        browser.setCookie(name, value);
        const home = await browser.get('/');
        expect([name, home.status]).toEqual([name, 200]);
        expect(home.text).toContain('Log in');
        expect((await browser.get('/password/reset')).status).toBeLessThan(500);
        expect((await browser.get('/email/verify')).status).toBeLessThan(500);
        const login = await browser.post('/login', { username: 'someone', password: 'x' });
        expect([name, login.status]).toEqual([name, 403]);
      }
    },
  );
});
