import session, { type Store } from 'express-session';
import type { Config } from '../config';
import type { Database } from '../db';
import type { Logger } from '../logger';
import { KnexSessionStore, type KnexSessionStoreOptions } from './knex-store';

export const SESSIONS_TABLE = 'sessions';

/**
 * The store behind express-session. `database` (the default) keeps sessions in the app's own
 * database, so they survive restarts and are shared by every instance. `memory` is
 * express-session's MemoryStore, where the tutorials start: sessions vanish on restart, each
 * process has its own, and it never frees expired entries.
 */
export function createSessionStore(
  config: Config,
  db: Database,
  logger: Logger,
  /** The row each session's `user_id` points at, read with the session (KnexSessionStore). */
  owner?: KnexSessionStoreOptions['owner'],
): Store {
  if (config.session.store === 'memory') {
    if (config.env !== 'development') {
      logger.warn(
        'SESSION_STORE=memory: sessions live in this process only. Every restart signs ' +
          'everybody out, and several instances cannot share them. Use it for experiments only.',
      );
    }
    return new session.MemoryStore();
  }
  // Our own knex instance: without one, connect-session-knex quietly opens a separate sqlite3
  // database. The migrations own the table, with the index on `expired` that cleanup needs.
  return new KnexSessionStore({
    knex: db,
    logger,
    tableName: SESSIONS_TABLE,
    recordAddress: config.session.recordIp,
    owner,
  });
}

/**
 * How to get the owner's row that the store read with a session on this request, if the store
 * reads one (the database store, given an `owner`); MemoryStore has no rows to join.
 */
export function sessionOwnerReader(
  store: Store,
): ((session: object) => Record<string, unknown> | undefined) | undefined {
  return store instanceof KnexSessionStore ? (session) => store.ownerOf(session) : undefined;
}

/** Stops the store's cleanup timer, so a closing server leaves nothing scheduled. */
export function stopSessionStore(store: Store): void {
  if (store instanceof KnexSessionStore) store.stop();
}
