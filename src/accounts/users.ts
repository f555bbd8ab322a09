import type { Knex } from 'knex';
import type { Database } from '../db';
import { isMySQL, isUniqueViolation } from '../db';
import { PreparedStatements } from '../session-store/prepared-statements';
import { normaliseUsername } from './usernames';

/** What the app knows about a signed-in person: selected columns, never the password hash. */
export interface User {
  id: number;
  username: string;
  createdAt: Date;
  /** The verified e-mail address, the one reset links go to. */
  email?: string;
  /** An address added or changed, waiting for its verification link to be followed. */
  pendingEmail?: string;
}

/**
 * An account with its password hash. Only the auth modules see this type; the hash never reaches
 * a route, a template or a session.
 */
export interface Account {
  user: User;
  passwordHash: string;
  /**
   * Counts changes to the account's credentials other than its password: two-factor turned on
   * or off, a recovery code used. The session's credential stamp covers it with the hash.
   */
  credentialsVersion: number;
}

export class UsernameTakenError extends Error {
  constructor() {
    super('That username is taken');
    this.name = 'UsernameTakenError';
  }
}

interface AccountRow {
  id: number;
  username: string;
  created_at: string | Date;
  password_hash: string;
  email: string | null;
  pending_email: string | null;
  credentials_version: number;
}

const accountColumns = [
  'id',
  'username',
  'created_at',
  'password_hash',
  'email',
  'pending_email',
  'credentials_version',
];

/**
 * What the session store reads with each session (its `owner` option): the account the session
 * belongs to, in the same query, for loadUser. See accountFromOwnerRow().
 */
export const SESSION_OWNER = { table: 'users', columns: accountColumns } as const;

/** The account in a row the session store read with its session (SESSION_OWNER's columns). */
export function accountFromOwnerRow(row: Record<string, unknown>): Account {
  return toAccount(row as unknown as AccountRow);
}

/** The one account matching `where` (a unique column), with everything toAccount() needs. */
async function findAccount(
  db: Database,
  where: { id: number } | { username: string } | { email: string },
): Promise<Account | undefined> {
  const row: AccountRow | undefined = await db('users').select(accountColumns).where(where).first();
  return row && toAccount(row);
}

/**
 * loadUser runs this on every signed-in request when the store does not read the account with
 * the session (the memory store; see SESSION_OWNER), so on SQLite it runs as a statement
 * prepared once (session-store/prepared-statements.ts): knex building and preparing the same
 * SELECT for every page was a tenth of a page view's time (profiled in bench/optimisations.md).
 */
export async function findAccountById(db: Database, id: number): Promise<Account | undefined> {
  const prepared = PreparedStatements.of(db);
  if (!prepared) return findAccount(db, { id });
  const row = await prepared.run(
    `SELECT ${accountColumns.join(', ')} FROM users WHERE id = ?`,
    (statement) => statement.get(id) as AccountRow | undefined,
  );
  return row && toAccount(row);
}

export function findAccountByUsername(
  db: Database,
  username: string,
): Promise<Account | undefined> {
  return findAccount(db, { username: normaliseUsername(username) });
}

/** The account whose verified address this is, if any (an unverified one opens nothing). */
export function findAccountByEmail(db: Database, email: string): Promise<Account | undefined> {
  return findAccount(db, { email });
}

/** Inserts the account; the UNIQUE index decides a race between two registrations of one name. */
export async function createAccount(
  db: Database,
  account: { username: string; passwordHash: string; pendingEmail?: string },
): Promise<Account> {
  try {
    const insert = db('users').insert({
      username: normaliseUsername(account.username),
      password_hash: account.passwordHash,
      pending_email: account.pendingEmail ?? null,
    });
    // MySQL has no RETURNING: knex hands back the bare insert id instead of a row.
    const [inserted] = isMySQL(db) ? await insert : await insert.returning('id');
    const id: number = typeof inserted === 'object' ? inserted.id : inserted;
    const created = await findAccountById(db, id);
    if (!created) throw new Error(`User ${id} vanished after insert`);
    return created;
  } catch (error) {
    if (isUniqueViolation(error)) throw new UsernameTakenError();
    throw error;
  }
}

export async function updatePasswordHash(
  db: Database,
  id: number,
  passwordHash: string,
): Promise<void> {
  await db('users').where({ id }).update({ password_hash: passwordHash, updated_at: db.fn.now() });
}

/** Every session stamped with the account's credentials before this stops matching them. */
export async function bumpCredentialsVersion(db: Knex, id: number): Promise<void> {
  await db('users')
    .where({ id })
    .update({ credentials_version: db.raw('credentials_version + 1'), updated_at: db.fn.now() });
}

export async function deleteAccount(db: Database, id: number): Promise<void> {
  await db('users').where({ id }).delete();
}

export class EmailTakenError extends Error {
  constructor() {
    super('That e-mail address belongs to another account');
    this.name = 'EmailTakenError';
  }
}

/** Sets (or, with undefined, clears) the address waiting for verification. */
export async function setPendingEmail(
  db: Database,
  id: number,
  email: string | undefined,
): Promise<void> {
  await db('users')
    .where({ id })
    .update({ pending_email: email ?? null, updated_at: db.fn.now() });
}

/**
 * Makes `email` the verified address, if it is still the one waiting (a newer change wins).
 * The UNIQUE index decides between two accounts verifying one address: the second is refused.
 */
export async function markEmailVerified(db: Database, id: number, email: string): Promise<boolean> {
  try {
    const changed = await db('users').where({ id, pending_email: email }).update({
      email,
      pending_email: null,
      email_verified_at: db.fn.now(),
      updated_at: db.fn.now(),
    });
    return changed > 0;
  } catch (error) {
    if (isUniqueViolation(error)) throw new EmailTakenError();
    throw error;
  }
}

/** Removes both the verified and the waiting address. */
export async function removeEmail(db: Database, id: number): Promise<void> {
  await db('users').where({ id }).update({
    email: null,
    pending_email: null,
    email_verified_at: null,
    updated_at: db.fn.now(),
  });
}

function toAccount(row: AccountRow): Account {
  return {
    user: {
      id: row.id,
      username: row.username,
      createdAt: toDate(row.created_at),
      ...(row.email ? { email: row.email } : {}),
      ...(row.pending_email ? { pendingEmail: row.pending_email } : {}),
    },
    passwordHash: row.password_hash,
    credentialsVersion: Number(row.credentials_version ?? 0),
  };
}

/** SQLite hands timestamps back as "YYYY-MM-DD HH:MM:SS" text in UTC; other drivers as Dates. */
function toDate(value: string | Date): Date {
  return value instanceof Date ? value : new Date(`${value.replace(' ', 'T')}Z`);
}
