import type { Request } from 'express';
import type { Config } from '../config';
import type { Database } from '../db';
import { clientIp } from '../security/client-address';
import type { SecurityLog } from '../security/events';
import { confirmPassword } from './credentials';
import type { Throttle } from './throttle';
import type { User } from './users';

/**
 * A signed-in user's password, checked again: on the account page's forms and on "Confirm your
 * password". Never refused by the login throttle (an attacker failing to log in must not stop
 * the owner), but limited on its own, so that a stolen session is no way to guess the password
 * without limit either; a wrong one is a security event.
 */
export function passwordConfirmation(deps: {
  config: Config;
  db: Database;
  throttle: Throttle;
  securityLog: SecurityLog;
}) {
  const { config, db, throttle, securityLog } = deps;
  return async (req: Request, user: User, password: string): Promise<boolean> => {
    const attempt = await throttle.confirmationAttempt(user, clientIp(req));
    const cost = config.bcryptCost;
    const account = await attempt.run((owner) =>
      confirmPassword(db, user.id, password, { cost, owner }),
    );
    if (!account) securityLog.record(req, 'password_check_failed', { userId: user.id });
    return account !== undefined;
  };
}
