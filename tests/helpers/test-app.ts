import { SESSION_OWNER } from '../../src/accounts/users';
import type { Express } from 'express';
import type { Store } from 'express-session';
import type { DestinationStream } from 'pino';
import request from 'supertest';
import { createApp } from '../../src/app';
import { loadConfig, type Config } from '../../src/config';
import { createDatabase, type Database } from '../../src/db';
import { createLogger } from '../../src/logger';
import { createMailer } from '../../src/mail/mailer';
import { createSessionStore, stopSessionStore } from '../../src/session-store/store';
import type { Browser } from './browser';
import { sessionIdOf } from './cookies';
import { createTestDatabaseUrl } from './test-database';

export { createTestDatabaseUrl };

export interface TestApp {
  app: Express;
  db: Database;
  config: Config;
  databaseUrl: string;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Start another instance on this database instead of a fresh one. */
  databaseUrl?: string;
  /** Sees the session store before the app uses it (to observe or pace its calls). */
  onStore?: (store: Store) => void;
  /** Where the app's log lines go (with LOG_LEVEL set in env); silent by default. */
  logStream?: DestinationStream;
}

/** The real app on a real database (see test-database.ts). `env` overrides the test defaults. */
export async function createTestApp(
  env: Record<string, string> = {},
  { databaseUrl, onStore, logStream }: TestAppOptions = {},
): Promise<TestApp> {
  const url = databaseUrl ?? (await createTestDatabaseUrl());
  const config = loadConfig({
    NODE_ENV: 'test',
    BCRYPT_COST: '4',
    LOG_LEVEL: 'silent',
    // Every test client is 127.0.0.1, and a few accounts log in many times a minute: these
    // limits are raised here and tested on their own (throttle.test.ts).
    REGISTRATIONS_PER_IP: '10000',
    LOGIN_FAILURES_PER_IP: '10000',
    PASSWORD_CHECKS_PER_IP: '100000',
    PASSWORD_CHECKS_PER_ACCOUNT: '100000',
    DATABASE_URL: url,
    ...env,
  });
  const logger = createLogger(config, logStream);
  const db = createDatabase(config, logger);
  const store = createSessionStore(config, db, logger, SESSION_OWNER);
  onStore?.(store);
  // Retries a few milliseconds apart: the tests wait for them, not for production's seconds.
  const mailer = createMailer(config, logger, { retryDelaysMs: [20, 40, 80] });
  const app = createApp({ config, db, logger, store, mailer });
  return {
    app,
    db,
    config,
    databaseUrl: url,
    async close() {
      stopSessionStore(store);
      await db.destroy();
    },
  };
}

export const PASSWORD = 'a long and unremarkable passphrase';

/**
 * A production app behind one proxy. supertest speaks plain http, so requests that should count
 * as https send `X-Forwarded-Proto: https`, and the Secure cookie has to be copied by hand.
 */
export const PRODUCTION_ENV = {
  NODE_ENV: 'production',
  BCRYPT_COST: '10',
  SESSION_SECRETS: 'a-production-secret-that-is-long-enough-000000',
  TRUST_PROXY: '1',
  // supertest sends Host: 127.0.0.1:<port>; the allow-list ignores the port.
  PUBLIC_URL: 'https://127.0.0.1',
};

/** Registers (and so signs in) an account through the real form. */
export async function register(
  browser: Browser,
  username: string,
  password = PASSWORD,
): Promise<request.Response> {
  const res = await browser.submit('/register', { username, password });
  expect(res.status).toBe(303);
  return res;
}

export function logIn(
  browser: Browser,
  username: string,
  password = PASSWORD,
): Promise<request.Response> {
  return browser.submit('/login', { username, password });
}

export function logOut(browser: Browser): Promise<request.Response> {
  return browser.submit('/logout', {}, { from: '/' });
}

export interface SessionRow {
  sid: string;
  sess: Record<string, unknown> & { userId?: number; history?: string[] };
  expired: string;
}

/** The sessions table, with `sess` parsed and `expired` as ISO text, whatever the database. */
export async function sessionRows(db: Database): Promise<SessionRow[]> {
  const rows: { sid: string; sess: string | object; expired: string | Date }[] =
    await db('sessions').select();
  return rows.map((row) => ({
    sid: row.sid,
    sess: typeof row.sess === 'string' ? JSON.parse(row.sess) : row.sess,
    expired: new Date(
      row.expired instanceof Date
        ? row.expired
        : row.expired.replace(' ', 'T') + (/[zZ]$/.test(row.expired) ? '' : 'Z'),
    ).toISOString(),
  }));
}

/** The row behind a browser's session cookie. */
export async function sessionRowOf(
  db: Database,
  cookieValue: string | undefined,
): Promise<SessionRow | undefined> {
  if (!cookieValue) return undefined;
  const sid = sessionIdOf(cookieValue);
  return (await sessionRows(db)).find((row) => row.sid === sid);
}

/** Rewrites a session row's data in place, as time passing would. */
export async function editSessionRow(
  db: Database,
  cookieValue: string | undefined,
  edit: (sess: SessionRow['sess']) => void,
): Promise<void> {
  const row = await sessionRowOf(db, cookieValue);
  if (!row) throw new Error('no session row for that cookie');
  edit(row.sess);
  await db('sessions')
    .where({ sid: row.sid })
    .update({ sess: JSON.stringify(row.sess) });
}
