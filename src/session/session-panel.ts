import type { Request } from 'express';
import type { Config } from '../config';
import type { Database } from '../db';
import { readSessionTimestamp } from '../session-store/knex-store';
import { SESSIONS_TABLE } from '../session-store/store';

/**
 * "Your session, as the server sees it": the dashboard's teaching panel. What the browser holds
 * (the cookie: a name and a signed id, nothing else) beside what the server holds (the row),
 * for the visitor's own session. Secrets stay out of it: only the first characters of the id,
 * which alone opens nothing, and the credential stamp masked.
 */
export interface SessionPanel {
  cookie: { name: string; value: string };
  /** The row's columns other than the JSON, as stored; undefined with MemoryStore. */
  columns?: [string, string][];
  /** The JSON the row's `sess` column holds (or MemoryStore's copy), the stamp masked. */
  json: string;
  idleEnd?: Date;
  absoluteEnd: Date;
  idleMinutes: number;
  absoluteHours: number;
}

/** Enough of an id to recognise it on the page and in the table, not enough to use it. */
const SHOWN_ID_CHARACTERS = 6;
const partOf = (sid: string) => `${sid.slice(0, SHOWN_ID_CHARACTERS)}…`;

export async function sessionPanel(
  req: Request,
  config: Config,
  db: Database,
): Promise<SessionPanel> {
  const { cookieName, idleMinutes, absoluteHours } = config.session;
  const data = JSON.parse(JSON.stringify(req.session)) as Record<string, unknown>;
  if (typeof data.authHash === 'string')
    data.authHash = '(hidden: derived from your password hash)';
  if (typeof data.twoFactorSetup === 'object' && data.twoFactorSetup !== null)
    data.twoFactorSetup = { ...data.twoFactorSetup, secret: "(hidden: sealed, the app's key)" };
  const panel: SessionPanel = {
    cookie: { name: cookieName, value: `s:${partOf(req.sessionID)}.(signature)` },
    json: JSON.stringify(data, null, 2),
    absoluteEnd: new Date(Number(req.session.loginAt ?? 0) + absoluteHours * 3_600_000),
    idleMinutes,
    absoluteHours,
  };
  if (config.session.store !== 'database') return panel;

  const row: Record<string, string | Date | number | null> | undefined = await db(SESSIONS_TABLE)
    .select(
      'sid',
      'expired',
      'user_id',
      'created_at',
      'last_seen_at',
      'user_agent',
      'ip',
      'sign_in_method',
    )
    .where('sid', req.sessionID)
    .first();
  if (!row) return panel;
  const shown = (name: string, value: string | Date | number | null): string =>
    value === null
      ? 'NULL'
      : name === 'sid'
        ? partOf(String(value))
        : value instanceof Date || ['expired', 'created_at', 'last_seen_at'].includes(name)
          ? new Date(readSessionTimestamp(value as string | Date)).toISOString()
          : String(value);
  panel.columns = Object.entries(row).map(([name, value]) => [name, shown(name, value)]);
  panel.idleEnd = row.expired
    ? new Date(readSessionTimestamp(row.expired as string | Date))
    : undefined;
  return panel;
}
