import request from 'supertest';
import { Browser } from './helpers/browser';
import { sessionIdOf, setCookie } from './helpers/cookies';
import { createTestApp, logOut, register, sessionRows, type TestApp } from './helpers/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

async function signedIn(username: string) {
  const browser = new Browser(t.app);
  const cookie = setCookie(await register(browser, username), 'sid');
  if (!cookie) throw new Error('register set no session cookie');
  return { browser, cookie };
}

describe('logout', () => {
  it('SECURITY 5: deletes the session row, creates no other, and redirects home with 303', async () => {
    const { browser, cookie } = await signedIn('leaver');
    const before = (await sessionRows(t.db)).length;
    const res = await logOut(browser);

    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/');
    const sids = (await sessionRows(t.db)).map((row) => row.sid);
    expect(sids).not.toContain(sessionIdOf(cookie.value));
    expect(sids).toHaveLength(before - 1);
    expect(browser.cookie('sid')).toBeUndefined();
  });

  it('SECURITY 5: expires the cookie with the attributes it was set with', async () => {
    const { browser } = await signedIn('clearer');
    const cleared = setCookie(await logOut(browser), 'sid');

    expect(cleared?.value).toBe('');
    expect(new Date(String(cleared?.attributes.expires)).getTime()).toBeLessThan(Date.now());
    expect(cleared?.attributes).toMatchObject({
      path: '/',
      httponly: true,
      samesite: 'Lax',
      'max-age': '0',
    });
  });

  it('SECURITY 5: leaves the old cookie anonymous', async () => {
    const { browser, cookie } = await signedIn('replayer');
    await logOut(browser);
    const replay = await request(t.app).get('/dashboard').set('Cookie', `sid=${cookie.value}`);
    expect(replay.status).toBe(302);
  });

  it('shows a one-time message on the next page', async () => {
    const { browser } = await signedIn('messenger');
    await logOut(browser);
    expect((await browser.get('/')).text).toContain('You have been signed out.');
    expect((await browser.get('/')).text).not.toContain('You have been signed out.');
  });

  it('SECURITY 5: does not happen on GET /logout', async () => {
    const { browser, cookie } = await signedIn('linkclicker');
    const res = await browser.get('/logout');

    expect(res.status).toBe(404);
    expect((await browser.get('/dashboard')).status).toBe(200);
    const sids = (await sessionRows(t.db)).map((row) => row.sid);
    expect(sids).toContain(sessionIdOf(cookie.value));
  });
});
