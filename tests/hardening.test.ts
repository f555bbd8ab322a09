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
import { ConfigError, loadConfig } from '../src/config';

function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe('the built server’s environment', () => {
  it('SECURITY+ 13: runs as production unless told otherwise, so it refuses to start without a secret', () => {
    expect(problemsOf(() => loadConfig({}, { defaultEnv: 'production' }))).toContain(
      'SESSION_SECRETS is required in production (openssl rand -base64 48)',
    );
    expect(
      loadConfig({ SESSION_SECRETS: PRODUCTION_ENV.SESSION_SECRETS }, { defaultEnv: 'production' })
        .env,
    ).toBe('production');
    expect(loadConfig({ NODE_ENV: 'development' }, { defaultEnv: 'production' }).env).toBe(
      'development',
    );
  });

  it.each([
    ['one repeated character', 'x'.repeat(48)],
    ['the tutorials’ secret, repeated', 'keyboard cat'.repeat(4)],
    ['the tutorials’ secret, with spaces', 'keyboard cat keyboard cat keyboard cat'],
    ['a short pattern, repeated', 'abc123'.repeat(8)],
    ['few distinct characters', '0101010110101011010101101010110101'],
  ])('SECURITY+ 13: production refuses a long but obviously weak secret: %s', (_name, secret) => {
    const problems = problemsOf(() =>
      loadConfig({ NODE_ENV: 'production', SESSION_SECRETS: secret }),
    );
    expect(problems).toContainEqual(expect.stringMatching(/SESSION_SECRETS.*(weak|published)/));
  });

  it('SECURITY+ 13: production accepts a random secret', () => {
    const secret = 'kR3v9Zq1pWm7xYt2Lb8Nc4Hd6Fg0Js5A+Qe/Uo=';
    expect(
      problemsOf(() => loadConfig({ NODE_ENV: 'production', SESSION_SECRETS: secret })),
    ).toEqual([]);
  });
});

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
