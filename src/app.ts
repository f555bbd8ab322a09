import cookieParser from 'cookie-parser';
import express, { type Express } from 'express';
import type { Store } from 'express-session';
import type { Config } from './config';
import type { Database } from './db';
import { createSessionAuth, type SessionAuth } from './auth/session-auth';
import { createThrottle, type Throttle } from './auth/throttle';
import { errorHandler, notFound } from './errors';
import type { Logger } from './logger';
import { paths } from './paths';
import { requestLogger } from './request-logger';
import { accountRoutes } from './routes/account';
import { authRoutes } from './routes/auth';
import { dashboardRoutes } from './routes/dashboard';
import { healthRoutes } from './routes/health';
import { pageRoutes } from './routes/pages';
import { csrfProtection } from './security/csrf';
import { securityHeaders } from './security/headers';
import { sameOriginOnly } from './security/same-origin';
import { sessionCookieMaxAge } from './session/cookie-max-age';
import { flashMessage } from './session/flash';
import { pageHistory } from './session/page-history';
import { sessionCookie, sessionMiddleware } from './session/session-middleware';

export interface AppDependencies {
  config: Config;
  db: Database;
  logger: Logger;
  store: Store;
  auth: SessionAuth;
  throttle: Throttle;
}

/**
 * Builds the app. The order of this function is the order every request travels through it.
 * No port is opened here: server.ts listens, and tests hand the app to supertest.
 */
export function createApp(deps: Omit<AppDependencies, 'auth' | 'throttle'>): Express {
  const { config, db, logger, store } = deps;
  const cookie = sessionCookie(config);
  const auth = createSessionAuth({ ...deps, cookie });
  const throttle = createThrottle(config, db, logger);
  const all: AppDependencies = { ...deps, auth, throttle };
  const app = express();

  // A hop count, never `true`: trusting every X-Forwarded-For would let any client pick its IP.
  app.set('trust proxy', config.trustProxy);
  app.set('views', paths.views);
  app.set('view engine', 'pug');
  app.disable('x-powered-by');
  app.locals.siteName = config.siteName;

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

  // 2. Static files and health probes, before the session: neither needs a session lookup.
  //    Under /assets only: mounted at the root, every page request would first look for a file
  //    of its name on disk (a stat call and a 404 object per page, measured by npm run bench).
  app.use('/assets', express.static(paths.public, { index: false }));
  app.use(healthRoutes(db));

  // 3. Form bodies, small and flat: a login form has two fields, not two thousand.
  app.use(express.urlencoded({ extended: false, limit: '20kb', parameterLimit: 20 }));
  app.use(cookieParser());

  // 4. The session: req.session from the signed cookie and the sessions table.
  app.use(sessionCookieMaxAge(cookie.name));
  app.use(sessionMiddleware(config, store, cookie));

  // 5. CSRF: POSTs from other sites are refused, then every POST must carry a valid token.
  const csrf = csrfProtection(config);
  app.use(csrf.tokenProvider);
  app.use(sameOriginOnly);
  app.use(csrf.protect);

  // 6. Who is signed in: req.user, checked against the database; then what the layout shows.
  app.use(auth.loadUser);
  app.use(flashMessage);
  app.use(pageHistory({ limit: config.historyLength, forAnonymous: config.historyForAnonymous }));

  // 7. Routes.
  app.use(pageRoutes());
  app.use(authRoutes(all));
  app.use(dashboardRoutes());
  app.use(accountRoutes(all));

  // 8. Nothing matched; then anything that failed.
  app.use(notFound);
  app.use(errorHandler(config));

  return app;
}
