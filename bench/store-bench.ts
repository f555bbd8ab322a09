// Measurements 5 and 6, inside one process pinned to a core: the sessions table filled with
// `rows` sessions, half of them expired; then the latency of session reads, the event-loop stall
// of our batched cleanup, and (for the before/after row) the stall of connect-session-knex's own
// single-statement cleanup on the same data; on SQLite also the disk's own `fsync` time, which
// every checkpoint inside that stall waits on. Prints one JSON line.
import { ConnectSessionKnexStore } from 'connect-session-knex';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { SessionData } from 'express-session';
import pino from 'pino';
import { createDatabase, databaseKind, sqliteFilename, type Database } from '../src/db';
import { KnexSessionStore, sessionTimestamp } from '../src/session-store/knex-store';

const [databaseUrl = '', rowsArg = '1000000'] = process.argv.slice(2);
const rows = Number(rowsArg);
const TABLE = 'sessions';

/** A signed-in session as this site stores it: about 420 bytes of JSON. */
const SESSION_JSON = JSON.stringify({
  cookie: {
    originalMaxAge: 1_800_000,
    expires: new Date().toISOString(),
    secure: true,
    httpOnly: true,
    path: '/',
    sameSite: 'lax',
  },
  userId: 1,
  loginAt: Date.now(),
  authHash: 'Zm9yIHRoZSBiZW5jaG1hcmsgb25seSwgbm90IGEgcmVhbCBz',
  history: ['/dashboard', '/about', '/contact', '/', '/account', '/dashboard', '/about'],
});

/**
 * `count` rows; with `expiredOnly`, all in the past, else alternately past (up to a day ago) and
 * future (10 to 30 minutes ahead, so none expires during the run), each with a random id. One statement, so filling is quick.
 */
async function fill(db: Database, count: number, expiredOnly: boolean): Promise<void> {
  const liveSign = expiredOnly ? '-' : '+';
  if (databaseKind(databaseUrl) === 'postgres') {
    await db.raw(
      `INSERT INTO ${TABLE} (sid, sess, expired)
       SELECT md5(random()::text || i), ?::json,
              now() + CASE WHEN i % 2 = 0 THEN -(1 + i % 86400) ELSE ${liveSign}(600 + i % 1200) END
                      * interval '1 second'
       FROM generate_series(1, ?) AS i`,
      [SESSION_JSON, count],
    );
    await db.raw(`ANALYZE ${TABLE}`);
    // Write the fill out now: PostgreSQL would otherwise spread that I/O over the next minutes,
    // into this measurement and the next one.
    await db.raw('CHECKPOINT');
    return;
  }
  await db.raw(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
     INSERT INTO ${TABLE} (sid, sess, expired)
     SELECT lower(hex(randomblob(16))), ?,
            strftime('%Y-%m-%dT%H:%M:%fZ', 'now',
              CASE WHEN i % 2 = 0 THEN '-' || (1 + i % 86400) ELSE '${liveSign}' || (600 + i % 1200) END
              || ' seconds')
     FROM n`,
    [count, SESSION_JSON],
  );
  // The same for SQLite: the fill is hundreds of MB of dirty pages that the kernel would write
  // back during the measurement, and every checkpoint's fsync would wait behind them (measured:
  // a 194 ms stall in a run that started right after its fill, 17 ms in the next).
  await db.raw('PRAGMA wal_checkpoint(TRUNCATE)');
  execFileSync('sync');
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

/** 2 000 sessions that stay live through the run, in random order. */
function liveSids(db: Database): Promise<string[]> {
  return db(TABLE)
    .where('expired', '>', sessionTimestamp(db, Date.now() + 60_000))
    .orderByRaw('random()')
    .limit(2000)
    .pluck('sid');
}

async function readLatency(store: KnexSessionStore, sids: string[]) {
  const read = (sid: string) =>
    new Promise<void>((resolve, reject) =>
      store.get(sid, (error, session) =>
        error || !session ? reject(error ?? new Error(`session ${sid} missing`)) : resolve(),
      ),
    );
  for (const sid of sids.slice(0, 500)) await read(sid);
  const times: number[] = [];
  for (let i = 0; i < 5000; i++) {
    const sid = sids[(i * 7919) % sids.length] ?? '';
    const start = process.hrtime.bigint();
    await read(sid);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { reads: times.length, p50Ms: percentile(times, 50), p99Ms: percentile(times, 99) };
}

/**
 * Runs `work` while a 1 ms timer keeps firing and, on every firing, saves one live session as a
 * page view would (on SQLite a save waits, on the event loop, while a cleanup batch holds the
 * write lock). The stall is the longest gap between two firings: the longest any request would
 * have waited for the event loop.
 */
async function stallOf(store: KnexSessionStore, live: string[], work: () => Promise<unknown>) {
  const gaps: number[] = [];
  let saves = 0;
  let last = performance.now();
  const session = JSON.parse(SESSION_JSON) as SessionData;
  session.cookie.expires = new Date(Date.now() + 1_200_000);
  const probe = setInterval(() => {
    const now = performance.now();
    gaps.push(now - last);
    last = now;
    store.set(live[saves++ % live.length] ?? '', session);
  }, 1);
  const start = performance.now();
  await work();
  const durationMs = performance.now() - start;
  // A stall shows when the delayed timer finally fires: give it the chance.
  await new Promise((resolve) => setTimeout(resolve, 20));
  clearInterval(probe);
  gaps.sort((a, b) => a - b);
  return { maxStallMs: gaps.at(-1) ?? 0, p99StallMs: percentile(gaps, 99), durationMs, saves };
}

/**
 * The disk's own answer time, the baseline for the SQLite stall: `fsync` after writing 100 random
 * 4 KiB pages (what one WAL checkpoint at `wal_autocheckpoint = 100` copies back) into a 16 MiB
 * scratch file beside the database, 200 times. A checkpoint waits for three `fsync` calls on the
 * event loop: the log before copying, the database file after (this one), and the log's new
 * header when it restarts.
 */
function diskSync(directory: string) {
  const file = path.join(directory, 'fsync-probe.bin');
  const pageSize = 4096;
  const filePages = 4096;
  const pagesPerSync = 100;
  const fd = fs.openSync(file, 'w');
  const page = Buffer.alloc(pageSize, 1);
  const times: number[] = [];
  try {
    fs.writeSync(fd, Buffer.alloc(pageSize * filePages));
    fs.fsyncSync(fd);
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < pagesPerSync; i++) {
        fs.writeSync(fd, page, 0, pageSize, Math.floor(Math.random() * filePages) * pageSize);
      }
      const start = performance.now();
      fs.fsyncSync(fd);
      times.push(performance.now() - start);
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
  times.sort((a, b) => a - b);
  return {
    pages: pagesPerSync,
    p50Ms: percentile(times, 50),
    p99Ms: percentile(times, 99),
    maxMs: times.at(-1) ?? 0,
  };
}

async function main() {
  const db = createDatabase({ databaseUrl });
  await db.migrate.latest();
  await db(TABLE).delete();
  await fill(db, rows, false);
  const logger = pino({ level: 'silent' });
  const store = new KnexSessionStore({ knex: db, logger, tableName: TABLE, cleanupInterval: 0 });

  const disk =
    databaseKind(databaseUrl) === 'sqlite'
      ? diskSync(path.dirname(sqliteFilename(databaseUrl)))
      : undefined;
  const sids = await liveSids(db);
  const read = await readLatency(store, sids);
  const live = sids.slice(0, 100);
  const expiredBefore = rows / 2;
  // The same probe with nothing else running: the machine's own stalls, the floor for the rest.
  const idle = await stallOf(
    store,
    live,
    () => new Promise((resolve) => setTimeout(resolve, 5000)),
  );
  const ours = await stallOf(store, live, () => store.cleanup());

  // As many expired rows again, beside the live ones, for the stock cleanup: one DELETE.
  await fill(db, expiredBefore, true);
  const stock = new ConnectSessionKnexStore({
    knex: db,
    tableName: TABLE,
    createTable: false,
    cleanupInterval: 0,
  });
  await stock.ready.catch(() => undefined);
  const stockCleanup = await stallOf(store, live, () =>
    (stock as unknown as { dbCleanup(): Promise<void> }).dbCleanup(),
  );
  const left = Number((await db(TABLE).count({ n: '*' }))[0]?.n);
  if (left !== rows - expiredBefore) throw new Error(`stock cleanup left ${left} rows`);

  store.stop();
  // Leave nothing for PostgreSQL to write out during the next run.
  if (databaseKind(databaseUrl) === 'postgres') await db.raw('CHECKPOINT');
  await db.destroy();
  process.stdout.write(
    `${JSON.stringify({ rows, expired: expiredBefore, read, disk, idle, cleanup: ours, stockCleanup })}\n`,
  );
}

void main();
