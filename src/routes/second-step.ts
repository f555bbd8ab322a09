import { Router, type Request, type Response } from 'express';
import { parseForm, secondStepForm, type FieldErrors } from '../accounts/forms';
import { findAccountById } from '../accounts/users';
import type { AppDependencies } from '../dependencies';
import { twoFactorNotice, newSignInNotice } from '../mail/notices';
import { setFlash } from '../session/flash';

/** One answer for every refused code: wrong, replayed, or refused by the lock. */
const WRONG_CODE = 'That code is not right. Check your app and try the newest code.';

/**
 * The second step of a sign-in, for an account with two-factor on: the password was right
 * (routes/auth.ts), and this session holds only that fact, for a few minutes. A code from the
 * app, or a recovery code, completes the sign-in.
 */
export function secondStepRoutes(deps: AppDependencies): Router {
  const { db, auth, devices, throttle, securityLog, twoFactor, userSessions } = deps;
  const notifyNewSignIn = newSignInNotice(deps);
  const notifyTwoFactor = twoFactorNotice(deps);
  const router = Router();

  router.use('/login/two-factor', (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });

  const render = (res: Response, status = 200, errors: FieldErrors = {}) =>
    res.status(status).render('second-step', { title: 'Two-factor sign-in', errors });

  /** No half-done sign-in (none, or older than its few minutes): back to the password. */
  const startOver = (req: Request, res: Response) => {
    const expired = req.session?.pendingSignIn;
    if (expired) {
      securityLog.record(req, 'second_step_failed', { userId: expired.userId, reason: 'expired' });
      setFlash(res, 'second-step-expired');
    }
    res.redirect(303, '/login');
  };

  router.get('/login/two-factor', (req, res) => {
    if (!auth.pendingSignIn(req)) return startOver(req, res);
    render(res);
  });

  router.post('/login/two-factor', async (req, res) => {
    const pending = auth.pendingSignIn(req);
    if (!pending) return startOver(req, res);
    const form = parseForm(secondStepForm, req.body);
    if (!form.ok) return render(res, 400, form.errors);
    const account = await findAccountById(db, pending.userId);
    if (!account) return startOver(req, res);
    const { user } = account;

    // The account's allowance of wrong codes, across sign-ins and addresses. Locked, the code
    // is still checked (without being used up) so that the answer takes the same work, and is
    // then refused with the same words as a wrong one.
    const attempt = await throttle.secondStepAttempt(user.username);
    const factor = await twoFactor.verify(user.id, form.data.code, !attempt.locked);
    const right = factor !== undefined && !attempt.locked;
    await attempt.settle(right);
    if (!right) {
      const goesOn = await auth.secondStepFailed(req);
      securityLog.record(req, 'second_step_failed', {
        userId: user.id,
        reason: attempt.locked
          ? 'second step locked'
          : goesOn
            ? 'wrong code'
            : 'too many wrong codes',
      });
      if (!goesOn) {
        setFlash(res, 'second-step-failed');
        return res.redirect(303, '/login');
      }
      return render(res, 401, { code: WRONG_CODE });
    }

    if (factor === 'recovery-code') {
      // A recovery code is a credential used up: every other session of the account ends, as
      // after a password change, and the owner hears of it.
      await db.transaction(async (trx) => {
        await twoFactor.recoveryCodeUsed(trx, user.id);
        await userSessions?.revokeAll(user.id, trx);
      });
      securityLog.record(req, 'recovery_code_used', { userId: user.id });
      notifyTwoFactor(res, user, 'recovery-code-used');
    }
    const current = (await findAccountById(db, user.id)) ?? account;
    await auth.logIn(req, current, factor === 'totp' ? 'password+totp' : 'password+recovery-code');
    devices.remember(req, res, user.username);
    if (pending.newDevice) notifyNewSignIn(req, res, user);
    securityLog.record(req, 'login_succeeded', { userId: user.id, reason: `password+${factor}` });
    setFlash(res, factor === 'recovery-code' ? 'recovery-code-used' : 'logged-in');
    res.redirect(303, pending.next ?? '/dashboard');
  });

  return router;
}
