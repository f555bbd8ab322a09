import { createApp } from './app';
import { ConfigError, readConfig } from './config';
import { createDatabase } from './db';
import { createLogger } from './logger';
import { createSessionStore, stopSessionStore } from './session/store';

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

const db = createDatabase(config);
const store = createSessionStore(config, db, logger);
const app = createApp({ config, db, logger, store });

const server = app.listen(config.port, config.host, () => {
  logger.info(`express-session-starter (${config.env}) on http://${config.host}:${config.port}`);
});

/** Stop taking connections, let in-flight requests finish, then release the database. */
function shutdown(signal: NodeJS.Signals) {
  logger.info(`${signal} received, shutting down`);
  server.close(() => {
    stopSessionStore(store);
    db.destroy().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'closing the database failed');
        process.exit(1);
      },
    );
  });
  server.closeIdleConnections();
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
