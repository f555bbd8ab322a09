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
