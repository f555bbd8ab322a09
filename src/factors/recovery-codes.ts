import { createHmac, randomInt } from 'node:crypto';
import type { Knex } from 'knex';
import type { Database } from '../db';

export const RECOVERY_CODES_TABLE = 'recovery_codes';

export const RECOVERY_CODE_COUNT = 10;
/**
 * Crockford's base32: no i, l, o or u, so nothing reads as another character; what people type
 * for those is mapped back (normalise()). 10 characters of 32 are 50 bits per code.
 */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const LENGTH = 10;

/** A new code, shown as two groups of five: "k7dq2-m9xpt". */
function newCode(): string {
  const characters = Array.from({ length: LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]);
  return `${characters.slice(0, 5).join('')}-${characters.slice(5).join('')}`;
}

/** A code as typed, in the form it is hashed in: case, spaces and dashes ignored. */
function normalise(typed: string): string {
  return typed.toLowerCase().replace(/[\s-]/g, '').replace(/[o]/g, '0').replace(/[il]/g, '1');
}

/**
 * Recovery codes: the way in when the phone is lost. Each is stored as an HMAC under a key of its
 * own derived from the configured secret (`keys`, the first hashes, all are tried), never in
 * plain text: the codes are shown once, and a leaked table gives nothing to type. A keyed hash,
 * not bcrypt: a code is 50 random bits, not a password someone chose, and without the key there
 * is nothing to guess offline at all. One row per code, so each is used once, atomically.
 */
export function recoveryCodeStore(db: Database, keys: readonly string[]) {
  const hashes = (code: string) =>
    keys.map((key) => createHmac('sha256', key).update(`recovery code:${code}`).digest('hex'));

  return {
    /** Replaces the account's codes with new ones, and returns them: the only time they exist. */
    async replace(trx: Knex, userId: number): Promise<string[]> {
      const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newCode);
      await trx(RECOVERY_CODES_TABLE).where({ user_id: userId }).delete();
      await trx(RECOVERY_CODES_TABLE).insert(
        codes.map((code) => ({
          user_id: userId,
          code_hash: hashes(normalise(code))[0],
          created_at: trx.fn.now(),
        })),
      );
      return codes;
    },

    async remaining(userId: number): Promise<number> {
      const [row] = await db(RECOVERY_CODES_TABLE)
        .where({ user_id: userId })
        .whereNull('used_at')
        .count({ n: '*' });
      return Number(row?.n ?? 0);
    },

    /**
     * Whether `typed` is one of the account's unused codes; with `consume`, it is used up by a
     * conditional UPDATE, so two requests spending one code cannot both succeed.
     */
    async accepts(userId: number, typed: string, consume: boolean): Promise<boolean> {
      const code = normalise(typed);
      if (code.length !== LENGTH || [...code].some((c) => !ALPHABET.includes(c))) return false;
      const unused = () =>
        db(RECOVERY_CODES_TABLE)
          .where({ user_id: userId })
          .whereIn('code_hash', hashes(code))
          .whereNull('used_at');
      const row: { id: number } | undefined = await unused().first('id');
      if (!row || !consume) return row !== undefined;
      return (await unused().andWhere({ id: row.id }).update({ used_at: db.fn.now() })) > 0;
    },

    async removeAll(trx: Knex, userId: number): Promise<void> {
      await trx(RECOVERY_CODES_TABLE).where({ user_id: userId }).delete();
    },
  };
}

export type RecoveryCodeStore = ReturnType<typeof recoveryCodeStore>;
