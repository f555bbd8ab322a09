import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * A secret the server must read back (an authenticator app's TOTP key), sealed for the database
 * with AES-256-GCM: a leaked table, or a backup, opens nothing without the configured secret.
 * GCM also authenticates: a sealed value altered, or moved to another row (`context` is bound in
 * as associated data, e.g. "totp user 7"), fails to open instead of opening to something else.
 *
 * `keys` are the purpose's keys, one per configured secret (security/keys.ts): the first seals,
 * all open, so `SESSION_SECRETS=new,old` keeps every sealed value readable while it rotates.
 */
export interface SecretBox {
  seal(plain: string, context: string): string;
  /** The plain text, and whether it was sealed with an old key (seal it again); or undefined. */
  open(sealed: string, context: string): { plain: string; stale: boolean } | undefined;
}

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function createSecretBox(keys: readonly string[]): SecretBox {
  const keyBytes = keys.map((key) => Buffer.from(key, 'base64url'));
  if (keyBytes.length === 0) throw new Error('A secret box needs at least one key');

  return {
    seal(plain, context) {
      // A fresh random nonce per value: GCM must never reuse one under the same key.
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', keyBytes[0] as Buffer, iv);
      cipher.setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      const parts = [iv, body, cipher.getAuthTag()].map((part) => part.toString('base64url'));
      return [VERSION, ...parts].join('.');
    },

    open(sealed, context) {
      const [version, iv, body, tag] = sealed.split('.');
      if (version !== VERSION || !iv || body === undefined || !tag) return undefined;
      for (const [index, key] of keyBytes.entries()) {
        try {
          const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), {
            authTagLength: TAG_BYTES,
          });
          decipher.setAAD(Buffer.from(context));
          decipher.setAuthTag(Buffer.from(tag, 'base64url'));
          const plain = Buffer.concat([
            decipher.update(Buffer.from(body, 'base64url')),
            decipher.final(),
          ]).toString('utf8');
          return { plain, stale: index > 0 };
        } catch {
          // Not this key (or not authentic): try the next one.
        }
      }
      return undefined;
    },
  };
}
