import { ConnectSessionKnexStore } from 'connect-session-knex';
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Request } from 'express';
import type { Session, SessionData } from 'express-session';
import type { Knex } from 'knex';
import { isMySQL, rowsOf } from '../db';
import { HttpError } from '../http-error';
import type { Logger } from '../logger';
import { PreparedStatements } from './prepared-statements';

/**
 * connect-session-knex, made safe to run a website on. It keeps that package's table format and
 * options, and replaces each store method, because as shipped (5.0.0):
 *
 * - a database error inside touch(), or after get()/set() have called back, is an unhandled
 *   rejection: the process exits (or, with a handler, the request hangs forever);
 * - with `createTable: false` and no table, the rejected `ready` promise kills start-up, and every
 *   later call waits on that same rejected promise, so nothing recovers when the table appears;
 * - a callback that throws is called a second time with its own error;
 * - set() is an upsert, so a request in flight during logout writes the deleted row back;
 * - touch() writes on every request, even when the expiry barely moves;
 * - cleanup is one `DELETE … WHERE datetime(expired) < datetime(?)`: no index, one long stall;
 * - nothing bounds a session's size;
 * - as an express-session Store called directly: get() leaves nothing of its own on the data,
 *   length() counts only live rows, a session without a usable `cookie` still gets an expiry
 *   (its `expires` if it has no `maxAge`, else a day), bad arguments call back with an error
 *   instead of throwing, and "no error" is `null`.
 *
 * Here every method calls back exactly once, within `queryTimeoutMs`, and never rejects: a failing
 * database becomes a SessionStoreUnavailableError (a 503 page with Retry-After) and the next call
 * simply tries again, so the app recovers on its own when the database does.
 */
export interface KnexSessionStoreOptions {
  knex: Knex;
  logger: Logger;
  /** connect-session-knex's option of the same name (default "sessions"). */
  tableName?: string;
  /** A session whose JSON is larger than this is refused, not written. */
  maxSessionBytes?: number;
  /** Longest a request waits for the session table before it gets a 503. */
  queryTimeoutMs?: number;
  /**
   * connect-session-knex's option of the same name: milliseconds between deletions of expired
   * rows (default 60 000; 0: never, call cleanup() yourself).
   */
  cleanupInterval?: number;
  /** connect-session-knex's option of the same name: told of each failed scheduled cleanup. */
  onDbCleanupError?: (error: unknown) => void;
  /** Record the client's address in the `ip` column at sign-in (SESSION_RECORD_IP). */
  recordAddress?: boolean;
  /**
   * Rows deleted per batch; the event loop is free between batches. On SQLite a batch's cost is
   * mostly the WAL checkpoint its commit may run, whatever its size: measured on tables of 400k
   * and 1M rows, half expired, batches of 25 stalled the loop for 17-23 ms at worst against
   * 30-78 ms for batches of 100, in about the same total time.
   */
  cleanupBatchSize?: number;
  /**
   * Read, in the same query as each session, the row its `user_id` column points at: these
   * `columns` of `table`, matched on its `id`. ownerOf(session) hands the row out. An app that
   * loads the signed-in user on every request (this one does, to see a revocation at once) then
   * makes one round trip instead of two (measured in bench/optimisations.md).
   */
  owner?: { table: string; columns: readonly string[] };
}

/** The session table could not be reached: the request gets a 503 and may be retried. */
export class SessionStoreUnavailableError extends HttpError {
  constructor(readonly reason: unknown) {
    super(503, 'ESESSIONSTORE', 5);
    this.name = 'SessionStoreUnavailableError';
  }
}

export class SessionTooLargeError extends Error {
  constructor(bytes: number, limit: number) {
    super(`Session of ${bytes} bytes refused: the limit is ${limit} bytes`);
    this.name = 'SessionTooLargeError';
  }
}

/** 64 KiB: a signed-in session here is well under 1 KiB; anything near this is a bug. */
export const MAX_SESSION_BYTES = 64 * 1024;

/**
 * How far a session's expiry may lag behind "last request + lifetime" before it is written
 * again: a tenth of the lifetime, at most 5 minutes. touch() moves the row's expiry by this step,
 * and the cookie is sent again on the same step (session/cookie-renewal.ts), so the server and
 * the browser end an idle session at most this much early, never late.
 */
export function expiryStep(lifetimeMs: number): number {
  return Math.min(lifetimeMs / 10, 5 * 60_000);
}

type Callback<T = void> = (err?: unknown, value?: T) => void;

/**
 * connect-session-knex's options that this store does not honour, and why: a caller who passes
 * one gets an error at construction rather than a store that quietly does something else.
 */
const REFUSED_OPTIONS: Record<string, (value: unknown) => string | undefined> = {
  createTable: (value) =>
    value ? 'createTable: the migrations own the sessions table; run them instead' : undefined,
  sidFieldName: (value) =>
    value !== undefined && value !== 'sid'
      ? 'sidFieldName: the id column is always "sid" (the migrations create it)'
      : undefined,
};

/** A day, as connect-session-knex gives a session whose cookie names no lifetime. */
const DEFAULT_LIFETIME_MS = 86_400_000;

/**
 * Data objects from get(), with the expiry their row had, until express-session turns them into
 * a session in createSession(). Kept here, not on the object, so callers get exactly what was
 * stored: nothing extra to break deep equality or to be copied by `{...session}`.
 */
const rowExpiries = new WeakMap<object, number>();

/** Sessions that came out of the table on this request, with the expiry their row had. */
const loadedSessions = new WeakMap<object, number>();

/** The owner's row read with a session (the `owner` option), from get() to createSession(). */
const ownerRows = new WeakMap<object, Record<string, unknown>>();

/** A session's row, and with the `owner` option its owner's columns, each prefixed `owner_`. */
type LiveRow = { sess: unknown; expired: string | Date } & Record<string, unknown>;

/** The longest user agent kept: enough to tell browsers apart, not a place to store a novel. */
const USER_AGENT_LENGTH = 512;

/**
 * The request a session belongs to: express-session's Session objects carry it (a property it
 * defines, not enumerable, so never stored). Plain objects from direct callers have none. Under
 * Express it is Express's request, under a plain `http` server node's own: only what both have
 * is read (headers, the socket), plus `ip` where Express worked it out through the proxies.
 */
function requestOf(session: SessionData): (IncomingMessage & { ip?: string }) | undefined {
  return (session as { req?: IncomingMessage }).req;
}

/** The client's user agent and address as the row records them, from whichever request. */
function deviceOf(request: (IncomingMessage & { ip?: string }) | undefined) {
  const agent = request?.headers?.['user-agent'];
  return {
    userAgent: typeof agent === 'string' ? agent.slice(0, USER_AGENT_LENGTH) : null,
    ip: request?.ip ?? request?.socket?.remoteAddress ?? null,
  };
}

/** When a session expires: its cookie's maxAge, else its cookie's expires, else in a day. */
function expiryOf(session: SessionData, now: number): number {
  const cookie = session.cookie as Partial<SessionData['cookie']> | undefined;
  const maxAge = cookie?.maxAge;
  if (typeof maxAge === 'number' && Number.isFinite(maxAge)) return now + maxAge;
  const expires = cookie?.expires ? new Date(cookie.expires).getTime() : Number.NaN;
  return Number.isFinite(expires) ? expires : now + DEFAULT_LIFETIME_MS;
}

/**
 * `expired` as this dialect stores it: ISO text (SQLite, PostgreSQL) or DATETIME(3) (MySQL), to
 * the millisecond on all three.
 */
export function sessionTimestamp(knex: Knex, time: number): string {
  const iso = new Date(time).toISOString();
  return isMySQL(knex) ? iso.slice(0, 23).replace('T', ' ') : iso;
}

/** A statement PostgreSQL keeps under its name, per connection, once it has been run. */
interface PgStatement {
  name: string;
  text: string;
}

/** What the store uses of node-postgres's client, as knex's pool hands it out. */
interface PgConnection<Row> {
  query(config: PgStatement & { values: unknown[] }): Promise<{ rows: Row[] }>;
}

/** A session timestamp as read back, in ms: a Date (pg, mysql2) or text (SQLite, in UTC). */
export function readSessionTimestamp(value: string | Date): number {
  if (value instanceof Date) return value.getTime();
  // MySQL's DATETIME text has no zone: it is written in UTC, so it is read as UTC.
  return Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`);
}

export class KnexSessionStore extends ConnectSessionKnexStore {
  private readonly knex: Knex;
  private readonly table: string;
  private readonly logger: Logger;
  private readonly maxSessionBytes: number;
  private readonly queryTimeoutMs: number;
  private readonly cleanupBatchSize: number;
  /** On SQLite, the per-request statements run prepared once (see prepared-statements.ts). */
  private readonly prepared: PreparedStatements | undefined;
  private readonly owner: KnexSessionStoreOptions['owner'];
  /** The SELECT that get() runs, built once: knex would build the same text on every request. */
  private readonly liveRowSql: string;
  /**
   * On PostgreSQL, that SELECT as a named prepared statement, run on a connection of knex's pool
   * without knex's query runner: PostgreSQL parses and plans it once per connection instead of
   * on every request (its CPU per signed-in page 244 → 106 µs), and the app's own CPU per page
   * fell 6 % (bench/optimisations.md). Behind PgBouncer in transaction mode, named statements
   * need its `max_prepared_statements` (1.21 and later).
   */
  private readonly pgLiveRow: PgStatement | undefined;
  private readonly onCleanupError: (error: unknown) => void;
  private readonly recordAddress: boolean;
  private cleanupTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(options: KnexSessionStoreOptions) {
    const refused = Object.entries(REFUSED_OPTIONS)
      .map(([name, check]) => check((options as unknown as Record<string, unknown>)[name]))
      .filter((problem) => problem !== undefined);
    if (refused.length > 0) throw new TypeError(`KnexSessionStore: ${refused.join('; ')}`);
    const tableName = options.tableName ?? 'sessions';
    // The base class's own cleanup (a full-table scan) stays off; ours runs in batches.
    super({ knex: options.knex, tableName, createTable: false, cleanupInterval: 0 });
    // The base class checks for the table at construction. Its answer is not used here, and a
    // rejection (no table yet, database down) must not become an unhandled rejection.
    this.ready.catch(() => undefined);

    this.knex = options.knex;
    this.table = tableName;
    this.logger = options.logger;
    this.maxSessionBytes = options.maxSessionBytes ?? MAX_SESSION_BYTES;
    this.queryTimeoutMs = options.queryTimeoutMs ?? 3000;
    this.cleanupBatchSize = options.cleanupBatchSize ?? 25;
    this.prepared = PreparedStatements.of(this.knex);
    this.recordAddress = options.recordAddress ?? true;
    this.owner = options.owner;
    this.liveRowSql = this.buildLiveRowSql();
    this.pgLiveRow =
      this.knex.client.dialect === 'postgresql'
        ? {
            name: `session_row_${createHash('sha1').update(this.liveRowSql).digest('hex').slice(0, 16)}`,
            // knex's `?` placeholders as PostgreSQL's `$1, $2`.
            text: this.knex.raw(this.liveRowSql, ['', '']).toSQL().toNative().sql,
          }
        : undefined;
    this.onCleanupError =
      options.onDbCleanupError ??
      ((error) => this.logger.warn({ err: error }, 'expired-session cleanup failed'));
    const interval = options.cleanupInterval ?? 60_000;
    if (interval > 0) this.scheduleCleanup(interval);
  }

  override get(sid: string, callback: Callback<SessionData | null>): Promise<SessionData | null> {
    return this.answer(callback, async () => {
      const row = await this.liveRow(sid);
      if (!row) return null;
      const data: SessionData = typeof row.sess === 'string' ? JSON.parse(row.sess) : row.sess;
      rowExpiries.set(data, readSessionTimestamp(row.expired));
      const owner = this.ownerIn(row);
      if (owner) ownerRows.set(data, owner);
      return data;
    }).then((data) => data ?? null);
  }

  override createSession(req: Request, data: SessionData): Session & SessionData {
    const rowExpiry = rowExpiries.get(data) ?? 0;
    const session = super.createSession(req, data);
    loadedSessions.set(session, rowExpiry);
    const owner = ownerRows.get(data);
    if (owner) ownerRows.set(session, owner);
    return session;
  }

  /**
   * The owner's row read with this session on this request (the `owner` option): as it was when
   * the session was read, in the same query. Undefined when there is none: no such option, no
   * `user_id` on the row, or no row of that id any more.
   */
  ownerOf(session: object): Record<string, unknown> | undefined {
    return ownerRows.get(session);
  }

  /**
   * A session loaded from the table is only ever updated: if its row is gone (logout, password
   * change, expiry) while this request was in flight, the UPDATE changes nothing and the
   * session stays ended. New sessions, made by logIn() through regenerate(), are inserted.
   *
   * Saves of loaded sessions happen after the page has been sent (express-session saves when
   * the response ends); if one fails, the page has already arrived, so the failure is logged
   * and the change dropped, rather than breaking a response that is half written.
   */
  override set(sid: string, session: SessionData, callback?: Callback): Promise<void> {
    if (typeof session !== 'object' || session === null) {
      return this.refuse(callback, new TypeError('set() needs a session object'));
    }
    const loaded = loadedSessions.has(session);
    const json = JSON.stringify(session);
    const bytes = Buffer.byteLength(json);
    if (bytes > this.maxSessionBytes) {
      const error = new SessionTooLargeError(bytes, this.maxSessionBytes);
      this.logger.error({ err: error }, 'session not saved');
      return loaded ? this.refuse(callback, null) : this.refuse(callback, error);
    }
    const now = Date.now();
    const expired = this.timestamp(expiryOf(session, now));
    const seen = this.timestamp(now);
    if (!loaded) {
      // A new session (logIn() regenerates the id, then saves): the row says whose it is, when
      // and where it was signed in, in columns of its own, so nothing reads the JSON for that.
      // A session that got a new id later (a confirmed password) keeps its sign-in time.
      const device = deviceOf(requestOf(session));
      const signedIn = typeof session.loginAt === 'number' ? this.timestamp(session.loginAt) : seen;
      const row = {
        sid,
        sess: json,
        expired,
        user_id: session.userId ?? null,
        created_at: signedIn,
        last_seen_at: seen,
        user_agent: device.userAgent,
        ip: this.recordAddress ? device.ip : null,
        sign_in_method: session.signInMethod ?? null,
      };
      return this.answer(callback, async () => {
        await this.knex(this.table)
          .insert(row)
          .onConflict('sid')
          .merge(['sess', 'expired', 'last_seen_at']);
      });
    }
    return this.answer(this.afterPageSent(callback, 'session update dropped'), async () => {
      await this.updateRow(sid, { sess: json, expired, lastSeen: seen });
      loadedSessions.set(session, readSessionTimestamp(expired));
    });
  }

  /**
   * Moves the expiry forward only when it would move by a tenth of the session's lifetime (at
   * most 5 minutes): one write every few minutes per active session instead of one per request.
   * The server may therefore end an idle session up to that much early, never late.
   */
  override touch(sid: string, session: SessionData, callback?: Callback): Promise<void> {
    if (typeof session !== 'object' || session === null) {
      return this.refuse(callback, new TypeError('touch() needs a session object'));
    }
    const now = Date.now();
    const nextExpiry = expiryOf(session, now);
    const lifetime = session.cookie?.originalMaxAge ?? nextExpiry - now;
    const rowExpiry = loadedSessions.get(session) ?? 0;
    if (nextExpiry - rowExpiry < expiryStep(lifetime)) {
      return this.refuse(callback, null);
    }
    return this.answer(this.afterPageSent(callback, 'session touch dropped'), async () => {
      // Only a live row: touching must not bring an expired session back. A session counts as
      // loaded (later saves only update) only if a row was really there: touch() on an id with
      // no row must not turn the next set() of the same object into an update of nothing.
      const values = { expired: this.timestamp(nextExpiry), lastSeen: this.timestamp(now) };
      if ((await this.updateRow(sid, values)) > 0) {
        loadedSessions.set(session, nextExpiry);
      }
    });
  }

  override destroy(sid: string, callback?: Callback): Promise<number> {
    // express-session's callback takes no value; the count is for callers of the promise.
    const done = callback as Callback<number> | undefined;
    return this.answer(done, () => this.deleteRow(sid)).then((count) => count ?? 0);
  }

  /** Live sessions only, the ones get() and all() would return. */
  override length(callback: Callback<number>): Promise<number | undefined> {
    return this.answer(callback, async () => {
      const [row] = await this.knex(this.table)
        .where('expired', '>', this.timestamp(Date.now()))
        .count({ count: '*' });
      return Number(row?.count ?? 0);
    });
  }

  override clear(callback?: Callback): Promise<number> {
    return this.answer(callback, () => this.knex(this.table).delete()).then((count) => count ?? 0);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the base class's signature
  override all(callback: Callback<SessionData[]>): Promise<any[]> {
    return this.answer(callback, async () => {
      const rows = await this.knex(this.table)
        .select('sess')
        .where('expired', '>', this.timestamp(Date.now()));
      return rows.map((row) => (typeof row.sess === 'string' ? JSON.parse(row.sess) : row.sess));
    }).then((sessions) => sessions ?? []);
  }

  /**
   * Deletes expired rows in batches of `cleanupBatchSize`, found through the index on `expired`,
   * giving the event loop back between batches. Returns how many rows went.
   */
  async cleanup(): Promise<number> {
    let deleted = 0;
    const now = this.timestamp(Date.now());
    while (!this.stopped) {
      const sids: string[] = await this.knex(this.table)
        .where('expired', '<=', now)
        .orderBy('expired')
        .limit(this.cleanupBatchSize)
        .pluck('sid');
      if (sids.length === 0) break;
      deleted += await this.knex(this.table)
        .whereIn('sid', sids)
        .andWhere('expired', '<=', now)
        .delete();
      if (sids.length < this.cleanupBatchSize) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return deleted;
  }

  /** Stops the cleanup timer; an in-progress cleanup stops after its current batch. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.cleanupTimer);
  }

  private scheduleCleanup(interval: number) {
    this.cleanupTimer = setTimeout(() => {
      this.cleanup()
        .catch((error: unknown) => this.onCleanupError(error))
        .finally(() => {
          if (!this.stopped) this.scheduleCleanup(interval);
        });
    }, interval);
    // The timer alone must not keep a finished process alive.
    this.cleanupTimer.unref();
  }

  /**
   * The callback for a write that express-session makes as the response ends, when the page is
   * already on its way: a failure (or a timeout) is logged and swallowed, since passing it on
   * would cut a half-written response. The next request tries again.
   */
  private afterPageSent(callback: Callback | undefined, message: string): Callback {
    return (error) => {
      if (error) this.logger.warn({ err: error }, message);
      callback?.(null);
    };
  }

  /** Calls back at once, without touching the database: an error, or `null` for "done". */
  private refuse(callback: Callback | undefined, error: unknown): Promise<void> {
    try {
      callback?.(error);
    } catch (thrown) {
      this.logger.error({ err: thrown }, 'session store callback threw');
    }
    return Promise.resolve();
  }

  /**
   * Runs one store operation and calls back exactly once: with its result, or with a
   * SessionStoreUnavailableError if the database failed or did not answer in time. The returned
   * promise never rejects (express-session ignores it); a callback that throws is logged, not
   * called again.
   */
  private answer<T>(
    callback: Callback<T> | undefined,
    operation: () => Promise<T>,
  ): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${this.queryTimeoutMs} ms`)),
        this.queryTimeoutMs,
      );
    });
    return Promise.race([operation(), deadline])
      .finally(() => clearTimeout(timer))
      .then(
        (value) => {
          // Node's convention: `null` for "no error"; a value only where the method has one.
          if (value === undefined) callback?.(null);
          else callback?.(null, value);
          return value;
        },
        (error: unknown) => {
          this.logger.warn({ err: error }, 'session store unavailable');
          callback?.(new SessionStoreUnavailableError(error));
          return undefined;
        },
      )
      .catch((error: unknown) => {
        this.logger.error({ err: error }, 'session store callback threw');
        return undefined;
      });
  }

  /** The session's row, unless it has expired; with the `owner` option, its owner's too. */
  private async liveRow(sid: string): Promise<LiveRow | undefined> {
    const now = this.timestamp(Date.now());
    const sql = this.liveRowSql;
    if (this.prepared) {
      return this.prepared.run(sql, (statement) => statement.get(sid, now) as LiveRow | undefined);
    }
    if (this.pgLiveRow) return (await this.pgQuery<LiveRow>(this.pgLiveRow, [sid, now]))[0];
    return rowsOf<LiveRow>(this.knex, await this.knex.raw(sql, [sid, now]))[0];
  }

  /** A named statement's rows, on a connection of knex's pool (PostgreSQL only). */
  private async pgQuery<Row>(statement: PgStatement, values: unknown[]): Promise<Row[]> {
    const client = this.knex.client;
    const connection = (await client.acquireConnection()) as PgConnection<Row>;
    try {
      return (await connection.query({ ...statement, values })).rows;
    } finally {
      await client.releaseConnection(connection);
    }
  }

  /** The SELECT behind liveRow(), with `?` for the id and the time. */
  private buildLiveRowSql(): string {
    const query = this.knex(`${this.table} as s`).select('s.sess', 's.expired');
    const owner = this.owner;
    if (owner) {
      query
        .select(owner.columns.map((column) => `o.${column} as owner_${column}`))
        .leftJoin(`${owner.table} as o`, 'o.id', 's.user_id');
    }
    // Placeholder values: only the text is kept, with a `?` for each.
    return query.where('s.sid', '').andWhere('s.expired', '>', '').toSQL().sql;
  }

  /** The owner's columns out of a row read with the `owner` option, if it has an owner. */
  private ownerIn(row: LiveRow): Record<string, unknown> | undefined {
    if (!this.owner || row.owner_id === null || row.owner_id === undefined) return undefined;
    return Object.fromEntries(this.owner.columns.map((column) => [column, row[`owner_${column}`]]));
  }

  /**
   * Updates a live row with a new expiry and last-seen time, and the new data if given: the
   * write that touch() or a changed session makes anyway, so "last seen" costs no write of its
   * own. A row that is gone or has expired stays that way: an UPDATE, never an upsert.
   */
  private async updateRow(
    sid: string,
    values: { expired: string; lastSeen: string; sess?: string },
  ): Promise<number> {
    const now = this.timestamp(Date.now());
    const { expired, lastSeen, sess } = values;
    if (!this.prepared) {
      const columns = { expired, last_seen_at: lastSeen, ...(sess === undefined ? {} : { sess }) };
      return this.knex(this.table).where('sid', sid).andWhere('expired', '>', now).update(columns);
    }
    if (sess === undefined) {
      return this.prepared.run(
        `UPDATE "${this.table}" SET expired = ?, last_seen_at = ? WHERE sid = ? AND expired > ?`,
        (statement) => statement.run(expired, lastSeen, sid, now).changes,
      );
    }
    return this.prepared.run(
      `UPDATE "${this.table}" SET sess = ?, expired = ?, last_seen_at = ? WHERE sid = ? AND expired > ?`,
      (statement) => statement.run(sess, expired, lastSeen, sid, now).changes,
    );
  }

  private async deleteRow(sid: string): Promise<number> {
    if (this.prepared) {
      return this.prepared.run(
        `DELETE FROM "${this.table}" WHERE sid = ?`,
        (statement) => statement.run(sid).changes,
      );
    }
    return this.knex(this.table).where('sid', sid).delete();
  }

  private timestamp(time: number): string {
    return sessionTimestamp(this.knex, time);
  }
}
