import { spawnSync } from 'node:child_process';
import path from 'node:path';

/**
 * Runs one of the command-line tools in src/cli/ as an operator would, in a process of its own,
 * with nothing of the test's environment but PATH and what is given here.
 */
export function runCli(script: string, args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', `src/cli/${script}`, ...args], {
    cwd: path.resolve(__dirname, '..', '..'),
    encoding: 'utf8',
    env: { PATH: process.env.PATH, ...env },
  });
}
