import { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { emailField } from '../accounts/emails';
import { parseForm } from '../accounts/forms';
import { currentUser, requireLogin } from '../auth/require-login';
import { requireRecentAuth } from '../auth/require-recent-auth';
import {
  EmailTakenError,
  findAccountById,
  markEmailVerified,
  removeEmail,
  setPendingEmail,
  type User,
} from '../accounts/users';
import type { AppDependencies } from '../dependencies';
import { accountPage } from './account';
import { clientIp } from '../security/client-address';
import { afterAnswer } from '../mail/after-answer';
import { linkLanding } from '../mail/link-landing';
import { mailLink, tokenRoute } from '../mail/links';
import { verificationSender } from '../mail/verification';
import { setFlash } from '../session/flash';

const emailForm = z.object({ email: emailField });

/**
 * The e-mail address on the account: add, change or remove it from the account page (behind the
 * recent-authentication guard), and verify it by the mailed link. An address counts (receives
 * reset links) only once verified; until then it waits in `pending_email`. Changing or removing
 * a verified address sends a notice to it, so an intruder cannot quietly take the way back in.
 */
export function emailAddressRoutes(deps: AppDependencies): Router {
  const { config, db, mailer, tokens, throttle, securityLog, logger } = deps;
  const router = Router();
  const renderAccount = accountPage(config);
  // Mounted only when mail can be sent (app.ts).
  const guarded: RequestHandler[] = [
    requireLogin,
    requireRecentAuth(config.session.recentAuthMinutes, '/account'),
  ];

  const sendVerification = verificationSender(deps);
  const link = linkLanding(deps, 'verify-email', {
    name: 'verify',
    landing: '/email/verify',
    again: '/account',
    maxAgeMs: config.mail.verifyHours * 3_600_000,
  });

  /** Tells a verified address that it is being replaced or removed. */
  const notifyOldAddress = (user: User, newAddress: boolean) =>
    user.email
      ? mailer.send(user.email, 'email-changed', {
          username: user.username,
          newAddress,
          link: mailLink(config, '/account'),
        })
      : Promise.resolve(false);

  router.post('/account/email', guarded, async (req: Request, res: Response) => {
    const user = currentUser(req);
    const form = parseForm(emailForm, req.body);
    if (!form.ok) return renderAccount(res, user, 400, form.errors);
    const { email } = form.data;
    if (email === user.email) return res.redirect(303, '/account');
    await throttle.mailedLink(email, clientIp(req));
    await setPendingEmail(db, user.id, email);
    securityLog.record(req, 'email_verification_sent', { userId: user.id, email });
    afterAnswer(res, logger, 'e-mail address change mail not sent', async () => {
      await notifyOldAddress(user, true);
      await sendVerification(user, email);
    });
    setFlash(res, 'email-verification-sent');
    res.redirect(303, '/account');
  });

  router.post('/account/email/resend', guarded, async (req: Request, res: Response) => {
    const user = currentUser(req);
    const email = user.pendingEmail;
    if (email) {
      await throttle.mailedLink(email, clientIp(req));
      securityLog.record(req, 'email_verification_sent', { userId: user.id, email });
      afterAnswer(res, logger, 'verification link not sent', () => sendVerification(user, email));
      setFlash(res, 'email-verification-sent');
    }
    res.redirect(303, '/account');
  });

  router.post('/account/email/remove', guarded, async (req: Request, res: Response) => {
    const user = currentUser(req);
    // Every link goes with the address: a reset link already in that mailbox must not outlive
    // the owner's decision that the mailbox no longer speaks for the account.
    await db.transaction(async (trx) => {
      await removeEmail(trx, user.id);
      await tokens.revokeAll(user.id, undefined, trx);
    });
    securityLog.record(req, 'email_removed', { userId: user.id });
    afterAnswer(res, logger, 'e-mail removal notice not sent', () => notifyOldAddress(user, false));
    setFlash(res, 'email-removed');
    res.redirect(303, '/account');
  });

  // The link from the mail, followed signed in or not: its token moves into a cookie and the
  // browser to a page whose button confirms (mail/link-landing.ts). Following the link alone
  // confirms nothing: mail scanners follow every link, and would confirm an address for whoever
  // typed it.
  router.use('/email/verify', (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  router.get(tokenRoute('verify-email'), link.follow);

  /** The address this browser's link would confirm, and whose account it is for. */
  const pending = async (req: Request) => {
    const valid = await link.pending(req);
    const account = valid?.email ? await findAccountById(db, valid.userId) : undefined;
    return valid?.email && account
      ? { token: valid.token, email: valid.email, account }
      : undefined;
  };

  router.get('/email/verify', async (req, res) => {
    const waiting = await pending(req);
    if (!waiting) return link.expired(res);
    res.render('verify-email', {
      title: 'Confirm your e-mail address',
      email: waiting.email,
      username: waiting.account.user.username,
    });
  });

  router.post('/email/verify', async (req, res) => {
    const waiting = await pending(req);
    if (!waiting) return link.expired(res);
    const { token, email, account } = waiting;
    link.done(res);
    // Used up first, whatever follows: a link works once.
    if (!(await tokens.consume(token, 'verify-email'))) return link.expired(res);
    try {
      const verified = await db.transaction(async (trx) => {
        // False when the address waiting is no longer this one (changed since the link was sent).
        if (!(await markEmailVerified(trx, account.user.id, email))) return false;
        // Reset links mailed to the address this one replaces die with it.
        await tokens.revokeAll(account.user.id, 'reset-password', trx);
        return true;
      });
      if (!verified) return link.expired(res);
      securityLog.record(req, 'email_verified', { userId: account.user.id, email });
      setFlash(res, 'email-verified');
    } catch (error) {
      if (!(error instanceof EmailTakenError)) throw error;
      setFlash(res, 'email-taken');
    }
    res.redirect(303, req.user?.id === account.user.id ? '/account' : '/');
  });

  return router;
}
