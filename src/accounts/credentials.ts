import type { Database } from '../db';
import type { PasswordWorkOwner } from '../passwords/password-pool';
import { hashCost } from '../passwords/bcrypt-work';
import { hashPassword, verifyPassword } from '../passwords/passwords';
import { findAccountById, findAccountByUsername, updatePasswordHash, type Account } from './users';

/**
 * A real hash at the configured cost for names that have no account: checking against it costs
 * what a real check costs, so the response time does not tell an attacker which names exist.
 */
const decoyHashes = new Map<number, Promise<string>>();
function decoyHash(cost: number): Promise<string> {
  let hash = decoyHashes.get(cost);
  if (!hash) {
    hash = hashPassword('decoy password that matches no one', cost);
    decoyHashes.set(cost, hash);
  }
  return hash;
}

export interface CheckOptions {
  /** BCRYPT_COST: what every check costs, whatever the stored hash's own cost. */
  cost: number;
  /** Who the check is for, for the password threads' fair shares. */
  owner?: PasswordWorkOwner;
}

/**
 * The account these credentials open, or undefined. An unknown name and a wrong password cost
 * the same bcrypt work and give the same answer, so callers cannot tell them apart either.
 *
 * Every check costs the configured cost: an unknown name against the decoy, a hash stored at a
 * lower cost (BCRYPT_COST was raised since) padded up to it when the password is wrong, and
 * re-hashed at it when the password is right, so the table catches up one login at a time.
 */
export async function authenticate(
  db: Database,
  credentials: { username: string; password: string },
  { cost, owner }: CheckOptions,
): Promise<Account | undefined> {
  const account = await findAccountByUsername(db, credentials.username);
  if (!account) {
    await verifyPassword(credentials.password, await decoyHash(cost), { minCost: cost, owner });
    return undefined;
  }
  if (
    !(await verifyPassword(credentials.password, account.passwordHash, { minCost: cost, owner }))
  ) {
    return undefined;
  }
  if (hashCost(account.passwordHash) >= cost) return account;
  // A new hash changes the credential stamp: this user's other sessions end at their next
  // request, as after a password change (docs/security.md, "Raising BCRYPT_COST").
  const passwordHash = await hashPassword(credentials.password, cost, owner);
  await updatePasswordHash(db, account.user.id, passwordHash);
  return { ...account, passwordHash };
}

/** Re-checks the signed-in user's password before a sensitive change (password, deletion). */
export async function confirmPassword(
  db: Database,
  userId: number,
  password: string,
  { cost, owner }: CheckOptions,
): Promise<Account | undefined> {
  const account = await findAccountById(db, userId);
  if (!account) return undefined;
  const matches = await verifyPassword(password, account.passwordHash, { minCost: cost, owner });
  return matches ? account : undefined;
}
