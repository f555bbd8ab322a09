import type { Request, Response } from 'express';
import type { Config } from '../config';
import type { Database } from '../db';
import { HttpError } from '../http-error';
import { clientIp } from '../security/client-address';
import type { SecurityLog } from '../security/events';
import { confirmPassword } from '../accounts/credentials';
import type { SessionAuth } from './session-auth';
import type { Throttle } from './throttle';
import type { User } from '../accounts/users';

/**
 * A signed-in user's password, checked again: on the account page's forms and on "Confirm your
 * password". Never refused by the login throttle (an attacker failing to log in must not stop
 * the owner), but limited on its own, per session: a session that gets the password wrong
 * PASSWORD_CONFIRM_FAILURES times is ended, and the request answered 401 ("signed out"). A
 * stolen session can then neither guess without limit nor, by spending a count the owner
 * shares, stop the owner from changing the password. A wrong password is a security event.
 */
export function passwordConfirmation(deps: {
  config: Config;
  db: Database;
  throttle: Throttle;
  securityLog: SecurityLog;
  auth: SessionAuth;
}) {
  const { config, db, throttle, securityLog, auth } = deps;
  return async (req: Request, res: Response, user: User, password: string): Promise<boolean> => {
    const attempt = await throttle.confirmationAttempt(user, clientIp(req), req.sessionID);
    const cost = config.bcryptCost;
    const account = await attempt.run((owner) =>
      confirmPassword(db, user.id, password, { cost, owner }),
    );
    if (account) return true;
    securityLog.record(req, 'password_check_failed', { userId: user.id });
    if (attempt.last) {
      await auth.end(req, res, 'password confirmation failures');
      throw new HttpError(401, 'ESIGNEDOUT');
    }
    return false;
  };
}
