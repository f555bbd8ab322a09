import type { Database } from '../db';
import { hashPassword, verifyPassword } from './passwords';
import { findCredentials } from './users';

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

/** The id of the account these credentials open, or undefined: callers cannot tell why. */
export async function authenticate(
  db: Database,
  credentials: { username: string; password: string },
  cost: number,
): Promise<number | undefined> {
  const account = await findCredentials(db, credentials.username);
  if (!account) {
    await verifyPassword(credentials.password, await decoyHash(cost));
    return undefined;
  }
  return (await verifyPassword(credentials.password, account.passwordHash))
    ? account.id
    : undefined;
}
