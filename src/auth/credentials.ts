import type { Database } from '../db';
import { hashPassword, verifyPassword } from './passwords';
import { findAccountById, findAccountByUsername, type Account } from './users';

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

/**
 * The account these credentials open, or undefined. An unknown name and a wrong password cost
 * the same bcrypt work and give the same answer, so callers cannot tell them apart either.
 */
export async function authenticate(
  db: Database,
  credentials: { username: string; password: string },
  cost: number,
): Promise<Account | undefined> {
  const account = await findAccountByUsername(db, credentials.username);
  if (!account) {
    await verifyPassword(credentials.password, await decoyHash(cost));
    return undefined;
  }
  return (await verifyPassword(credentials.password, account.passwordHash)) ? account : undefined;
}

/** Re-checks the signed-in user's password before a sensitive change (password, deletion). */
export async function confirmPassword(
  db: Database,
  userId: number,
  password: string,
): Promise<Account | undefined> {
  const account = await findAccountById(db, userId);
  if (!account) return undefined;
  return (await verifyPassword(password, account.passwordHash)) ? account : undefined;
}
