import { signInFinisher } from './finish-sign-in';
import { Router, type Response } from 'express';
import { authenticate } from '../accounts/credentials';
import {
  keptValues,
  loginForm,
  parseForm,
  registerForm,
  type FieldErrors,
  type FieldSuggestions,
} from '../accounts/forms';
import { hashPassword } from '../passwords/passwords';
import { safeNextPath } from '../auth/safe-redirect';
import { strengthCheck } from '../auth/strength-check';
import { createAccount, UsernameTakenError, type Account } from '../accounts/users';
import type { AppDependencies } from '../dependencies';
import { workOwner } from '../accounts/work-owner';
import { clientIp } from '../security/client-address';
import { afterAnswer } from '../mail/after-answer';
import { verificationSender } from '../mail/verification';
import { setFlash } from '../session/flash';

/** Register, log in, log out: parse the form, call the auth module, render or redirect. */
export function authRoutes(deps: AppDependencies): Router {
  const { config, db, auth, devices, throttle, securityLog, mailer, logger, twoFactor } = deps;
  const sendVerification = verificationSender(deps);
  const finishSignIn = signInFinisher(deps);
  const weakPassword = strengthCheck(deps);
  const router = Router();

  // Forms and their answers may show who is signed in or echo a username: not for caches.
  router.use(['/register', '/login', '/logout'], (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });

  const renderRegister = (
    res: Response,
    status: number,
    values: Record<string, string> = {},
    errors: FieldErrors = {},
    suggestions: FieldSuggestions = {},
  ) => {
    const { passwordMinLength } = config;
    res.status(status).render('register', {
      title: 'Register',
      values,
      errors,
      suggestions,
      passwordMinLength,
    });
  };

  router.get('/register', (_req, res) => renderRegister(res, 200));

  router.post('/register', async (req, res) => {
    const form = parseForm(registerForm(config), req.body);
    const values = keptValues(req.body, ['username', 'email']);
    if (!form.ok) return renderRegister(res, 400, values, form.errors);
    const { username, password } = form.data;
    // Counted before any costly work (the strength estimate, bcrypt): past the limit, a flood of
    // registrations costs us one database write each, and no password thread.
    await throttle.registration(clientIp(req));
    const owner = workOwner(req);
    const weak = await weakPassword(req, owner, { field: 'password', password, username });
    if (weak) return renderRegister(res, 400, values, weak.errors, weak.suggestions);

    const passwordHash = await hashPassword(password, config.bcryptCost, owner);
    // An address counts only once its link is confirmed: until then it waits as pending.
    const pendingEmail = mailer.mode === 'off' ? undefined : form.data.email;
    let account: Account;
    try {
      account = await createAccount(db, {
        username,
        passwordHash,
        pendingEmail,
      });
    } catch (error) {
      if (!(error instanceof UsernameTakenError)) throw error;
      return renderRegister(res, 409, values, { username: 'That username is taken.' });
    }
    await auth.logIn(req, account);
    devices.remember(req, res, account.user.username);
    securityLog.record(req, 'registered', { userId: account.user.id });
    if (pendingEmail) {
      const { user } = account;
      const ip = clientIp(req);
      afterAnswer(res, logger, 'verification link not sent', async () => {
        // Held to the same limit as "send it again" and "forgot password": twenty registrations
        // naming someone else's address must not send them twenty mails. Over it, the account
        // is made all the same, and its owner can ask for the link later.
        const refused = await throttle.mailedLinkRefusal(pendingEmail, ip);
        if (refused === undefined) return sendVerification(user, pendingEmail);
        securityLog.record(req, 'email_link_refused', {
          userId: user.id,
          email: pendingEmail,
          reason: refused,
        });
      });
    }
    setFlash(res, 'registered');
    res.redirect(303, '/dashboard');
  });

  router.get('/login', (req, res) => renderLogin(res, 200, { next: safeNextPath(req.query.next) }));

  router.post('/login', async (req, res) => {
    const form = parseForm(loginForm, req.body);
    const values = { ...keptValues(req.body, ['username']), next: safeNextPath(req.body?.next) };
    if (!form.ok) return renderLogin(res, 400, values, form.errors);
    const { username, password } = form.data;

    // Points are taken before any password work: past a limit, guessing costs the attacker
    // nothing more, but costs us no bcrypt time either. A browser that has signed in to this
    // account before is counted on its own (auth/known-devices.ts).
    const device = devices.recognise(req, username);
    const attempt = await throttle.loginAttempt(username, clientIp(req), device);
    const cost = config.bcryptCost;
    const account = await attempt.run((owner) =>
      authenticate(db, { username, password }, { cost, owner }),
    );
    if (!account) {
      securityLog.record(req, 'login_failed', { username });
      // One message for an unknown name and a wrong password: which one it was is exactly what
      // someone guessing accounts wants to learn.
      return renderLogin(res, 401, values, { form: 'Incorrect username or password.' });
    }
    // With two-factor on, the password alone signs nobody in: the session only remembers that
    // it was right, for a few minutes, and the code is asked for next (routes/second-step.ts).
    if (await twoFactor.isEnabled(account.user.id)) {
      await auth.passwordVerified(req, account, {
        next: values.next,
        newDevice: device === undefined,
      });
      securityLog.record(req, 'second_step_required', { userId: account.user.id });
      return res.redirect(303, '/login/two-factor');
    }
    // A browser new to this account: its owner hears of it, with a way to sign it out.
    await finishSignIn(req, res, account, {
      method: 'password',
      newDevice: device === undefined,
      next: values.next,
    });
  });

  // POST only: a GET could be triggered by any <img src="/logout"> on any site.
  router.post('/logout', async (req, res) => {
    if (req.user) {
      securityLog.record(req, 'logged_out', { userId: req.user.id });
      await auth.logOut(req, res);
      setFlash(res, 'logged-out');
    }
    res.redirect(303, '/');
  });

  return router;
}

function renderLogin(
  res: Response,
  status: number,
  values: { username?: string; next?: string },
  errors: FieldErrors = {},
) {
  res.status(status).render('login', { title: 'Log in', values, errors });
}
