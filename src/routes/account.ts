import { Router, type Request, type Response } from 'express';
import { confirmPassword } from '../auth/credentials';
import {
  changePasswordForm,
  deleteAccountForm,
  parseForm,
  type FieldErrors,
  type FieldSuggestions,
} from '../auth/forms';
import { hashPassword } from '../auth/passwords';
import { currentUser, requireLogin } from '../auth/require-login';
import { deleteAccount, updatePasswordHash, type User } from '../auth/users';
import type { AppDependencies } from '../dependencies';
import { clientIp, workOwner } from '../security/client-address';
import { setFlash } from '../session/flash';

/** The account page: change the password, delete the account. Both ask for the password again. */
export function accountRoutes(deps: AppDependencies): Router {
  const { config, db, auth, throttle, securityLog } = deps;

  /**
   * The password check of this page. Never refused by the login throttle (an attacker failing
   * to log in must not stop the owner from changing the password), but limited on its own, so
   * that a stolen session is no way to guess the password without limit either.
   */
  const passwordConfirmed = async (req: Request, user: User, password: string) => {
    const attempt = await throttle.confirmationAttempt(user, clientIp(req));
    const cost = config.bcryptCost;
    const account = await attempt.run((owner) =>
      confirmPassword(db, user.id, password, { cost, owner }),
    );
    if (!account) securityLog.record(req, 'password_check_failed', { userId: user.id });
    return account !== undefined;
  };
  const router = Router();
  router.use('/account', requireLogin);

  const renderAccount = (
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

  router.get('/account', (req, res) => renderAccount(res, currentUser(req)));

  router.post('/account/password', async (req, res) => {
    const user = currentUser(req);
    const owner = workOwner(req, user.username);
    const schema = changePasswordForm({ ...config, username: user.username, owner });
    const form = await parseForm(schema, req.body);
    if (!form.ok) return renderAccount(res, user, 400, form.errors, form.suggestions);

    // Asking for the current password means a session left open on a shared computer is not
    // enough to lock its owner out.
    if (!(await passwordConfirmed(req, user, form.data.current_password))) {
      return renderAccount(res, user, 400, { current_password: 'Incorrect password.' });
    }
    const passwordHash = await hashPassword(form.data.new_password, config.bcryptCost, owner);
    await updatePasswordHash(db, user.id, passwordHash);
    // This session continues under a new id with the new credentials; every other session of
    // this user still carries the old credential stamp and ends at its next request.
    await auth.logIn(req, { user, passwordHash });
    securityLog.record(req, 'password_changed', { userId: user.id });
    setFlash(res, 'password-changed');
    res.redirect(303, '/account');
  });

  router.post('/account/delete', async (req, res) => {
    const user = currentUser(req);
    const form = await parseForm(deleteAccountForm, req.body);
    if (!form.ok) return renderAccount(res, user, 400, form.errors);
    if (!(await passwordConfirmed(req, user, form.data.password))) {
      return renderAccount(res, user, 400, { password: 'Incorrect password.' });
    }
    await deleteAccount(db, user.id);
    securityLog.record(req, 'account_deleted', { userId: user.id });
    // Other sessions of this user find no account at their next request and end there.
    await auth.logOut(req, res);
    setFlash(res, 'account-deleted');
    res.redirect(303, '/');
  });

  return router;
}
