// `npm run sessions -- <command>`: the operator's view of the session table, on whatever
// database DATABASE_URL names (`npm run sessions:prod` from the build).
//
//   list <username>     the user's live sessions: device, address, signed in, last seen
//   revoke <username>   ends every session of that user at once (after a compromise)
//   stats               live and expired rows
//
// An unknown user or command is an error with a message and exit code 1; the database's own
// failures exit with 2.
import { findAccountByUsername } from '../auth/users';
import { readConfig } from '../config';
import { createDatabase, type Database } from '../db';
import { deriveKeys } from '../security/keys';
import { describeDevice } from '../session/device-name';
import { createUserSessions, type UserSessions } from '../session/user-sessions';

class UsageError extends Error {}

const USAGE = 'usage: npm run sessions -- list <username> | revoke <username> | stats';

async function userId(db: Database, username: string | undefined): Promise<number> {
  if (!username) throw new UsageError(USAGE);
  const account = await findAccountByUsername(db, username);
  if (!account) throw new UsageError(`no user named "${username}"`);
  return account.user.id;
}

async function run(db: Database, sessions: UserSessions, args: string[]): Promise<string[]> {
  const [command, username] = args;
  switch (command) {
    case 'list': {
      const rows = await sessions.list(await userId(db, username));
      if (rows.length === 0) return [`${username} has no live sessions`];
      return rows.map((row) =>
        [
          describeDevice(row.userAgent),
          row.ip ?? 'address not recorded',
          `signed in ${row.createdAt?.toISOString() ?? 'unknown'}`,
          `last seen ${row.lastSeenAt?.toISOString() ?? 'unknown'}`,
          `expires ${row.expiresAt.toISOString()}`,
        ].join('  '),
      );
    }
    case 'revoke': {
      const count = await sessions.revokeAll(await userId(db, username));
      return [`${count} session${count === 1 ? '' : 's'} of ${username} ended`];
    }
    case 'stats': {
      const { live, expired } = await sessions.stats();
      return [`live: ${live}`, `expired, not yet cleaned up: ${expired}`];
    }
    default:
      throw new UsageError(USAGE);
  }
}

async function main(): Promise<number> {
  const config = readConfig();
  if (config.session.store !== 'database') {
    console.error('SESSION_STORE=memory: sessions live in the server process, not in a table');
    return 1;
  }
  const db = createDatabase(config);
  const sessions = createUserSessions(
    db,
    deriveKeys(config.session.secrets).sessionHandle[0] ?? '',
  );
  try {
    for (const line of await run(db, sessions, process.argv.slice(2))) console.log(line);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(error.message);
      return 1;
    }
    console.error(`the session table could not be read: ${(error as Error).message}`);
    return 2;
  } finally {
    await db.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    // A bad configuration, say: readConfig() names every problem.
    console.error((error as Error).message);
    process.exit(1);
  },
);
