import bcrypt from 'bcryptjs';
import { Browser } from './helpers/browser';
import { setCookie } from './helpers/cookies';
import { createTestApp, logIn, PASSWORD, register, type TestApp } from './helpers/test-app';
import { verifyHardened } from '../src/passwords/bcrypt-work';
import * as passwords from '../src/passwords/passwords';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

/** Fifteen different animals: fifteen characters, thirty UTF-16 units. */
const FIFTEEN_EMOJI = '🐱🐶🦊🐻🐼🐨🐯🦁🐮🐷🐸🐵🐔🐧🐦';

/**
 * `length` ASCII characters of ordinary words that do not repeat in a pattern, so that only the
 * length rule is being tested (a run of one character would fail the strength estimate first).
 */
function varied(length: number): string {
  const words = 'amber river quietly folding seven paper cranes beside an old lighthouse while';
  let text = '';
  for (let i = 0; text.length < length; i++) text += `${words.split(' ')[i % 12]}${i} `;
  return text.slice(0, length);
}

let counter = 0;
const newName = () => `user${++counter}`;

async function tryPassword(password: string, username = newName()) {
  return new Browser(t.app).submit('/register', { username, password });
}

describe('password rules', () => {
  it('SECURITY 14: 15 characters are enough, 14 are refused with the reason', async () => {
    expect((await tryPassword('fifteen chars!!')).status).toBe(303);
    const res = await tryPassword('fourteen char!');
    expect(res.status).toBe(400);
    expect(res.text).toContain('Use at least 15 characters.');
  });

  it('SECURITY 14: length is counted in characters: 15 emoji pass, 14 (28 UTF-16 units) do not', async () => {
    expect((await tryPassword(FIFTEEN_EMOJI)).status).toBe(303);
    const res = await tryPassword([...FIFTEEN_EMOJI].slice(1).join(''));
    expect(res.status).toBe(400);
    expect(res.text).toContain('Use at least 15 characters.');
  });

  it('SECURITY 14: 64 and 256 characters are accepted, 257 refused with a message', async () => {
    expect((await tryPassword(varied(64))).status).toBe(303);
    expect((await tryPassword(varied(256))).status).toBe(303);
    const res = await tryPassword(varied(257));
    expect(res.status).toBe(400);
    expect(res.text).toContain('Use at most 256 characters.');
  });

  it('SECURITY 15: bcrypt alone would ignore everything after byte 72', async () => {
    // The flaw being guarded against, shown on the library itself: if this ever stops holding,
    // the next test no longer proves anything about the pre-hash.
    const hash = await bcrypt.hash('a'.repeat(72) + 'X', 4);
    expect(await bcrypt.compare('a'.repeat(72) + 'Y', hash)).toBe(true);
  });

  it('SECURITY 15: a password that differs only after the 72nd byte does not log in', async () => {
    const username = newName();
    const base = varied(72);
    await register(new Browser(t.app), username, `${base}X`);
    expect((await logIn(new Browser(t.app), username, `${base}Y`)).status).toBe(401);
    expect((await logIn(new Browser(t.app), username, `${base}X`)).status).toBe(303);
  });

  it('SECURITY 15: multi-byte characters past byte 72 count too', async () => {
    const username = newName();
    // 40 letters from "à" to "ÿ", two bytes each in UTF-8: 80 bytes.
    const base = Array.from({ length: 40 }, (_, i) =>
      String.fromCodePoint(0xe0 + ((i * 7) % 32)),
    ).join('');
    expect(Buffer.byteLength(base)).toBe(80);
    await register(new Browser(t.app), username, `${base}1`);
    expect((await logIn(new Browser(t.app), username, `${base}2`)).status).toBe(401);
  });

  it('SECURITY 16: no composition rules: spaces, any script, no digits or symbols', async () => {
    expect((await tryPassword('just some lowercase words')).status).toBe(303);
    expect((await tryPassword('пароль из слов и пробелов')).status).toBe(303);
  });

  it('SECURITY 16: the NFD spelling of an NFC password logs in', async () => {
    const username = newName();
    await register(new Browser(t.app), username, 'caf\u00e9 au lait with two sugars');
    const res = await logIn(new Browser(t.app), username, 'cafe\u0301 au lait with two sugars');
    expect(res.status).toBe(303);
  });

  it.each(['passwordpassword', 'PasswordPassword', '1qaz2wsx3edc4rfv', 'Password Password'])(
    'SECURITY 17: the common password %j is refused, whatever its case, with the reason',
    async (password) => {
      const res = await tryPassword(password);
      expect(res.status).toBe(400);
      expect(res.text).toContain('one of the most commonly used passwords');
    },
  );

  it('SECURITY 17: a password containing the username is refused', async () => {
    const res = await tryPassword('hello I am Margaret-99, hi', 'margaret-99');
    expect(res.status).toBe(400);
    expect(res.text).toContain('Your password must not contain your username.');
  });

  it('SECURITY 17: a password containing the site name is refused', async () => {
    const res = await tryPassword('my session-starter password');
    expect(res.status).toBe(400);
    expect(res.text).toContain('Your password must not contain the name of this site.');
  });

  it('SECURITY 17: the password reason is shown even when the username is wrong too', async () => {
    const res = await tryPassword('passwordpassword', 'x');
    expect(res.text).toContain('Use 3 to 32 characters.');
    expect(res.text).toContain('one of the most commonly used passwords');
  });

  it('SECURITY 18: hashes use the configured cost and a unique salt, and no plaintext is stored', async () => {
    const [first, second] = [newName(), newName()];
    await register(new Browser(t.app), first);
    await register(new Browser(t.app), second);
    const rows = await t.db('users').whereIn('username', [first, second]);
    expect(rows.map((row) => row.password_hash.slice(0, 7))).toEqual(['$2b$04$', '$2b$04$']);
    expect(rows[0].password_hash).not.toBe(rows[1].password_hash);

    for (const table of ['users', 'sessions']) {
      const dump = JSON.stringify(await t.db(table).select());
      expect(dump).not.toContain(PASSWORD);
    }
  });
});

describe('password managers', () => {
  it.each<[string, string, string[]]>([
    ['/register', 'Register', ['username', 'new-password']],
    ['/login', 'Log in', ['username', 'current-password']],
  ])(
    'SECURITY 19: %s has labelled fields with the right autocomplete values',
    async (path, _title, autocomplete) => {
      const { text } = await new Browser(t.app).get(path);
      expect(text).toMatch(/<input[^>]*id="username"[^>]*autocomplete="username"/);
      expect(text).toMatch(
        new RegExp(`<input[^>]*type="password"[^>]*autocomplete="${autocomplete[1]}"`),
      );
      expect(text).toContain('<label for="username">');
      expect(text).toContain('<label for="password">');
      // Paste works: nothing on the page could block it.
      expect(text).not.toMatch(/onpaste|<script/);
    },
  );

  it('SECURITY 19: a long pasted password (a manager’s 64 random characters) works', async () => {
    const generated = 'Zq8#vL2!mN4@pR6$tX9^wB1&yD3*fH5(jK7)sA0-gC2+eU4=iO6~kM8_nQ1:lP3;';
    const username = newName();
    await register(new Browser(t.app), username, generated);
    const res = await logIn(new Browser(t.app), username, generated);
    expect(res.status).toBe(303);
    expect(setCookie(res, 'sid')).toBeDefined();
  });
});

describe('password length after normalisation', () => {
  // Five Hangul syllables: 5 characters in NFC, 15 code points when each is sent decomposed.
  const syllables = '한국강산밥';
  const decomposed = syllables.normalize('NFD');

  it('SECURITY+ 11: the NFD spelling is counted as the characters it composes (5, not 15)', async () => {
    expect([...decomposed]).toHaveLength(15);
    const res = await tryPassword(decomposed);
    expect(res.status).toBe(400);
    expect(res.text).toContain('Use at least 15 characters.');
    const nfc = await tryPassword(syllables);
    expect(nfc.status).toBe(400);
    expect(nfc.text).toContain('Use at least 15 characters.');
  });
});

describe('password strength (zxcvbn-ts)', () => {
  it.each([
    ['one character repeated', 'aaaaaaaaaaaaaaa', /Repeated characters/],
    ['digits in order', '123456789012345', /commonly used password|sequences/],
    ['a keyboard row', 'qwertyuiopasdfg', /commonly used password|keyboard/i],
    ['a word repeated', 'passwordpassword1', /Repeated character patterns|commonly used/],
    ['the alphabet in order', 'abcdefghijklmnop', /sequences like &quot;abc&quot;/],
    ['fifteen spaces', ' '.repeat(15), /Repeated characters/],
  ])(
    'SECURITY+ 3: a long but guessable password is refused: %s, with zxcvbn’s warning',
    async (_case, password, warning) => {
      const username = newName();
      const res = await tryPassword(password, username);
      expect(res.status).toBe(400);
      expect(res.text).toContain('This password would be too easy to guess.');
      expect(res.text).toMatch(warning);
      expect(await t.db('users').where({ username })).toHaveLength(0);
    },
  );

  it('SECURITY+ 3: the suggestions are listed under the field, tied to it for screen readers', async () => {
    const res = await tryPassword('abcdefghijklmnop');
    expect(res.text).toMatch(/<ul class="field-suggestions" id="password-suggestions">/);
    expect(res.text).toContain('<li>Avoid common character sequences.</li>');
    expect(res.text).toMatch(
      /id="password"[^>]*aria-describedby="password-hint password-error password-suggestions"/,
    );
  });

  it.each([
    ['the demo account’s password', 'paper lanterns over a quiet harbour'],
    ['a few unrelated words', 'violet kettle under the stairs'],
    ['a generated password', 'Zq8#vL2!mN4@pR6$'],
    ['a passphrase in another script', 'чайник стоит на подоконнике'],
  ])('SECURITY+ 3: a strong password is accepted: %s', async (_case, password) => {
    expect((await tryPassword(password)).status).toBe(303);
  });

  it('SECURITY+ 3: a password built from the username is judged with it as a known word', async () => {
    const res = await tryPassword('gwendolyn_gwendolyn!', 'gwendolyn');
    expect(res.status).toBe(400);
    expect(res.text).toContain('Your password must not contain your username.');
  });

  it('SECURITY+ 3: a new password on the account page is held to the same rule', async () => {
    const browser = new Browser(t.app);
    await register(browser, newName());
    const res = await browser.submit(
      '/account/password',
      { current_password: PASSWORD, new_password: 'qwertyuiopasdfg' },
      { from: '/account' },
    );
    expect(res.status).toBe(400);
    expect(res.text).toContain('This password would be too easy to guess.');
  });
});

describe('raising BCRYPT_COST', () => {
  afterEach(() => jest.restoreAllMocks());

  it('SECURITY+ 7: a login re-hashes a password that was stored at a lower cost', async () => {
    const username = newName();
    await register(new Browser(t.app), username);
    const raised = await createTestApp({ BCRYPT_COST: '6' }, { databaseUrl: t.databaseUrl });
    try {
      const hashOf = async () =>
        String((await raised.db('users').where({ username }).first())?.password_hash);
      expect(await hashOf()).toMatch(/^\$2b\$04\$/);
      expect((await logIn(new Browser(raised.app), username)).status).toBe(303);
      expect(await hashOf()).toMatch(/^\$2b\$06\$/);
      expect((await logIn(new Browser(raised.app), username)).status).toBe(303);
      expect((await logIn(new Browser(raised.app), username, 'not the password')).status).toBe(401);
    } finally {
      await raised.close();
    }
  });

  it('SECURITY+ 7: a wrong guess against a cheaper stored hash costs what the configured cost costs', () => {
    const compare = jest.spyOn(bcrypt, 'compareSync');
    const hash = bcrypt.hashSync('the real one', 4);
    // Cost 6 is four times the work of cost 4: four comparisons, as Django's harden_runtime does.
    expect(verifyHardened('a guess', hash, 6)).toBe(false);
    expect(compare).toHaveBeenCalledTimes(4);
    compare.mockClear();
    // The right password is re-hashed at the configured cost instead, which costs the same.
    expect(verifyHardened('the real one', hash, 6)).toBe(true);
    expect(compare).toHaveBeenCalledTimes(1);
  });

  it('SECURITY+ 7: every login check asks for the configured cost, known name or not', async () => {
    const verify = jest.spyOn(passwords, 'verifyPassword');
    const raised = await createTestApp({ BCRYPT_COST: '5' }, { databaseUrl: t.databaseUrl });
    try {
      await logIn(new Browser(raised.app), 'no_such_name_here', 'some guess at all');
      await logIn(new Browser(raised.app), 'user1', 'some guess at all');
      expect(verify.mock.calls.map((call) => call[2])).toEqual([
        expect.objectContaining({ minCost: 5 }),
        expect.objectContaining({ minCost: 5 }),
      ]);
      expect(verify.mock.calls[0]?.[1]).toMatch(/^\$2b\$05\$/);
    } finally {
      await raised.close();
    }
  });
});
