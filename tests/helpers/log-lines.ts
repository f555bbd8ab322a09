import { Writable } from 'node:stream';

/**
 * A destination for the app's logger (createTestApp's `logStream`) that keeps every JSON line
 * it is given, parsed, in `lines`, in the order they were written.
 */
export function logLines(): { lines: Record<string, unknown>[]; logStream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logStream };
}
