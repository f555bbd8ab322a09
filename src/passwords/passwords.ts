import { createHmac } from 'node:crypto';
import { createPasswordPool, type PasswordPool, type PasswordWorkOwner } from './password-pool';
import type { StrengthEstimate } from './password-strength';

// Every hash and every check goes through this module, and from here into worker threads
// (password-pool.ts): the event loop never runs bcrypt.

/**
 * bcrypt reads only the first 72 bytes of its input and silently ignores the rest: with plain
 * bcrypt, "a"×72+"X" and "a"×72+"Y" are the same password, and 18 emoji already fill 72 bytes.
 * So every password is first condensed to a fixed 44-character string: HMAC-SHA256 under a fixed,
 * versioned key, base64-encoded (base64, because a raw digest can contain a NUL byte, where some
 * bcrypt implementations stop reading). The whole password counts, whatever its length.
 *
 * NFC first, so a password typed on a keyboard that composes "é" differently still matches.
 */
function prehash(password: string): string {
  return createHmac('sha256', 'express-session-starter/bcrypt-prehash/v1')
    .update(password.normalize('NFC'))
    .digest('base64');
}

/** One pool per process, started by the first password operation. */
let pool: PasswordPool | undefined;
const passwordPool = () => (pool ??= createPasswordPool());

/** `owner`: who the work is for, so the threads are shared fairly (password-pool.ts). */
export async function hashPassword(
  password: string,
  cost: number,
  owner?: PasswordWorkOwner,
): Promise<string> {
  return String(await passwordPool().run({ op: 'hash', input: prehash(password), cost }, owner));
}

export interface VerifyOptions {
  /** The configured cost: a failed check against a cheaper hash costs as much as one at it. */
  minCost?: number;
  owner?: PasswordWorkOwner;
}

export async function verifyPassword(
  password: string,
  hash: string,
  { minCost, owner }: VerifyOptions = {},
): Promise<boolean> {
  const task = { op: 'verify', input: prehash(password), hash, minCost } as const;
  return (await passwordPool().run(task, owner)) === true;
}

/** zxcvbn's estimate for a new password, computed in a worker thread (up to ~90 ms of work). */
export async function estimatePasswordStrength(
  password: string,
  userInputs: string[],
  owner?: PasswordWorkOwner,
): Promise<StrengthEstimate> {
  const task = { op: 'strength', password, userInputs } as const;
  return (await passwordPool().run(task, owner)) as StrengthEstimate;
}

/** Ends the worker threads (graceful shutdown); a later password operation starts new ones. */
export async function closePasswordPool(): Promise<void> {
  const closing = pool;
  pool = undefined;
  await closing?.close();
}
