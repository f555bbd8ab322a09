import { Browser } from './helpers/browser';
import {
  createTestApp,
  logIn,
  PASSWORD,
  register,
  sessionRowOf,
  type TestApp,
} from './helpers/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const NEW_PASSWORD = 'an entirely different passphrase';

/** One account signed in on two browsers, as on a laptop and a phone. */
async function twoBrowsers(username: string) {
  const laptop = new Browser(t.app);
  await register(laptop, username);
  const phone = new Browser(t.app);
  expect((await logIn(phone, username)).status).toBe(303);
  return { laptop, phone };
}

const changePassword = (browser: Browser, current: string, next: string) =>
  browser.submit(
    '/account/password',
    { current_password: current, new_password: next },
    { from: '/account' },
  );

const deleteAccount = (browser: Browser, password: string) =>
  browser.submit('/account/delete', { password }, { from: '/account' });

describe('the account page', () => {
  it('is behind requireLogin', async () => {
    const res = await new Browser(t.app).get('/account');
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/login?next=%2Faccount');
  });

  it('SECURITY 19: its password fields carry current-password and new-password', async () => {
    const browser = new Browser(t.app);
    await register(browser, 'formfields');
    const { text } = await browser.get('/account');
    expect(text).toMatch(
      /id="current_password"[^>]*type="password"[^>]*autocomplete="current-password"/,
    );
    expect(text).toMatch(/id="new_password"[^>]*type="password"[^>]*autocomplete="new-password"/);
    expect(text).toMatch(/id="password"[^>]*type="password"[^>]*autocomplete="current-password"/);
  });

  it('refuses a password change without the right current password', async () => {
    const browser = new Browser(t.app);
    await register(browser, 'forgetful');
    const res = await changePassword(browser, 'not my password at all', NEW_PASSWORD);
    expect(res.status).toBe(400);
    expect(res.text).toContain('Incorrect password.');
    expect((await logIn(new Browser(t.app), 'forgetful')).status).toBe(303);
  });

  it('holds a new password to the same rules as registration', async () => {
    const browser = new Browser(t.app);
    await register(browser, 'ruled');
    const res = await changePassword(browser, PASSWORD, 'passwordpassword');
    expect(res.status).toBe(400);
    expect(res.text).toContain('one of the most commonly used passwords');
  });

  it('SECURITY 8: a password change keeps this browser signed in under a new session id', async () => {
    const { laptop } = await twoBrowsers('changer');
    const before = laptop.cookie('sid');
    const res = await changePassword(laptop, PASSWORD, NEW_PASSWORD);

    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/account');
    expect(laptop.cookie('sid')).not.toBe(before);
    expect(await sessionRowOf(t.db, before)).toBeUndefined();
    const page = await laptop.get('/account');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Your password has been changed.');
    expect((await logIn(new Browser(t.app), 'changer', PASSWORD)).status).toBe(401);
    expect((await logIn(new Browser(t.app), 'changer', NEW_PASSWORD)).status).toBe(303);
  });

  it('SECURITY 8: a password change ends every other session of the user at once, by user id', async () => {
    const { laptop, phone } = await twoBrowsers('stolen');
    const phoneCookie = phone.cookie('sid');
    await changePassword(laptop, PASSWORD, NEW_PASSWORD);
    // Gone from the table before the phone makes another request.
    expect(await sessionRowOf(t.db, phoneCookie)).toBeUndefined();
    expect(await sessionRowOf(t.db, laptop.cookie('sid'))).toBeDefined();

    const res = await phone.get('/dashboard');
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/login?next=%2Fdashboard');
  });

  it('SECURITY 8: a password changed behind the app’s back (a database update) ends sessions too', async () => {
    const browser = new Browser(t.app);
    await register(browser, 'reset_by_admin');
    await t.db('users').where({ username: 'reset_by_admin' }).update({ password_hash: 'x' });
    expect((await browser.get('/dashboard')).status).toBe(302);
  });

  it('refuses to delete the account without the right password', async () => {
    const browser = new Browser(t.app);
    await register(browser, 'keeper');
    const res = await deleteAccount(browser, 'not my password at all');
    expect(res.status).toBe(400);
    expect(await t.db('users').where({ username: 'keeper' })).toHaveLength(1);
  });

  it('SECURITY 8: deleting the account removes the row and ends every session', async () => {
    const { laptop, phone } = await twoBrowsers('leaving');
    const [laptopCookie, phoneCookie] = [laptop.cookie('sid'), phone.cookie('sid')];
    const res = await deleteAccount(laptop, PASSWORD);

    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/');
    expect(await t.db('users').where({ username: 'leaving' })).toHaveLength(0);
    expect(await sessionRowOf(t.db, laptopCookie)).toBeUndefined();
    expect(laptop.cookie('sid')).toBeUndefined();
    expect((await laptop.get('/')).text).toContain('Your account has been deleted.');

    expect((await phone.get('/dashboard')).status).toBe(302);
    expect(await sessionRowOf(t.db, phoneCookie)).toBeUndefined();
  });
});
