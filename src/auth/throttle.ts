import {
  RateLimiterMySQL,
  RateLimiterPostgres,
  RateLimiterRes,
  RateLimiterSQLite,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import type { Config } from '../config';
import { databaseKind, type Database } from '../db';
import { HttpError } from '../http-error';
import type { Logger } from '../logger';
import { addressKey } from '../security/client-address';
import { logTags } from '../security/events';
import type { PasswordWorkOwner } from '../passwords/password-pool';
import { normaliseUsername } from '../accounts/usernames';

export const RATE_LIMITS_TABLE = 'rate_limits';

/**
 * Throttling of password checks and registrations (OWASP's Authentication Cheat Sheet, NIST
 * 800-63B section 3.2.2), counted in the database with rate-limiter-flexible so that every
 * instance shares the counts. The model, as docs/security.md tells it ("The login throttle"):
 *
 * - Failed logins count per (account, client address) pair: past LOGIN_FAILURES_PER_PAIR in a
 *   window, that pair is refused. An attacker hammering an account from one address locks out
 *   only themselves; the owner, from anywhere else, still gets in.
 * - Failed logins also count per account (LOGIN_FAILURES_PER_ACCOUNT, much higher: the last
 *   line against guesses spread over many addresses) and per address (LOGIN_FAILURES_PER_IP,
 *   against one address trying a password on many accounts).
 * - A browser that has signed in to the account before (its device cookie, auth/known-devices.ts)
 *   counts neither per pair nor against the account's ceiling, but on its own, with a pair's
 *   allowance: whoever exhausts the ceiling from many addresses locks out new browsers, never
 *   the owner's.
 * - Every password check, right or wrong, spends a budget per address
 *   (PASSWORD_CHECKS_PER_IP a minute), and every right one a budget per account
 *   (PASSWORD_CHECKS_PER_ACCOUNT a minute): correct logins cost bcrypt work too, and a flood of
 *   them must not crowd out everyone else (the password threads are also shared fairly, see
 *   password-pool.ts).
 * - A success clears its own pair's count and gives back the points it took, and nothing else:
 *   a victim's login never hands the attacker's address a fresh allowance.
 * - A signed-in user confirming the password (changing it, deleting the account) is never
 *   refused by the login counts; those checks have their own limit per session
 *   (PASSWORD_CONFIRM_FAILURES), at which the session is ended: a stolen session can neither
 *   guess without limit nor use the limit to stop the owner's own sessions.
 *
 * Points are taken atomically before any bcrypt work (rate-limiter-flexible's consume, an
 * INSERT ... ON CONFLICT / ON DUPLICATE KEY UPDATE): seventeen guesses sent at once against a
 * limit of ten get ten checks, not seventeen. A refused attempt gives every point back, so being
 * refused does not lengthen the wait. Names with no account are counted exactly like real ones,
 * so throttling reveals nothing about which names exist. Addresses count by security/
 * client-address.ts's key (an IPv6 /64).
 *
 * The table keeps no name, e-mail address or session id as typed: each is keyed by the security
 * log's keyed tag (security/events.ts), so a password typed into the name field by mistake is
 * not left in the database. Client addresses are kept as they are, as the logs keep them.
 */
export interface Throttle {
  /**
   * Before a login's password check; refuses with 429 (ETHROTTLED) past any limit. `device`: the
   * id of this browser's device cookie for the account, if it has signed in there before.
   */
  loginAttempt(username: string, ip: string, device?: string): Promise<PasswordAttempt>;
  /**
   * Before a signed-in user's password check (change, deletion, re-authentication), counted
   * against `sessionId`'s own allowance of failures.
   */
  confirmationAttempt(
    user: { id: number; username: string },
    ip: string,
    sessionId: string,
  ): Promise<ConfirmationAttempt>;
  /**
   * Before a second-step code (sign-in with two-factor) is checked: a point of the account's
   * allowance of wrong codes, across sign-ins and addresses. Never a 429: past the limit the
   * attempt is `locked`, and the route refuses even a right code with the same answer as a wrong
   * one, so the lock tells someone guessing nothing.
   */
  secondStepAttempt(username: string): Promise<SecondStepAttempt>;
  /** Counts a registration attempt; refuses with 429 past the limit per address. */
  registration(ip: string): Promise<void>;
  /**
   * Before zxcvbn's estimate of a new password: a point of the address's budget of password
   * checks, since an estimate costs a password thread as much as a bcrypt check does.
   */
  strengthEstimate(ip: string): Promise<void>;
  /**
   * Counts a link mailed to `email` (a reset asked for, a verification sent again); refuses
   * with 429 past the limits per e-mail address and per client address. Counted by the address
   * typed, whether or not an account has it, so a refusal says nothing about accounts either.
   */
  mailedLink(email: string, ip: string): Promise<void>;
  /**
   * The same count for a link sent on the side of something else (the verification link of a
   * registration, which goes ahead either way): undefined if the link may go, else the name of
   * the limit that stops it, and nothing is thrown.
   */
  mailedLinkRefusal(email: string, ip: string): Promise<string | undefined>;
}

/** Points taken for one password check, settled by how the check ends. */
export interface PasswordAttempt {
  /** Who the check is for, for the password threads' fair shares. */
  owner: PasswordWorkOwner;
  /**
   * Runs the check (a value for a right password, undefined for a wrong one) and settles the
   * points: kept for a failure, given back for a success, and given back too if the check itself
   * could not run (a 503), which is no guess at all.
   */
  run<T>(check: (owner: PasswordWorkOwner) => Promise<T | undefined>): Promise<T | undefined>;
}

/** A signed-in user's password check, which may be the session's last. */
export interface ConfirmationAttempt extends PasswordAttempt {
  /** The session has no failure left after this one: if the password is wrong, it must end. */
  readonly last: boolean;
}

/** A second-step code's point, settled by whether the code was right. */
export interface SecondStepAttempt {
  /** The account's allowance is spent: refuse this attempt, whatever the code. */
  readonly locked: boolean;
  /** A right code gives its point back; a wrong one keeps it. */
  settle(right: boolean): Promise<void>;
}

/** One limit applied to one key, with the name a log line gives it. */
interface Charge {
  limiter: RateLimiterAbstract;
  key: string;
  reason: string;
}

export function createThrottle(
  config: Config,
  db: Database,
  logger: Logger,
  /** The log-tag key derived from the secret (security/keys.ts). */
  tagKey: string,
): Throttle {
  const tags = logTags(tagKey, normaliseUsername);
  const window = config.throttle.windowMinutes * 60;
  const limiter = (keyPrefix: string, points: number, duration: number) => {
    const options = {
      storeClient: db,
      storeType: 'knex',
      tableName: RATE_LIMITS_TABLE,
      // The migration owns the table, and old rows are swept below: no timers of its own.
      tableCreated: true,
      clearExpiredByTimeout: false,
      keyPrefix,
      points,
      duration,
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
  const limits = config.throttle;
  const pairFailures = limiter('login-pair', limits.loginFailuresPerPair, window);
  // A known browser's allowance is a pair's: the same number of wrong passwords per window.
  const deviceFailures = limiter('login-device', limits.loginFailuresPerPair, window);
  const accountFailures = limiter('login-account', limits.loginFailuresPerAccount, window);
  const addressFailures = limiter('login-ip', limits.loginFailuresPerIp, window);
  const addressChecks = limiter('checks-ip', limits.passwordChecksPerIp, 60);
  const accountChecks = limiter('checks-account', limits.passwordChecksPerAccount, 60);
  const confirmFailures = limiter('confirm-session', limits.passwordConfirmFailures, window);
  const registrations = limiter('register-ip', limits.registrationsPerIp, window);
  const secondStepFailures = limiter('second-step', limits.secondStepFailuresPerAccount, window);
  const linksPerEmail = limiter('mail-email', config.mail.linksPerAddress, window);
  const linksPerIp = limiter('mail-ip', config.mail.linksPerIp, window);

  // Old counters are swept now and then as part of normal work: no timer to stop at shutdown.
  let lastSweep = Date.now();
  const sweep = () => {
    if (Date.now() - lastSweep < window * 1000) return;
    lastSweep = Date.now();
    db(RATE_LIMITS_TABLE)
      .where('expire', '<', Date.now())
      .delete()
      .catch((error: unknown) => logger.warn({ err: error }, 'rate-limit sweep failed'));
  };

  const giveBack = (charges: readonly Charge[]) =>
    Promise.all(charges.map(({ limiter, key }) => limiter.reward(key, 1)));

  /**
   * Takes a point from every charge, in order. If one refuses, every point taken (the refused
   * one's included: consume counts it even as it refuses) is given back, and the request is
   * refused with 429 and the wait until that limit's window ends.
   *
   * In order rather than all at once: under attack most attempts are refused, and the first
   * refusal (the pair's, usually) stops at one write and one give-back, where taking all five at
   * once would cost ten writes. The price is a round trip per charge for an allowed attempt.
   */
  const take = async (charges: readonly Charge[], username?: string) => {
    sweep();
    const taken: RateLimiterRes[] = [];
    for (const [index, charge] of charges.entries()) {
      try {
        taken.push(await charge.limiter.consume(charge.key));
      } catch (refusal) {
        if (!(refusal instanceof RateLimiterRes)) {
          // The database failed (a 503 follows): give back what it can, report what it was.
          await giveBack(charges.slice(0, index)).catch(() => undefined);
          throw refusal;
        }
        await giveBack(charges.slice(0, index + 1));
        const seconds = Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));
        throw new HttpError(429, 'ETHROTTLED', seconds, { username, reason: charge.reason });
      }
    }
    return taken;
  };

  const mailedLink = async (email: string, ip: string) => {
    await take([
      { limiter: linksPerIp, key: addressKey(ip), reason: 'mailed links per address' },
      { limiter: linksPerEmail, key: tags.address(email), reason: 'mailed links per e-mail' },
    ]);
  };

  const attempt = (
    owner: PasswordWorkOwner,
    charges: readonly Charge[],
    settle: { succeeded: () => Promise<unknown>; failed: () => Promise<unknown> },
  ): PasswordAttempt => ({
    owner,
    async run(check) {
      let result;
      try {
        result = await check(owner);
      } catch (error) {
        // Every point but the address's budget: the check took no guess, but was asked for.
        await giveBack(charges.filter(({ limiter }) => limiter !== addressChecks)).catch(
          (giveBackError: unknown) => logger.warn({ err: giveBackError }, 'throttle give-back'),
        );
        throw error;
      }
      await (result === undefined ? settle.failed() : settle.succeeded());
      return result;
    },
  });

  return {
    async loginAttempt(username, ip, device) {
      const account = tags.account(username);
      const address = addressKey(ip);
      // Whose failures these are. A browser that has signed in to this account before
      // (auth/known-devices.ts) has an allowance of its own, and nothing else counts for it:
      // guesses spread over many addresses can use up the account's ceiling for every new
      // browser, but cannot lock out the owner's. Any other browser counts against its
      // (account, address) pair, and against the account's ceiling.
      const own: Charge =
        device === undefined
          ? {
              limiter: pairFailures,
              key: `${account} ${address}`,
              reason: 'login failures per account and address',
            }
          : {
              limiter: deviceFailures,
              key: tags.device(device),
              reason: 'login failures of this browser',
            };
      const ceiling: Charge[] =
        device === undefined
          ? [{ limiter: accountFailures, key: account, reason: 'login failures per account' }]
          : [];
      const charges = [
        own,
        ...ceiling,
        { limiter: addressFailures, key: address, reason: 'login failures per address' },
        { limiter: addressChecks, key: address, reason: 'password checks per address' },
        { limiter: accountChecks, key: account, reason: 'password checks per account' },
      ];
      await take(charges, username);
      const owner = { address, account: normaliseUsername(username) };
      return attempt(owner, charges, {
        // This pair (or browser) starts afresh; the account's and the address's failure counts
        // only get back the point this attempt took. The budgets keep it: a success is a check.
        succeeded: () =>
          Promise.all([
            own.limiter.delete(own.key),
            ...ceiling.map(({ limiter, key }) => limiter.reward(key, 1)),
            addressFailures.reward(address, 1),
          ]),
        // A failure is counted by the failure limits; the account's budget is for successes,
        // so that an attacker's wrong guesses never spend the owner's allowance.
        failed: () => accountChecks.reward(account, 1),
      });
    },

    async confirmationAttempt(user, ip, sessionId) {
      const account = tags.account(user.username);
      const address = addressKey(ip);
      // Per session, not per account: a stolen session that spends its failures is ended
      // (auth/password-confirmation.ts), and the owner's own sessions keep theirs.
      const session = tags.session(sessionId);
      const charges = [
        { limiter: confirmFailures, key: session, reason: 'password confirmation failures' },
        { limiter: addressChecks, key: address, reason: 'password checks per address' },
        { limiter: accountChecks, key: account, reason: 'password checks per account' },
      ];
      const [counted] = await take(charges, user.username);
      const owner = { address, account: normaliseUsername(user.username) };
      return {
        ...attempt(owner, charges, {
          succeeded: () => confirmFailures.delete(session),
          failed: () => accountChecks.reward(account, 1),
        }),
        last: counted?.remainingPoints === 0,
      };
    },

    async secondStepAttempt(username) {
      sweep();
      const key = tags.account(username);
      let locked = false;
      try {
        await secondStepFailures.consume(key);
      } catch (refusal) {
        if (!(refusal instanceof RateLimiterRes)) throw refusal;
        locked = true;
      }
      return {
        locked,
        // A locked attempt has nothing to give back: the allowance stays spent to the window's end.
        settle: async (right) => {
          if (right && !locked) await secondStepFailures.reward(key, 1);
        },
      };
    },

    async registration(ip) {
      const address = addressKey(ip);
      await take([{ limiter: registrations, key: address, reason: 'registrations per address' }]);
    },

    async strengthEstimate(ip) {
      const address = addressKey(ip);
      await take([{ limiter: addressChecks, key: address, reason: 'password checks per address' }]);
    },

    mailedLink,

    async mailedLinkRefusal(email, ip) {
      try {
        await mailedLink(email, ip);
        return undefined;
      } catch (error) {
        if (!(error instanceof HttpError) || error.status !== 429) throw error;
        return error.eventDetails?.reason ?? 'mailed links';
      }
    },
  };
}
