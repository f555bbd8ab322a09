// The benchmark's peer: better-auth (https://better-auth.com), the TypeScript auth framework
// people weigh this project against, serving the same signed-in page. Its own package.json in
// this folder keeps it out of the app's dependencies; `npm run bench` installs it.
//
// What is the same as the project: the Pug views (dashboard.pug and its layout, with the same
// ten-entry history in the footer, so both send the same HTML), express, production mode, the
// SQLite file's pragmas (src/db.ts). PEER_VARIANT picks what differs:
//   default       better-auth as its docs set it up: on every request getSession() reads the
//                 session and its user from the database.
//   cookie-cache  its signed cookie cache (5 minutes): no database read while the cookie is
//                 fresh, so a revoked session stays usable until it expires.
//   headers-log   default, plus this project's own security headers and request log, the two
//                 things a better-auth site would add to be like this one.
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { fromNodeHeaders, toNodeHandler } from 'better-auth/node';
import express from 'express';
import { loadConfig } from '../../src/config';
import { applySqlitePragmas } from '../../src/db';
import { createLogger } from '../../src/logger';
import { paths } from '../../src/paths';
import { requestLogger } from '../../src/request-logger';
import { securityHeaders } from '../../src/security/headers';

type Variant = 'default' | 'cookie-cache' | 'headers-log';
const variant = (process.env.PEER_VARIANT ?? 'default') as Variant;
const port = Number(process.env.PORT);
const baseURL = `http://127.0.0.1:${port}`;

const database = new Database(process.env.PEER_DATABASE ?? ':memory:');
applySqlitePragmas(database);

const auth = betterAuth({
  database,
  baseURL,
  secret: process.env.PEER_SECRET ?? randomBytes(32).toString('base64url'),
  emailAndPassword: { enabled: true },
  session: variant === 'cookie-cache' ? { cookieCache: { enabled: true, maxAge: 5 * 60 } } : {},
  telemetry: { enabled: false },
  // The benchmark sends each person's address as a TLS proxy would (X-Forwarded-For), as it
  // does to the project: its sign-up limit then counts per person, not for everyone at once.
  advanced: { ipAddress: { ipAddressHeaders: ['x-forwarded-for'] } },
});

/** The footer the project's page shows once its history is ten views of the dashboard. */
const history = Array.from({ length: 10 }, () => '/dashboard');

async function main() {
  const { runMigrations } = await getMigrations(auth.options);
  await runMigrations();

  const app = express();
  app.set('views', paths.views);
  app.set('view engine', 'pug');
  app.disable('x-powered-by');
  app.locals.siteName = 'express-session-starter';
  if (variant === 'headers-log') {
    // The project's own two layers, built by the project's own functions from a production
    // configuration: the same headers and the same log line per request, to a file.
    const config = loadConfig({
      NODE_ENV: 'production',
      SESSION_SECRETS: randomBytes(32).toString('base64url'),
      PUBLIC_URL: 'https://127.0.0.1',
    });
    app.use(requestLogger(createLogger(config)));
    app.use(securityHeaders(config));
  }
  app.all('/api/auth/*splat', toNodeHandler(auth));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/dashboard', async (req, res, next) => {
    try {
      const found = await auth.api.getSession({ headers: fromNodeHeaders(req.headers) });
      if (!found) {
        res.redirect(303, '/login');
        return;
      }
      const { user } = found;
      res.render('dashboard', {
        title: 'Dashboard',
        // The cookie cache hands back JSON, so its dates arrive as strings.
        user: { id: user.id, username: user.name, createdAt: new Date(user.createdAt) },
        signedIn: true,
        history,
        // better-auth has no form tokens (it checks the Origin header of its own POSTs), so
        // the layout's logout form gets a fixed value: no work, as in the ceiling.
        csrfToken: () => 'none',
      });
    } catch (error) {
      next(error);
    }
  });
  app.listen(port, '127.0.0.1');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
