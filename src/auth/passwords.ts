import { createHmac } from 'node:crypto';
import bcrypt from 'bcryptjs';

// Every hash and every check goes through this module, so the work can move off the event loop
// (bcryptjs's "async" API still computes on it) without touching a caller.

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

export function hashPassword(password: string, cost: number): Promise<string> {
  return bcrypt.hash(prehash(password), cost);
}

export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return bcrypt.compare(prehash(password), hash);
}
