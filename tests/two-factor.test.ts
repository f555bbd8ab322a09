import { Browser } from './helpers/browser';
import { runCli } from './helpers/cli';
import { sessionIdOf } from './helpers/cookies';
import { logLines } from './helpers/log-lines';
import { createTestAppWithMail, follow, linkIn, type MailServer } from './helpers/mail-server';
import {
  createTestApp,
  editSessionRow,
  logIn,
  PASSWORD,
  register,
  sessionRowOf,
  type TestApp,
} from './helpers/test-app';
import { countRows } from './helpers/test-database';
import {
  codeFor,
  recoveryCodesIn,
  setupKeyIn,
  signInWithCode,
  turnOnTwoFactor,
} from './helpers/two-factor';
import { markEmailVerified, setPendingEmail } from '../src/accounts/users';
import { deriveKey } from '../src/security/keys';
import { createSecretBox } from '../src/security/secret-box';

const PUBLIC_URL = 'https://site.example';
const WRONG = 'That code is not right';

let mail: MailServer;
let t: TestApp;
const { lines, logStream } = logLines();
beforeAll(async () => {
  ({ t, mail } = await createTestAppWithMail({ PUBLIC_URL, LOG_LEVEL: 'info' }, { logStream }));
});
afterAll(() => t.close());

const userIdOf = async (app: TestApp, username: string): Promise<number> =>
  (await app.db('users').where({ username }).first()).id;

/** A new account, signed in, with a confirmed address: the browser, its id and address. */
async function account(username: string, app = t) {
  const browser = new Browser(app.app);
  await register(browser, username);
  const id = await userIdOf(app, username);
  const email = `${username}@example.org`;
  await setPendingEmail(app.db, id, email);
  await markEmailVerified(app.db, id, email);
  return { browser, id, email };
}

/**
 * As if the codes accepted so far were from long ago: the tests sign in more often than every
 * 30 seconds, and each sign-in needs a code for a step after the last one accepted.
 */
const forgetAcceptedCodes = (app: TestApp, id: number) =>
  app.db('totp_authenticators').where({ user_id: id }).update({ last_step: null });

describe('two-factor set-up: /account/two-factor', () => {
  it('is for signed-in users only', async () => {
    const res = await new Browser(t.app).get('/account/two-factor');
    expect([res.status, res.headers.location]).toEqual([
      302,
      '/login?next=%2Faccount%2Ftwo-factor',
    ]);
  });

  it('is linked from the account page and says two-factor is off', async () => {
    const { browser } = await account('linked');
    expect((await browser.get('/account')).text).toContain('href="/account/two-factor"');
    const page = await browser.get('/account/two-factor');
    expect(page.status).toBe(200);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.text).toContain('Two-factor sign-in is off');
  });

  it('starting a set-up needs a recent password entry', async () => {
    const { browser } = await account('stale');
    await editSessionRow(t.db, browser.cookie('sid'), (sess) => {
      sess.loginAt = Date.now() - 60 * 60_000;
    });
    const res = await browser.submit(
      '/account/two-factor/setup',
      {},
      { from: '/account/two-factor' },
    );
    expect([res.status, res.headers.location]).toEqual([
      303,
      '/confirm-password?next=%2Faccount%2Ftwo-factor',
    ]);
    expect(await countRows(t.db, 'totp_authenticators')).toBe(0);
  });

  it('shows a QR code drawn on the page, the key as text, and the otpauth link', async () => {
    const { browser } = await account('scanner');
    await browser.submit('/account/two-factor/setup', {}, { from: '/account/two-factor' });
    const page = (await browser.get('/account/two-factor')).text;
    const secret = setupKeyIn(page);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(page).toMatch(/<svg role="img" aria-label="QR code for your authenticator app"/);
    const uri = /href="(otpauth:\/\/[^"]+)"/.exec(page)?.[1]?.replace(/&amp;/g, '&');
    const parsed = new URL(uri ?? '');
    expect(parsed.protocol).toBe('otpauth:');
    expect(parsed.host).toBe('totp');
    expect(decodeURIComponent(parsed.pathname)).toBe('/Session Starter:scanner');
    expect(Object.fromEntries(parsed.searchParams)).toEqual({
      issuer: 'Session Starter',
      secret,
      algorithm: 'SHA1',
      digits: '6',
      period: '30',
    });
    // Pending, the secret is in the session only, and sealed there too.
    expect(await countRows(t.db, 'totp_authenticators')).toBe(0);
    const row = await sessionRowOf(t.db, browser.cookie('sid'));
    expect(JSON.stringify(row?.sess)).not.toContain(secret);
  });

  it('turns on only with a right code: a wrong one is refused, and the set-up waits', async () => {
    const { browser, id } = await account('careful');
    const from = '/account/two-factor';
    await browser.submit('/account/two-factor/setup', {}, { from });
    const secret = setupKeyIn((await browser.get(from)).text);
    const wrong = String((Number(codeFor(secret)) + 1) % 1_000_000).padStart(6, '0');
    const refused = await browser.submit('/account/two-factor/enable', { code: wrong }, { from });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain(WRONG);
    expect(setupKeyIn(refused.text)).toBe(secret);
    const malformed = await browser.submit(
      '/account/two-factor/enable',
      { code: '12ab' },
      { from },
    );
    expect(malformed.status).toBe(400);
    expect(malformed.text).toContain('Enter the 6 digits your app shows.');
    expect(await t.db('totp_authenticators').where({ user_id: id })).toHaveLength(0);

    const enabled = await browser.submit(
      '/account/two-factor/enable',
      { code: codeFor(secret) },
      { from },
    );
    expect(enabled.status).toBe(200);
    const codes = recoveryCodesIn(enabled.text);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    expect(enabled.text).toContain('download="session-starter-recovery-codes.txt"');
    expect(enabled.text).toContain('Two-factor sign-in is on');
  });

  it('shows the recovery codes once: a later visit shows only how many are left', async () => {
    const { browser } = await account('onlyonce');
    const { codes } = await turnOnTwoFactor(browser);
    const later = (await browser.get('/account/two-factor')).text;
    expect(recoveryCodesIn(later)).toEqual([]);
    for (const code of codes) expect(later).not.toContain(code);
    expect(later).toMatch(/You have <strong>10<\/strong> recovery\s+codes\s+left/);
  });

  it('recovery codes are at least 50 bits each, easy to type, and stored only as hashes', async () => {
    const { browser, id } = await account('hashed');
    const { codes } = await turnOnTwoFactor(browser);
    // 10 characters from a 32-letter alphabet: 50 bits.
    for (const code of codes) expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$/);
    const rows = await t.db('recovery_codes').where({ user_id: id });
    expect(rows).toHaveLength(10);
    const stored = JSON.stringify(rows);
    for (const code of codes) {
      expect(stored).not.toContain(code);
      expect(stored).not.toContain(code.replace('-', ''));
    }
  });

  it('turning it on ends every other session of the account, and mails a notice', async () => {
    const { browser, email } = await account('enabler');
    const other = new Browser(t.app);
    await logIn(other, 'enabler');
    expect((await other.get('/dashboard')).status).toBe(200);
    const sidBefore = sessionIdOf(String(browser.cookie('sid')));
    await turnOnTwoFactor(browser);
    expect((await other.get('/dashboard')).status).toBe(302);
    // This session goes on, under a new id.
    expect((await browser.get('/dashboard')).status).toBe(200);
    expect(sessionIdOf(String(browser.cookie('sid')))).not.toBe(sidBefore);
    const notice = await mail.next(email, 'Two-factor sign-in changed on your account');
    expect(notice.text).toContain('Two-factor sign-in was just turned on');
    expect(lines).toContainEqual(expect.objectContaining({ event: 'two_factor_enabled' }));
  });

  it('turning it off needs a recent password, ends the other sessions, deletes the secret and codes', async () => {
    const { browser, id, email } = await account('disabler');
    const { secret } = await turnOnTwoFactor(browser);
    await mail.next(email, 'Two-factor sign-in changed on your account');
    await forgetAcceptedCodes(t, id);
    const other = new Browser(t.app);
    expect((await signInWithCode(other, 'disabler', PASSWORD, codeFor(secret))).status).toBe(303);
    expect((await other.get('/dashboard')).status).toBe(200);

    await editSessionRow(t.db, browser.cookie('sid'), (sess) => {
      sess.loginAt = Date.now() - 60 * 60_000;
      delete sess.confirmedAt;
    });
    const from = '/account/two-factor';
    const stale = await browser.submit('/account/two-factor/disable', {}, { from });
    expect(stale.headers.location).toMatch(/^\/confirm-password/);
    expect(await t.db('totp_authenticators').where({ user_id: id })).toHaveLength(1);
    await browser.submit('/confirm-password', { password: PASSWORD, next: from });

    const off = await browser.submit('/account/two-factor/disable', {}, { from });
    expect([off.status, off.headers.location]).toEqual([303, from]);
    expect(await t.db('totp_authenticators').where({ user_id: id })).toHaveLength(0);
    expect(await t.db('recovery_codes').where({ user_id: id })).toHaveLength(0);
    expect((await other.get('/dashboard')).status).toBe(302);
    expect((await browser.get(from)).text).toContain('Two-factor sign-in is off');
    const notice = await mail.next(email, 'Two-factor sign-in changed on your account');
    expect(notice.text).toContain('Two-factor sign-in was just turned off');
    // The password alone signs in again.
    expect((await logIn(new Browser(t.app), 'disabler')).headers.location).toBe('/dashboard');
  });

  it('new recovery codes replace the old ones', async () => {
    const { browser, id } = await account('renewer');
    const { codes: old } = await turnOnTwoFactor(browser);
    const from = '/account/two-factor';
    const renewed = await browser.submit('/account/two-factor/recovery-codes', {}, { from });
    expect(renewed.status).toBe(200);
    const codes = recoveryCodesIn(renewed.text);
    expect(codes).toHaveLength(10);
    expect(codes.filter((code) => old.includes(code))).toEqual([]);
    const res = await signInWithCode(new Browser(t.app), 'renewer', PASSWORD, old[0] ?? '');
    expect(res.status).toBe(401);
    expect(await t.db('recovery_codes').where({ user_id: id }).whereNull('used_at')).toHaveLength(
      10,
    );
  });
});

describe('signing in with two-factor on', () => {
  it('a right password alone does not sign in: a new id, no user, and the code page', async () => {
    const { browser, id } = await account('halfway');
    await turnOnTwoFactor(browser);
    const fresh = new Browser(t.app);
    await fresh.get('/login');
    const res = await logIn(fresh, 'halfway');
    expect([res.status, res.headers.location]).toEqual([303, '/login/two-factor']);
    const row = await sessionRowOf(t.db, fresh.cookie('sid'));
    expect(row?.sess.userId).toBeUndefined();
    expect(row?.sess.pendingSignIn).toEqual(expect.objectContaining({ userId: id, failures: 0 }));
    expect((await t.db('sessions').where({ sid: row?.sid }).first()).user_id).toBeNull();

    // Every protected page treats the session as anonymous.
    expect((await fresh.get('/dashboard')).headers.location).toBe('/login?next=%2Fdashboard');
    const json = await fresh.get('/dashboard', { Accept: 'application/json' });
    expect(json.status).toBe(401);
    expect((await fresh.get('/account/two-factor')).status).toBe(302);

    const page = await fresh.get('/login/two-factor');
    expect(page.status).toBe(200);
    expect(page.text).toContain('autocomplete="one-time-code"');
    expect(page.text).toContain('inputmode="numeric"');
    expect(page.text).toContain('href="/login"');
    expect(lines).toContainEqual(
      expect.objectContaining({ event: 'second_step_required', userId: id }),
    );
  });

  it('a right code completes the sign-in under a new id, and the session says how', async () => {
    const { browser, id } = await account('complete');
    const { secret } = await turnOnTwoFactor(browser);
    await forgetAcceptedCodes(t, id);
    const fresh = new Browser(t.app);
    await logIn(fresh, 'complete');
    const pendingSid = sessionIdOf(String(fresh.cookie('sid')));
    const res = await fresh.submit('/login/two-factor', { code: codeFor(secret) });
    expect([res.status, res.headers.location]).toEqual([303, '/dashboard']);
    expect(sessionIdOf(String(fresh.cookie('sid')))).not.toBe(pendingSid);
    expect((await fresh.get('/dashboard')).status).toBe(200);
    const row = await sessionRowOf(t.db, fresh.cookie('sid'));
    expect(row?.sess).toEqual(
      expect.objectContaining({ userId: id, signInMethod: 'password+totp' }),
    );
    expect(row?.sess.pendingSignIn).toBeUndefined();
    const column = await t.db('sessions').where({ sid: row?.sid }).first();
    expect(column.sign_in_method).toBe('password+totp');
    const sessions = await fresh.get('/account/sessions');
    expect(sessions.text).toContain('Password and authenticator app');
    expect(lines).toContainEqual(
      expect.objectContaining({ event: 'login_succeeded', userId: id, reason: 'password+totp' }),
    );
  });

  it('takes a code from one step before or after (clock drift), not two', async () => {
    const { browser, id } = await account('drifty');
    const { secret } = await turnOnTwoFactor(browser);
    await forgetAcceptedCodes(t, id);
    const tooOld = await signInWithCode(
      new Browser(t.app),
      'drifty',
      PASSWORD,
      codeFor(secret, -3),
    );
    expect(tooOld.status).toBe(401);
    const behind = await signInWithCode(
      new Browser(t.app),
      'drifty',
      PASSWORD,
      codeFor(secret, -1),
    );
    expect(behind.status).toBe(303);
  });

  it('a code is accepted once: the same code again, or an older one, is refused', async () => {
    const { browser, id } = await account('replayed');
    const { secret } = await turnOnTwoFactor(browser);
    await forgetAcceptedCodes(t, id);
    const code = codeFor(secret, 1);
    expect((await signInWithCode(new Browser(t.app), 'replayed', PASSWORD, code)).status).toBe(303);
    const again = await signInWithCode(new Browser(t.app), 'replayed', PASSWORD, code);
    expect(again.status).toBe(401);
    expect(again.text).toContain(WRONG);
    const older = await signInWithCode(new Browser(t.app), 'replayed', PASSWORD, codeFor(secret));
    expect(older.status).toBe(401);
  });

  it('the set-up code cannot sign in again', async () => {
    const { browser } = await account('setupcode');
    const from = '/account/two-factor';
    await browser.submit('/account/two-factor/setup', {}, { from });
    const secret = setupKeyIn((await browser.get(from)).text);
    const code = codeFor(secret);
    await browser.submit('/account/two-factor/enable', { code }, { from });
    const res = await signInWithCode(new Browser(t.app), 'setupcode', PASSWORD, code);
    expect(res.status).toBe(401);
  });

  it('five wrong codes end the half-done sign-in: back to the password', async () => {
    const { browser, id } = await account('fumbler');
    const { secret } = await turnOnTwoFactor(browser);
    await forgetAcceptedCodes(t, id);
    const fresh = new Browser(t.app);
    await logIn(fresh, 'fumbler');
    for (let i = 1; i <= 4; i++) {
      const res = await fresh.submit('/login/two-factor', { code: '000000' });
      expect([i, res.status]).toEqual([i, 401]);
    }
    const fifth = await fresh.submit('/login/two-factor', { code: '000000' });
    expect([fifth.status, fifth.headers.location]).toEqual([303, '/login']);
    expect((await fresh.get('/login')).text).toContain('Too many wrong codes');
    // Even the right code now needs the password first.
    const late = await fresh.post('/login/two-factor', {
      code: codeFor(secret),
      _csrf: await fresh.csrfToken('/login'),
    });
    expect([late.status, late.headers.location]).toEqual([303, '/login']);
    expect((await fresh.get('/dashboard')).status).toBe(302);
    expect(lines).toContainEqual(
      expect.objectContaining({
        event: 'second_step_failed',
        userId: id,
        reason: 'too many wrong codes',
      }),
    );
  });

  it('the half-done sign-in expires after 5 minutes', async () => {
    const { browser, id } = await account('slowpoke');
    const { secret } = await turnOnTwoFactor(browser);
    await forgetAcceptedCodes(t, id);
    const fresh = new Browser(t.app);
    await logIn(fresh, 'slowpoke');
    await editSessionRow(t.db, fresh.cookie('sid'), (sess) => {
      (sess.pendingSignIn as { at: number }).at = Date.now() - 5 * 60_000 - 1000;
    });
    const token = await fresh.csrfToken('/login');
    const res = await fresh.post('/login/two-factor', { code: codeFor(secret), _csrf: token });
    expect([res.status, res.headers.location]).toEqual([303, '/login']);
    expect((await fresh.get('/login')).text).toContain('took too long');
    expect((await fresh.get('/dashboard')).status).toBe(302);
  });

  it('a code page without a half-done sign-in sends the visitor to the password', async () => {
    const res = await new Browser(t.app).get('/login/two-factor');
    expect([res.status, res.headers.location]).toEqual([303, '/login']);
  });

  it('an empty or overlong code is answered with a message, not counted as a guess', async () => {
    const { browser } = await account('typist');
    await turnOnTwoFactor(browser);
    const fresh = new Browser(t.app);
    await logIn(fresh, 'typist');
    const empty = await fresh.submit('/login/two-factor', { code: ' ' });
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('Enter the code from your authenticator app');
    const long = await fresh.submit('/login/two-factor', { code: '1'.repeat(200) });
    expect(long.status).toBe(400);
    const row = await sessionRowOf(t.db, fresh.cookie('sid'));
    expect((row?.sess.pendingSignIn as { failures: number }).failures).toBe(0);
  });

  it('a recovery code signs in once, ends the other sessions, and mails a notice', async () => {
    const { browser, id, email } = await account('recoverer');
    const { codes } = await turnOnTwoFactor(browser);
    await mail.next(email, 'Two-factor sign-in changed on your account');
    const [code = ''] = codes;
    const fresh = new Browser(t.app);
    // Typed in capitals, without its dash: the same code.
    const res = await signInWithCode(
      fresh,
      'recoverer',
      PASSWORD,
      code.toUpperCase().replace('-', ''),
    );
    expect([res.status, res.headers.location]).toEqual([303, '/dashboard']);
    expect((await fresh.get('/dashboard')).text).toContain('recovery code');
    expect((await browser.get('/dashboard')).status).toBe(302);
    const row = await sessionRowOf(t.db, fresh.cookie('sid'));
    expect(row?.sess.signInMethod).toBe('password+recovery-code');
    expect(await t.db('recovery_codes').where({ user_id: id }).whereNull('used_at')).toHaveLength(
      9,
    );
    expect((await fresh.get('/account/two-factor')).text).toMatch(/<strong>9<\/strong> recovery/);
    const notice = await mail.next(email, 'Two-factor sign-in changed on your account');
    expect(notice.text).toContain('A recovery code was just used');
    expect(lines).toContainEqual(
      expect.objectContaining({ event: 'recovery_code_used', userId: id }),
    );

    const again = await signInWithCode(new Browser(t.app), 'recoverer', PASSWORD, code);
    expect(again.status).toBe(401);
  });

  it('a password reset by e-mail does not skip the second step', async () => {
    const { browser, email } = await account('resetter');
    const { secret } = await turnOnTwoFactor(browser);
    const stranger = new Browser(t.app);
    await stranger.submit('/password/forgot', { email });
    const link = linkIn(await mail.next(email, 'Reset your password'));
    await follow(stranger, link);
    const newPassword = 'a fresh start after forgetting';
    const reset = await stranger.submit('/password/reset', { password: newPassword });
    expect([reset.status, reset.headers.location]).toEqual([303, '/login']);
    expect((await stranger.get('/dashboard')).status).toBe(302);
    const login = await logIn(stranger, 'resetter', newPassword);
    expect(login.headers.location).toBe('/login/two-factor');
    expect((await stranger.get('/dashboard')).status).toBe(302);
    const res = await stranger.submit('/login/two-factor', { code: codeFor(secret, 1) });
    expect(res.headers.location).toBe('/dashboard');
  });

  it('changing the password on the account page keeps two-factor on', async () => {
    const { browser, id } = await account('changer');
    const { secret } = await turnOnTwoFactor(browser);
    const newPassword = 'another long and quiet passphrase';
    const changed = await browser.submit(
      '/account/password',
      { current_password: PASSWORD, new_password: newPassword },
      { from: '/account' },
    );
    expect(changed.status).toBe(303);
    expect(await t.db('totp_authenticators').where({ user_id: id })).toHaveLength(1);
    await forgetAcceptedCodes(t, id);
    const res = await signInWithCode(new Browser(t.app), 'changer', newPassword, codeFor(secret));
    expect(res.headers.location).toBe('/dashboard');
  });
});

describe('the second step is throttled per account, across sign-ins and addresses', () => {
  let limited: TestApp;
  beforeAll(async () => {
    limited = await createTestApp(
      { SECOND_STEP_FAILURES_PER_ACCOUNT: '3', LOG_LEVEL: 'info' },
      {
        logStream,
      },
    );
  });
  afterAll(() => limited.close());

  it('past the limit even a right code is refused, with the answer a wrong one gets', async () => {
    const browser = new Browser(limited.app);
    await register(browser, 'guarded');
    const { secret } = await turnOnTwoFactor(browser);
    const id = await userIdOf(limited, 'guarded');
    await forgetAcceptedCodes(limited, id);
    // Two sign-ins: three wrong codes between them.
    const first = new Browser(limited.app);
    await logIn(first, 'guarded');
    await first.submit('/login/two-factor', { code: '111111' });
    await first.submit('/login/two-factor', { code: '222222' });
    const second = new Browser(limited.app);
    await logIn(second, 'guarded');
    const wrong = await second.submit('/login/two-factor', { code: '333333' });

    const right = await second.submit('/login/two-factor', { code: codeFor(secret) });
    expect(right.status).toBe(wrong.status);
    expect(right.text.replace(/value="[^"]+"/g, '')).toBe(wrong.text.replace(/value="[^"]+"/g, ''));
    expect((await second.get('/dashboard')).status).toBe(302);
    // Refused without being used up: it still works once the lock is lifted.
    expect(await limited.db('totp_authenticators').where({ user_id: id }).first()).toEqual(
      expect.objectContaining({ last_step: null }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ event: 'second_step_failed', reason: 'second step locked' }),
    );
  });
});

describe('the authenticator secret at rest', () => {
  const OLD = 'the-secret-before-rotation-is-long-enough-0000';
  const NEW = 'the-secret-after-rotation-is-long-enough-11111';

  it('is sealed in the database, and still opens after a rotation that keeps the old secret', async () => {
    const before = await createTestApp({ SESSION_SECRETS: OLD });
    const browser = new Browser(before.app);
    await register(browser, 'rotated');
    const { secret } = await turnOnTwoFactor(browser);
    const id = await userIdOf(before, 'rotated');
    const sealed = (await before.db('totp_authenticators').where({ user_id: id }).first()).secret;
    // AES-256-GCM: version, nonce, ciphertext, tag; nothing of the key itself.
    expect(sealed).toMatch(/^v1\.[\w-]{16}\.[\w-]+\.[\w-]{22}$/);
    expect(sealed).not.toContain(secret);
    expect(Buffer.from(sealed.split('.')[2], 'base64url').toString('latin1')).not.toContain(secret);

    await before.close();

    const rotated = await createTestApp(
      { SESSION_SECRETS: `${NEW},${OLD}` },
      { databaseUrl: before.databaseUrl },
    );
    await forgetAcceptedCodes(rotated, id);
    const res = await signInWithCode(
      new Browser(rotated.app),
      'rotated',
      PASSWORD,
      codeFor(secret),
    );
    expect(res.headers.location).toBe('/dashboard');
    // Read with the old key, sealed again with the new one.
    const resealed = (await rotated.db('totp_authenticators').where({ user_id: id }).first())
      .secret;
    expect(resealed).not.toBe(sealed);
    await rotated.close();

    const newOnly = await createTestApp(
      { SESSION_SECRETS: NEW },
      { databaseUrl: before.databaseUrl },
    );
    await forgetAcceptedCodes(newOnly, id);
    const after = await signInWithCode(
      new Browser(newOnly.app),
      'rotated',
      PASSWORD,
      codeFor(secret),
    );
    expect(after.headers.location).toBe('/dashboard');
    await newOnly.close();
  });
});

describe('the secret box (AES-256-GCM)', () => {
  const keys = [deriveKey('a-secret-of-at-least-thirty-two-bytes-for-keys', 'authenticatorSecret')];

  it('opens only in the context it was sealed for, and refuses an altered value', () => {
    const box = createSecretBox(keys);
    const sealed = box.seal('JBSWY3DPEHPK3PXP', 'totp user 1');
    expect(box.open(sealed, 'totp user 1')).toEqual({ plain: 'JBSWY3DPEHPK3PXP', stale: false });
    // Copied to another account's row: refused, not opened to someone else's secret.
    expect(box.open(sealed, 'totp user 2')).toBeUndefined();
    const [version, iv, body = '', tag] = sealed.split('.');
    const flipped = Buffer.from(body, 'base64url');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(
      box.open([version, iv, flipped.toString('base64url'), tag].join('.'), 'totp user 1'),
    ).toBeUndefined();
    // A fresh nonce each time: the same secret never seals to the same text.
    expect(box.seal('JBSWY3DPEHPK3PXP', 'totp user 1')).not.toBe(sealed);
  });
});

describe('two-factor with SESSION_STORE=memory and no mail', () => {
  let memory: TestApp;
  beforeAll(async () => {
    memory = await createTestApp({ SESSION_STORE: 'memory' });
  });
  afterAll(() => memory.close());

  it('signs in with a code, refuses a replay, and ends other sessions when turned on', async () => {
    const browser = new Browser(memory.app);
    await register(browser, 'inmemory');
    const other = new Browser(memory.app);
    await logIn(other, 'inmemory');
    const { secret, codes } = await turnOnTwoFactor(browser);
    // No row to delete: the credential stamp ends the other session at its next request.
    expect((await other.get('/dashboard')).status).toBe(302);
    expect((await browser.get('/dashboard')).status).toBe(200);

    const id = await userIdOf(memory, 'inmemory');
    await forgetAcceptedCodes(memory, id);
    const code = codeFor(secret);
    const fresh = new Browser(memory.app);
    expect((await signInWithCode(fresh, 'inmemory', PASSWORD, code)).headers.location).toBe(
      '/dashboard',
    );
    expect((await signInWithCode(new Browser(memory.app), 'inmemory', PASSWORD, code)).status).toBe(
      401,
    );
    const recovered = new Browser(memory.app);
    await signInWithCode(recovered, 'inmemory', PASSWORD, codes[0] ?? '');
    expect((await recovered.get('/dashboard')).status).toBe(200);
    expect((await fresh.get('/dashboard')).status).toBe(302);
  });
});

describe('npm run two-factor', () => {
  const cli = (...args: string[]) =>
    runCli('two-factor.ts', args, {
      NODE_ENV: 'test',
      DATABASE_URL: t.databaseUrl,
      LOG_LEVEL: 'info',
    });

  it('says whether two-factor is on, with the recovery codes left', async () => {
    const { browser } = await account('cli_status');
    expect(cli('status', 'cli_status').stdout).toBe('two-factor sign-in is off for cli_status\n');
    await turnOnTwoFactor(browser);
    const on = cli('status', 'CLI_status');
    expect(on.status).toBe(0);
    expect(on.stdout).toBe('two-factor sign-in is on for CLI_status: 10 recovery codes left\n');
  });

  it('turns it off for someone who lost phone and codes, ending their sessions, logged', async () => {
    const { browser, id } = await account('cli_lost');
    await turnOnTwoFactor(browser);
    const result = cli('disable', 'cli_lost');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('two-factor sign-in turned off for cli_lost; 1 session ended\n');
    expect(JSON.parse(result.stderr.trim().split('\n').pop() ?? '{}')).toEqual(
      expect.objectContaining({
        event: 'two_factor_disabled',
        userId: id,
        reason: 'by an operator (npm run two-factor)',
      }),
    );
    expect(await t.db('totp_authenticators').where({ user_id: id })).toHaveLength(0);
    expect(await t.db('recovery_codes').where({ user_id: id })).toHaveLength(0);
    expect((await browser.get('/dashboard')).status).toBe(302);
    expect((await logIn(new Browser(t.app), 'cli_lost')).headers.location).toBe('/dashboard');
    expect(cli('disable', 'cli_lost').stdout).toContain('was already off');
  });

  it('says clearly when the user does not exist, and exits non-zero', () => {
    const unknown = cli('disable', 'nobody_by_that_name');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('no user named "nobody_by_that_name"');
    const usage = cli('frobnicate', 'someone');
    expect(usage.status).toBe(1);
    expect(usage.stderr).toContain('usage: npm run two-factor');
  });
});
