import { sessionTimestamp } from '../src/session/knex-store';
import { Browser } from './helpers/browser';
import {
  createTestApp,
  editSessionRow,
  register,
  sessionRowOf,
  type TestApp,
} from './helpers/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ SESSION_IDLE_MINUTES: '30', SESSION_ABSOLUTE_HOURS: '12' });
});
afterAll(() => t.close());

const HOUR = 3_600_000;

async function signedIn(username: string) {
  const browser = new Browser(t.app);
  await register(browser, username);
  return browser;
}

describe('session lifetime', () => {
  it('SECURITY 7: an idle session ends on the server even if the browser still sends its cookie', async () => {
    const browser = await signedIn('idler');
    const cookie = browser.cookie('sid');
    // Thirty idle minutes later, as the sessions table sees it.
    await t
      .db('sessions')
      .where({ sid: (await sessionRowOf(t.db, cookie))?.sid })
      .update({ expired: sessionTimestamp(t.db, Date.now() - 1000) });

    const res = await browser.get('/dashboard');
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/login?next=%2Fdashboard');
  });

  it('SECURITY 7: each request moves the idle expiry forward (rolling)', async () => {
    const browser = await signedIn('roller');
    const cookie = browser.cookie('sid');
    // Five minutes of the thirty have passed, as far as the row is concerned.
    const before = Date.now() + 25 * 60_000;
    await t
      .db('sessions')
      .where({ sid: (await sessionRowOf(t.db, cookie))?.sid })
      .update({ expired: sessionTimestamp(t.db, before) });
    await browser.get('/dashboard');
    const after = Date.parse(String((await sessionRowOf(t.db, cookie))?.expired));
    expect(after).toBeGreaterThan(before);
    expect(after - Date.now()).toBeLessThanOrEqual(30 * 60_000);
  });

  it('SECURITY 7: a session in constant use still ends 12 hours after login', async () => {
    const browser = await signedIn('marathon');
    const cookie = browser.cookie('sid');
    await editSessionRow(t.db, cookie, (sess) => {
      sess.loginAt = Date.now() - 12 * HOUR - 1000;
    });

    const res = await browser.get('/dashboard');
    expect(res.status).toBe(302);
    expect(await sessionRowOf(t.db, cookie)).toBeUndefined();
    expect(browser.cookie('sid')).toBeUndefined();
  });

  it('SECURITY 7: a session 11 hours after login is still valid', async () => {
    const browser = await signedIn('daylong');
    await editSessionRow(t.db, browser.cookie('sid'), (sess) => {
      sess.loginAt = Date.now() - 11 * HOUR;
    });
    expect((await browser.get('/dashboard')).status).toBe(200);
  });
});
