import { Router, type Request, type Response } from 'express';
import { parseForm, secondStepForm, type FieldErrors } from '../accounts/forms';
import { findAccountById, type Account } from '../accounts/users';
import type { PendingSignIn } from '../auth/session-auth';
import type { AppDependencies } from '../dependencies';
import { relyingParty } from '../factors/passkey-ceremonies';
import { twoFactorNotice } from '../mail/notices';
import { noStore } from '../security/headers';
import { setFlash } from '../session/flash';
import { signInFinisher } from './finish-sign-in';

/** One answer for every refused code: wrong, replayed, or refused by the lock. */
const WRONG_CODE = 'That code is not right. Check your app and try the newest code.';
const WRONG_PASSKEY = 'That passkey did not sign you in. Try again, or enter a code.';

/**
 * The second step of a sign-in, for an account with two-factor on: the password was right
 * (routes/auth.ts), and this session holds only that fact, for a few minutes. A code from the
 * app, a recovery code, or one of the account's passkeys completes the sign-in.
 */
export function secondStepRoutes(deps: AppDependencies): Router {
  const { config, db, auth, throttle, securityLog, twoFactor, userSessions } = deps;
  const { passkeys, passkeyCeremonies } = deps;
  const finishSignIn = signInFinisher(deps);
  const notifyTwoFactor = twoFactorNotice(deps);
  const router = Router();

  router.use('/login/two-factor', noStore);

  const render = async (
    req: Request,
    res: Response,
    pending: NonNullable<PendingSignIn>,
    status = 200,
    errors: FieldErrors = {},
  ) => {
    // The passkey button, for an account that has one, where passkeys can work at all.
    const offerPasskey =
      relyingParty(req, config) !== undefined &&
      (await passkeys.listFor(pending.userId)).length > 0;
    res.status(status).render('second-step', { title: 'Two-factor sign-in', errors, offerPasskey });
  };

  /** No half-done sign-in (none, or older than its few minutes): back to the password. */
  const startOver = (req: Request, res: Response) => {
    const expired = req.session?.pendingSignIn;
    if (expired) {
      securityLog.record(req, 'second_step_failed', { userId: expired.userId, reason: 'expired' });
      setFlash(res, 'second-step-expired');
    }
    res.redirect(303, '/login');
  };

  /**
   * A refused second step, whatever refused it: counted against this sign-in (too many, and it
   * starts over from the password), logged, and answered with the page and `message`.
   */
  const refuse = async (
    req: Request,
    res: Response,
    pending: NonNullable<PendingSignIn>,
    details: { locked: boolean; reason: string; field: string; message: string },
  ) => {
    const goesOn = await auth.secondStepFailed(req);
    securityLog.record(req, 'second_step_failed', {
      userId: pending.userId,
      reason: details.locked
        ? 'second step locked'
        : goesOn
          ? details.reason
          : 'too many wrong codes',
    });
    if (!goesOn) {
      setFlash(res, 'second-step-failed');
      return res.redirect(303, '/login');
    }
    return render(req, res, pending, 401, { [details.field]: details.message });
  };

  /** The pending sign-in and its account, or the way back to the password. */
  const pendingAccount = async (req: Request, res: Response) => {
    const pending = auth.pendingSignIn(req);
    const account = pending && (await findAccountById(db, pending.userId));
    if (!pending || !account) {
      startOver(req, res);
      return undefined;
    }
    return { pending, account };
  };

  const finish = (
    req: Request,
    res: Response,
    pending: NonNullable<PendingSignIn>,
    account: Account,
    method: 'password+totp' | 'password+recovery-code' | 'password+passkey',
  ) =>
    finishSignIn(req, res, account, {
      method,
      newDevice: pending.newDevice,
      next: pending.next,
      flash: method === 'password+recovery-code' ? 'recovery-code-used' : 'logged-in',
    });

  router.get('/login/two-factor', async (req, res) => {
    const pending = auth.pendingSignIn(req);
    if (!pending) return startOver(req, res);
    await render(req, res, pending);
  });

  router.post('/login/two-factor', async (req, res) => {
    const found = await pendingAccount(req, res);
    if (!found) return;
    const { pending, account } = found;
    const form = parseForm(secondStepForm, req.body);
    if (!form.ok) return render(req, res, pending, 400, form.errors);
    const { user } = account;

    // The account's allowance of wrong codes, across sign-ins and addresses. Locked, the code
    // is still checked (without being used up) so that the answer takes the same work, and is
    // then refused with the same words as a wrong one.
    const attempt = await throttle.secondStepAttempt(user.username);
    const factor = await twoFactor.verify(user.id, form.data.code, !attempt.locked);
    const right = factor !== undefined && !attempt.locked;
    await attempt.settle(right);
    if (!right) {
      const { locked } = attempt;
      const reason = 'wrong code';
      return refuse(req, res, pending, { locked, reason, field: 'code', message: WRONG_CODE });
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
    await finish(req, res, pending, current, `password+${factor}`);
  });

  // A passkey in place of the code: the page's script asks for a challenge for this account's
  // passkeys, the browser signs it, and the form posts the answer.
  router.post('/login/two-factor/passkey/options', async (req, res) => {
    const pending = auth.pendingSignIn(req);
    const rp = relyingParty(req, config);
    if (!pending || !rp) return res.status(409).json({ error: 'Start again from the password.' });
    const allow = await passkeys.listFor(pending.userId);
    res.json(await passkeyCeremonies.authenticationOptions(req, rp, 'second-step', allow));
  });

  router.post('/login/two-factor/passkey', async (req, res) => {
    const found = await pendingAccount(req, res);
    if (!found) return;
    const { pending, account } = found;
    const rp = relyingParty(req, config);
    const { user } = account;
    const attempt = await throttle.secondStepAttempt(user.username);
    const proof = rp
      ? await passkeyCeremonies.authenticate(req, rp, 'second-step', req.body?.credential, user.id)
      : { ok: false as const, reason: 'no relying party here' };
    const right = proof.ok && !attempt.locked;
    await attempt.settle(right);
    if (!right) {
      const { locked } = attempt;
      const reason = `passkey refused: ${proof.ok ? 'locked' : proof.reason}`;
      return refuse(req, res, pending, {
        locked,
        reason,
        field: 'passkey',
        message: WRONG_PASSKEY,
      });
    }
    await finish(req, res, pending, account, 'password+passkey');
  });

  return router;
}
