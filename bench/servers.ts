import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../src/paths';
import { freePort } from '../tests/helpers/server-process';

/** Whether `taskset` can pin processes here: the server on core 0, the load generator on 1. */
export const canPin = (() => {
  try {
    execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

export interface RunningServer {
  name: string;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Runs `node <script>` pinned to `cores` (default: core 0) and waits until /healthz answers. */
export async function startServer(
  name: string,
  script: string,
  env: Record<string, string>,
  { cores = '0' }: { cores?: string } = {},
): Promise<RunningServer> {
  const port = await freePort();
  const node = [process.execPath, ...scriptArgs(script)];
  const command = canPin ? ['taskset', '-c', cores, ...node] : node;
  const logFile = path.join(projectRoot, 'bench', 'tmp', `${name}.log`);
  const log = fs.openSync(logFile, 'w');
  const child: ChildProcess = spawn(command[0] ?? '', command.slice(1), {
    cwd: projectRoot,
    env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', ...env },
    // Request logs go to a file, as they would to a log collector, not to a pipe we must drain.
    stdio: ['ignore', log, log],
  });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(`${url}/healthz`)).ok) {
        return {
          name,
          url,
          pid: child.pid ?? 0,
          stop: async () => {
            child.kill('SIGTERM');
            await exited;
          },
        };
      }
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${name} did not start; see ${logFile}`);
}

/** Compiled JavaScript runs as it is; TypeScript through tsx's loader. */
function scriptArgs(script: string): string[] {
  return script.endsWith('.ts') ? ['--import', 'tsx', script] : [script];
}

/** One field of /proc/<pid>/status, as the kernel writes it (`1234 kB`, `0-1`). */
export function statusField(pid: number, name: string): string | undefined {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return new RegExp(`^${name}:\\s+(.+)$`, 'm').exec(status)?.[1];
}

/** The process's resident memory in bytes, from /proc. */
export function residentBytes(pid: number): number {
  const kb = /^(\d+) kB$/.exec(statusField(pid, 'VmRSS') ?? '')?.[1];
  return Number(kb) * 1024;
}
