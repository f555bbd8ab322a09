import type { RequestHandler } from 'express';
import type { Database } from '../db';
import type { SessionCookie } from '../session/session-middleware';
import { logOut } from './login';
import { findUserById, type User } from './users';

/**
 * Guards a route: loads `req.user` from the database on every request, so a deleted account is
 * signed out at its next click rather than when its cookie expires.
 *
 * Browsers are sent to the login page with a `next` to come back to; API clients that ask for
 * JSON get a 401 they can act on instead of a login page they cannot read.
 */
export function requireLogin(deps: { db: Database; cookie: SessionCookie }): RequestHandler {
  return async (req, res, next) => {
    // Private pages must not be kept by the browser: after logout, Back must not show them.
    res.set('Cache-Control', 'no-store');

    const { userId } = req.session;
    const user = userId === undefined ? undefined : await findUserById(deps.db, userId);
    if (user) {
      req.user = user;
      res.locals.user = user;
      next();
      return;
    }
    // The account is gone but its session is not: end the session with it.
    if (userId !== undefined) await logOut(req, res, deps.cookie);

    if (req.accepts(['html', 'json']) === 'json') {
      res.status(401).json({ error: 'Sign in to access this resource.' });
      return;
    }
    const back = req.method === 'GET' ? `?next=${encodeURIComponent(req.originalUrl)}` : '';
    res.redirect(302, `/login${back}`);
  };
}

/** The signed-in user of a route behind requireLogin. */
export function currentUser(req: { user?: User }): User {
  if (!req.user) throw new Error('currentUser() called on a route without requireLogin');
  return req.user;
}
