import { createHmac } from 'node:crypto';
import { doubleCsrf, type DoubleCsrfConfigOptions } from 'csrf-csrf';
import type { Request, RequestHandler } from 'express';
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
  // A window's keys are the same HMACs all hour: made once per window, not on every request.
  let cached = { window: NaN, current: [] as string[], withPrevious: [] as string[] };
  const windowKeys = (windowsBack: 0 | 1) => {
    const window = Math.floor(Date.now() / TOKEN_WINDOW_MS);
    if (cached.window !== window) {
      const keyOf = (key: string, back: number) =>
        createHmac('sha256', key)
          .update(`csrf window ${window - back}`)
          .digest('base64url');
      cached = {
        window,
        current: keys.map((key) => keyOf(key, 0)),
        withPrevious: keys.flatMap((key) => [keyOf(key, 0), keyOf(key, 1)]),
      };
    }
    return windowsBack === 0 ? cached.current : cached.withPrevious;
  };
  const cookieName = config.isProduction ? '__Host-csrf' : 'csrf';
  const options: Omit<DoubleCsrfConfigOptions, 'getSecret'> = {
    getSessionIdentifier: (req) => (req.session?.userId !== undefined ? req.sessionID : ''),
    cookieName,
    cookieOptions: { path: '/', httpOnly: true, sameSite: 'strict', secure: config.isProduction },
    getCsrfTokenFromRequest: (req) => {
      const field: unknown = req.body?._csrf;
      return typeof field === 'string' ? field : undefined;
    },
  };
  // Issuing: a form reuses the token already in the cookie only if it is from this hour.
  const issuing = doubleCsrf({ ...options, getSecret: () => windowKeys(0) });
  const { doubleCsrfProtection } = doubleCsrf({ ...options, getSecret: () => windowKeys(1) });

  /**
   * The cookie's token, if this page can hand it out again: made this hour, for this session.
   * Checked the way a POST would be (csrf-csrf's own check, with the cookie's token as the form
   * field), so that reusing it costs no new Set-Cookie: csrf-csrf's generateCsrfToken() sends
   * the cookie again on every page, even when its token is the one the browser already holds.
   */
  const reusable = (req: Request): string | undefined => {
    const token = req.cookies?.[cookieName];
    if (token === undefined) return undefined;
    const probe = { cookies: req.cookies, session: req.session, sessionID: req.sessionID };
    return issuing.validateRequest({ ...probe, body: { _csrf: token } } as Request)
      ? token
      : undefined;
  };

  /** Templates call csrfToken(); one token per response, made only if a form needs it. */
  const tokenProvider: RequestHandler = (req, res, next) => {
    let token: string | undefined;
    res.locals.csrfToken = () =>
      (token ??= reusable(req) ?? issuing.generateCsrfToken(req, res, { overwrite: true }));
    next();
  };

  return { protect: doubleCsrfProtection, tokenProvider };
}
