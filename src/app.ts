import express, { type Express } from 'express';
import { createAccountTokens } from './accounts/account-tokens';
import { normaliseUsername } from './accounts/usernames';
import { knownDevices } from './auth/known-devices';
import { createSessionAuth } from './auth/session-auth';
import { createThrottle } from './auth/throttle';
import type { AppDependencies, AppInputs } from './dependencies';
import { errorHandler, notFound } from './errors';
import { passkeyCeremonies } from './factors/passkey-ceremonies';
import { passkeyStore } from './factors/passkeys';
import { createTwoFactor } from './factors/two-factor';
import { createMailer } from './mail/mailer';
import { paths } from './paths';
import { requestLogger } from './request-logger';
import { accountRoutes } from './settings/account';
import { authRoutes } from './routes/auth';
import { confirmPasswordRoutes } from './routes/confirm-password';
import { dashboardRoutes } from './routes/dashboard';
import { emailAddressRoutes } from './settings/email-address';
import { healthRoutes } from './routes/health';
import { outboxRoutes } from './routes/outbox';
import { pageRoutes } from './routes/pages';
import { passwordResetRoutes } from './routes/password-reset';
import { passkeySignInRoutes } from './routes/passkey-sign-in';
import { secondStepRoutes } from './routes/second-step';
import { sessionRoutes } from './settings/sessions';
import { passkeyRoutes } from './settings/passkeys';
import { twoFactorRoutes } from './settings/two-factor';
import { csrfProtection } from './security/csrf';
import { allowedHostsOnly } from './security/allowed-hosts';
import { readCookies } from './security/cookies';
import { createSecurityLog } from './security/events';
import { securityHeaders } from './security/headers';
import { deriveKeys } from './security/keys';
import { sameOriginOnly } from './security/same-origin';
import { sessionOwnerReader } from './session-store/store';
import { sessionCookieHeaders } from './session/cookie-headers';
import { renewSessionCookie } from './session/cookie-renewal';
import { flashMessage } from './session/flash';
import { pageHistory } from './session/page-history';
import { sessionCookie, sessionMiddleware } from './session/session-middleware';
import { createUserSessions } from './session/user-sessions';

/**
 * Builds the app. The order of this function is the order every request travels through it.
 * No port is opened here: server.ts listens, and tests hand the app to supertest.
 */
export function createApp(inputs: AppInputs): Express {
  const { config, db, logger, store } = inputs;
  // One key per job, derived from each configured secret (security/keys.ts).
  const keys = deriveKeys(config.session.secrets);
  const securityLog = createSecurityLog(logger, keys.logTag[0] ?? '', normaliseUsername);
  const cookie = sessionCookie(config);
  const ownerOf = sessionOwnerReader(store);
  const auth = createSessionAuth({ config, db, cookie, keys, securityLog, ownerOf });
  const throttle = createThrottle(config, db, logger, keys.logTag[0] ?? '');
  const devices = knownDevices(config, keys.deviceCookie);
  const userSessions =
    config.session.store === 'database'
      ? createUserSessions(db, keys.sessionHandle[0] ?? '')
      : undefined;
  const mailer = inputs.mailer ?? createMailer(config, logger);
  const tokens = createAccountTokens(db);
  const twoFactor = createTwoFactor(db, keys);
  const passkeys = passkeyStore(db);
  const deps: AppDependencies = {
    ...inputs,
    keys,
    auth,
    devices,
    throttle,
    securityLog,
    userSessions,
    mailer,
    tokens,
    twoFactor,
    passkeys,
    passkeyCeremonies: passkeyCeremonies(config, passkeys),
  };
  const app = express();

  // A hop count, never `true`: trusting every X-Forwarded-For would let any client pick its IP.
  app.set('trust proxy', config.trustProxy);
  app.set('views', paths.views);
  app.set('view engine', 'pug');
  app.disable('x-powered-by');
  // No ETag on what routes send: a sha1 of every page, for a 304 that a signed-in page (no-store)
  // never gets and an anonymous one (a fresh CSRF token an hour) rarely would. Static files under
  // /assets keep theirs (express.static makes its own, from the file's size and date).
  app.set('etag', false);
  app.locals.siteName = config.siteName;
  // Templates hide what needs mail (e-mail fields, "Forgot your password?") when there is none.
  app.locals.mailEnabled = mailer.mode !== 'off';

  // 1. A request id and one log line per request, then security headers, so every response
  //    carries both: pages, assets, errors.
  app.use(requestLogger(logger));
  const { instanceName } = config;
  if (instanceName) {
    app.use((_req, res, next) => {
      res.set('X-Instance', instanceName);
      next();
    });
  }
  app.use(securityHeaders(config));

  // 2. Health probes, whatever the Host (orchestrators probe an instance by its address); then
  //    only this site's own names (security/allowed-hosts.ts); then static files. All before the
  //    session: none of them needs a session lookup. Static files under /assets only: mounted at
  //    the root, every page request would first look for a file of its name on disk (a stat call
  //    and a 404 object per page, measured by npm run bench).
  app.use(healthRoutes(db));
  app.use(allowedHostsOnly(config.allowedHosts));
  app.use('/assets', express.static(paths.public, { index: false }));
  // The passkey buttons' one library, as its authors publish it for browsers: no bundler, no CDN.
  app.use('/assets/vendor/simplewebauthn', express.static(paths.webauthnBrowser, { index: false }));

  // 3. Form bodies, small and flat: a login form has two fields, not two thousand. Cookies as
  //    plain text (security/cookies.ts says why not cookie-parser).
  app.use(express.urlencoded({ extended: false, limit: '20kb', parameterLimit: 20 }));
  app.use(readCookies);

  // 4. The session: req.session from the signed cookie and the sessions table.
  app.use(sessionCookieHeaders(cookie.name));
  app.use(sessionMiddleware(config, store, cookie, keys.sessionCookie));
  app.use(renewSessionCookie(cookie.name, config.session.idleMinutes * 60_000));

  // 5. CSRF: POSTs from other sites are refused, then every POST must carry a valid token.
  const csrf = csrfProtection(config, keys.csrf);
  app.use(csrf.tokenProvider);
  app.use(sameOriginOnly);
  app.use(csrf.protect);

  // 6. Who is signed in: req.user, checked against the database; then what the layout shows.
  app.use(auth.loadUser);
  app.use(flashMessage(config));
  app.use(pageHistory({ limit: config.historyLength, forAnonymous: config.historyForAnonymous }));

  // 7. Routes.
  app.use(pageRoutes());
  app.use(passkeySignInRoutes(deps));
  app.use(authRoutes(deps));
  app.use(secondStepRoutes(deps));
  app.use(dashboardRoutes(deps));
  app.use(confirmPasswordRoutes(deps));
  app.use(accountRoutes(deps));
  app.use(sessionRoutes(deps));
  app.use(twoFactorRoutes(deps));
  app.use(passkeyRoutes(deps));
  // What needs mail exists only with mail: without it, these addresses are a 404 like any other.
  if (mailer.mode !== 'off') {
    app.use(passwordResetRoutes(deps));
    app.use(emailAddressRoutes(deps));
  }
  if (mailer.mode === 'outbox') app.use(outboxRoutes(config));

  // 8. Nothing matched; then anything that failed.
  app.use(notFound);
  app.use(errorHandler(config, logger, securityLog));

  return app;
}
