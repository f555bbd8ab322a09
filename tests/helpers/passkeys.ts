import type { Express } from 'express';
import { Browser } from './browser';
import { SoftwareAuthenticator } from './software-authenticator';

/** Passkeys belong to a name, never to 127.0.0.1: these browsers ask for the site as localhost. */
export const RP_ID = 'localhost';
export const ORIGIN = 'http://localhost';

export const passkeyBrowser = (app: Express) => new Browser(app, { headers: { Host: RP_ID } });

interface Options {
  challenge: string;
  user?: { id: string };
  rpId?: string;
  rp?: { id: string };
  allowCredentials?: { id: string }[];
  excludeCredentials?: { id: string }[];
  authenticatorSelection?: Record<string, string>;
}

/** What the page's script does first: POST for a challenge, with the page's CSRF token. */
export async function passkeyOptions(browser: Browser, page: string, optionsPath: string) {
  const token = await browser.csrfToken(page);
  const res = await browser.post(optionsPath, { _csrf: token }, { Accept: 'application/json' });
  return { res, token, options: res.body as Options };
}

/**
 * "Add a passkey" on /account/passkeys, done by `authenticator`; `tamper` changes the ceremony
 * the authenticator sees (another origin, an old challenge) to test the server's refusals.
 */
export async function addPasskey(
  browser: Browser,
  authenticator: SoftwareAuthenticator,
  tamper: (ceremony: { challenge: string; origin: string; rpId: string }) => void = () => {},
) {
  const { options, token } = await passkeyOptions(
    browser,
    '/account/passkeys',
    '/account/passkeys/options',
  );
  const ceremony = { challenge: options.challenge, origin: ORIGIN, rpId: RP_ID };
  tamper(ceremony);
  const credential = authenticator.register({ ...ceremony, userId: options.user?.id ?? '' });
  const res = await browser.post('/account/passkeys', {
    _csrf: token,
    credential: JSON.stringify(credential),
  });
  return { res, options, credential };
}

/** "Sign in with a passkey" on /login (or, with `second`, in place of the code). */
export async function signInWithPasskey(
  browser: Browser,
  authenticator: SoftwareAuthenticator,
  {
    second = false,
    tamper = () => {},
  }: {
    second?: boolean;
    tamper?: (ceremony: { challenge: string; origin: string; rpId: string }) => void;
  } = {},
) {
  const page = second ? '/login/two-factor' : '/login';
  const { options, token } = await passkeyOptions(
    browser,
    page,
    second ? '/login/two-factor/passkey/options' : '/login/passkey/options',
  );
  const ceremony = { challenge: options.challenge, origin: ORIGIN, rpId: RP_ID };
  tamper(ceremony);
  const credential = authenticator.authenticate(ceremony);
  const res = await browser.post(second ? '/login/two-factor/passkey' : '/login/passkey', {
    _csrf: token,
    credential: JSON.stringify(credential),
  });
  return { res, options, credential, token };
}
