import type { Request, Response } from 'express';
import type { Account } from '../accounts/users';
import type { SignInMethod } from '../auth/session-auth';
import type { AppDependencies } from '../dependencies';
import { newSignInNotice } from '../mail/notices';
import { setFlash, type FlashMessage } from '../session/flash';

/**
 * The end of every way in (a password, a password and a second factor, a passkey): the signed-in
 * session under a new id, this browser remembered for the account, a notice to the owner if the
 * browser is new to it, the security event, and the page asked for.
 */
export function signInFinisher(deps: AppDependencies) {
  const { auth, devices, securityLog } = deps;
  const notifyNewSignIn = newSignInNotice(deps);
  return async (
    req: Request,
    res: Response,
    account: Account,
    details: { method: SignInMethod; newDevice: boolean; next?: string; flash?: FlashMessage },
  ): Promise<void> => {
    const { user } = account;
    await auth.logIn(req, account, details.method);
    devices.remember(req, res, user.username);
    if (details.newDevice) notifyNewSignIn(req, res, user);
    securityLog.record(req, 'login_succeeded', { userId: user.id, reason: details.method });
    setFlash(res, details.flash ?? 'logged-in');
    res.redirect(303, details.next ?? '/dashboard');
  };
}
