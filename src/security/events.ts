import { createHmac } from 'node:crypto';
import type { Request } from 'express';
import type { Logger } from '../logger';
import { clientIp } from './client-address';

/**
 * The security events, one structured log line each: what happened, to which user, from which
 * address, and how it ended. `outcome` lets a log query count failures without parsing messages.
 */
const EVENTS = {
  login_succeeded: { outcome: 'success', level: 'info', message: 'login succeeded' },
  login_failed: { outcome: 'failure', level: 'warn', message: 'login failed' },
  registered: { outcome: 'success', level: 'info', message: 'account registered' },
  logged_out: { outcome: 'success', level: 'info', message: 'logged out' },
  password_changed: { outcome: 'success', level: 'info', message: 'password changed' },
  password_check_failed: {
    outcome: 'failure',
    level: 'warn',
    message: 'password confirmation failed',
  },
  password_confirmed: { outcome: 'success', level: 'info', message: 'password confirmed' },
  account_deleted: { outcome: 'success', level: 'info', message: 'account deleted' },
  session_revoked: { outcome: 'success', level: 'info', message: 'session signed out' },
  password_reset_requested: {
    outcome: 'success',
    level: 'info',
    message: 'password reset link asked for',
  },
  password_reset: { outcome: 'success', level: 'info', message: 'password reset by link' },
  email_link_refused: { outcome: 'refused', level: 'warn', message: 'mailed link refused' },
  email_verification_sent: {
    outcome: 'success',
    level: 'info',
    message: 'e-mail verification link sent',
  },
  email_verified: { outcome: 'success', level: 'info', message: 'e-mail address verified' },
  email_removed: { outcome: 'success', level: 'info', message: 'e-mail address removed' },
  session_ended: { outcome: 'ended', level: 'info', message: 'session ended' },
  second_step_required: {
    outcome: 'success',
    level: 'info',
    message: 'password accepted, second factor asked for',
  },
  second_step_failed: { outcome: 'failure', level: 'warn', message: 'second factor refused' },
  recovery_code_used: { outcome: 'success', level: 'warn', message: 'recovery code used' },
  two_factor_enabled: { outcome: 'success', level: 'info', message: 'two-factor turned on' },
  two_factor_disabled: { outcome: 'success', level: 'warn', message: 'two-factor turned off' },
  passkey_added: { outcome: 'success', level: 'info', message: 'passkey added' },
  passkey_removed: { outcome: 'success', level: 'info', message: 'passkey removed' },
  passkey_failed: { outcome: 'failure', level: 'warn', message: 'passkey refused' },
  recovery_codes_renewed: {
    outcome: 'success',
    level: 'info',
    message: 'new recovery codes made',
  },
  csrf_refused: { outcome: 'refused', level: 'warn', message: 'CSRF token refused' },
  cross_site_refused: { outcome: 'refused', level: 'warn', message: 'cross-site request refused' },
  host_refused: { outcome: 'refused', level: 'warn', message: 'request for another host refused' },
  throttled: { outcome: 'refused', level: 'warn', message: 'refused by a rate limit' },
} as const;

export type SecurityEvent = keyof typeof EVENTS;

/** Every event this module records (docs/security.md's table is tested against it). */
export const SECURITY_EVENTS = Object.keys(EVENTS) as SecurityEvent[];

export interface SecurityEventDetails {
  userId?: number;
  /** A name as typed: only its keyed tag is logged (people type passwords into name fields). */
  username?: string;
  /** An e-mail address as typed: only its keyed tag is logged. */
  email?: string;
  /** Why, where there is more than one way for the event to happen. */
  reason?: string;
}

export interface SecurityLog {
  record(req: Request, event: SecurityEvent, details?: SecurityEventDetails): void;
}

/**
 * How a name or an e-mail address appears in any log line, and in the throttle's table.
 * `tagKey` is the log-tag key derived from the session secret (security/keys.ts): a tag lets
 * someone reading the logs see that many failures hit one account, or which request a mail
 * failure came from, without learning the name or the address (people type passwords into name
 * fields), and, being keyed, cannot be reversed by hashing a list of likely ones.
 * `canonicalName` is the accounts' own normal form (accounts/usernames.ts), passed in so this
 * layer needs nothing above it: every spelling of one name gets one tag.
 */
export function logTags(tagKey: string, canonicalName: (name: string) => string) {
  const hmac = (value: string) =>
    createHmac('sha256', tagKey).update(value).digest('hex').slice(0, 16);
  const tag = (value: string) => hmac(canonicalName(value));
  return {
    account: tag,
    address: (email: string) => tag(email.toLowerCase()),
    /** A session id, for a count kept per session: never the id itself, a credential. */
    session: (sid: string) => hmac(`session ${sid}`),
    /** A device cookie's id (auth/known-devices.ts), for the count kept per known browser. */
    device: (id: string) => hmac(`device ${id}`),
  };
}

export function createSecurityLog(
  logger: Logger,
  tagKey: string,
  canonicalName: (name: string) => string,
): SecurityLog {
  const tags = logTags(tagKey, canonicalName);
  return {
    record(req, event, { userId, username, email, reason } = {}) {
      const { outcome, level, message } = EVENTS[event];
      logger[level](
        {
          // The request by its id: its own line (request-logger.ts) says its method and path.
          req: { id: req.id },
          event,
          outcome,
          userId: userId ?? req.session?.userId,
          account: username === undefined ? undefined : tags.account(username),
          address: email === undefined ? undefined : tags.address(email),
          ip: clientIp(req),
          reason,
        },
        message,
      );
    },
  };
}

/**
 * The same line for what an operator did from the command line (npm run sessions): no request,
 * so no address; `reason` says who did it.
 */
export function recordOperatorEvent(
  logger: Logger,
  event: SecurityEvent,
  details: { userId?: number; reason: string; count?: number },
): void {
  const { outcome, level, message } = EVENTS[event];
  logger[level]({ event, outcome, ...details }, message);
}
