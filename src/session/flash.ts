import type { RequestHandler, Response } from 'express';

/**
 * One-time messages shown on the page after a redirect ("You are signed in."). They sit beside
 * the session code but do not use the session: they have a short-lived cookie of their own.
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
  'session-revoked': 'That session has been signed out.',
  'other-sessions-revoked': 'Every other session has been signed out.',
  'password-reset':
    'Your password has been changed and every session signed out. Log in with your new password.',
  'email-verification-sent':
    'We have sent a link to that address. Follow it to confirm the address is yours.',
  'email-verified': 'Your e-mail address is confirmed.',
  'email-taken': 'That e-mail address is already confirmed on another account.',
  'email-removed': 'The e-mail address has been removed from your account.',
  'second-step-expired': 'Your sign-in took too long to finish. Enter your password again.',
  'second-step-failed': 'Too many wrong codes. Enter your password again to start over.',
  'recovery-code-used':
    'You are signed in with a recovery code, which cannot be used again. Every other session ' +
    'has been signed out. Check how many codes you have left on the two-factor page.',
  'two-factor-disabled': 'Two-factor sign-in is off. Every other session has been signed out.',
  'two-factor-setup-cancelled': 'The set-up was cancelled. Two-factor sign-in is still off.',
  'passkey-added': 'Your passkey was added. It signs you in from now on, without your password.',
  'passkey-renamed': 'The passkey was renamed.',
  'passkey-removed': 'The passkey was removed. It no longer signs you in.',
} as const;

export type FlashMessage = keyof typeof MESSAGES;

export function setFlash(res: Response, message: FlashMessage): void {
  const { name, secure } = res.locals.flashCookie;
  res.cookie(name, message, { path: '/', httpOnly: true, sameSite: 'lax', secure, maxAge: 60_000 });
}

/**
 * Moves a waiting message into `res.locals.flash` and tells the browser to forget it; tells
 * setFlash() (through `res.locals.flashCookie`) which cookie to use.
 *
 * In production the cookie is `__Host-flash`: the browser then accepts it only from this exact
 * host over https, so a sibling subdomain cannot plant one (it could only pick one of our own
 * sentences, but the prefix costs nothing). Over development http it is plain `flash`.
 */
export function flashMessage({ isProduction }: { isProduction: boolean }): RequestHandler {
  const cookie = { name: isProduction ? '__Host-flash' : 'flash', secure: isProduction };
  return (req, res, next) => {
    res.locals.flashCookie = cookie;
    const key: unknown = req.cookies?.[cookie.name];
    if (key !== undefined) {
      if (typeof key === 'string' && Object.hasOwn(MESSAGES, key)) {
        res.locals.flash = MESSAGES[key as FlashMessage];
      }
      res.clearCookie(cookie.name, { path: '/', secure: cookie.secure });
    }
    next();
  };
}
