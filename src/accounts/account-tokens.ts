import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { Database } from '../db';
import { sessionTimestamp } from '../session-store/knex-store';

/** What a token is for: one purpose can never be used for the other. */
export type TokenPurpose = 'verify-email' | 'reset-password';

export interface ValidToken {
  userId: number;
  /** For a verification link: the address it verifies. */
  email?: string;
}

/**
 * The tokens that e-mailed links carry (OWASP's Forgot Password Cheat Sheet, ASVS 5.0 V6.4):
 * 256 bits from crypto.randomBytes, shown once in the link and never stored; the table keeps
 * only their SHA-256, so a leaked table opens nothing. A plain hash, not bcrypt: the token is
 * random, not a password a person chose, so there is nothing to guess at any speed.
 */
export interface AccountTokens {
  /** A new token for `userId`; every earlier one of the same purpose dies with it. */
  issue(
    userId: number,
    purpose: TokenPurpose,
    options: { minutes: number; email?: string },
  ): Promise<string>;
  /** What an unexpired token stands for, without using it up. */
  check(token: string, purpose: TokenPurpose): Promise<ValidToken | undefined>;
  /** Uses a token up (it works once); what it stood for if it was valid. In `trx` when given. */
  consume(
    token: string,
    purpose: TokenPurpose,
    trx?: Knex.Transaction,
  ): Promise<ValidToken | undefined>;
  /** Ends every token of the user (of one purpose, if given): a password change, say. */
  revokeAll(userId: number, purpose?: TokenPurpose, trx?: Knex.Transaction): Promise<void>;
  /** Ends every token of this purpose, whoever it was for. */
  revokeEveryone(purpose: TokenPurpose, trx?: Knex.Transaction): Promise<void>;
}

const TABLE = 'account_tokens';
const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

export function createAccountTokens(db: Database): AccountTokens {
  const now = () => sessionTimestamp(db, Date.now());
  const live = (token: string, purpose: TokenPurpose, trx?: Knex.Transaction) =>
    (trx ?? db)(TABLE)
      .where({ token_hash: hashOf(token), purpose })
      .andWhere('expires_at', '>', now());
  const valid = (row: { user_id: number; email: string | null } | undefined) =>
    row && { userId: row.user_id, email: row.email ?? undefined };

  return {
    async issue(userId, purpose, { minutes, email }) {
      const token = randomBytes(32).toString('base64url');
      await db.transaction(async (trx) => {
        await trx(TABLE).where({ user_id: userId, purpose }).delete();
        await trx(TABLE).insert({
          user_id: userId,
          purpose,
          token_hash: hashOf(token),
          email: email ?? null,
          expires_at: sessionTimestamp(db, Date.now() + minutes * 60_000),
          created_at: now(),
        });
      });
      return token;
    },

    async check(token, purpose) {
      return valid(await live(token, purpose).select('user_id', 'email').first());
    },

    async consume(token, purpose, trx) {
      const row = await live(token, purpose, trx).select('id', 'user_id', 'email').first();
      // Deleted by id, and only if still there: two requests racing with one token, one wins.
      if (!row || (await (trx ?? db)(TABLE).where({ id: row.id }).delete()) === 0) return undefined;
      return valid(row);
    },

    async revokeAll(userId, purpose, trx) {
      await (trx ?? db)(TABLE)
        .where({ user_id: userId })
        .modify((query) => {
          if (purpose) query.andWhere({ purpose });
        })
        .delete();
    },

    async revokeEveryone(purpose, trx) {
      await (trx ?? db)(TABLE).where({ purpose }).delete();
    },
  };
}
