import bcrypt from 'bcryptjs';

// The bcrypt work itself, as the password threads run it (password-worker.ts). Kept apart from
// the worker's entry point, which lowers its thread's priority when loaded.

/** The cost a bcrypt hash was made with, read from its prefix (0 for text that is not one). */
export function hashCost(hash: string): number {
  try {
    return bcrypt.getRounds(hash);
  } catch {
    return 0;
  }
}

/**
 * A check against a hash made at a lower cost than the configured one costs less, and that would
 * tell an attacker timing the login that the account is old (or exists at all, since an unknown
 * name is checked against a decoy at the configured cost). A wrong password is therefore checked
 * again until the work adds up to the configured cost: 2^(configured - stored) checks in all, as
 * Django's harden_runtime() does. A right one is re-hashed at the configured cost by the caller
 * (credentials.ts), which costs the same.
 */
export function verifyHardened(input: string, hash: string, minCost?: number): boolean {
  const matches = bcrypt.compareSync(input, hash);
  if (matches || minCost === undefined) return matches;
  for (let extra = 2 ** Math.max(0, minCost - hashCost(hash)) - 1; extra > 0; extra--) {
    bcrypt.compareSync(input, hash);
  }
  return false;
}
