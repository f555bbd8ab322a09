import type { Request, Response } from 'express';
import type { SessionCookie } from '../session/session-middleware';

/**
 * Signs the request's browser in as `userId`.
 *
 * The session gets a new id first: an id that existed before login (planted by an attacker, or
 * another user's on a shared computer) must not become a signed-in one. regenerate() also deletes
 * the old row, so nothing of a previous session carries over.
 */
export async function logIn(req: Request, userId: number): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    req.session.regenerate((error) => (error ? reject(error) : resolve())),
  );
  req.session.userId = userId;
  // Saved before the redirect goes out, or the browser could ask for the next page first and
  // arrive with a cookie whose row does not exist yet.
  await new Promise<void>((resolve, reject) =>
    req.session.save((error) => (error ? reject(error) : resolve())),
  );
}

/**
 * Ends the session: deletes its row, so the old cookie is worthless even if someone kept a copy,
 * and tells the browser to drop the cookie (with the attributes it was set with, or it would not).
 */
export async function logOut(req: Request, res: Response, cookie: SessionCookie): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    req.session.destroy((error) => (error ? reject(error) : resolve())),
  );
  res.clearCookie(cookie.name, cookie.attributes);
}
