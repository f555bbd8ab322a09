import { setPriority } from 'node:os';
import bcrypt from 'bcryptjs';

/**
 * The bcrypt work, run in worker threads by password-pool.ts. Each worker thread runs at the
 * lowest scheduling priority (on Linux, nice values are per thread): when hashing and page
 * requests compete for a core, pages win, and logins take what is left.
 */
try {
  setPriority(19);
} catch {
  // Not permitted here: the thread keeps its default priority.
}

export type PasswordTask =
  { op: 'hash'; input: string; cost: number } | { op: 'verify'; input: string; hash: string };

/** The pool's entry point (a default export, which is what piscina calls). */
export default function passwordTask(task: PasswordTask): string | boolean {
  return task.op === 'hash'
    ? bcrypt.hashSync(task.input, task.cost)
    : bcrypt.compareSync(task.input, task.hash);
}
