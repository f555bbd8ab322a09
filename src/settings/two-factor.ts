import { Router, type Request, type RequestHandler, type Response } from 'express';
import { authenticatorCodeForm, parseForm, type FieldErrors } from '../accounts/forms';
import { findAccountById, type User } from '../accounts/users';
import { currentUser, requireLogin } from '../auth/require-login';
import { requireRecentAuth } from '../auth/require-recent-auth';
import type { SignInMethod } from '../auth/session-auth';
import type { AppDependencies } from '../dependencies';
import { authenticatorSetup } from '../factors/authenticator-setup';
import { twoFactorNotice, type TwoFactorChange } from '../mail/notices';
import { noStore } from '../security/headers';
import { setFlash } from '../session/flash';

/**
 * /account/two-factor: whether two-factor sign-in is on, how many recovery codes are left, and
 * the actions: set up an authenticator app, turn it off, make new recovery codes. Each action
 * needs a recent password entry (sudo mode), as a password change does.
 */
export function twoFactorRoutes(deps: AppDependencies): Router {
  const { config, db, auth, securityLog, twoFactor, userSessions } = deps;
  const notify = twoFactorNotice(deps);
  const setup = authenticatorSetup(twoFactor, config.siteName);
  const router = Router();
  const guarded: RequestHandler[] = [
    requireLogin,
    requireRecentAuth(config.session.recentAuthMinutes, '/account/two-factor'),
  ];
  router.use('/account/two-factor', noStore);

  const render = async (
    req: Request,
    res: Response,
    {
      status = 200,
      errors = {},
      codes,
    }: { status?: number; errors?: FieldErrors; codes?: string[] },
  ) => {
    const user = currentUser(req);
    const state = await twoFactor.status(user.id);
    const secret = state.enabled ? undefined : setup.secret(req, user.id);
    res.status(status).render('two-factor', {
      title: 'Two-factor sign-in',
      state,
      setup: secret && (await setup.details(secret, user.username)),
      codes,
      download: codes && `data:text/plain;charset=utf-8,${encodeURIComponent(codes.join('\n'))}`,
      errors,
    });
  };

  /**
   * After a change of the account's credentials: every other session ends now (their rows, and
   * their stamps at their next request with any store), this one goes on under a new id.
   */
  const changed = async (
    req: Request,
    res: Response,
    user: User,
    change: TwoFactorChange,
    method: SignInMethod,
  ) => {
    const account = await findAccountById(db, user.id);
    if (account) await auth.credentialsChanged(req, account, method);
    notify(res, user, change);
  };

  router.get('/account/two-factor', requireLogin, (req, res) => render(req, res, {}));

  router.post('/account/two-factor/setup', guarded, async (req: Request, res: Response) => {
    const user = currentUser(req);
    if (!(await twoFactor.isEnabled(user.id))) setup.start(req, user.id);
    res.redirect(303, '/account/two-factor');
  });

  router.post('/account/two-factor/cancel', requireLogin, (req, res) => {
    setup.end(req);
    setFlash(res, 'two-factor-setup-cancelled');
    res.redirect(303, '/account/two-factor');
  });

  router.post('/account/two-factor/enable', guarded, async (req: Request, res: Response) => {
    const user = currentUser(req);
    const secret = setup.secret(req, user.id);
    if (!secret) return res.redirect(303, '/account/two-factor');
    const form = parseForm(authenticatorCodeForm, req.body);
    if (!form.ok) return render(req, res, { status: 400, errors: form.errors });
    const codes = await db.transaction(async (trx) => {
      const made = await twoFactor.enable(trx, user.id, secret, form.data.code);
      if (made) await userSessions?.revokeOthers(user.id, req.sessionID, trx);
      return made;
    });
    if (!codes) {
      const message =
        'That code is not right. Check the time on your phone, and try the newest code.';
      return render(req, res, { status: 400, errors: { code: message } });
    }
    setup.end(req);
    // This session proved a code from the app just now.
    await changed(req, res, user, 'enabled', 'password+totp');
    securityLog.record(req, 'two_factor_enabled', { userId: user.id });
    await render(req, res, { codes });
  });

  router.post('/account/two-factor/disable', guarded, async (req: Request, res: Response) => {
    const user = currentUser(req);
    const disabled = await db.transaction(async (trx) => {
      const had = await twoFactor.disable(trx, user.id);
      if (had) await userSessions?.revokeOthers(user.id, req.sessionID, trx);
      return had;
    });
    if (disabled) {
      await changed(req, res, user, 'disabled', 'password');
      securityLog.record(req, 'two_factor_disabled', { userId: user.id, reason: 'by the user' });
      setFlash(res, 'two-factor-disabled');
    }
    res.redirect(303, '/account/two-factor');
  });

  router.post(
    '/account/two-factor/recovery-codes',
    guarded,
    async (req: Request, res: Response) => {
      const user = currentUser(req);
      if (!(await twoFactor.isEnabled(user.id))) return res.redirect(303, '/account/two-factor');
      const codes = await twoFactor.newRecoveryCodes(user.id);
      securityLog.record(req, 'recovery_codes_renewed', { userId: user.id });
      await render(req, res, { codes });
    },
  );

  return router;
}
