import type { Database } from '../db';
import { isMySQL, isUniqueViolation } from '../db';
import { normaliseUsername } from './usernames';

/** What the app knows about a signed-in person: selected columns, never the password hash. */
export interface User {
  id: number;
  username: string;
  createdAt: Date;
}

/**
 * An account with its password hash. Only the auth modules see this type; the hash never reaches
 * a route, a template or a session.
 */
export interface Account {
  user: User;
  passwordHash: string;
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
}

const accountColumns = ['id', 'username', 'created_at', 'password_hash'];

export async function findAccountById(db: Database, id: number): Promise<Account | undefined> {
  const row: AccountRow | undefined = await db('users')
    .select(accountColumns)
    .where({ id })
    .first();
  return row && toAccount(row);
}

export async function findAccountByUsername(
  db: Database,
  username: string,
): Promise<Account | undefined> {
  const row: AccountRow | undefined = await db('users')
    .select(accountColumns)
    .where({ username: normaliseUsername(username) })
    .first();
  return row && toAccount(row);
}

/** Inserts the account; the UNIQUE index decides a race between two registrations of one name. */
export async function createAccount(
  db: Database,
  account: { username: string; passwordHash: string },
): Promise<Account> {
  try {
    const insert = db('users').insert({
      username: normaliseUsername(account.username),
      password_hash: account.passwordHash,
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

export async function deleteAccount(db: Database, id: number): Promise<void> {
  await db('users').where({ id }).delete();
}

function toAccount(row: AccountRow): Account {
  return {
    user: { id: row.id, username: row.username, createdAt: toDate(row.created_at) },
    passwordHash: row.password_hash,
  };
}

/** SQLite hands timestamps back as "YYYY-MM-DD HH:MM:SS" text in UTC; other drivers as Dates. */
function toDate(value: string | Date): Date {
  return value instanceof Date ? value : new Date(`${value.replace(' ', 'T')}Z`);
}
