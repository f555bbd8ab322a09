import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Piscina } from 'piscina';
import { HttpError } from '../errors';
import { paths } from '../paths';
import type { PasswordTask, PasswordTaskResult } from './password-worker';

/**
 * Too many password checks are already waiting: the request gets a 503 with Retry-After at once,
 * rather than a place at the end of a queue that would only grow during a login storm.
 */
export class PasswordWorkBusyError extends HttpError {
  constructor() {
    super(503, 'EPASSWORDBUSY', 2);
    this.name = 'PasswordWorkBusyError';
  }
}

/** Longest a hash or check may run in its thread: far beyond what a healthy pool needs. */
const TASK_DEADLINE_MS = 15_000;

export interface PasswordPool {
  run(task: PasswordTask): Promise<PasswordTaskResult>;
  close(): Promise<void>;
}

export interface PasswordPoolOptions {
  /** Worker threads (default: one fewer than the cores this process may use, at least one). */
  threads?: number;
  /** Tasks that may wait for a free thread; more are refused (default: 16 per thread). */
  queueLimit?: number;
}

/**
 * bcrypt off the event loop. bcryptjs's "async" API only slices the work into chunks that still
 * run on the main thread: during a login storm every other page waits behind them. Here each
 * hash or check runs in a worker thread (piscina), and the main thread stays free for pages.
 */
export function createPasswordPool(options: PasswordPoolOptions = {}): PasswordPool {
  const threads = options.threads ?? Math.max(1, availableParallelism() - 1);
  const queueLimit = options.queueLimit ?? 16 * threads;
  const worker = path.join(__dirname, `password-worker${paths.moduleExtension}`);
  const pool = new Piscina<PasswordTask, PasswordTaskResult>({
    filename: worker,
    // The threads start with the pool and stay (idle, they hold no core and do not keep the
    // process alive). Letting them end when idle cost more than it saved: in the benchmark,
    // the first burst of logins after an idle spell lost tasks in a restarting pool.
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Infinity,
    // Run from TypeScript (npm run dev, the tests): the worker thread needs tsx's loader too.
    execArgv: worker.endsWith('.ts') ? ['--require', require.resolve('tsx/cjs')] : [],
  });
  // Our own first-come-first-served queue in front of piscina, which only ever holds as many
  // tasks as it has threads. Measured with ten clients submitting without pause: left to
  // queue on its own, piscina kept four tasks waiting for the whole run (6-13 s) while later
  // ones went ahead. Here every task waits only for those that came before it.
  const waiting: (() => void)[] = [];
  let running = 0;
  const takeSlot = async () => {
    if (running < threads) {
      running++;
      return;
    }
    if (waiting.length >= queueLimit) throw new PasswordWorkBusyError();
    // The slot is handed over by the task that finishes (running stays the same).
    await new Promise<void>((resolve) => waiting.push(resolve));
  };
  const releaseSlot = () => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };

  return {
    async run(task) {
      await takeSlot();
      // Whatever happens in a worker, the request gets an answer: a task not done by then is
      // abandoned (its thread replaced) and the visitor gets the 503 to try again.
      try {
        return await pool.run(task, { signal: AbortSignal.timeout(TASK_DEADLINE_MS) });
      } catch (error) {
        if ((error as { name?: unknown }).name === 'AbortError') throw new PasswordWorkBusyError();
        throw error;
      } finally {
        releaseSlot();
      }
    },
    close: () => pool.close(),
  };
}
