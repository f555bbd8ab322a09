import bcrypt from 'bcryptjs';

// Every hash and every check goes through this module, so the work can move off the event loop
// (bcryptjs's "async" API still computes on it) without touching a caller.

/** NFC first, so a password typed on a keyboard that composes "é" differently still matches. */
function normalisePassword(password: string): string {
  return password.normalize('NFC');
}

export function hashPassword(password: string, cost: number): Promise<string> {
  return bcrypt.hash(normalisePassword(password), cost);
}

export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return bcrypt.compare(normalisePassword(password), hash);
}
