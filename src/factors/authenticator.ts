import type { Knex } from 'knex';
import type { Database } from '../db';
import type { SecretBox } from '../security/secret-box';
import { totpCodeStep } from './totp';

export const AUTHENTICATORS_TABLE = 'totp_authenticators';

/** What the sealed secret is bound to: a value copied to another account's row fails to open. */
const sealContext = (userId: number) => `totp user ${userId}`;

/**
 * An account's authenticator app: its TOTP secret, sealed (security/secret-box.ts), and the last
 * step a code was accepted for.
 */
export function authenticatorStore(db: Database, box: SecretBox) {
  /** The account's secret in plain text, sealed again under the current key if it was old. */
  async function secretOf(userId: number): Promise<string | undefined> {
    const row: { secret: string } | undefined = await db(AUTHENTICATORS_TABLE)
      .where({ user_id: userId })
      .first('secret');
    if (!row) return undefined;
    const opened = box.open(row.secret, sealContext(userId));
    if (!opened) throw new Error(`The authenticator secret of user ${userId} does not open`);
    if (opened.stale) {
      await db(AUTHENTICATORS_TABLE)
        .where({ user_id: userId, secret: row.secret })
        .update({ secret: box.seal(opened.plain, sealContext(userId)) });
    }
    return opened.plain;
  }

  return {
    sealContext,
    secretOf,

    async has(userId: number, trx: Knex = db): Promise<boolean> {
      return (
        (await trx(AUTHENTICATORS_TABLE).where({ user_id: userId }).first('user_id')) !== undefined
      );
    },

    /** Stores a confirmed secret, with the step of the code that confirmed it already used. */
    async save(trx: Knex, userId: number, secret: string, step: number): Promise<void> {
      await trx(AUTHENTICATORS_TABLE).where({ user_id: userId }).delete();
      await trx(AUTHENTICATORS_TABLE).insert({
        user_id: userId,
        secret: box.seal(secret, sealContext(userId)),
        last_step: step,
        created_at: trx.fn.now(),
      });
    },

    /**
     * Whether `code` is the account's current code (or a neighbour's, for drift) and newer than
     * any accepted before. Accepting is one conditional UPDATE: of two instances given the same
     * code at the same moment, one wins and the other is refused, and a code whose step is not
     * after the last accepted one (the same code again, or an older one) is refused for good.
     * With `consume: false` the code is checked but not used up.
     */
    async accepts(userId: number, code: string, consume: boolean): Promise<boolean> {
      const secret = await secretOf(userId);
      const step = secret === undefined ? undefined : totpCodeStep(secret, code);
      if (step === undefined) return false;
      const fresh = (query: Knex.QueryBuilder) =>
        query.where({ user_id: userId }).andWhere((newer) => {
          void newer.whereNull('last_step').orWhere('last_step', '<', step);
        });
      if (!consume) return (await fresh(db(AUTHENTICATORS_TABLE)).first('user_id')) !== undefined;
      return (await fresh(db(AUTHENTICATORS_TABLE)).update({ last_step: step })) > 0;
    },

    async remove(trx: Knex, userId: number): Promise<void> {
      await trx(AUTHENTICATORS_TABLE).where({ user_id: userId }).delete();
    },
  };
}

export type AuthenticatorStore = ReturnType<typeof authenticatorStore>;
