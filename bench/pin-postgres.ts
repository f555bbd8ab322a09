// The PostgreSQL server, when it runs on this machine, is moved to the load generator's core
// while the app servers are measured, and put back afterwards.
//
// Why: in production the database has cores of its own. Left to the scheduler here, its
// processes land on the app's core in some rounds and not in others, and a page round on
// PostgreSQL then measured anywhere from 1 415 to 1 662 req/s within one run: the ratio to SQLite
// was about where the scheduler put the database, not about the app. On core 1 the app's core
// does the app's work only, as it does for every other variant; the database's own CPU per page
// is logged beside its req/s so that nothing it costs is hidden.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import knex from 'knex';
import { knexConfig } from '../src/db';
import { statusField } from './servers';

export interface PinnedPostgres {
  /** CPU seconds used so far by the server's processes (the postmaster and its children). */
  cpuSeconds(): number;
  /** Gives the processes back the cores they had. */
  restore(): void;
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]', '']);
const TICKS_PER_SECOND = 100;

/**
 * Pins the server behind `serverUrl` and every process it has forked, and, through the
 * postmaster, every backend it forks from now on, to `cores`. Returns undefined when the server
 * is not on this machine or cannot be pinned (no taskset, or not allowed): the run goes on
 * unpinned, as on a machine without taskset.
 */
export async function pinPostgres(
  serverUrl: string,
  cores: string,
): Promise<PinnedPostgres | undefined> {
  if (!LOCAL_HOSTS.has(new URL(serverUrl).hostname)) return undefined;
  const postmaster = await postmasterOf(serverUrl);
  if (postmaster === undefined) return undefined;
  const original = statusField(postmaster, 'Cpus_allowed_list') ?? '0-1';
  const taskset = (list: string, pid: number) =>
    execFileSync('taskset', ['-cp', list, String(pid)], { stdio: 'ignore' });
  const pin = (list: string) => {
    for (const { pid } of familyOf(postmaster)) {
      try {
        taskset(list, pid);
      } catch {
        // A backend that ended between the listing and now.
      }
    }
  };
  try {
    // The postmaster first: if it cannot be moved (not allowed), nothing is.
    taskset(cores, postmaster);
  } catch {
    return undefined;
  }
  pin(cores);
  // A benchmark stopped with Ctrl-C must not leave the machine's database on one core.
  const interrupted = () => {
    pin(original);
    process.exit(130);
  };
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
  return {
    cpuSeconds: () =>
      familyOf(postmaster).reduce((sum, { ticks }) => sum + ticks, 0) / TICKS_PER_SECOND,
    restore: () => {
      process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
      pin(original);
    },
  };
}

/** The postmaster: the parent of the backend serving our own connection, if it is here. */
async function postmasterOf(serverUrl: string): Promise<number | undefined> {
  const db = knex(knexConfig(serverUrl));
  try {
    const result = await db.raw<{ rows: { pid: number }[] }>('SELECT pg_backend_pid() AS pid');
    // A server in a container reports a pid of its own namespace: trust it only if the process
    // it names here, and that one's parent, are PostgreSQL's.
    const backend = result.rows[0]?.pid;
    const postmaster = backend === undefined ? undefined : statFields(backend)?.ppid;
    return backend !== undefined && isPostgres(backend) && postmaster && isPostgres(postmaster)
      ? postmaster
      : undefined;
  } catch {
    return undefined;
  } finally {
    await db.destroy();
  }
}

function isPostgres(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
  } catch {
    return false;
  }
}

/** The postmaster and its children, each with its CPU time, from one reading of each stat. */
function familyOf(postmaster: number): { pid: number; ticks: number }[] {
  return fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .flatMap((pid) => {
      const fields = statFields(pid);
      if (!fields || (pid !== postmaster && fields.ppid !== postmaster)) return [];
      // Its own CPU time, and that of its children that have exited and been waited for.
      return [{ pid, ticks: fields.utime + fields.stime + fields.cutime + fields.cstime }];
    });
}

/** /proc/<pid>/stat, read after the command name (which may hold spaces and parentheses). */
function statFields(
  pid: number,
): { ppid: number; utime: number; stime: number; cutime: number; cstime: number } | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
  const field = (index: number) => Number(rest[index]);
  return {
    ppid: field(1),
    utime: field(11),
    stime: field(12),
    cutime: field(13),
    cstime: field(14),
  };
}
