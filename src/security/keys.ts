import { hkdfSync } from 'node:crypto';

/**
 * What each derived key is for. One configured secret serves several jobs, but no two jobs share
 * a key: a value one of them signs (a cookie signature, a CSRF token, a credential stamp, a log
 * tag) is worthless to the others, and learning one key (say, from a log tag) reveals nothing
 * about the rest.
 */
const PURPOSES = {
  sessionCookie: 'session cookie signature',
  csrf: 'csrf token',
  credentialStamp: 'session credential stamp',
  logTag: 'log tag',
  sessionHandle: 'session handle',
  deviceCookie: 'device cookie signature',
  authenticatorSecret: 'authenticator secret encryption',
  recoveryCode: 'recovery code hash',
} as const;

export type KeyPurpose = keyof typeof PURPOSES;

/**
 * For each purpose, one key per configured secret, in the same order: the first signs, all
 * verify, so `SESSION_SECRETS=new,old` rotates every job at once. The log tag uses the first only
 * (a tag is compared, never verified).
 */
export type DerivedKeys = Record<KeyPurpose, readonly string[]>;

/**
 * HKDF-SHA256 (RFC 5869) from the configured secret, with the purpose as its `info`: a 256-bit key
 * per purpose, as text (base64url), since cookie-signature and csrf-csrf take string secrets.
 */
export function deriveKey(secret: string, purpose: KeyPurpose): string {
  const info = `express-session-starter/${PURPOSES[purpose]}/v1`;
  return Buffer.from(hkdfSync('sha256', secret, '', info, 32)).toString('base64url');
}

export function deriveKeys(secrets: readonly string[]): DerivedKeys {
  const keys = {} as Record<KeyPurpose, string[]>;
  for (const purpose of Object.keys(PURPOSES) as KeyPurpose[]) {
    keys[purpose] = secrets.map((secret) => deriveKey(secret, purpose));
  }
  return keys;
}
