import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { emailField } from '../accounts/emails';
import {
  parseForm,
  resetPasswordForm,
  type FieldErrors,
  type FieldSuggestions,
} from '../accounts/forms';
import { hashPassword } from '../passwords/passwords';
import { strengthCheck } from '../auth/strength-check';
import { findAccountByEmail, findAccountById, updatePasswordHash } from '../accounts/users';
import type { AppDependencies } from '../dependencies';
import { workOwner } from '../accounts/work-owner';
import { clientIp } from '../security/client-address';
import { afterAnswer } from '../mail/after-answer';
import { linkLanding } from '../mail/link-landing';
import { tokenLink, tokenRoute } from '../mail/links';
import { passwordChangedNotice } from '../mail/notices';
import { setFlash } from '../session/flash';

const forgotForm = z.object({ email: emailField });

/**
 * "Forgot your password?", the way OWASP's Forgot Password Cheat Sheet and ASVS 5.0 V6.4 lay it
 * out (the steps, in docs/password-reset.md):
 *
 * 1. /password/forgot asks for the e-mail address and always gives the same answer, status and
 *    page, whether or not an account has it; the lookup and the mail happen after the answer
 *    has gone, so it takes the same time too. Throttled per address typed and per client.
 * 2. The mailed link holds a 256-bit token; the table keeps only its SHA-256. It expires
 *    (PASSWORD_RESET_MINUTES), works once, and dies when a newer link is sent, the password
 *    changes by any route, or the confirmed address changes or goes. Links are built from
 *    PUBLIC_URL, never from the request's Host.
 * 3. Following the link moves the token into a short-lived HttpOnly cookie and redirects to the
 *    form (mail/link-landing.ts), so the token leaves the address bar; none of these pages is
 *    cached.
 * 4. The new password meets the same rules as at registration. Setting it ends every session of
 *    the user (by user id) and every other reset token, sends a "your password was changed" notice,
 *    and sends the person to log in: OWASP advises against signing in automatically after a
 *    reset, and logging in proves the new password works where the person will need it.
 */
export function passwordResetRoutes(deps: AppDependencies): Router {
  const { config, db, mailer, tokens, devices, throttle, userSessions, securityLog, logger } = deps;
  const router = Router();
  const notifyPasswordChanged = passwordChangedNotice(deps);
  const weakPassword = strengthCheck(deps);
  const link = linkLanding(deps, 'reset-password', {
    name: 'reset',
    landing: '/password/reset',
    again: '/password/forgot',
    maxAgeMs: config.mail.resetMinutes * 60_000,
  });
  // Mounted only when mail can be sent (app.ts). Nothing here may be cached.
  router.use('/password', (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });

  router.get('/password/forgot', (_req, res) => {
    res.render('forgot-password', { title: 'Forgot your password?', values: {}, errors: {} });
  });

  router.post('/password/forgot', async (req, res) => {
    const form = parseForm(forgotForm, req.body);
    if (!form.ok) {
      const values = { email: typeof req.body?.email === 'string' ? req.body.email : '' };
      res.status(400);
      return res.render('forgot-password', {
        title: 'Forgot your password?',
        values,
        errors: form.errors,
      });
    }
    const { email } = form.data;
    await throttle.mailedLink(email, clientIp(req));
    securityLog.record(req, 'password_reset_requested', { email });
    afterAnswer(res, logger, 'password reset link not sent', async () => {
      const account = await findAccountByEmail(db, email);
      if (!account) return;
      const minutes = config.mail.resetMinutes;
      const token = await tokens.issue(account.user.id, 'reset-password', { minutes });
      await mailer.send(email, 'reset-password', {
        username: account.user.username,
        link: tokenLink(config, 'reset-password', token),
        minutes,
      });
    });
    res.render('forgot-password-sent', {
      title: 'Check your e-mail',
      minutes: config.mail.resetMinutes,
    });
  });

  // The link from the mail: the token goes into a cookie, and out of the address bar.
  router.get(tokenRoute('reset-password'), link.follow);

  /** The token this browser brought, and whose account it opens, if it is still valid. */
  const pending = async (req: Request) => {
    const valid = await link.pending(req);
    const account = valid && (await findAccountById(db, valid.userId));
    return account ? { token: valid.token, account } : undefined;
  };

  const renderForm = (
    res: Response,
    username: string,
    status = 200,
    errors: FieldErrors = {},
    suggestions: FieldSuggestions = {},
  ) =>
    res.status(status).render('reset-password', {
      title: 'Choose a new password',
      username,
      errors,
      suggestions,
      passwordMinLength: config.passwordMinLength,
    });

  router.get('/password/reset', async (req, res) => {
    const reset = await pending(req);
    if (!reset) return link.expired(res);
    renderForm(res, reset.account.user.username);
  });

  router.post('/password/reset', async (req, res) => {
    const reset = await pending(req);
    if (!reset) return link.expired(res);
    const { user } = reset.account;
    const form = parseForm(resetPasswordForm({ ...config, username: user.username }), req.body);
    if (!form.ok) return renderForm(res, user.username, 400, form.errors);
    const owner = workOwner(req, user.username);
    const { password } = form.data;
    const weak = await weakPassword(req, owner, {
      field: 'password',
      password,
      username: user.username,
    });
    if (weak) return renderForm(res, user.username, 400, weak.errors, weak.suggestions);

    const passwordHash = await hashPassword(password, config.bcryptCost, owner);
    const used = await db.transaction(async (trx) => {
      // Used up inside the transaction: two tabs submitting the same link, one wins.
      if (!(await tokens.consume(reset.token, 'reset-password', trx))) return false;
      await updatePasswordHash(trx, user.id, passwordHash);
      await tokens.revokeAll(user.id, 'reset-password', trx);
      await userSessions?.revokeAll(user.id, trx);
      return true;
    });
    if (!used) return link.expired(res);
    link.done(res);
    // Whoever completed the reset holds the account's confirmed mailbox: this browser is known
    // to the account from now on, and so not held back by failures others spread over many
    // addresses (auth/known-devices.ts). A reset is the way back in when the account is under
    // such an attack.
    devices.remember(req, res, user.username);
    securityLog.record(req, 'password_reset', { userId: user.id });
    notifyPasswordChanged(res, user);
    setFlash(res, 'password-reset');
    res.redirect(303, '/login');
  });

  return router;
}
