import { Secret, TOTP } from 'otpauth';
import type { Browser } from './browser';

/**
 * The code an authenticator app shows for `secret`, `steps` 30-second steps from now: computed
 * from the secret the way an app computes it, with the real clock.
 */
export function codeFor(secret: string, steps = 0): string {
  const totp = new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6 });
  return totp.generate({ timestamp: Date.now() + steps * 30_000 });
}

/** The key the set-up page shows for typing in by hand, without its spaces. */
export function setupKeyIn(page: string): string {
  const key = /class="setup-key">([A-Z2-7 ]+)</.exec(page)?.[1];
  if (!key) throw new Error('the page shows no set-up key');
  return key.replace(/ /g, '');
}

/** The recovery codes a page shows (once, after two-factor is turned on or codes renewed). */
export function recoveryCodesIn(page: string): string[] {
  return [...page.matchAll(/<li><code>([0-9a-z]{5}-[0-9a-z]{5})<\/code><\/li>/g)].map(
    (m) => m[1] ?? '',
  );
}

/**
 * Turns two-factor on for the signed-in user of `browser` through the real pages: start the
 * set-up, read the key, confirm it with the app's code. The secret and the recovery codes.
 */
export async function turnOnTwoFactor(browser: Browser) {
  const from = '/account/two-factor';
  const started = await browser.submit('/account/two-factor/setup', {}, { from });
  expect(started.status).toBe(303);
  const secret = setupKeyIn((await browser.get(from)).text);
  const enabled = await browser.submit(
    '/account/two-factor/enable',
    { code: codeFor(secret) },
    { from },
  );
  expect(enabled.status).toBe(200);
  const codes = recoveryCodesIn(enabled.text);
  expect(codes).toHaveLength(10);
  return { secret, codes };
}

/** A password sign-in followed by the second step with `code`: the second step's answer. */
export async function signInWithCode(
  browser: Browser,
  username: string,
  password: string,
  code: string,
) {
  const first = await browser.submit('/login', { username, password });
  expect([first.status, first.headers.location]).toEqual([303, '/login/two-factor']);
  return browser.submit('/login/two-factor', { code });
}
