import type { Database } from '../db';
import { isUniqueViolation } from '../db';

/** What the app knows about a signed-in person: selected columns, never the password hash. */
export interface User {
  id: number;
  username: string;
  createdAt: Date;
}

/** Only the login check sees the hash, and only through this type. */
export interface UserCredentials {
  id: number;
  passwordHash: string;
}

export class UsernameTakenError extends Error {
  constructor() {
    super('That username is taken');
    this.name = 'UsernameTakenError';
  }
}

/**
 * One account per name however it is typed: NFC folds the two Unicode spellings of "é" into one,
 * lower case folds "Alice" into "alice". Stored and looked up in this form only.
 */
export function normaliseUsername(username: string): string {
  return username.trim().toLowerCase().normalize('NFC');
}

interface UserRow {
  id: number;
  username: string;
  created_at: string | Date;
}

export async function findUserById(db: Database, id: number): Promise<User | undefined> {
  const row: UserRow | undefined = await db('users')
    .select('id', 'username', 'created_at')
    .where({ id })
    .first();
  return row && toUser(row);
}

export async function findCredentials(
  db: Database,
  username: string,
): Promise<UserCredentials | undefined> {
  const row = await db('users')
    .select('id', 'password_hash')
    .where({ username: normaliseUsername(username) })
    .first();
  return row && { id: row.id, passwordHash: row.password_hash };
}

/** Inserts the account; the UNIQUE index decides a race between two registrations of one name. */
export async function createUser(
  db: Database,
  account: { username: string; passwordHash: string },
): Promise<User> {
  try {
    const [inserted] = await db('users')
      .insert({
        username: normaliseUsername(account.username),
        password_hash: account.passwordHash,
      })
      .returning('id');
    // MySQL has no RETURNING: knex hands back the bare insert id instead of a row.
    const id = typeof inserted === 'object' ? inserted.id : inserted;
    const user = await findUserById(db, id);
    if (!user) throw new Error(`User ${id} vanished after insert`);
    return user;
  } catch (error) {
    if (isUniqueViolation(error)) throw new UsernameTakenError();
    throw error;
  }
}

function toUser(row: UserRow): User {
  return { id: row.id, username: row.username, createdAt: toDate(row.created_at) };
}

/** SQLite hands timestamps back as "YYYY-MM-DD HH:MM:SS" text in UTC; other drivers as Dates. */
function toDate(value: string | Date): Date {
  return value instanceof Date ? value : new Date(`${value.replace(' ', 'T')}Z`);
}
