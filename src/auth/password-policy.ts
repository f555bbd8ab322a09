import { dictionary } from '@zxcvbn-ts/language-common';

/** Long enough for any passphrase, short enough that hashing it is no denial-of-service lever. */
export const PASSWORD_MAX_LENGTH = 256;

/**
 * The common-password list of zxcvbn-ts (@zxcvbn-ts/language-common, ~49,000 passwords seen most
 * often in public breach corpora), lower-cased. Loaded once, checked in memory.
 */
const COMMON_PASSWORDS = new Set(
  dictionary['passwords-common'].map((password: string) => password.toLowerCase()),
);

/** Lengths in characters (code points), as a person counts them, not UTF-16 units or bytes. */
export const characterCount = (value: string): number => [...value].length;

/** Lower case, letters and digits only: "Session-Starter" and "sessionstarter" compare equal. */
const fold = (value: string) =>
  value
    .normalize('NFC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');

export interface PasswordContext {
  minLength: number;
  username: string;
  siteName: string;
}

/**
 * Why a new password is refused, or undefined if it is acceptable. NIST 800-63B's rules: a
 * minimum length, no composition rules, and no password that attackers try first.
 */
export function passwordProblem(typed: string, context: PasswordContext): string | undefined {
  // Measured as it will be hashed (passwords.ts hashes the NFC form): five Hangul syllables sent
  // decomposed are 15 code points, but still five characters and the same password.
  const password = typed.normalize('NFC');
  const length = characterCount(password);
  if (length < context.minLength) {
    return `Use at least ${context.minLength} characters. A few unrelated words make a strong password.`;
  }
  if (length > PASSWORD_MAX_LENGTH) return `Use at most ${PASSWORD_MAX_LENGTH} characters.`;

  const lower = password.toLowerCase();
  if (COMMON_PASSWORDS.has(lower) || COMMON_PASSWORDS.has(lower.replace(/\s+/g, ''))) {
    return 'This is one of the most commonly used passwords, so it is among the first guessed. Choose another.';
  }
  const folded = fold(password);
  const username = fold(context.username);
  if (username.length >= 3 && folded.includes(username)) {
    return 'Your password must not contain your username.';
  }
  const siteName = fold(context.siteName);
  if (siteName.length >= 3 && folded.includes(siteName)) {
    return 'Your password must not contain the name of this site.';
  }
  return undefined;
}
