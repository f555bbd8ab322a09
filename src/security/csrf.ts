import { createHmac } from 'node:crypto';
import { doubleCsrf, type DoubleCsrfConfigOptions } from 'csrf-csrf';
import type { RequestHandler } from 'express';
import type { Config } from '../config';

/**
 * Tokens are signed with a key for the current hour, and the previous hour's key is still
 * accepted: a token works for at least one hour and at most two after its page was loaded. Long
 * enough for a form to be filled in (a signed-in session idles out in 30 minutes by default),
 * short enough that a token left in a page cache, a screenshot or a log is soon worthless.
 */
const TOKEN_WINDOW_MS = 3_600_000;

/**
 * CSRF protection for every POST: a signed double-submit token (csrf-csrf).
 *
 * The token sits in a hidden form field and in an HttpOnly cookie; a POST must carry both, equal,
 * with an HMAC that matches this site's secret and the current session. A page on another site
 * can make the browser send the cookie, but cannot read it or the form, so it cannot forge the
 * field. The token lives in a cookie, not in a session row, so an anonymous login form needs no
 * row (SECURITY 10).
 *
 * Once signed in, the token is bound to the session id: a token from another session fails, and
 * since login gives the session a new id, the token changes at login as well.
 *
 * Tokens expire (TOKEN_WINDOW_MS). csrf-csrf has no expiry of its own, so the HMAC key changes
 * every hour instead: each configured key yields one key per hour, new tokens use the current
 * hour's, and checks accept the current and the previous hour's.
 */
export function csrfProtection(
  config: Config,
  /** The CSRF keys derived from SESSION_SECRETS, in the same order. */
  keys: readonly string[],
): {
  protect: RequestHandler;
  tokenProvider: RequestHandler;
} {
  const windowKeys = (windowsBack: number) => {
    const current = Math.floor(Date.now() / TOKEN_WINDOW_MS);
    return keys.flatMap((key) =>
      Array.from({ length: windowsBack + 1 }, (_, back) =>
        createHmac('sha256', key)
          .update(`csrf window ${current - back}`)
          .digest('base64url'),
      ),
    );
  };
  const options: Omit<DoubleCsrfConfigOptions, 'getSecret'> = {
    getSessionIdentifier: (req) => (req.session?.userId !== undefined ? req.sessionID : ''),
    cookieName: config.isProduction ? '__Host-csrf' : 'csrf',
    cookieOptions: { path: '/', httpOnly: true, sameSite: 'strict', secure: config.isProduction },
    getCsrfTokenFromRequest: (req) => {
      const field: unknown = req.body?._csrf;
      return typeof field === 'string' ? field : undefined;
    },
  };
  // Issuing: a form reuses the token already in the cookie only if it is from this hour.
  const { generateCsrfToken } = doubleCsrf({ ...options, getSecret: () => windowKeys(0) });
  const { doubleCsrfProtection } = doubleCsrf({ ...options, getSecret: () => windowKeys(1) });

  /** Templates call csrfToken(); one token per response, made only if a form needs it. */
  const tokenProvider: RequestHandler = (req, res, next) => {
    let token: string | undefined;
    res.locals.csrfToken = () => (token ??= generateCsrfToken(req, res));
    next();
  };

  return { protect: doubleCsrfProtection, tokenProvider };
}
