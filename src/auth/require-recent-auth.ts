import type { RequestHandler } from 'express';
import type { SessionData } from 'express-session';

/**
 * When this session last proved its password: at login, or on the "Confirm your password" page.
 */
export function lastAuthenticated(session: Partial<SessionData>): number {
  return Math.max(session.loginAt ?? 0, session.confirmedAt ?? 0);
}

/**
 * Guards a sensitive page or action (the way Laravel's `password.confirm` middleware and
 * GitHub's sudo mode do): a session that has not entered its password in the last `minutes`
 * is sent to confirm it first, and then back. A session left open on a shared computer can
 * browse, but not change the password, delete the account or sign its owner's other devices out.
 *
 * `returnTo` is where a refused POST comes back to (the page its form is on): a POST cannot be
 * replayed after a redirect, so the person returns to the page and submits again. A GET returns
 * to itself. Must run after requireLogin.
 */
export function requireRecentAuth(minutes: number, returnTo: string): RequestHandler {
  return (req, res, next) => {
    if (Date.now() - lastAuthenticated(req.session) <= minutes * 60_000) {
      next();
      return;
    }
    res.set('Cache-Control', 'no-store');
    if (req.accepts(['html', 'json']) === 'json') {
      res.status(403).json({ error: 'Confirm your password first.', confirm: '/confirm-password' });
      return;
    }
    const back = req.method === 'GET' ? req.originalUrl : returnTo;
    res.redirect(303, `/confirm-password?next=${encodeURIComponent(back)}`);
  };
}
