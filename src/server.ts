import { SESSION_OWNER } from './accounts/users';
import { createApp } from './app';
import { closePasswordPool } from './passwords/passwords';
import { ConfigError, readConfig } from './config';
import { runningBuild } from './paths';
import { createDatabase } from './db';
import { closeGracefully } from './graceful-close';
import { createLogger } from './logger';
import { createMailer } from './mail/mailer';
import { createSessionStore, stopSessionStore } from './session-store/store';

/** How long in-flight requests get to finish after SIGTERM before their connections are cut. */
const SHUTDOWN_GRACE_MS = 10_000;

function readConfigOrExit() {
  try {
    return readConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Plain stderr: the logger's level itself comes from the config that just failed.
    console.error(error.message);
    process.exit(1);
  }
}

const config = readConfigOrExit();
const logger = createLogger(config);
if (config.session.publishedSecret) {
  logger.warn(
    'SESSION_SECRETS is unset or an example value: using a published secret, fine for ' +
      'development only. Production refuses to start without a secret of its own.',
  );
}

const db = createDatabase(config, logger);
const store = createSessionStore(config, db, logger, SESSION_OWNER);
const mailer = createMailer(config, logger);
if (mailer.mode === 'off' && config.isProduction) {
  logger.warn(
    'MAIL_URL is unset: e-mail verification and password reset are off, and their links are ' +
      'hidden. Set MAIL_URL (and PUBLIC_URL) to turn them on.',
  );
}
const app = createApp({ config, db, logger, store, mailer });
let shuttingDown = false;

// Listen at once, database or not: /healthz answers, /readyz says "not ready" and pages answer
// 503 until the database is reachable. A crash loop would help nobody.
const server = app.listen(config.port, config.host, (error?: Error) => {
  if (error) cannotListen(error);
  logger.info(`express-session-starter (${config.env}) on http://${config.host}:${config.port}`);
  void waitForDatabase();
});

/**
 * The port is taken, or HOST is not an address of this machine: say which, and how to choose
 * another, and stop. (Express 5 hands the listen error to the callback: ignored, the server
 * printed its address and stayed up listening nowhere, while requests went to whatever held the
 * port.) Plain stderr, as for a bad configuration: the message must be out before the exit.
 */
function cannotListen(error: NodeJS.ErrnoException): never {
  const { host, port } = config;
  const again = runningBuild ? 'npm start' : 'npm run dev';
  const reasons: Record<string, string> = {
    EADDRINUSE:
      `Port ${port} is already in use on ${host} (another program, or another copy of this ` +
      `site). Stop it, or choose another port: PORT=${port + 1} ${again}`,
    EADDRNOTAVAIL:
      `HOST=${host} is not an address of this machine. Use 127.0.0.1 (this machine only) or ` +
      `0.0.0.0 (every interface): HOST=127.0.0.1 ${again}`,
    ENOTFOUND: `HOST=${host} is not a name this machine can resolve: HOST=127.0.0.1 ${again}`,
    EAI_AGAIN: `HOST=${host} is not a name this machine can resolve: HOST=127.0.0.1 ${again}`,
    EACCES: `Port ${port} needs privileges this process does not have: choose one above 1023`,
  };
  console.error(`Cannot listen on ${host}:${port}: ${reasons[error.code ?? ''] ?? error.message}`);
  process.exit(1);
}

/** Logs, with growing pauses, until the database first answers. */
async function waitForDatabase() {
  for (let attempt = 1; !shuttingDown; attempt++) {
    try {
      await db.raw('select 1');
      if (attempt > 1) logger.info('database reachable');
      return;
    } catch (error) {
      const seconds = Math.min(30, 2 ** (attempt - 1));
      logger.error(
        { err: error, attempt },
        `database not reachable; checking again in ${seconds} s`,
      );
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000).unref());
    }
  }
}

/**
 * Stop accepting connections, let requests in flight finish and keep-alive connections drain
 * (for SHUTDOWN_GRACE_MS at most), stop the store's timer, close the database pool and the
 * password threads, exit 0.
 */
function shutdown(signal: NodeJS.Signals) {
  if (shuttingDown) return;
  shuttingDown = true;
  logger.info(`${signal} received: finishing requests in flight, then exiting`);
  const force = setTimeout(() => {
    logger.warn('shutdown grace period over: closing the remaining connections');
    server.closeAllConnections();
  }, SHUTDOWN_GRACE_MS);
  closeGracefully(server, { waitForProxy: config.trustProxy > 0 }, () => {
    clearTimeout(force);
    stopSessionStore(store);
    Promise.all([db.destroy(), closePasswordPool()]).then(
      () => {
        logger.info('shut down cleanly');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'closing the database failed');
        process.exit(1);
      },
    );
  });
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
