import { sessionTimestamp } from '../src/session-store/knex-store';
import { Browser } from './helpers/browser';
import { setCookies } from './helpers/cookies';
import {
  createTestApp,
  editSessionRow,
  PASSWORD,
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

  it('SECURITY 7: a password change counts as a login: the 12 hours start again from it', async () => {
    const browser = await signedIn('renewer');
    await editSessionRow(t.db, browser.cookie('sid'), (sess) => {
      sess.loginAt = Date.now() - 11 * HOUR;
      // Confirmed recently, as the account page needs.
      sess.confirmedAt = Date.now();
    });
    const changed = await browser.submit(
      '/account/password',
      { current_password: PASSWORD, new_password: 'a renewed and sturdy passphrase' },
      { from: '/account' },
    );
    expect(changed.status).toBe(303);
    const loginAt = Number((await sessionRowOf(t.db, browser.cookie('sid')))?.sess.loginAt);
    expect(loginAt).toBeGreaterThan(Date.now() - 60_000);
  });

  it('SECURITY 7: confirming the password does not: the 12 hours still count from the login', async () => {
    const browser = await signedIn('confirmer');
    const loginAt = Date.now() - 11 * HOUR;
    await editSessionRow(t.db, browser.cookie('sid'), (sess) => {
      sess.loginAt = loginAt;
    });
    expect((await browser.submit('/confirm-password', { password: PASSWORD })).status).toBe(303);
    expect((await sessionRowOf(t.db, browser.cookie('sid')))?.sess.loginAt).toBe(loginAt);
  });

  it('SECURITY 7: a session 11 hours after login is still valid', async () => {
    const browser = await signedIn('daylong');
    await editSessionRow(t.db, browser.cookie('sid'), (sess) => {
      sess.loginAt = Date.now() - 11 * HOUR;
    });
    expect((await browser.get('/dashboard')).status).toBe(200);
  });
});

describe('a session that ends during a login or registration', () => {
  /** A signed-in browser holding a form page, whose session is then past its absolute limit. */
  async function expiredWithForm(username: string, form: string) {
    const browser = await signedIn(username);
    const token = await browser.csrfToken(form);
    await editSessionRow(t.db, browser.cookie('sid'), (sess) => {
      sess.loginAt = Date.now() - 13 * HOUR;
    });
    return { browser, token, oldCookie: browser.cookie('sid') };
  }

  it('SECURITY+ 4: POST /login in that same request signs in with a fresh session, not a 500', async () => {
    const { browser, token, oldCookie } = await expiredWithForm('relogin', '/login');
    const res = await browser.post('/login', {
      username: 'relogin',
      password: 'a long and unremarkable passphrase',
      _csrf: token,
    });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/dashboard');
    const sid = setCookies(res).filter((cookie) => cookie.name === 'sid');
    expect(sid).toHaveLength(1);
    expect(sid[0]?.value).not.toBe(oldCookie);
    expect(await sessionRowOf(t.db, oldCookie)).toBeUndefined();
    const row = await sessionRowOf(t.db, browser.cookie('sid'));
    expect(row?.sess.userId).toEqual(expect.any(Number));
    expect((await browser.get('/dashboard')).status).toBe(200);
  });

  it('SECURITY+ 4: POST /register in that same request creates the account and signs it in', async () => {
    const { browser, token } = await expiredWithForm('before_register', '/register');
    const res = await browser.post('/register', {
      username: 'after_register',
      password: 'a long and unremarkable passphrase',
      _csrf: token,
    });
    expect(res.status).toBe(303);
    const [user] = await t.db('users').where({ username: 'after_register' });
    const row = await sessionRowOf(t.db, browser.cookie('sid'));
    expect(row?.sess.userId).toBe(user.id);
    expect((await browser.get('/dashboard')).text).toContain('after_register');
  });
});
