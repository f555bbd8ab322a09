import { dictionary } from '@zxcvbn-ts/language-common';
import type { PasswordWorkOwner } from './password-pool';
import { estimatePasswordStrength } from './passwords';

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

/** Who a new password is for: words it must not contain, or that make it easy to guess. */
export interface PasswordContext {
  username: string;
  siteName: string;
}

/** Why a password was refused, and (for a guessable one) zxcvbn's advice. */
export interface PasswordProblem {
  message: string;
  suggestions?: string[];
}

/**
 * Why a new password is refused, or undefined if it is acceptable. NIST 800-63B's rules: a
 * minimum length, no composition rules, and no password that attackers try first.
 */
export function passwordProblem(
  typed: string,
  context: PasswordContext & { minLength: number },
): PasswordProblem | undefined {
  const message = ruleBroken(typed, context);
  return message === undefined ? undefined : { message };
}

function ruleBroken(
  typed: string,
  context: PasswordContext & { minLength: number },
): string | undefined {
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

/**
 * NIST 800-63B asks verifiers to refuse repetitive or sequential characters and dictionary
 * words, and ASVS 5.0 6.2.4 a list of common passwords *that meet the policy*: at 15 characters
 * almost no entry of a common-password list is long enough to matter ("aaaaaaaaaaaaaaa" and
 * "123456789012345" are on none). zxcvbn estimates how many guesses a cracker's patterns
 * (dictionaries, repeats, sequences, keyboard walks, dates, l33t) need, and a password below
 * `minScore` is refused with zxcvbn's own warning and suggestions.
 *
 * The default minimum, 3, is zxcvbn's own line for "safely unguessable": more than 10^8 guesses.
 * Online that is out of reach (the login throttle allows a few hundred guesses a day per
 * account); offline, against a stolen table, it is hours to days of one GPU per account at
 * bcrypt cost 10, each account on its own since every hash has its own salt. Sites that want
 * more set PASSWORD_MIN_SCORE=4 (10^10 guesses), at the price of refusing more passwords that
 * people chose with care.
 */
export async function strengthProblem(
  typed: string,
  /** `minScore`: the lowest zxcvbn score accepted (0-4; 0 turns the estimate off). */
  context: PasswordContext & { minScore: number },
  owner?: PasswordWorkOwner,
): Promise<PasswordProblem | undefined> {
  if (context.minScore <= 0) return undefined;
  const password = typed.normalize('NFC');
  const inputs = [context.username, context.siteName].filter((input) => input.length > 0);
  const { score, warning, suggestions } = await estimatePasswordStrength(password, inputs, owner);
  if (score >= context.minScore) return undefined;
  return {
    message: ['This password would be too easy to guess.', warning].filter(Boolean).join(' '),
    suggestions,
  };
}
