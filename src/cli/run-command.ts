/**
 * Runs a command-line tool's main(): the process exits with the code it returns, or with 1 and
 * the message of whatever it threw (a bad configuration, say: readConfig() names every problem).
 */
export function runCommand(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error((error as Error).message);
      process.exit(1);
    },
  );
}

/** A tool called the wrong way (an unknown command or user): its message, and exit code 1. */
export class UsageError extends Error {}

/**
 * Prints the lines `work` answers with, for the operator, and returns the exit code: 0; 1 and the
 * message of a UsageError; 2 for anything else (the database's failures), after `failure`.
 * `close` runs either way, so the process is not held open by a pool.
 */
export async function printLines(
  work: () => Promise<string[]>,
  failure: string,
  close: () => Promise<void>,
): Promise<number> {
  try {
    for (const line of await work()) console.log(line);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(error.message);
      return 1;
    }
    console.error(`${failure}: ${(error as Error).message}`);
    return 2;
  } finally {
    await close();
  }
}
