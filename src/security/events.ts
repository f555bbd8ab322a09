import { createHmac } from 'node:crypto';
import type { Request } from 'express';
import { normaliseUsername } from '../auth/usernames';
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
  session_ended: { outcome: 'ended', level: 'info', message: 'session ended' },
  csrf_refused: { outcome: 'refused', level: 'warn', message: 'CSRF token refused' },
  cross_site_refused: { outcome: 'refused', level: 'warn', message: 'cross-site request refused' },
  throttled: { outcome: 'refused', level: 'warn', message: 'refused by a rate limit' },
} as const;

export type SecurityEvent = keyof typeof EVENTS;

export interface SecurityEventDetails {
  userId?: number;
  /** A name as typed: only its keyed tag is logged (people type passwords into name fields). */
  username?: string;
  /** Why, where there is more than one way for the event to happen. */
  reason?: string;
}

export interface SecurityLog {
  record(req: Request, event: SecurityEvent, details?: SecurityEventDetails): void;
}

/**
 * `tagKey` is the log-tag key derived from the session secret (security/keys.ts): the tag lets
 * someone reading the logs see that many failures hit one account without learning its name,
 * and, being keyed, cannot be reversed by hashing a list of likely names.
 */
export function createSecurityLog(tagKey: string): SecurityLog {
  const tag = (username: string) =>
    createHmac('sha256', tagKey).update(normaliseUsername(username)).digest('hex').slice(0, 16);
  return {
    record(req, event, { userId, username, reason } = {}) {
      const { outcome, level, message } = EVENTS[event];
      req.log[level](
        {
          event,
          outcome,
          userId: userId ?? req.session?.userId,
          account: username === undefined ? undefined : tag(username),
          ip: clientIp(req),
          reason,
        },
        message,
      );
    },
  };
}
