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
      password: '🐱🐶🦊🐻🐼🐨🐯🦁🐮🐷🐸🐵🐔🐧🐦',
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

describe('look-alike usernames (RFC 8265 UsernameCaseMapped)', () => {
  it('SECURITY+ 10: a fullwidth spelling is the same name: ｄｅｍｏ is taken once demo is', async () => {
    await register(new Browser(t.app), 'widthtest');
    const res = await new Browser(t.app).submit('/register', {
      username: 'ｗｉｄｔｈｔｅｓｔ',
      password: PASSWORD,
    });
    expect(res.status).toBe(409);
    expect(res.text).toContain('That username is taken.');
    expect(await t.db('users').where({ username: 'ｗｉｄｔｈｔｅｓｔ' })).toHaveLength(0);
  });

  it('SECURITY+ 10: halfwidth katakana is stored as the fullwidth form it stands for', async () => {
    await register(new Browser(t.app), 'ｶﾞｲﾄﾞ');
    expect(await t.db('users').where({ username: 'ガイド' })).toHaveLength(1);
  });

  it('SECURITY+ 10: the fullwidth spelling of a name logs in to that account', async () => {
    await register(new Browser(t.app), 'wideuser');
    const res = await new Browser(t.app).submit('/login', {
      username: 'ＷＩＤＥＵＳＥＲ',
      password: PASSWORD,
    });
    expect(res.status).toBe(303);
  });

  it.each([
    ['Latin with one Cyrillic letter', 'p\u0430ypal'],
    ['Latin with Greek', 'alph\u03b1'],
    ['Cyrillic with Latin digits and one Latin letter', 'ива\u006e2'],
  ])('SECURITY+ 10: a name that mixes scripts is refused: %s', async (_case, username) => {
    const res = await new Browser(t.app).submit('/register', { username, password: PASSWORD });
    expect(res.status).toBe(400);
    expect(res.text).toContain('Use letters from one alphabet or writing system.');
    expect(await t.db('users').where({ username: username.normalize('NFC') })).toHaveLength(0);
  });

  it.each([
    ['Cyrillic alone', 'иван_2'],
    ['Greek alone', 'αλέξανδρος'],
    ['Japanese: Han with Hiragana and Katakana', '山田たろウ'],
    ['Korean: Hangul with Han', '김民수'],
    ['Devanagari with its vowel signs', 'राम.कुमार'],
    ['Latin with Japanese, as Unicode allows', 'taro山田'],
  ])('SECURITY+ 10: a name in one writing system is accepted: %s', async (_case, username) => {
    const res = await new Browser(t.app).submit('/register', { username, password: PASSWORD });
    expect(res.status).toBe(303);
  });

  it('SECURITY+ 10: names stored before the width mapping are re-normalised by a migration', async () => {
    const { up } = await import('../migrations/20261125000100_normalise_usernames');
    const [oldId] = await t
      .db('users')
      .insert({ username: 'ｏｌｄｗｉｄｅ', password_hash: 'x' }, ['id']);
    // A look-alike of a name that already exists stays as it was: the migration renames nobody
    // onto somebody else.
    await t.db('users').insert({ username: 'clash', password_hash: 'x' });
    await t.db('users').insert({ username: 'ｃｌａｓｈ', password_hash: 'x' });
    const warnings: unknown[] = [];
    const warn = jest.spyOn(console, 'warn').mockImplementation((text) => warnings.push(text));
    try {
      await up(t.db);
    } finally {
      warn.mockRestore();
    }
    expect(warnings).toEqual([expect.stringContaining('left unchanged')]);
    const names = (await users()).map((user) => user.username);
    expect(names).toContain('oldwide');
    expect(names).not.toContain('ｏｌｄｗｉｄｅ');
    expect(names).toEqual(expect.arrayContaining(['clash', 'ｃｌａｓｈ']));
    expect(oldId).toBeDefined();
  });
});
