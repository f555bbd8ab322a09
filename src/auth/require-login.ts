import type { RequestHandler } from 'express';
import type { User } from '../accounts/users';

/**
 * Guards a route: only a signed-in user (loaded and checked by loadUser on this very request)
 * gets through. Browsers are sent to the login page with a `next` to come back to; API clients
 * that ask for JSON get a 401 they can act on instead of a login page they cannot read.
 */
export const requireLogin: RequestHandler = (req, res, next) => {
  if (req.user) {
    next();
    return;
  }
  res.set('Cache-Control', 'no-store');
  if (req.accepts(['html', 'json']) === 'json') {
    res.status(401).json({ error: 'Sign in to access this resource.' });
    return;
  }
  const back = req.method === 'GET' ? `?next=${encodeURIComponent(req.originalUrl)}` : '';
  res.redirect(302, `/login${back}`);
};

/** The signed-in user of a route behind requireLogin. */
export function currentUser(req: { user?: User }): User {
  if (!req.user) throw new Error('currentUser() called on a route without requireLogin');
  return req.user;
}
