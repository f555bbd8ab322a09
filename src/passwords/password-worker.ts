import { setPriority } from 'node:os';
import bcrypt from 'bcryptjs';
import { verifyHardened } from './bcrypt-work';
import type { StrengthEstimate } from './password-strength';

/**
 * The password work (bcrypt, and zxcvbn's strength estimate), run in worker threads by
 * password-pool.ts: bcrypt in the password threads, estimates in one thread, the only one that
 * loads zxcvbn's dictionaries (imported at its first estimate, below).
 *
 * Each worker thread runs at the lowest scheduling priority (on Linux, nice values are per
 * thread): when hashing and page requests compete for a core, pages win, and logins take what
 * is left.
 */
try {
  setPriority(19);
} catch {
  // Not permitted here: the thread keeps its default priority.
}

export type PasswordTask =
  | { op: 'hash'; input: string; cost: number }
  | {
      op: 'verify';
      input: string;
      hash: string;
      /** The configured cost: a failed check against a cheaper hash is padded up to it. */
      minCost?: number;
    }
  | { op: 'strength'; password: string; userInputs: string[] };

export type PasswordTaskResult = string | boolean | StrengthEstimate;

/** The pool's entry point (a default export, which is what piscina calls). */
export default function passwordTask(task: PasswordTask): PasswordTaskResult {
  switch (task.op) {
    case 'hash':
      return bcrypt.hashSync(task.input, task.cost);
    case 'verify':
      return verifyHardened(task.input, task.hash, task.minCost);
    case 'strength': {
      // require(), not import: a static import would load the dictionaries into every thread,
      // and import() is not compiled to require() when tsx runs this file (npm run dev, tests).
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const strength = require('./password-strength') as typeof import('./password-strength');
      return strength.estimateStrength(task.password, task.userInputs);
    }
  }
}
