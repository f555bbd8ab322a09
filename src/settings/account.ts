import { Router, type Request, type RequestHandler, type Response } from 'express';
import {
  changePasswordForm,
  deleteAccountForm,
  parseForm,
  type FieldErrors,
  type FieldSuggestions,
} from '../accounts/forms';
import { hashPassword } from '../passwords/passwords';
import { currentUser, requireLogin } from '../auth/require-login';
import { passwordConfirmation } from '../auth/password-confirmation';
import { requireRecentAuth } from '../auth/require-recent-auth';
import { strengthCheck } from '../auth/strength-check';
import { deleteAccount, findAccountById, updatePasswordHash, type User } from '../accounts/users';
import type { Config } from '../config';
import type { AppDependencies } from '../dependencies';
import { workOwner } from '../accounts/work-owner';
import { passwordChangedNotice } from '../mail/notices';
import { setFlash } from '../session/flash';

/** The account page: change the password, delete the account. Both ask for the password again. */
export function accountRoutes(deps: AppDependencies): Router {
  const { config, db, auth, securityLog, userSessions, tokens } = deps;
  const notifyPasswordChanged = passwordChangedNotice(deps);

  const passwordConfirmed = passwordConfirmation(deps);
  const weakPassword = strengthCheck(deps);
  const router = Router();
  // The account page and its actions need a signed-in user with a recent password entry
  // (require-recent-auth.ts). Route by route: a router.use('/account') would also catch
  // /account/sessions, whose guard returns elsewhere.
  const guarded: RequestHandler[] = [
    requireLogin,
    requireRecentAuth(config.session.recentAuthMinutes, '/account'),
  ];

  const renderAccount = accountPage(config);

  router.get('/account', guarded, (req: Request, res: Response) =>
    renderAccount(res, currentUser(req)),
  );

  router.post('/account/password', guarded, async (req: Request, res: Response) => {
    const user = currentUser(req);
    const form = parseForm(changePasswordForm({ ...config, username: user.username }), req.body);
    if (!form.ok) return renderAccount(res, user, 400, form.errors);

    // Asking for the current password means a session left open on a shared computer is not
    // enough to lock its owner out. Checked (and counted) before the new password's estimate:
    // a wrong one costs no estimate.
    if (!(await passwordConfirmed(req, res, user, form.data.current_password))) {
      return renderAccount(res, user, 400, { current_password: 'Incorrect password.' });
    }
    const owner = workOwner(req, user.username);
    const password = form.data.new_password;
    const field = 'new_password';
    const weak = await weakPassword(req, owner, { field, password, username: user.username });
    if (weak) return renderAccount(res, user, 400, weak.errors, weak.suggestions);
    const passwordHash = await hashPassword(password, config.bcryptCost, owner);
    // The new hash and the end of every other session of this user, together or not at all.
    // Their credential stamps would end them at their next request anyway (and do, with
    // MemoryStore): deleting the rows ends them now, before that request comes.
    await db.transaction(async (trx) => {
      await updatePasswordHash(trx, user.id, passwordHash);
      await userSessions?.revokeOthers(user.id, req.sessionID, trx);
      // A reset link sent before the change must not undo it.
      await tokens.revokeAll(user.id, 'reset-password', trx);
    });
    // This session continues under a new id, stamped with the new credentials.
    const account = await findAccountById(db, user.id);
    if (account) await auth.passwordChanged(req, account);
    securityLog.record(req, 'password_changed', { userId: user.id });
    notifyPasswordChanged(res, user);
    setFlash(res, 'password-changed');
    res.redirect(303, '/account');
  });

  router.post('/account/delete', guarded, async (req: Request, res: Response) => {
    const user = currentUser(req);
    const form = parseForm(deleteAccountForm, req.body);
    if (!form.ok) return renderAccount(res, user, 400, form.errors);
    if (!(await passwordConfirmed(req, res, user, form.data.password))) {
      return renderAccount(res, user, 400, { password: 'Incorrect password.' });
    }
    // Every session row goes with the account, in the same transaction (the foreign key would
    // take them too; saying so here keeps the rule visible).
    await db.transaction(async (trx) => {
      await userSessions?.revokeAll(user.id, trx);
      await deleteAccount(trx, user.id);
    });
    securityLog.record(req, 'account_deleted', { userId: user.id });
    await auth.logOut(req, res);
    setFlash(res, 'account-deleted');
    res.redirect(303, '/');
  });

  return router;
}

/**
 * Renders the account page, with the errors (and advice) of whichever of its forms failed. Shared
 * with settings/email-address.ts, whose form is on this page too.
 */
export function accountPage(config: Config) {
  return (
    res: Response,
    user: User,
    status = 200,
    errors: FieldErrors = {},
    suggestions: FieldSuggestions = {},
  ) => {
    const { passwordMinLength } = config;
    res
      .status(status)
      .render('account', { title: 'Your account', user, errors, suggestions, passwordMinLength });
  };
}
