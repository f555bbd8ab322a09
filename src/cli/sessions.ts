// `npm run sessions -- <command>`: the operator's view of the session table, on whatever
// database DATABASE_URL names (`npm run sessions:prod` from the build).
//
//   list <username>      the user's live sessions: device, address, signed in, last seen
//   revoke <username>    ends every session of that user at once, and its pending reset links
//   revoke-all --yes     ends every session of every user, and every pending reset link
//   stats                live and expired rows
//
// After a compromise, `revoke` alone does not stop someone who knows the password: they sign in
// again. Change the password (or have the owner reset it) as well. Every revocation writes a
// security event (`session_revoked`) to the log, on stderr.
//
// An unknown user or command is an error with a message and exit code 1; the database's own
// failures exit with 2.
import pino from 'pino';
import { createAccountTokens, type AccountTokens } from '../accounts/account-tokens';
import { findAccountByUsername } from '../accounts/users';
import { readConfig } from '../config';
import { createDatabase, type Database } from '../db';
import { createLogger, type Logger } from '../logger';
import { recordOperatorEvent } from '../security/events';
import { deriveKeys } from '../security/keys';
import { describeDevice } from '../session/device-name';
import { createUserSessions, type UserSessions } from '../session/user-sessions';
import { printLines, runCommand, UsageError } from './run-command';

const USAGE =
  'usage: npm run sessions -- list <username> | revoke <username> | revoke-all --yes | stats';

const BY_OPERATOR = 'by an operator (npm run sessions)';

async function userId(db: Database, username: string | undefined): Promise<number> {
  if (!username) throw new UsageError(USAGE);
  const account = await findAccountByUsername(db, username);
  if (!account) throw new UsageError(`no user named "${username}"`);
  return account.user.id;
}

interface Tools {
  db: Database;
  sessions: UserSessions;
  tokens: AccountTokens;
  logger: Logger;
}

async function run({ db, sessions, tokens, logger }: Tools, args: string[]): Promise<string[]> {
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
      const id = await userId(db, username);
      // A reset link already mailed is a way back in too (ASVS 7.4.5): it goes with the sessions.
      const count = await db.transaction(async (trx) => {
        await tokens.revokeAll(id, 'reset-password', trx);
        return sessions.revokeAll(id, trx);
      });
      recordOperatorEvent(logger, 'session_revoked', {
        userId: id,
        count,
        reason: `every session, ${BY_OPERATOR}`,
      });
      return [
        `${count} session${count === 1 ? '' : 's'} of ${username} ended, and its reset links`,
      ];
    }
    case 'revoke-all': {
      // Everybody signed out at once: asked for in so many words, never by a slip of the keyboard.
      if (username !== '--yes') {
        throw new UsageError(
          'this signs out every user of the site: run npm run sessions -- revoke-all --yes',
        );
      }
      const count = await db.transaction(async (trx) => {
        await tokens.revokeEveryone('reset-password', trx);
        return sessions.revokeEveryone(trx);
      });
      recordOperatorEvent(logger, 'session_revoked', {
        count,
        reason: `every session of every user, ${BY_OPERATOR}`,
      });
      return [
        `${count} session${count === 1 ? '' : 's'} ended, of every user, and every reset link`,
      ];
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
  // JSON lines on stderr, where a log collector reads them; stdout is for the operator.
  const logger = createLogger(config, pino.destination({ fd: 2, sync: true }));
  const db = createDatabase(config, logger);
  const sessions = createUserSessions(
    db,
    deriveKeys(config.session.secrets).sessionHandle[0] ?? '',
  );
  const tools = { db, sessions, tokens: createAccountTokens(db), logger };
  return printLines(
    () => run(tools, process.argv.slice(2)),
    'the session table could not be read',
    () => db.destroy(),
  );
}

runCommand(main);
