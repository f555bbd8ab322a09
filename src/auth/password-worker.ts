import { setPriority } from 'node:os';
import bcrypt from 'bcryptjs';
import { verifyHardened } from './bcrypt-work';
import { estimateStrength, type StrengthEstimate } from './password-strength';

/**
 * The password work (bcrypt, and zxcvbn's strength estimate), run in worker threads by
 * password-pool.ts. Each worker thread runs at the lowest scheduling priority (on Linux, nice
 * values are per thread): when hashing and page requests compete for a core, pages win, and
 * logins take what is left.
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
    case 'strength':
      return estimateStrength(task.password, task.userInputs);
  }
}
