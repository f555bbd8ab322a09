import { randomBytes } from 'node:crypto';
import type { Database } from '../db';

export const PASSKEYS_TABLE = 'passkeys';

/** The longest credential id stored (base64url characters): the column's width. */
export const MAX_CREDENTIAL_ID_LENGTH = 512;

type Transport = 'ble' | 'cable' | 'hybrid' | 'internal' | 'nfc' | 'smart-card' | 'usb';

export interface Passkey {
  id: number;
  userId: number;
  /** base64url, as WebAuthn names it. */
  credentialId: string;
  userHandle: string;
  /** The COSE public key, base64url. */
  publicKey: string;
  counter: number;
  transports: Transport[];
  /** Synced between devices by a password manager or platform (backed up), or bound to one. */
  backedUp: boolean;
  deviceType: 'singleDevice' | 'multiDevice';
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

interface PasskeyRow {
  id: number;
  user_id: number;
  credential_id: string;
  user_handle: string;
  public_key: string;
  counter: number | string;
  transports: string;
  backed_up: boolean | number;
  device_type: string;
  name: string;
  created_at: Date | string | number;
  last_used_at: Date | string | number | null;
}

// SQLite hands timestamps back as numbers or text, PostgreSQL and MySQL as Dates.
const toDate = (value: Date | string | number) => (value instanceof Date ? value : new Date(value));

const fromRow = (row: PasskeyRow): Passkey => ({
  id: row.id,
  userId: row.user_id,
  credentialId: row.credential_id,
  userHandle: row.user_handle,
  publicKey: row.public_key,
  counter: Number(row.counter),
  transports: row.transports ? (row.transports.split(',') as Transport[]) : [],
  backedUp: Boolean(row.backed_up),
  deviceType: row.device_type === 'multiDevice' ? 'multiDevice' : 'singleDevice',
  name: row.name,
  createdAt: toDate(row.created_at),
  lastUsedAt: row.last_used_at === null ? null : toDate(row.last_used_at),
});

export type NewPasskey = Omit<Passkey, 'id' | 'createdAt' | 'lastUsedAt'>;

/** An account's passkeys: the public half of each, and what the account page shows of them. */
export function passkeyStore(db: Database) {
  return {
    async listFor(userId: number): Promise<Passkey[]> {
      const rows: PasskeyRow[] = await db(PASSKEYS_TABLE).where({ user_id: userId }).orderBy('id');
      return rows.map(fromRow);
    },

    async byCredentialId(credentialId: string): Promise<Passkey | undefined> {
      const row: PasskeyRow | undefined = await db(PASSKEYS_TABLE)
        .where({ credential_id: credentialId })
        .first();
      return row && fromRow(row);
    },

    /**
     * The user handle for the account's next passkey: the one its passkeys already carry (so an
     * authenticator that holds one replaces it rather than keeping two), or 32 new random bytes.
     */
    async userHandleFor(userId: number): Promise<string> {
      const row: { user_handle: string } | undefined = await db(PASSKEYS_TABLE)
        .where({ user_id: userId })
        .first('user_handle');
      return row?.user_handle ?? randomBytes(32).toString('base64url');
    },

    async add(passkey: NewPasskey): Promise<void> {
      await db(PASSKEYS_TABLE).insert({
        user_id: passkey.userId,
        credential_id: passkey.credentialId,
        user_handle: passkey.userHandle,
        public_key: passkey.publicKey,
        counter: passkey.counter,
        transports: passkey.transports.join(','),
        backed_up: passkey.backedUp,
        device_type: passkey.deviceType,
        name: passkey.name,
        created_at: db.fn.now(),
      });
    },

    /**
     * After a sign-in with it: the new counter and backup state, and when. Conditional on the
     * counter it was checked against, so that of two sign-ins racing with one response (a
     * replay), only one moves it.
     */
    async used(passkey: Passkey, counter: number, backedUp: boolean): Promise<boolean> {
      const moved = await db(PASSKEYS_TABLE)
        .where({ id: passkey.id, counter: passkey.counter })
        .update({ counter, backed_up: backedUp, last_used_at: db.fn.now() });
      return moved > 0;
    },

    async rename(userId: number, id: number, name: string): Promise<boolean> {
      return (await db(PASSKEYS_TABLE).where({ id, user_id: userId }).update({ name })) > 0;
    },

    /** The passkey's name, if it was the account's and is now gone. */
    async remove(userId: number, id: number): Promise<string | undefined> {
      return db.transaction(async (trx) => {
        const row: { name: string } | undefined = await trx(PASSKEYS_TABLE)
          .where({ id, user_id: userId })
          .first('name');
        if (!row) return undefined;
        await trx(PASSKEYS_TABLE).where({ id, user_id: userId }).delete();
        return row.name;
      });
    },
  };
}

export type PasskeyStore = ReturnType<typeof passkeyStore>;
