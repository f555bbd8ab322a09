import type { RequestHandler } from 'express';
import { expiryStep } from '../session-store/knex-store';

/**
 * Sends the session cookie again only when its expiry would move by a step (a tenth of the idle
 * lifetime, at most 5 minutes), instead of on every response as express-session's
 * `rolling: true` does.
 *
 * Why: re-sending it costs an HMAC signature and a Set-Cookie header on every page, for an
 * expiry that moved by a second. Why this way: express-session re-sends the cookie whenever it
 * saves a changed session, so the step is marked by a change, `cookieRenewedAt`, which the save
 * carries to the row along with its new expiry. The store's touch() moves the row on the same
 * step (expiryStep), so the browser's cookie and the server's row both run out between one step
 * and none before "last request + idle lifetime": never later, at most a step earlier.
 *
 * Only a session loaded from the store counts: the one express-session makes up for a visitor
 * without a valid cookie must stay unsaved (no row for every bot), so it is left alone.
 * express-session keeps the id of the cookie it was sent as `req.sessionID` only when the
 * signature held and the store had the row; otherwise the id is new.
 */
export function renewSessionCookie(cookieName: string, idleMs: number): RequestHandler {
  const step = expiryStep(idleMs);
  return (req, _res, next) => {
    const session = req.session as typeof req.session | undefined;
    const sent = req.cookies?.[cookieName];
    if (session && sent?.startsWith(`s:${req.sessionID}.`)) {
      const now = Date.now();
      // A session from before this field existed counts from its login.
      const renewedAt = session.cookieRenewedAt ?? session.loginAt ?? 0;
      if (now - renewedAt >= step) session.cookieRenewedAt = now;
    }
    next();
  };
}
