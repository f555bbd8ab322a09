import { Router, type Request, type Response } from 'express';
import { passwordConfirmation } from '../auth/password-confirmation';
import { confirmPasswordForm, parseForm, type FieldErrors } from '../accounts/forms';
import { currentUser, requireLogin } from '../auth/require-login';
import { safeNextPath } from '../auth/safe-redirect';
import type { AppDependencies } from '../dependencies';

/**
 * "Confirm your password": where requireRecentAuth sends a session that has not entered its
 * password lately, before a sensitive page or action; afterwards, back to `next`.
 */
export function confirmPasswordRoutes(deps: AppDependencies): Router {
  const { config, auth, securityLog } = deps;
  const passwordConfirmed = passwordConfirmation(deps);
  const router = Router();
  router.use('/confirm-password', requireLogin, (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });

  const render = (req: Request, res: Response, status = 200, errors: FieldErrors = {}) => {
    const next = safeNextPath(req.method === 'GET' ? req.query.next : req.body?.next);
    res.status(status).render('confirm-password', {
      title: 'Confirm your password',
      user: currentUser(req),
      minutes: config.session.recentAuthMinutes,
      values: { next },
      errors,
    });
  };

  router.get('/confirm-password', (req, res) => render(req, res));

  router.post('/confirm-password', async (req, res) => {
    const user = currentUser(req);
    const form = parseForm(confirmPasswordForm, req.body);
    if (!form.ok) return render(req, res, 400, form.errors);
    // Counted like any password check: its own limit per signed-in account, and the budgets.
    if (!(await passwordConfirmed(req, res, user, form.data.password))) {
      return render(req, res, 400, { password: 'Incorrect password.' });
    }
    await auth.reauthenticated(req);
    securityLog.record(req, 'password_confirmed', { userId: user.id });
    res.redirect(303, safeNextPath(req.body?.next) ?? '/account');
  });

  return router;
}
