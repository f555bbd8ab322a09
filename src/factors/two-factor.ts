import type { Knex } from 'knex';
import { bumpCredentialsVersion } from '../accounts/users';
import type { Database } from '../db';
import type { DerivedKeys } from '../security/keys';
import { createSecretBox } from '../security/secret-box';
import { authenticatorStore } from './authenticator';
import { recoveryCodeStore } from './recovery-codes';
import { totpCodeStep } from './totp';

/** What proved the second step: the authenticator app's code, or a recovery code. */
export type SecondFactor = 'totp' | 'recovery-code';

export interface TwoFactorStatus {
  enabled: boolean;
  recoveryCodesLeft: number;
}

/**
 * Two-factor sign-in for an account: an authenticator app (TOTP) and its recovery codes. The
 * routes decide when (sign-in, the account's settings); this decides what is true. Every change
 * that turns a factor on or off bumps the account's credentials version, which ends the
 * account's other sessions at their next request (auth/session-auth.ts), whatever the store.
 */
export function createTwoFactor(db: Database, keys: DerivedKeys) {
  const box = createSecretBox(keys.authenticatorSecret);
  const authenticator = authenticatorStore(db, box);
  const recoveryCodes = recoveryCodeStore(db, keys.recoveryCode);
  const setupContext = (userId: number) => `totp setup user ${userId}`;

  return {
    isEnabled: (userId: number): Promise<boolean> => authenticator.has(userId),

    async status(userId: number): Promise<TwoFactorStatus> {
      const enabled = await authenticator.has(userId);
      return { enabled, recoveryCodesLeft: enabled ? await recoveryCodes.remaining(userId) : 0 };
    },

    /** A secret being set up, sealed for the session that holds it until it is confirmed. */
    sealSetup: (userId: number, secret: string) => box.seal(secret, setupContext(userId)),
    openSetup: (userId: number, sealed: string) => box.open(sealed, setupContext(userId))?.plain,

    /**
     * Turns two-factor on with `secret` if `code` is its current code: stores the secret, makes
     * the recovery codes and returns them (the only time they exist in plain text). Undefined,
     * and nothing changed, for a wrong code.
     */
    async enable(
      trx: Knex,
      userId: number,
      secret: string,
      code: string,
    ): Promise<string[] | undefined> {
      const step = totpCodeStep(secret, code.replace(/\s/g, ''));
      if (step === undefined) return undefined;
      await authenticator.save(trx, userId, secret, step);
      await bumpCredentialsVersion(trx, userId);
      return recoveryCodes.replace(trx, userId);
    },

    /**
     * Which factor `code` proves for the account (six digits: the app's code; anything else: a
     * recovery code), or undefined. `consume: false` checks without using anything up, for an
     * attempt that is refused anyway (a locked second step), so it costs the same work.
     */
    async verify(userId: number, code: string, consume = true): Promise<SecondFactor | undefined> {
      const typed = code.replace(/\s/g, '');
      if (/^\d{6}$/.test(typed)) {
        return (await authenticator.accepts(userId, typed, consume)) ? 'totp' : undefined;
      }
      return (await recoveryCodes.accepts(userId, typed, consume)) ? 'recovery-code' : undefined;
    },

    /** Turns two-factor off: the secret and the recovery codes are deleted. */
    async disable(trx: Knex, userId: number): Promise<boolean> {
      const had = await authenticator.has(userId, trx);
      await authenticator.remove(trx, userId);
      await recoveryCodes.removeAll(trx, userId);
      await bumpCredentialsVersion(trx, userId);
      return had;
    },

    /** A new set of recovery codes; the old ones stop working. */
    newRecoveryCodes: (userId: number): Promise<string[]> =>
      db.transaction((trx) => recoveryCodes.replace(trx, userId)),

    /** After a recovery code let someone in: the account's credentials have changed. */
    recoveryCodeUsed: (trx: Knex, userId: number) => bumpCredentialsVersion(trx, userId),
  };
}

export type TwoFactor = ReturnType<typeof createTwoFactor>;
