import type { Request, RequestHandler, Response } from 'express';
import type { AccountTokens, TokenPurpose, ValidToken } from '../accounts/account-tokens';
import type { Config } from '../config';
import { linkExpired } from './links';

export interface LinkLanding {
  /** For `router.get(tokenRoute(purpose), …)`: where the link from the mail arrives. */
  follow: RequestHandler;
  /** The token this browser brought, and what it stands for, while it is still valid. */
  pending(req: Request): Promise<(ValidToken & { token: string }) | undefined>;
  /** Forgets the token: the form's work is done. */
  done(res: Response): void;
  /** The answer to a link that is unknown, used, replaced or too old, with a way to ask anew. */
  expired(res: Response): void;
}

/**
 * How a mailed link is received (reset a password, confirm an address), the same for each:
 *
 * 1. Following the link moves its token into a short-lived HttpOnly cookie and redirects to
 *    `landing`, so the token leaves the address bar (and the history, and the Referer of anything
 *    after it). That answer sends `Referrer-Policy: no-referrer`.
 * 2. `landing` is a page with a form, and only the form's POST (CSRF-checked like every other)
 *    does the work: a mail scanner or a link preview that fetches every link in a message
 *    changes nothing.
 *
 * The cookie is `__Host-<name>` in production: only this exact host, over https, with Path=/.
 */
export function linkLanding(
  deps: { config: Pick<Config, 'isProduction'>; tokens: AccountTokens },
  purpose: TokenPurpose,
  {
    name,
    landing,
    again,
    maxAgeMs,
  }: {
    /** The cookie's name ("reset"). */
    name: string;
    /** The page with the form. */
    landing: string;
    /** Where an expired link's page sends the person to ask again. */
    again: string;
    maxAgeMs: number;
  },
): LinkLanding {
  const { config, tokens } = deps;
  const cookieName = config.isProduction ? `__Host-${name}` : name;
  const options = {
    path: '/',
    httpOnly: true,
    // Lax: the link is followed from a mail client, another site: the cookie must be set on that
    // navigation and sent with the redirect that follows it.
    sameSite: 'lax' as const,
    secure: config.isProduction,
  };

  return {
    async follow(req, res) {
      // The address of this answer holds the token: nothing may send it on as a Referer. (Only
      // here: under no-referrer, browsers send `Origin: null` with a form's POST, which the
      // same-origin check rightly refuses, so the pages with forms keep the site's policy.)
      res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
      const token = req.params.token;
      if (typeof token !== 'string' || !(await tokens.check(token, purpose))) {
        return linkExpired(res, again);
      }
      res.cookie(cookieName, token, { ...options, maxAge: maxAgeMs });
      res.redirect(303, landing);
    },

    async pending(req) {
      const token: unknown = req.cookies?.[cookieName];
      if (typeof token !== 'string') return undefined;
      const valid = await tokens.check(token, purpose);
      return valid && { ...valid, token };
    },

    done(res) {
      res.clearCookie(cookieName, options);
    },

    expired: (res) => linkExpired(res, again),
  };
}
