import fs from 'node:fs';
import path from 'node:path';
import knex, { type Knex } from 'knex';
import type { Config } from './config';
import type { Logger } from './logger';
import { SqliteMigrationSource } from './migration-source';
import { paths, projectRoot } from './paths';

export type Database = Knex;

/**
 * How long a write waits for another connection's lock before failing with SQLITE_BUSY.
 * better-sqlite3 is synchronous, so this wait blocks the whole event loop: 100 ms rides out an
 * ordinary write by another process; a lock held longer is an outage (503), not a reason to
 * freeze every other request for seconds.
 */
const SQLITE_BUSY_TIMEOUT_MS = 100;

/** Which database a DATABASE_URL names, by its scheme. */
export type DatabaseKind = 'sqlite' | 'postgres' | 'mysql';

export function databaseKind(databaseUrl: string): DatabaseKind | undefined {
  const scheme = databaseUrl.slice(0, databaseUrl.indexOf(':'));
  if (scheme === 'sqlite') return 'sqlite';
  if (scheme === 'postgres' || scheme === 'postgresql') return 'postgres';
  if (scheme === 'mysql' || scheme === 'mariadb') return 'mysql';
  return undefined;
}

/** Where a `sqlite:` URL points: relative paths are relative to the project root, not the cwd. */
export function sqliteFilename(databaseUrl: string): string {
  const file = databaseUrl.slice('sqlite:'.length);
  return file === ':memory:' ? file : path.resolve(projectRoot, file);
}

/** How long a query waits for a free connection (a server that is down) before failing. */
const ACQUIRE_TIMEOUT_MS = 5000;

/**
 * The knex configuration for a database URL; the knexfile and the app share it. `migrations`:
 * where the migrations are (the project's own, unless a test brings a folder of its own).
 */
export function knexConfig(databaseUrl: string, migrations = paths.migrations): Knex.Config {
  const shared = {
    acquireConnectionTimeout: ACQUIRE_TIMEOUT_MS,
    // knex's default puts the SQL with every value filled in into an error's message: a
    // password hash, a session id or a typed name would then reach logs and error trackers.
    compileSqlOnError: false,
    migrations: { directory: migrations, loadExtensions: [paths.moduleExtension] },
    seeds: { directory: paths.seeds, loadExtensions: [paths.moduleExtension] },
  };
  const kind = databaseKind(databaseUrl);
  if (kind === 'postgres') {
    // Connections come and go with the server: none are held while idle.
    return { ...shared, client: 'pg', connection: databaseUrl, pool: { min: 0, max: 10 } };
  }
  if (kind === 'mysql') {
    const url = new URL(databaseUrl);
    return {
      ...shared,
      client: 'mysql2',
      connection: {
        host: url.hostname,
        port: Number(url.port || 3306),
        user: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password),
        database: url.pathname.slice(1),
        // DATETIME has no zone: written and read as UTC, whatever the process's TZ is.
        timezone: 'Z',
        charset: 'utf8mb4',
      },
      pool: {
        min: 0,
        max: 10,
        // TIMESTAMP columns (created_at) are shown in the session's zone: make that UTC too.
        afterCreate(connection: MySqlConnection, done: (err: Error | null, c: unknown) => void) {
          connection.query("SET time_zone = '+00:00'", (error) => done(error, connection));
        },
      },
    };
  }
  return {
    ...shared,
    // Each migration in a transaction of its own with foreign keys off, checked before it
    // commits: a table rebuilt by a migration must not take other tables' rows with it.
    migrations: { migrationSource: new SqliteMigrationSource(migrations, paths.moduleExtension) },
    client: 'better-sqlite3',
    connection: { filename: sqliteFilename(databaseUrl) },
    useNullAsDefault: true,
    pool: {
      afterCreate(connection: SqliteConnection, done: (err: Error | null, c: unknown) => void) {
        applySqlitePragmas(connection);
        done(null, connection);
      },
    },
  };
}

/**
 * Every SQLite connection's settings. Exported so that the benchmark's peer (bench/peers/) opens
 * its file the same way: a comparison of two sites on SQLite is only fair with the same pragmas.
 */
export function applySqlitePragmas(connection: SqliteConnection): void {
  // WAL lets readers run beside the writer, and NORMAL syncs at checkpoints, not on
  // every commit (still crash-safe in WAL mode): together about 5x the session throughput
  // of the stock settings. SQLite leaves foreign keys off unless asked, per connection.
  connection.pragma('journal_mode = WAL');
  connection.pragma('synchronous = NORMAL');
  connection.pragma('foreign_keys = ON');
  connection.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  // Checkpoint the WAL every 100 pages instead of 1,000: a checkpoint runs inside the
  // commit that triggers it, on the event loop. Measured while deleting 500k expired
  // sessions: the longest stall fell from 40 ms to 17 ms.
  connection.pragma('wal_autocheckpoint = 100');
}

interface SqliteConnection {
  pragma(source: string): unknown;
}

interface MySqlConnection {
  query(sql: string, callback: (error: Error | null) => void): void;
}

/**
 * The app's one knex instance; the session store and the repositories all use it. Connections
 * are opened on first use, so a database that is down at start-up does not stop the server.
 */
export function createDatabase(config: Pick<Config, 'databaseUrl'>, logger?: Logger): Database {
  try {
    createDatabaseDirectory(config.databaseUrl);
  } catch (error) {
    // Reported, not fatal: every query will fail with a clear error and the site answers 503.
    logger?.error({ err: error }, 'cannot create the database directory');
  }
  return knex({ ...knexConfig(config.databaseUrl), ...(logger && { log: knexLog(logger) }) });
}

/**
 * knex's own warnings ("Acquire connection error", "Connection Error" while a server restarts)
 * go to the app's logger as structured lines, not to console.log: in production they are JSON
 * like every other line, and in the tests they are as quiet as the rest of the log.
 */
function knexLog(logger: Logger): Knex.Config['log'] {
  const line = (level: 'warn' | 'error' | 'debug') => (message: unknown) =>
    logger[level]({ event: 'knex' }, String(message));
  return {
    warn: line('warn'),
    error: line('error'),
    deprecate: line('warn'),
    debug: line('debug'),
  };
}

/** A fresh clone has no data/ folder; SQLite creates the file but not its directory. */
export function createDatabaseDirectory(databaseUrl: string): void {
  if (databaseKind(databaseUrl) !== 'sqlite') return;
  const filename = sqliteFilename(databaseUrl);
  if (filename !== ':memory:') fs.mkdirSync(path.dirname(filename), { recursive: true });
}

/** The rows of a `db.raw()` SELECT, whose result each driver shapes its own way. */
export function rowsOf<Row>(db: Database, result: unknown): Row[] {
  if (isMySQL(db)) return (result as [Row[], unknown])[0];
  if (Array.isArray(result)) return result as Row[];
  return (result as { rows: Row[] }).rows;
}

/** MySQL and MariaDB (knex's mysql and mysql2 clients). */
export function isMySQL(db: Database): boolean {
  return ['mysql', 'mysql2'].includes(String(db.client.dialect));
}

const UNAVAILABLE_CODES = new Set([
  // SQLite: locked by another connection, read-only file, disk or file trouble.
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_READONLY',
  'SQLITE_IOERR',
  'SQLITE_CANTOPEN',
  'SQLITE_FULL',
  // Network: the server is down, unreachable or went away.
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR',
  // PostgreSQL: shutting down, starting up, too many connections.
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);

/**
 * True when a database error means "not reachable right now" rather than "this query is wrong":
 * those get a 503 with Retry-After, and the next request simply tries again.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const { code, name, message } = (error ?? {}) as {
    code?: unknown;
    name?: unknown;
    message?: unknown;
  };
  if (typeof code === 'string') {
    if (UNAVAILABLE_CODES.has(code) || code.startsWith('08')) return true;
    if (/^SQLITE_(BUSY|READONLY|IOERR|CANTOPEN)_/.test(code)) return true;
  }
  return (
    name === 'KnexTimeoutError' ||
    (typeof message === 'string' && /Connection terminated|connection is closed/i.test(message))
  );
}

/** True for the error a UNIQUE constraint raises, whichever driver raised it. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505' || code === 'ER_DUP_ENTRY';
}
