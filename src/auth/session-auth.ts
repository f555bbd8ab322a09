import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { SessionData } from 'express-session';
import type { Config } from '../config';
import type { Database } from '../db';
import type { SecurityLog } from '../security/events';
import type { DerivedKeys } from '../security/keys';
import type { SessionCookie } from '../session/session-middleware';
import { findAccountById, type Account } from '../accounts/users';

/**
 * The session side of authentication, in one place: logIn(), logOut() and loadUser. Routes call
 * these and never touch the session's auth fields themselves.
 */
export interface SessionAuth {
  logIn(req: Request, account: Account): Promise<void>;
  /** After the password was entered again: the same signed-in session under a new id. */
  reauthenticated(req: Request): Promise<void>;
  logOut(req: Request, res: Response): Promise<void>;
  /** Ends this request's session for a reason other than a logout, and says so in the log. */
  end(req: Request, res: Response, reason: string): Promise<void>;
  /** Middleware: `req.user` for a valid signed-in session; ends any session that is not. */
  loadUser: RequestHandler;
}

export function createSessionAuth(deps: {
  config: Config;
  db: Database;
  cookie: SessionCookie;
  keys: DerivedKeys;
  securityLog: SecurityLog;
}): SessionAuth {
  const { config, db, cookie, securityLog } = deps;
  const stampKeys = deps.keys.credentialStamp;
  const absoluteMs = config.session.absoluteHours * 3_600_000;

  /**
   * A value derived from the password hash (Django's "session auth hash"). It changes when the
   * password does, so every session made with the old password stops matching. Keyed with a key
   * derived from the session secret, so a leaked sessions table says nothing about the hashes.
   */
  const credentialStamp = (passwordHash: string, key = stampKeys[0] ?? '') =>
    createHmac('sha256', key).update(`session-credentials:${passwordHash}`).digest('base64url');

  /** Which key the stamp was made with (0 = the current one), or -1 if none. */
  const stampKeyIndex = (stamp: string | undefined, passwordHash: string) =>
    stamp === undefined
      ? -1
      : stampKeys.findIndex((key) => {
          const expected = Buffer.from(credentialStamp(passwordHash, key));
          const actual = Buffer.from(stamp);
          return actual.length === expected.length && timingSafeEqual(actual, expected);
        });

  async function logIn(req: Request, account: Account): Promise<void> {
    // loadUser may have ended this request's session already (absolute timeout, password
    // changed elsewhere) when the request is itself a login or a registration: start from a
    // fresh, empty session, as a first visit would.
    const session = req.session as typeof req.session | undefined;
    if (!session) req.sessionStore.generate(req);
    // A new id first: an id that existed before login (planted by an attacker, or another user's
    // on a shared computer) must not become a signed-in one. regenerate() also deletes the old
    // row, so nothing of a previous session carries over.
    await promisify((done) => req.session.regenerate(done));
    req.session.userId = account.user.id;
    req.session.loginAt = Date.now();
    req.session.authHash = credentialStamp(account.passwordHash);
    // Saved before the redirect goes out, or the browser could ask for the next page first and
    // arrive with a cookie whose row does not exist yet.
    await promisify((done) => req.session.save(done));
  }

  async function reauthenticated(req: Request): Promise<void> {
    // Re-authentication gets a new id as login does (ASVS 7.2.4): an id someone learned before
    // this proof (from a shared computer, a log) must not carry the sudo rights it grants.
    // Everything the session holds carries over, its login time too: the absolute limit still
    // counts from the login, not from this confirmation.
    const { cookie: _cookie, ...kept } = req.session as Partial<SessionData>;
    await promisify((done) => req.session.regenerate(done));
    Object.assign(req.session, kept, { confirmedAt: Date.now() });
    await promisify((done) => req.session.save(done));
  }

  async function logOut(req: Request, res: Response): Promise<void> {
    // Deletes the row, so the old cookie is worthless even if someone kept a copy. The rest of
    // this request has no req.session at all (regenerate() would save a new, empty row); logIn()
    // starts a fresh one if this same request goes on to sign someone in.
    await promisify((done) => req.session.destroy(done));
    // Cleared with the attributes it was set with, or the browser would keep it. If this request
    // goes on to sign someone in, the new cookie replaces this one (session/cookie-headers.ts).
    res.clearCookie(cookie.name, cookie.attributes);
  }

  async function end(req: Request, res: Response, reason: string): Promise<void> {
    securityLog.record(req, 'session_ended', { userId: req.session?.userId, reason });
    await logOut(req, res);
    // The rest of this request (an error page, say) is an anonymous visitor's.
    req.user = undefined;
    res.locals.user = undefined;
    res.locals.signedIn = false;
  }

  const loadUser: RequestHandler = async (req, res, next) => {
    const { userId, authHash, loginAt = 0 } = req.session;
    res.locals.signedIn = false;
    if (userId === undefined) {
      next();
      return;
    }
    const account = await findAccountById(db, userId);
    const keyIndex = account ? stampKeyIndex(authHash, account.passwordHash) : -1;
    const endReason = !account
      ? 'account deleted'
      : keyIndex === -1
        ? 'password changed'
        : // The absolute limit: even a session in constant use ends this long after login.
          Date.now() - loginAt > absoluteMs
          ? 'absolute timeout'
          : undefined;
    if (!account || endReason) {
      await end(req, res, endReason ?? 'account deleted');
      next();
      return;
    }
    // Stamped with a secret that is being rotated out: re-stamp with the current one (saved with
    // the session), so the session survives when the old secret is finally removed.
    if (keyIndex > 0) req.session.authHash = credentialStamp(account.passwordHash);

    req.user = account.user;
    res.locals.user = account.user;
    res.locals.signedIn = true;
    // Every page shows a signed-in user's name and history: none of it may be cached, or the
    // Back button after logout would show it again.
    res.set('Cache-Control', 'no-store');
    next();
  };

  return { logIn, reauthenticated, logOut, end, loadUser };
}

function promisify(run: (done: (error?: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => run((error) => (error ? reject(error) : resolve())));
}
