import { Browser } from './helpers/browser';
import { setCookie } from './helpers/cookies';
import { createTestApp, PASSWORD, register, sessionRows, type TestApp } from './helpers/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const users = () => t.db('users').select('id', 'username', 'password_hash');

describe('registration', () => {
  it('creates the account, signs it in and redirects to the dashboard with 303', async () => {
    const browser = new Browser(t.app);
    const res = await register(browser, 'Ada.Lovelace');

    expect(res.headers.location).toBe('/dashboard');
    const [user] = await t.db('users').where({ username: 'ada.lovelace' });
    expect(user.password_hash).toMatch(/^\$2[aby]\$04\$/);
    expect(user.password_hash).not.toContain(PASSWORD);

    const rows = await sessionRows(t.db);
    expect(rows.filter((row) => row.sess.userId === user.id)).toHaveLength(1);

    const dashboard = await browser.get('/dashboard');
    expect(dashboard.status).toBe(200);
    expect(dashboard.text).toContain('ada.lovelace');
    expect(dashboard.text).toContain('Welcome! Your account is ready');
  });

  it('stores the username in NFC lower case', async () => {
    // "É" written as E + combining acute accent (NFD).
    await register(new Browser(t.app), 'E\u0301mile');
    const names = (await users()).map((user) => user.username);
    expect(names).toContain('\u00e9mile');
  });

  it('SECURITY 13: refuses a username that is taken in any letter case with 409 and keeps one row', async () => {
    await register(new Browser(t.app), 'grace');
    const res = await new Browser(t.app).submit('/register', {
      username: 'GRACE',
      password: PASSWORD,
    });

    expect(res.status).toBe(409);
    expect(res.text).toContain('That username is taken.');
    expect(res.text).toContain('value="GRACE"');
    expect((await users()).filter((user) => user.username === 'grace')).toHaveLength(1);
    expect(setCookie(res, 'sid')).toBeUndefined();
  });

  it.each([
    ['a missing username', { password: PASSWORD }, 'username', 'Enter a username.'],
    [
      'a two-character username',
      { username: 'ab', password: PASSWORD },
      'username',
      'Use 3 to 32 characters.',
    ],
    [
      'a username with spaces',
      { username: 'two words', password: PASSWORD },
      'username',
      'Use letters, digits, dots, dashes or underscores only.',
    ],
    ['a missing password', { username: 'newcomer' }, 'password', 'Choose a password.'],
    [
      'a 14-character password',
      { username: 'newcomer', password: 'fourteen chars' },
      'password',
      'Use at least 15 characters.',
    ],
    [
      'a password of 14 emoji (28 UTF-16 units)',
      { username: 'newcomer', password: '🐱'.repeat(14) },
      'password',
      'Use at least 15 characters.',
    ],
    [
      'a 257-character password',
      { username: 'newcomer', password: 'x'.repeat(257) },
      'password',
      'Use at most 256 characters.',
    ],
  ])('re-renders the form with 400 for %s', async (_case, body, field, message) => {
    const before = (await users()).length;
    const res = await new Browser(t.app).submit('/register', body);

    expect(res.status).toBe(400);
    expect(res.text).toContain(`id="${field}-error"`);
    expect(res.text).toContain(message);
    expect(res.text).toMatch(new RegExp(`id="${field}"[^>]*aria-invalid="true"`));
    expect((await users()).length).toBe(before);
    expect(setCookie(res, 'sid')).toBeUndefined();
  });

  it('keeps the username but never echoes the password', async () => {
    const res = await new Browser(t.app).submit('/register', {
      username: 'kept_name',
      password: 'too short pw',
    });

    expect(res.status).toBe(400);
    expect(res.text).toContain('value="kept_name"');
    expect(res.text).not.toContain('too short pw');
  });

  it('accepts 15 emoji: length counts characters, not UTF-16 units', async () => {
    const res = await new Browser(t.app).submit('/register', {
      username: 'emoji_fan',
      password: '🐱'.repeat(15),
    });
    expect(res.status).toBe(303);
  });

  it('SECURITY 24: answers an array where a string belongs with 400, not 500', async () => {
    const browser = new Browser(t.app);
    const token = await browser.csrfToken('/register');
    const res = await browser.post(
      '/register',
      `username=one&username=two&password=${encodeURIComponent(PASSWORD)}&_csrf=${token}`,
    );

    expect(res.status).toBe(400);
    expect(res.text).toContain('Enter a username.');
  });

  it('SECURITY 13: ignores fields the form does not ask for', async () => {
    expect(
      (
        await new Browser(t.app).submit('/register', {
          username: 'sneaky',
          password: PASSWORD,
          id: '999',
          password_hash: 'x',
        })
      ).status,
    ).toBe(303);
    const [user] = await t.db('users').where({ username: 'sneaky' });
    expect(user.id).not.toBe(999);
    expect(user.password_hash).not.toBe('x');
  });
});
