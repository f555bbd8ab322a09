import request from 'supertest';
import { Browser } from './helpers/browser';
import { sessionIdOf, setCookie } from './helpers/cookies';
import {
  createTestApp,
  logOut,
  PASSWORD,
  register,
  sessionRows,
  type TestApp,
} from './helpers/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe('requireLogin', () => {
  it('sends a browser to the login page with the path to come back to', async () => {
    const res = await request(t.app).get('/dashboard?tab=2');
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/login?next=%2Fdashboard%3Ftab%3D2');
  });

  it('answers a JSON client with 401 and a JSON error', async () => {
    const res = await request(t.app).get('/dashboard').set('Accept', 'application/json');
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({ error: expect.any(String) });
  });

  it('SECURITY 30: loads the user from the database on each request, without the password hash', async () => {
    const browser = new Browser(t.app);
    await register(browser, 'loaded');
    await t.db('users').where({ username: 'loaded' }).update({ username: 'renamed' });

    const res = await browser.get('/dashboard');
    expect(res.status).toBe(200);
    expect(res.text).toContain('Signed in as <strong>renamed</strong>');
    expect(res.text).not.toContain('$2');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('SECURITY 8: the sessions of a deleted user go with the user, and its cookie is anonymous', async () => {
    const browser = new Browser(t.app);
    const cookie = setCookie(await register(browser, 'deleted'), 'sid');
    if (!cookie) throw new Error('register set no session cookie');
    await t.db('users').where({ username: 'deleted' }).delete();
    // The row goes with the user (ON DELETE CASCADE), before any request comes.
    const sids = (await sessionRows(t.db)).map((row) => row.sid);
    expect(sids).not.toContain(sessionIdOf(cookie.value));

    const res = await browser.get('/dashboard');
    expect(res.status).toBe(302);
    expect(res.headers.location).toMatch(/^\/login/);
  });

  it('SECURITY 8: with a store that cannot know (MemoryStore), loadUser ends the session', async () => {
    const memory = await createTestApp({ SESSION_STORE: 'memory' });
    try {
      const browser = new Browser(memory.app);
      await register(browser, 'forgotten');
      await memory.db('users').where({ username: 'forgotten' }).delete();
      const res = await browser.get('/dashboard');
      expect(res.status).toBe(302);
      expect(res.headers.location).toMatch(/^\/login/);
      expect(setCookie(res, 'sid')?.value).toBe('');
    } finally {
      await memory.close();
    }
  });

  it('returns the browser to the protected page after login', async () => {
    const browser = new Browser(t.app);
    await register(browser, 'returner');
    await logOut(browser);

    const bounced = await browser.get('/dashboard?from=bookmark');
    const next = new URL(String(bounced.headers.location), 'http://x').searchParams.get('next');
    const res = await browser.submit('/login', {
      username: 'returner',
      password: PASSWORD,
      next: String(next),
    });
    expect(res.headers.location).toBe('/dashboard?from=bookmark');
  });
});
