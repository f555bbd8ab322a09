import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Piscina } from 'piscina';
import { HttpError } from '../http-error';
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

/** Who a task is for, so that no one client can take the threads from everyone else. */
export interface PasswordWorkOwner {
  /** The client's address key (security/client-address.ts). */
  address: string;
  /** The account a check is for (its normalised name): one check in flight at a time. */
  account?: string;
}

export interface PasswordPool {
  /** Tasks with no owner (the seed, the benchmark's set-up) are not held to any share. */
  run(task: PasswordTask, owner?: PasswordWorkOwner): Promise<PasswordTaskResult>;
  /**
   * Threads started so far: bcrypt's, and the strength estimates' own (0 until the first
   * estimate, and always 0 with one password thread, which then runs them).
   */
  threads(): { password: number; strength: number };
  close(): Promise<void>;
}

export interface PasswordPoolOptions {
  /** Worker threads (default: one fewer than the cores this process may use, at least one). */
  threads?: number;
  /** Tasks that may wait for a free thread; more are refused with 503 (default: 16 per thread). */
  queueLimit?: number;
  /** Tasks one address may have running at once (default 2). */
  runningPerAddress?: number;
  /** Tasks one address may have waiting; more are refused with 429 (default 8). */
  waitingPerAddress?: number;
  /** Told as each task starts and ends in its thread: for tests and metrics. */
  observe?: (event: 'start' | 'end', owner: PasswordWorkOwner | undefined) => void;
}

interface Waiting {
  owner: PasswordWorkOwner | undefined;
  start: () => void;
  /** Gives the place up: the task is refused with `error` instead of run. */
  refuse: (error: Error) => void;
}

/** An address's share of the waiting places is taken: by its own tasks, or given to others'. */
const outWaited = () =>
  new HttpError(429, 'ETHROTTLED', 2, { reason: 'password checks waiting per address' });

/**
 * bcrypt off the event loop. bcryptjs's "async" API only slices the work into chunks that still
 * run on the main thread: during a login storm every other page waits behind them. Here each
 * hash or check runs in a worker thread (piscina), and the main thread stays free for pages.
 *
 * The threads are shared fairly. Each address waits in a line of its own, and the lines are
 * served in turn (round robin), so a second address is served next, not after all that the
 * first one queued; one address has at most `runningPerAddress` tasks running and
 * `waitingPerAddress` waiting, and one account at most one check running. Measured before this
 * (issue: "any registered user can deny login to everyone"): twenty correct logins at a time
 * from one address filled the queue and every other visitor got 503.
 */
export function createPasswordPool(options: PasswordPoolOptions = {}): PasswordPool {
  const threads = options.threads ?? Math.max(1, availableParallelism() - 1);
  const queueLimit = options.queueLimit ?? 16 * threads;
  const runningPerAddress = options.runningPerAddress ?? 2;
  const waitingPerAddress = options.waitingPerAddress ?? 8;
  const worker = path.join(__dirname, `password-worker${paths.moduleExtension}`);
  const threadPool = (size: number) =>
    new Piscina<PasswordTask, PasswordTaskResult>({
      filename: worker,
      // The threads start with their pool and stay (idle, they hold no core and do not keep
      // the process alive). Letting them end when idle cost more than it saved: in the
      // benchmark, the first burst of logins after an idle spell lost tasks in a restarting pool.
      minThreads: size,
      maxThreads: size,
      idleTimeout: Infinity,
      // Run from TypeScript (npm run dev, the tests): the worker thread needs tsx's loader too.
      execArgv: worker.endsWith('.ts') ? ['--require', require.resolve('tsx/cjs')] : [],
    });
  const pool = threadPool(threads);
  // Strength estimates all run in one thread, which alone loads zxcvbn's dictionaries, at its
  // first estimate: about 40 MB, 65 MB once the estimator is built. Loaded in every password
  // thread, they cost a process with four threads 150 MB at start and 266 MB once estimates had
  // run in each (measured); with estimates in a thread of their own, 40 MB and 119 MB. They are
  // rare (registering, changing a password) and take well under 100 ms, so one thread serves
  // them. With a single password thread (two cores), that thread runs them: a second one would
  // only add its own memory. They take one of the `threads` places below like any task, so the
  // fair shares hold for them too.
  let strengthPool: Piscina<PasswordTask, PasswordTaskResult> | undefined;
  const poolFor = (task: PasswordTask) =>
    task.op !== 'strength' || threads === 1 ? pool : (strengthPool ??= threadPool(1));

  // Our own queue in front of piscina, which only ever holds as many tasks as it has threads.
  // Left to queue on its own, piscina kept four tasks waiting for a whole 6-13 s run while later
  // ones went ahead (ten clients submitting without pause).
  /** One line per address, first come first served within it; "" for tasks with no owner. */
  const lines = new Map<string, Waiting[]>();
  let waiting = 0;
  let running = 0;
  const runningByAddress = new Map<string, number>();
  const runningByAccount = new Map<string, number>();
  /** When each busy address last had a task started (a counter, not a clock). */
  const lastServed = new Map<string, number>();
  let starts = 0;
  const count = (counts: Map<string, number>, key: string | undefined, by: number) => {
    if (key === undefined) return;
    const next = (counts.get(key) ?? 0) + by;
    if (next === 0) counts.delete(key);
    else counts.set(key, next);
  };

  const mayStart = (owner: PasswordWorkOwner | undefined) =>
    running < threads &&
    (owner === undefined ||
      ((runningByAddress.get(owner.address) ?? 0) < runningPerAddress &&
        (owner.account === undefined || !runningByAccount.has(owner.account))));

  const started = (owner: PasswordWorkOwner | undefined) => {
    running++;
    count(runningByAddress, owner?.address, 1);
    count(runningByAccount, owner?.account, 1);
    lastServed.set(owner?.address ?? '', ++starts);
  };

  /**
   * Starts waiting tasks while threads are free. Each time, the line whose address was served
   * least recently (or never) and whose first task may start: a second address goes ahead of
   * everything a first one queued, and busy addresses take turns.
   */
  const dispatch = () => {
    while (running < threads) {
      let chosen: { address: string; line: Waiting[]; served: number } | undefined;
      for (const [address, line] of lines) {
        const served = lastServed.get(address) ?? 0;
        if (line[0] && mayStart(line[0].owner) && (!chosen || served < chosen.served)) {
          chosen = { address, line, served };
        }
      }
      if (!chosen) return;
      const next = chosen.line.shift() as Waiting;
      waiting--;
      if (chosen.line.length === 0) lines.delete(chosen.address);
      started(next.owner);
      next.start();
    }
  };

  /**
   * The queue is full and `address` wants a place: the address with the most waiting gives up
   * its newest one (refused with 429), if it has at least two more than `address` has. One
   * address's flood may fill an idle queue, but every other address that arrives takes a place
   * back from it; only a queue shared out evenly refuses a newcomer (503). Measured (npm run
   * bench, (8)): while one address flooded registrations, half of ten other people's logins
   * were refused without this (its eight waiting and their ten overflowed a queue of 16), and
   * none with it.
   */
  const makeRoom = (address: string): boolean => {
    const mine = lines.get(address)?.length ?? 0;
    let heaviest: { address: string; line: Waiting[] } | undefined;
    for (const [other, line] of lines) {
      // '' holds the app's own work (the seed, the decoy hash), which no one can flood.
      if (other === address || other === '' || line.length < mine + 2) continue;
      if (!heaviest || line.length > heaviest.line.length) heaviest = { address: other, line };
    }
    const given = heaviest?.line.pop();
    if (!heaviest || !given) return false;
    waiting--;
    if (heaviest.line.length === 0) lines.delete(heaviest.address);
    given.refuse(outWaited());
    return true;
  };

  const takeSlot = async (owner: PasswordWorkOwner | undefined) => {
    const address = owner?.address ?? '';
    // Nothing that may start is ever left waiting while a thread is free (dispatch()), so a
    // task that may start now would be first in line anyway.
    if (mayStart(owner)) {
      started(owner);
      return;
    }
    const line = lines.get(address) ?? [];
    if (owner !== undefined && line.length >= waitingPerAddress) throw outWaited();
    if (waiting >= queueLimit && !makeRoom(address)) {
      // Full, and shared out evenly: busy for a newcomer, but an address that already has a
      // place waiting is told its share is taken.
      throw owner !== undefined && line.length > 0 ? outWaited() : new PasswordWorkBusyError();
    }
    await new Promise<void>((start, refuse) => {
      line.push({ owner, start, refuse });
      lines.set(address, line);
      waiting++;
    });
  };

  const releaseSlot = (owner: PasswordWorkOwner | undefined) => {
    running--;
    count(runningByAddress, owner?.address, -1);
    count(runningByAccount, owner?.account, -1);
    const address = owner?.address ?? '';
    // An address with nothing running or waiting is forgotten: it comes back as a newcomer.
    if (!runningByAddress.has(address) && !lines.has(address)) lastServed.delete(address);
    dispatch();
  };

  return {
    async run(task, owner) {
      await takeSlot(owner);
      options.observe?.('start', owner);
      // Whatever happens in a worker, the request gets an answer: a task not done by then is
      // abandoned (its thread replaced) and the visitor gets the 503 to try again.
      try {
        return await poolFor(task).run(task, { signal: AbortSignal.timeout(TASK_DEADLINE_MS) });
      } catch (error) {
        if ((error as { name?: unknown }).name === 'AbortError') throw new PasswordWorkBusyError();
        throw error;
      } finally {
        options.observe?.('end', owner);
        releaseSlot(owner);
      }
    },
    threads: () => ({ password: pool.threads.length, strength: strengthPool?.threads.length ?? 0 }),
    async close() {
      await Promise.all([pool.close(), strengthPool?.close()]);
    },
  };
}
