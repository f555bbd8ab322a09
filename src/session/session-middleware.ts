import session, { type Store } from 'express-session';
import type { CookieOptions, RequestHandler } from 'express';
import type { Config } from '../config';

/** The session cookie's name and the attributes it is set with (logout clears it with the same). */
export interface SessionCookie {
  name: string;
  attributes: Pick<CookieOptions, 'path' | 'httpOnly' | 'secure' | 'sameSite'>;
}

export function sessionCookie(config: Config): SessionCookie {
  return {
    // Our own name, not express-session's "connect.sid", which tells a scanner what we run.
    // In production "__Host-" also binds it to this exact host, https and path "/".
    name: config.session.cookieName,
    attributes: {
      path: '/',
      // Page scripts cannot read it, so an XSS bug cannot send the session id away.
      httpOnly: true,
      // Only ever sent over https in production; a network observer cannot copy it.
      secure: config.isProduction,
      // Not sent on cross-site POSTs (a first line against CSRF), still sent when a link from
      // another site is followed, so people arriving from a link stay signed in.
      sameSite: 'lax',
    },
  };
}

/**
 * express-session wired the way this project needs it. The cookie carries only the signed,
 * random session id; everything else stays in the store.
 */
export function sessionMiddleware(
  config: Config,
  store: Store,
  cookie: SessionCookie,
  /** The cookie-signing keys derived from SESSION_SECRETS, in the same order. */
  signingKeys: readonly string[],
): RequestHandler {
  return session({
    name: cookie.name,
    // An array: the first signs new cookies, all verify, so a secret can be rotated without
    // signing everybody out.
    secret: [...signingKeys],
    store,
    // Do not write a session back that the request did not change: no pointless writes, and no
    // stale copy overwriting a concurrent request's change.
    resave: false,
    // No row and no cookie for a visitor until there is something to keep (login): a bot loading
    // the login form a million times must not fill the sessions table.
    saveUninitialized: false,
    // Not on every response: the cookie is sent again when its expiry moves by a step
    // (cookie-renewal.ts), and with every session that changed. Either way the limit is idle
    // time, not time since login.
    rolling: false,
    cookie: { ...cookie.attributes, maxAge: config.session.idleMinutes * 60_000 },
  });
}
