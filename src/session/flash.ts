import type { RequestHandler, Response } from 'express';

/**
 * One-time messages shown on the page after a redirect ("You are signed in.").
 *
 * They travel in a short-lived cookie that names one of these fixed messages, not in the session:
 * the message after logout has no session to live in, and a cookie that can only pick one of our
 * own sentences needs no signature and can inject nothing.
 */
const MESSAGES = {
  registered: 'Welcome! Your account is ready and you are signed in.',
  'logged-in': 'You are signed in.',
  'logged-out': 'You have been signed out.',
  'password-changed': 'Your password has been changed. Every other session has been signed out.',
  'account-deleted': 'Your account has been deleted.',
} as const;

export type FlashMessage = keyof typeof MESSAGES;

const COOKIE = 'flash';

export function setFlash(res: Response, message: FlashMessage): void {
  res.cookie(COOKIE, message, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: res.req.secure,
    maxAge: 60_000,
  });
}

/** Moves a waiting message into `res.locals.flash` and tells the browser to forget it. */
export const flashMessage: RequestHandler = (req, res, next) => {
  const key: unknown = req.cookies?.[COOKIE];
  if (key !== undefined) {
    if (typeof key === 'string' && Object.hasOwn(MESSAGES, key)) {
      res.locals.flash = MESSAGES[key as FlashMessage];
    }
    res.clearCookie(COOKIE, { path: '/' });
  }
  next();
};
