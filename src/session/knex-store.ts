import { ConnectSessionKnexStore } from 'connect-session-knex';
import type { Request } from 'express';
import type { Session, SessionData } from 'express-session';

/** Sessions that came out of the store on this request, as opposed to ones made by logIn(). */
const loadedSessions = new WeakSet<object>();

/**
 * connect-session-knex with one rule added: a session that was loaded from the table is only
 * ever updated, never inserted again.
 *
 * The stock `set()` is an upsert. A request that loaded the session before a logout and saves it
 * after (a slow page that records history) would insert the deleted row again, and the cookie
 * the user just logged out would work again. An UPDATE of a deleted row changes nothing, so
 * whatever ended a session (logout, a password change, expiry) stays ended. New sessions, made
 * by logIn() through regenerate(), never came from the table and are inserted as before.
 */
export class KnexSessionStore extends ConnectSessionKnexStore {
  override createSession(req: Request, data: SessionData): Session & SessionData {
    const session = super.createSession(req, data);
    loadedSessions.add(session);
    return session;
  }

  override async set(
    sid: string,
    session: SessionData,
    callback?: (err?: unknown) => void,
  ): Promise<void> {
    if (!loadedSessions.has(session)) return super.set(sid, session, callback);
    try {
      await this.ready;
      const { knex, tableName, sidFieldName } = this.options;
      const maxAge = session.cookie.maxAge ?? 86_400_000;
      await knex(tableName)
        .where(sidFieldName, sid)
        .update({ sess: JSON.stringify(session), expired: expiryValue(knex, Date.now() + maxAge) });
      callback?.();
    } catch (error) {
      callback?.(error);
    }
  }
}

/** The `expired` column's value as connect-session-knex writes it for this dialect. */
function expiryValue(knex: ConnectSessionKnexStore['options']['knex'], time: number): string {
  const iso = new Date(time).toISOString();
  const dialect = knex.client.dialect as string;
  return ['mysql', 'mysql2', 'mariadb', 'mssql'].includes(dialect)
    ? iso.slice(0, 19).replace('T', ' ')
    : iso;
}
