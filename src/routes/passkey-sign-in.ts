import { Router } from 'express';
import { findAccountById } from '../accounts/users';
import type { AppDependencies } from '../dependencies';
import { relyingParty } from '../factors/passkey-ceremonies';
import { safeNextPath } from '../auth/safe-redirect';
import { signInFinisher } from './finish-sign-in';

const REFUSED = 'That passkey did not sign you in. Try again, or use your password.';

/**
 * Signing in with a passkey alone, without a username: the browser offers the passkeys it holds
 * for this site (from the button, or in the username field's autofill), the owner unlocks one
 * (fingerprint, face, PIN), and its signature over the session's challenge signs them in. That
 * is two factors in one, something held and something known or been, so no code follows, even
 * for an account with two-factor on.
 */
export function passkeySignInRoutes(deps: AppDependencies): Router {
  const { config, db, devices, throttle, securityLog, passkeyCeremonies } = deps;
  const finishSignIn = signInFinisher(deps);
  const router = Router();

  // Whether the login page offers passkeys: not at an address they cannot work at.
  router.get('/login', (req, res, next) => {
    res.locals.passkeySignIn = relyingParty(req, config) !== undefined;
    next();
  });

  router.post('/login/passkey/options', async (req, res) => {
    const rp = relyingParty(req, config);
    if (!rp) return res.status(409).json({ error: 'Passkeys need the site at its name.' });
    res.json(await passkeyCeremonies.authenticationOptions(req, rp, 'sign-in'));
  });

  router.post('/login/passkey', async (req, res) => {
    const next = safeNextPath(req.body?.next);
    const rp = relyingParty(req, config);
    const refuse = (reason: string, userId?: number) => {
      securityLog.record(req, 'passkey_failed', { userId, reason });
      res.status(401).render('login', {
        title: 'Log in',
        values: { next },
        errors: { form: REFUSED },
        passkeySignIn: rp !== undefined,
      });
    };
    if (!rp) return refuse('no relying party here');
    const proof = await passkeyCeremonies.authenticate(req, rp, 'sign-in', req.body?.credential);
    const userId = proof.ok ? proof.value.userId : proof.passkey?.userId;
    const account = userId === undefined ? undefined : await findAccountById(db, userId);
    if (!account) return refuse(proof.ok ? 'account gone' : proof.reason, userId);
    // The second step's allowance: a refused passkey counts as a wrong code does, and an account
    // locked by them takes no passkey sign-in either until its window ends.
    const attempt = await throttle.secondStepAttempt(account.user.username);
    const right = proof.ok && !attempt.locked;
    await attempt.settle(right);
    if (!right) {
      return refuse(attempt.locked ? 'second step locked' : proof.ok ? '' : proof.reason, userId);
    }
    await finishSignIn(req, res, account, {
      method: 'passkey',
      newDevice: devices.recognise(req, account.user.username) === undefined,
      next,
    });
  });

  return router;
}
