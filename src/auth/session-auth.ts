import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { SessionData } from 'express-session';
import type { Config } from '../config';
import type { Database } from '../db';
import type { SecurityLog } from '../security/events';
import type { DerivedKeys } from '../security/keys';
import type { SessionCookie } from '../session/session-middleware';
import { accountFromOwnerRow, findAccountById, type Account } from '../accounts/users';

/**
 * The session side of authentication, in one place: logIn(), logOut() and loadUser. Routes call
 * these and never touch the session's auth fields themselves.
 */
export type SignInMethod = SessionData['signInMethod'];
export type PendingSignIn = SessionData['pendingSignIn'];

/** How long the second step of a sign-in may take, and how many wrong codes it may see. */
export const SECOND_STEP_MINUTES = 5;
export const SECOND_STEP_FAILURES = 5;

export interface SessionAuth {
  logIn(req: Request, account: Account, method?: SignInMethod): Promise<void>;
  /**
   * The password was right, and the account asks for a second factor: a new id, holding only
   * "password verified for this user, now" (pendingSignIn). Not signed in.
   */
  passwordVerified(
    req: Request,
    account: Account,
    details: { next?: string; newDevice: boolean },
  ): Promise<void>;
  /** The half-done sign-in of this session, if it has one that has not expired. */
  pendingSignIn(req: Request): PendingSignIn | undefined;
  /** A wrong second-step code: counted, and false once the sign-in has had too many. */
  secondStepFailed(req: Request): Promise<boolean>;
  /**
   * This session changed the password: it counts as a login (a new id, and the absolute limit
   * counts from now), signed in the way it was.
   */
  passwordChanged(req: Request, account: Account): Promise<void>;
  /**
   * This session changed the account's two-factor settings: the same session
   * under a new id, stamped with the new credentials, so it alone survives the change.
   */
  credentialsChanged(req: Request, account: Account, method?: SignInMethod): Promise<void>;
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
  /** The account the store read with the session, if it reads one (session-store/store.ts). */
  ownerOf?: (session: object) => Record<string, unknown> | undefined;
}): SessionAuth {
  const { config, db, cookie, securityLog } = deps;
  const stampKeys = deps.keys.credentialStamp;
  const absoluteMs = config.session.absoluteHours * 3_600_000;

  /**
   * A value derived from the password hash (Django's "session auth hash"). It changes when the
   * password does, so every session made with the old password stops matching. Keyed with a key
   * derived from the session secret, so a leaked sessions table says nothing about the hashes.
   */
  const credentialStamp = (account: Account, key = stampKeys[0] ?? '') => {
    // The version (two-factor turned on or off, a recovery code used) is left out while it is 0,
    // so that sessions stamped before it existed still match.
    const { passwordHash, credentialsVersion: version } = account;
    const credentials = version === 0 ? passwordHash : `${passwordHash}:${version}`;
    return createHmac('sha256', key)
      .update(`session-credentials:${credentials}`)
      .digest('base64url');
  };

  /** Which key the stamp was made with (0 = the current one), or -1 if none. */
  const stampKeyIndex = (stamp: string | undefined, account: Account) =>
    stamp === undefined
      ? -1
      : stampKeys.findIndex((key) => {
          const expected = Buffer.from(credentialStamp(account, key));
          const actual = Buffer.from(stamp);
          return actual.length === expected.length && timingSafeEqual(actual, expected);
        });

  async function logIn(
    req: Request,
    account: Account,
    method: SignInMethod = 'password',
  ): Promise<void> {
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
    req.session.authHash = credentialStamp(account);
    req.session.signInMethod = method;
    // Saved before the redirect goes out, or the browser could ask for the next page first and
    // arrive with a cookie whose row does not exist yet.
    await promisify((done) => req.session.save(done));
  }

  /** The same session under a new id, with `changes`: its login time and data carry over. */
  async function renewed(req: Request, changes: Partial<SessionData>): Promise<void> {
    const { cookie: _cookie, ...kept } = req.session as Partial<SessionData>;
    await promisify((done) => req.session.regenerate(done));
    Object.assign(req.session, kept, changes);
    await promisify((done) => req.session.save(done));
  }

  async function reauthenticated(req: Request): Promise<void> {
    // Re-authentication gets a new id as login does (ASVS 7.2.4): an id someone learned before
    // this proof (from a shared computer, a log) must not carry the sudo rights it grants.
    // Everything the session holds carries over, its login time too: the absolute limit still
    // counts from the login, not from this confirmation.
    await renewed(req, { confirmedAt: Date.now() });
  }

  const passwordChanged = (req: Request, account: Account) =>
    logIn(req, account, req.session.signInMethod ?? 'password');

  async function credentialsChanged(
    req: Request,
    account: Account,
    method?: SignInMethod,
  ): Promise<void> {
    await renewed(req, {
      authHash: credentialStamp(account),
      ...(method === undefined ? {} : { signInMethod: method }),
    });
  }

  async function passwordVerified(
    req: Request,
    account: Account,
    details: { next?: string; newDevice: boolean },
  ): Promise<void> {
    const session = req.session as typeof req.session | undefined;
    if (!session) req.sessionStore.generate(req);
    // A new id here too, and nothing of the session before: the half-done sign-in is a step
    // up in privilege, as a sign-in is.
    await promisify((done) => req.session.regenerate(done));
    req.session.pendingSignIn = {
      userId: account.user.id,
      at: Date.now(),
      failures: 0,
      ...details,
    };
    await promisify((done) => req.session.save(done));
  }

  function pendingSignIn(req: Request): PendingSignIn | undefined {
    const pending = req.session?.pendingSignIn;
    if (!pending || Date.now() - pending.at > SECOND_STEP_MINUTES * 60_000) return undefined;
    return pending;
  }

  async function secondStepFailed(req: Request): Promise<boolean> {
    const pending = req.session.pendingSignIn;
    if (!pending) return false;
    pending.failures += 1;
    // At the limit the half-done sign-in ends: the next try starts from the password again,
    // which the login throttle counts.
    if (pending.failures >= SECOND_STEP_FAILURES) delete req.session.pendingSignIn;
    await promisify((done) => req.session.save(done));
    return req.session.pendingSignIn !== undefined;
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

  /**
   * The session's account as it is now: read in the same query as the session when the store
   * does that (one round trip), else by its id. Either way from the database on this request,
   * so a password change, a deletion or a revocation elsewhere counts at once.
   */
  const accountOf = (session: object, userId: number): Promise<Account | undefined> => {
    const row = deps.ownerOf?.(session);
    return row && row.id === userId
      ? Promise.resolve(accountFromOwnerRow(row))
      : findAccountById(db, userId);
  };

  const loadUser: RequestHandler = async (req, res, next) => {
    const { userId, authHash, loginAt = 0 } = req.session;
    res.locals.signedIn = false;
    if (userId === undefined) {
      next();
      return;
    }
    const account = await accountOf(req.session, userId);
    const keyIndex = account ? stampKeyIndex(authHash, account) : -1;
    const endReason = !account
      ? 'account deleted'
      : keyIndex === -1
        ? 'credentials changed'
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
    if (keyIndex > 0) req.session.authHash = credentialStamp(account);

    req.user = account.user;
    res.locals.user = account.user;
    res.locals.signedIn = true;
    // Every page shows a signed-in user's name and history: none of it may be cached, or the
    // Back button after logout would show it again.
    res.set('Cache-Control', 'no-store');
    next();
  };

  return {
    logIn,
    passwordVerified,
    pendingSignIn,
    secondStepFailed,
    passwordChanged,
    credentialsChanged,
    reauthenticated,
    logOut,
    end,
    loadUser,
  };
}

function promisify(run: (done: (error?: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => run((error) => (error ? reject(error) : resolve())));
}
