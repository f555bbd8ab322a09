import {
  RateLimiterMySQL,
  RateLimiterPostgres,
  RateLimiterSQLite,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import type { Config } from '../config';
import { databaseKind, type Database } from '../db';
import { HttpError } from '../errors';
import type { Logger } from '../logger';
import { normaliseUsername } from './usernames';

export const RATE_LIMITS_TABLE = 'rate_limits';

/**
 * Login and registration throttling (NIST 800-63B 3.2.2), counted in the database with
 * rate-limiter-flexible so that all instances share the counts.
 *
 * The rule: within a window of THROTTLE_WINDOW_MINUTES, an account may fail
 * LOGIN_FAILURES_PER_ACCOUNT times and a client IP LOGIN_FAILURES_PER_IP times; past either, login
 * is refused with 429 until the window ends, before any password is checked. A name with no
 * account is counted the same way, so throttling reveals nothing about which names exist. A
 * successful login clears its account's count (not the IP's: one good password must not buy a
 * guessing IP a fresh allowance). Registrations are limited per IP.
 *
 * The check and the count are two steps, so guesses sent at the same instant can all pass the
 * check before any is counted: the limit can be overshot by the number of requests in flight,
 * not more.
 */
export interface Throttle {
  /** Seconds until this login may be attempted, or 0 if it may be now. */
  loginWait(username: string, ip: string): Promise<number>;
  loginFailed(username: string, ip: string): Promise<void>;
  loginSucceeded(username: string): Promise<void>;
  /** Counts a registration attempt; seconds to wait if the IP is over its limit, else 0. */
  registration(ip: string): Promise<number>;
}

/** Refuses the request with 429 and Retry-After while a limit says to wait. */
export function refuseWhileThrottled(waitSeconds: number): void {
  if (waitSeconds > 0) throw new HttpError(429, 'ETHROTTLED', waitSeconds);
}

export function createThrottle(config: Config, db: Database, logger: Logger): Throttle {
  const windowSeconds = config.throttle.windowMinutes * 60;
  const limiter = (keyPrefix: string, points: number) => {
    const options = {
      storeClient: db,
      storeType: 'knex',
      tableName: RATE_LIMITS_TABLE,
      // The migration owns the table, and old rows are swept below: no timers of its own.
      tableCreated: true,
      clearExpiredByTimeout: false,
      keyPrefix,
      points,
      duration: windowSeconds,
    };
    switch (databaseKind(config.databaseUrl)) {
      case 'postgres':
        return new RateLimiterPostgres(options);
      case 'mysql':
        return new RateLimiterMySQL({
          ...options,
          // The database knex connected to, not parsed from the URL a second time.
          dbName: (db.client.config.connection as { database: string }).database,
        });
      default:
        return new RateLimiterSQLite(options);
    }
  };
  const perAccount = limiter('login-account', config.throttle.loginFailuresPerAccount);
  const perIp = limiter('login-ip', config.throttle.loginFailuresPerIp);
  const registrations = limiter('register-ip', config.throttle.registrationsPerIp);

  /** Seconds left in the window if `key` has used all its points, else 0. */
  const wait = async (rateLimiter: RateLimiterAbstract, key: string) => {
    const used = await rateLimiter.get(key);
    return used && used.consumedPoints >= rateLimiter.points
      ? Math.max(1, Math.ceil(used.msBeforeNext / 1000))
      : 0;
  };

  // Old counters are swept now and then as part of normal work: no timer to stop at shutdown.
  let lastSweep = Date.now();
  const sweep = () => {
    if (Date.now() - lastSweep < windowSeconds * 1000) return;
    lastSweep = Date.now();
    db(RATE_LIMITS_TABLE)
      .where('expire', '<', Date.now())
      .delete()
      .catch((error: unknown) => logger.warn({ err: error }, 'rate-limit sweep failed'));
  };

  return {
    async loginWait(username, ip) {
      const waits = await Promise.all([
        wait(perAccount, normaliseUsername(username)),
        wait(perIp, ip),
      ]);
      return Math.max(...waits);
    },
    async loginFailed(username, ip) {
      await Promise.all([perAccount.penalty(normaliseUsername(username)), perIp.penalty(ip)]);
      sweep();
    },
    async loginSucceeded(username) {
      await perAccount.delete(normaliseUsername(username));
    },
    async registration(ip) {
      const waitSeconds = await wait(registrations, ip);
      if (waitSeconds === 0) await registrations.penalty(ip);
      sweep();
      return waitSeconds;
    },
  };
}
