import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as english from '@zxcvbn-ts/language-en';

/**
 * zxcvbn's view of a password: a score from 0 (guessed at once) to 4 (more than 10^10 guesses),
 * and, for a weak one, why (the warning) and what would help (the suggestions), in English.
 */
export interface StrengthEstimate {
  score: number;
  warning?: string;
  suggestions: string[];
}

/**
 * Judged on the first 64 characters: zxcvbn's matching grows much faster than the length, and a
 * password whose first 64 characters are strong is only stronger for the rest. With the l33t
 * substitutions capped too, the worst input (64 random digits) takes about 90 ms instead of
 * 700 ms. It runs in a worker thread (password-pool.ts), never on the event loop.
 */
const SCORED_LENGTH = 64;
const L33T_SUBSTITUTIONS = 10;

let estimator: ZxcvbnFactory | undefined;

/**
 * `userInputs` are words an attacker would try first for this account: the username and the
 * site's name count as known words, as the most common passwords do.
 */
export function estimateStrength(password: string, userInputs: string[]): StrengthEstimate {
  // Built on first use, in the one thread that runs estimates (password-pool.ts says why).
  estimator ??= new ZxcvbnFactory({
    maxLength: SCORED_LENGTH,
    l33tMaxSubstitutions: L33T_SUBSTITUTIONS,
    dictionary: { ...common.dictionary, ...english.dictionary },
    graphs: common.adjacencyGraphs,
    translations: english.translations,
  });
  const { score, feedback } = estimator.check(password, userInputs);
  return { score, warning: feedback.warning ?? undefined, suggestions: feedback.suggestions };
}
