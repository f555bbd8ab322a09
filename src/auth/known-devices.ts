import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Config } from '../config';
import { normaliseUsername } from '../accounts/usernames';

/** A year: a browser used once a year to sign in is still its owner's. */
const MAX_AGE_MS = 365 * 86_400_000;

/** Accounts one browser is remembered for (a family computer); the oldest goes first. */
const ACCOUNTS_PER_BROWSER = 5;

export interface KnownDevices {
  /** This browser's id for `username`, if its device cookie proves it signed in there before. */
  recognise(req: Request, username: string): string | undefined;
  /** After a sign-in (or a completed reset) to `username`: this browser is known from now on. */
  remember(req: Request, res: Response, username: string): void;
}

/**
 * OWASP's "device cookies" (the Authentication Cheat Sheet's answer to account lockout): a
 * browser that has signed in to an account carries a cookie that proves it, and its failed logins
 * count against that cookie alone (auth/throttle.ts). Someone spreading guesses over many
 * addresses can run the account's own ceiling out for every new browser, but not for its owner's.
 *
 * Each entry is `<id>.<mac>`: a random id, and an HMAC of the id with the account's normalised
 * name under a key of its own (security/keys.ts). The cookie names no account, and one made for
 * one account, or by anyone without the key, proves nothing. It is `__Host-device` in
 * production: HttpOnly, Secure, SameSite=Strict (only a login form on this site needs it).
 */
export function knownDevices(
  config: Pick<Config, 'isProduction'>,
  /** The device-cookie keys derived from SESSION_SECRETS, in order: the first signs. */
  keys: readonly string[],
): KnownDevices {
  const name = config.isProduction ? '__Host-device' : 'device';
  const mac = (id: string, username: string, key = keys[0] ?? '') =>
    createHmac('sha256', key)
      .update(`${id}:${normaliseUsername(username)}`)
      .digest('base64url');
  const entries = (req: Request): string[] => {
    const value: unknown = req.cookies?.[name];
    return typeof value === 'string' ? value.split('~').slice(0, ACCOUNTS_PER_BROWSER) : [];
  };
  const proves = (entry: string, username: string) => {
    const [id = '', signature = ''] = entry.split('.');
    const actual = Buffer.from(signature);
    return keys.some((key) => {
      const expected = Buffer.from(mac(id, username, key));
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    });
  };
  const idFor = (req: Request, username: string) =>
    entries(req)
      .find((entry) => proves(entry, username))
      ?.split('.')[0];

  return {
    recognise: idFor,

    remember(req, res, username) {
      const id = idFor(req, username) ?? randomBytes(16).toString('base64url');
      // Signed again with the current key, first in line; this account's old entry goes.
      const others = entries(req).filter((entry) => !proves(entry, username));
      const value = [`${id}.${mac(id, username)}`, ...others].slice(0, ACCOUNTS_PER_BROWSER);
      res.cookie(name, value.join('~'), {
        path: '/',
        httpOnly: true,
        secure: config.isProduction,
        sameSite: 'strict',
        maxAge: MAX_AGE_MS,
      });
    },
  };
}
