// `npm run two-factor -- <command> <username>`: two-factor sign-in, for an operator, on whatever
// database DATABASE_URL names (`npm run two-factor:prod` from the build).
//
//   status <username>    whether two-factor sign-in is on, and how many recovery codes are left
//   disable <username>   turns it off for someone who lost both their phone and their recovery
//                        codes, and ends every session of theirs; logged (two_factor_disabled)
//
// Turning it off hands the account back to its password alone: check who is asking first, the
// way the site's own reset does (a confirmed e-mail address), and have them set it up again.
// An unknown user or command is an error with a message and exit code 1; the database's own
// failures exit with 2.
import pino from 'pino';
import { findAccountByUsername } from '../accounts/users';
import { readConfig } from '../config';
import { createDatabase, type Database } from '../db';
import { createTwoFactor, type TwoFactor } from '../factors/two-factor';
import { createLogger, type Logger } from '../logger';
import { recordOperatorEvent } from '../security/events';
import { deriveKeys } from '../security/keys';
import { createUserSessions, type UserSessions } from '../session/user-sessions';
import { printLines, runCommand, UsageError } from './run-command';

const USAGE = 'usage: npm run two-factor -- status <username> | disable <username>';

interface Tools {
  db: Database;
  twoFactor: TwoFactor;
  /** Undefined with SESSION_STORE=memory: the credential stamp still ends every session. */
  sessions?: UserSessions;
  logger: Logger;
}

async function run(tools: Tools, args: string[]): Promise<string[]> {
  const { db, twoFactor, sessions, logger } = tools;
  const [command, username] = args;
  if (!['status', 'disable'].includes(command ?? '') || !username) throw new UsageError(USAGE);
  const account = await findAccountByUsername(db, username);
  if (!account) throw new UsageError(`no user named "${username}"`);
  const { id } = account.user;

  if (command === 'status') {
    const { enabled, recoveryCodesLeft } = await twoFactor.status(id);
    return enabled
      ? [
          `two-factor sign-in is on for ${username}: ` +
            `${recoveryCodesLeft} recovery code${recoveryCodesLeft === 1 ? '' : 's'} left`,
        ]
      : [`two-factor sign-in is off for ${username}`];
  }
  const { disabled, count } = await db.transaction(async (trx) => ({
    disabled: await twoFactor.disable(trx, id),
    count: (await sessions?.revokeAll(id, trx)) ?? 0,
  }));
  if (!disabled) return [`two-factor sign-in was already off for ${username}; nothing changed`];
  recordOperatorEvent(logger, 'two_factor_disabled', {
    userId: id,
    count,
    reason: 'by an operator (npm run two-factor)',
  });
  return [
    `two-factor sign-in turned off for ${username}; ${count} session${count === 1 ? '' : 's'} ended`,
  ];
}

async function main(): Promise<number> {
  const config = readConfig();
  // JSON lines on stderr, where a log collector reads them; stdout is for the operator.
  const logger = createLogger(config, pino.destination({ fd: 2, sync: true }));
  const db = createDatabase(config, logger);
  const keys = deriveKeys(config.session.secrets);
  const sessions =
    config.session.store === 'database'
      ? createUserSessions(db, keys.sessionHandle[0] ?? '')
      : undefined;
  const tools = { db, twoFactor: createTwoFactor(db, keys), sessions, logger };
  return printLines(
    () => run(tools, process.argv.slice(2)),
    'the database could not be read',
    () => db.destroy(),
  );
}

runCommand(main);
