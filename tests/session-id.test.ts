import request from 'supertest';
import { Browser } from './helpers/browser';
import { sessionIdOf, setCookie } from './helpers/cookies';
import { createTestApp, logIn, register, sessionRows, type TestApp } from './helpers/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  await register(new Browser(t.app), 'alice');
  await register(new Browser(t.app), 'bob');
});
afterAll(() => t.close());

describe('a new session id at login', () => {
  it('SECURITY 4: replaces the session: the old cookie is anonymous and the old row is gone', async () => {
    const browser = new Browser(t.app);
    const first = setCookie(await logIn(browser, 'alice'), 'sid');
    const second = setCookie(await logIn(browser, 'alice'), 'sid');
    if (!first || !second) throw new Error('login set no session cookie');

    expect(second.value).not.toBe(first.value);
    const sids = (await sessionRows(t.db)).map((row) => row.sid);
    expect(sids).not.toContain(sessionIdOf(first.value));
    expect(sids).toContain(sessionIdOf(second.value));

    const replay = await request(t.app).get('/dashboard').set('Cookie', `sid=${first.value}`);
    expect(replay.status).toBe(302);
    expect(replay.headers.location).toBe('/login?next=%2Fdashboard');
  });

  it('SECURITY 4: logging in as B over A keeps nothing of A', async () => {
    const browser = new Browser(t.app);
    const asAlice = setCookie(await logIn(browser, 'alice'), 'sid');
    await browser.get('/about');
    const asBob = setCookie(await logIn(browser, 'bob'), 'sid');
    if (!asAlice || !asBob) throw new Error('login set no session cookie');

    const rows = await sessionRows(t.db);
    const bobRow = rows.find((row) => row.sid === sessionIdOf(asBob.value));
    expect(bobRow?.sess.history ?? []).toEqual([]);
    expect(rows.find((row) => row.sid === sessionIdOf(asAlice.value))).toBeUndefined();
    const dashboard = await browser.get('/dashboard');
    expect(dashboard.text).toContain('Signed in as <strong>bob</strong>');
  });

  it('SECURITY 4: has the row saved by the time the redirect arrives', async () => {
    const res = await logIn(new Browser(t.app), 'alice');
    const cookie = setCookie(res, 'sid');
    if (!cookie) throw new Error('login set no session cookie');
    const row = (await sessionRows(t.db)).find((r) => r.sid === sessionIdOf(cookie.value));
    expect(row?.sess.userId).toEqual(expect.any(Number));
  });
});
