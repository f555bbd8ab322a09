import { doubleCsrf } from 'csrf-csrf';
import type { RequestHandler } from 'express';
import type { Config } from '../config';

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
 */
export function csrfProtection(config: Config): {
  protect: RequestHandler;
  tokenProvider: RequestHandler;
} {
  const { generateCsrfToken, doubleCsrfProtection } = doubleCsrf({
    getSecret: () => [...config.session.secrets],
    getSessionIdentifier: (req) => (req.session?.userId !== undefined ? req.sessionID : ''),
    cookieName: config.isProduction ? '__Host-csrf' : 'csrf',
    cookieOptions: { path: '/', httpOnly: true, sameSite: 'strict', secure: config.isProduction },
    getCsrfTokenFromRequest: (req) => {
      const field: unknown = req.body?._csrf;
      return typeof field === 'string' ? field : undefined;
    },
  });

  /** Templates call csrfToken(); one token per response, made only if a form needs it. */
  const tokenProvider: RequestHandler = (req, res, next) => {
    let token: string | undefined;
    res.locals.csrfToken = () => (token ??= generateCsrfToken(req, res));
    next();
  };

  return { protect: doubleCsrfProtection, tokenProvider };
}
