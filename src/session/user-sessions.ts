import { createHmac } from 'node:crypto';
import type { Knex } from 'knex';
import type { Database } from '../db';
import { readSessionTimestamp, sessionTimestamp } from '../session-store/knex-store';
import { SESSIONS_TABLE } from '../session-store/store';

/**
 * A user's sessions, read and ended through the session table's own columns (`user_id`, indexed):
 * nothing here reads the session JSON. Used by the "Your sessions" page, by password change and
 * account deletion (which end every other session at once), and by `npm run sessions`.
 */
export interface SessionSummary {
  /**
   * Names the session on a page and in a form. Not the session id: a row's id is what its
   * cookie carries, and printing it (even to its owner) would put a working credential in the
   * page, the browser's cache and any screenshot. An HMAC of it, under a key of its own.
   */
  handle: string;
  createdAt?: Date;
  lastSeenAt?: Date;
  userAgent?: string;
  ip?: string;
  /** How it was signed in: password, password+totp, password+recovery-code. */
  signInMethod?: string;
  expiresAt: Date;
  /** The session of the request that asked. */
  current: boolean;
}

export interface UserSessions {
  /** The user's live sessions, the most recently active first. */
  list(userId: number, currentSid?: string): Promise<SessionSummary[]>;
  /** Ends one of the user's sessions by its handle; false if the user has none by that handle. */
  revoke(userId: number, handle: string): Promise<boolean>;
  /** Ends every session of the user but `keepSid`; in `trx` when given. */
  revokeOthers(userId: number, keepSid: string, trx?: Knex.Transaction): Promise<number>;
  /** Ends every session of the user; in `trx` when given. */
  revokeAll(userId: number, trx?: Knex.Transaction): Promise<number>;
  /** Ends every session of every user (a leaked secret or database, say); in `trx` when given. */
  revokeEveryone(trx?: Knex.Transaction): Promise<number>;
  /** Rows in the table: live and expired (not yet cleaned up). */
  stats(): Promise<{ live: number; expired: number }>;
}

interface SessionRow {
  sid: string;
  expired: string | Date;
  created_at: string | Date | null;
  last_seen_at: string | Date | null;
  user_agent: string | null;
  ip: string | null;
  sign_in_method: string | null;
}

const dateOf = (value: string | Date | null) =>
  value === null ? undefined : new Date(readSessionTimestamp(value));

/** `handleKey`: the key derived for session handles (security/keys.ts). */
export function createUserSessions(db: Database, handleKey: string): UserSessions {
  const handleOf = (sid: string) =>
    createHmac('sha256', handleKey).update(sid).digest('base64url').slice(0, 22);
  const now = () => sessionTimestamp(db, Date.now());
  const ofUser = (userId: number, trx?: Knex.Transaction) =>
    (trx ?? db)(SESSIONS_TABLE).where('user_id', userId);

  return {
    async list(userId, currentSid) {
      const rows: SessionRow[] = await ofUser(userId)
        .andWhere('expired', '>', now())
        .select(
          'sid',
          'expired',
          'created_at',
          'last_seen_at',
          'user_agent',
          'ip',
          'sign_in_method',
        );
      return rows
        .map((row) => ({
          handle: handleOf(row.sid),
          createdAt: dateOf(row.created_at),
          lastSeenAt: dateOf(row.last_seen_at),
          userAgent: row.user_agent ?? undefined,
          ip: row.ip ?? undefined,
          signInMethod: row.sign_in_method ?? undefined,
          expiresAt: new Date(readSessionTimestamp(row.expired)),
          current: row.sid === currentSid,
        }))
        .sort((a, b) => (b.lastSeenAt?.getTime() ?? 0) - (a.lastSeenAt?.getTime() ?? 0));
    },

    async revoke(userId, handle) {
      // A user has a handful of sessions: find the one by its handle among them, so that a
      // handle can only ever name one of this user's own rows.
      const sids: string[] = await ofUser(userId).pluck('sid');
      const sid = sids.find((candidate) => handleOf(candidate) === handle);
      if (sid === undefined) return false;
      return (await ofUser(userId).andWhere('sid', sid).delete()) > 0;
    },

    revokeOthers: (userId, keepSid, trx) =>
      ofUser(userId, trx).andWhereNot('sid', keepSid).delete(),

    revokeAll: (userId, trx) => ofUser(userId, trx).delete(),

    revokeEveryone: (trx) => (trx ?? db)(SESSIONS_TABLE).delete(),

    async stats() {
      const [row] = await db(SESSIONS_TABLE).select(
        db.raw('sum(case when expired > ? then 1 else 0 end) as live', [now()]),
        db.raw('sum(case when expired > ? then 0 else 1 end) as expired', [now()]),
      );
      return { live: Number(row?.live ?? 0), expired: Number(row?.expired ?? 0) };
    },
  };
}
