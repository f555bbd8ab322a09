import request from 'supertest';
import { Browser } from './helpers/browser';
import { setCookie } from './helpers/cookies';
import {
  createTestApp,
  PASSWORD,
  PRODUCTION_ENV,
  register,
  sessionRows,
  type TestApp,
} from './helpers/test-app';

const SECRET_A = 'first-secret-of-at-least-thirty-two-bytes-aaaa';
const SECRET_B = 'second-secret-of-at-least-thirty-two-bytes-bbb';

describe('the session cookie in development', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('SECURITY 1: is called sid and is HttpOnly, SameSite=Lax, Path=/, with a Max-Age and no Domain', async () => {
    const cookie = setCookie(await register(new Browser(t.app), 'devuser'), 'sid');
    expect(cookie?.attributes).toMatchObject({ path: '/', httponly: true, samesite: 'Lax' });
    expect(Number(cookie?.attributes['max-age'])).toBeGreaterThanOrEqual(30 * 60 - 2);
    expect(Number(cookie?.attributes['max-age'])).toBeLessThanOrEqual(30 * 60);
    expect(cookie?.attributes.secure).toBeUndefined();
    expect(cookie?.attributes.domain).toBeUndefined();
    const expires = new Date(String(cookie?.attributes.expires)).getTime();
    expect(expires - Date.now()).toBeGreaterThan(29 * 60_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(30 * 60_000);
  });

  it('SECURITY 3, 28: carries only the signed session id: the session data stays in the row', async () => {
    const cookie = setCookie(await register(new Browser(t.app), 'opaque'), 'sid');
    expect(decodeURIComponent(cookie?.value ?? '')).toMatch(/^s:[\w-]{32}\.[\w+/]+$/);
    const [user] = await t.db('users').where({ username: 'opaque' });
    const row = (await sessionRows(t.db)).find((r) => r.sess.userId === user.id);
    expect(Object.keys(row?.sess ?? {}).sort()).toEqual([
      'authHash',
      'cookie',
      'loginAt',
      'signInMethod',
      'userId',
    ]);
  });

  it('SECURITY 3: treats a forged or unsigned id as anonymous and creates no row for it', async () => {
    const before = (await sessionRows(t.db)).length;
    const [row] = await sessionRows(t.db);
    for (const forged of [`s:${row?.sid}.forgedsignature`, String(row?.sid), 's:unknown.sig']) {
      const res = await request(t.app)
        .get('/dashboard')
        .set('Cookie', `sid=${encodeURIComponent(forged)}`);
      expect(res.status).toBe(302);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    expect((await sessionRows(t.db)).length).toBe(before);
  });
});

describe('the session cookie in production', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(PRODUCTION_ENV);
  });
  afterAll(() => t.close());

  const registerOverHttps = (username: string) =>
    new Browser(t.app, { https: true }).submit('/register', { username, password: PASSWORD });

  it('SECURITY 1, 2, 22: is __Host-sid, Secure, HttpOnly, SameSite=Lax, Path=/ and has no Domain behind https', async () => {
    const res = await registerOverHttps('produser');
    expect(res.status).toBe(303);
    const cookie = setCookie(res, '__Host-sid');
    expect(cookie?.attributes).toMatchObject({
      path: '/',
      httponly: true,
      secure: true,
      samesite: 'Lax',
    });
    expect(cookie?.attributes.domain).toBeUndefined();
    expect(Number(cookie?.attributes['max-age'])).toBeGreaterThan(0);
    expect(res.headers['strict-transport-security']).toMatch(/max-age=31536000/);
  });

  it('SECURITY 1: is not sent over plain http', async () => {
    const res = await new Browser(t.app).submit('/register', {
      username: 'plainhttp',
      password: PASSWORD,
    });
    expect(setCookie(res, '__Host-sid')).toBeUndefined();
  });
});

describe('a production app with TRUST_PROXY=0', () => {
  it('SECURITY 2: ignores a client that claims https itself: no proxy, no Secure cookie over http', async () => {
    const t = await createTestApp({ ...PRODUCTION_ENV, TRUST_PROXY: '0' });
    try {
      const res = await new Browser(t.app, { https: true }).submit('/register', {
        username: 'spoofer',
        password: PASSWORD,
      });
      expect(res.status).toBe(303);
      expect(setCookie(res, '__Host-sid')).toBeUndefined();
    } finally {
      await t.close();
    }
  });
});

describe('secret rotation', () => {
  it('SECURITY 9: keeps cookies signed with an old secret valid and signs new ones with the first', async () => {
    const old = await createTestApp({ SESSION_SECRETS: SECRET_A });
    const rotated = await createTestApp(
      { SESSION_SECRETS: `${SECRET_B},${SECRET_A}` },
      { databaseUrl: old.databaseUrl },
    );
    const retired = await createTestApp(
      { SESSION_SECRETS: SECRET_B },
      { databaseUrl: old.databaseUrl },
    );
    try {
      const cookie = setCookie(await register(new Browser(old.app), 'rotator'), 'sid');
      const header = `sid=${cookie?.value}`;

      const res = await request(rotated.app).get('/dashboard').set('Cookie', header);
      expect(res.status).toBe(200);
      const resigned = setCookie(res, 'sid');
      expect(resigned?.value).not.toBe(cookie?.value);
      expect(
        (await request(retired.app).get('/dashboard').set('Cookie', `sid=${resigned?.value}`))
          .status,
      ).toBe(200);

      expect((await request(retired.app).get('/dashboard').set('Cookie', header)).status).toBe(302);
    } finally {
      await retired.close();
      await rotated.close();
      await old.close();
    }
  });
});
