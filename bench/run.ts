// `npm run bench`: every variant as its own production server pinned to core 0, the load
// generator (this process) on core 1, measurements interleaved across variants and repeated,
// so every ratio compares numbers taken side by side in one run. See bench/README.md.
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knex from 'knex';
import { createDatabase, knexConfig } from '../src/db';
import { projectRoot } from '../src/paths';
import { load, type LoadResult } from './load';
import {
  PEER_VARIANTS,
  middle,
  ratioOf,
  writeReport,
  type AppVariant,
  type BenchResults,
  type FloodResult,
  type MemoryResult,
  type MemoryWindow,
  type PeerVariant,
  type StoreResult,
  type VariantName,
} from './report';
import { pinPostgres, type PinnedPostgres } from './pin-postgres';
import { canPin, residentBytes, startServer, type RunningServer } from './servers';
import {
  FLOOD_ADDRESS,
  floodRequest,
  loginRequest,
  registerBenchUsers,
  signIn,
  signUpOnPeer,
} from './site';

const quick = process.argv.includes('--quick');
/** Only measurements 1 and 2, logged and not written: a before/after of a change to the store. */
const pagesOnly = process.argv.includes('--pages');
/** Only measurement 8, logged and not written: a before/after of a change to the fair shares. */
const floodOnly = process.argv.includes('--flood');
/** Only measurement 2, logged and not written: a before/after of a change to the signed-in page. */
const signedInOnly = process.argv.includes('--signed-in');
const SECONDS = quick ? 2 : 10;
const WARMUP_SECONDS = quick ? 1 : 3;
const ROUNDS = 2;
/**
 * Page views are many short rounds, and a page target is the median of the rounds' own ratios
 * (`ratioOf` in report.ts). This machine is shared: a neighbour's busy minute slows whichever
 * variants it falls on (one PostgreSQL round of 10 s measured 889 req/s between rounds of 995 and
 * 1 373). Three rounds of 10 s each put a variant in three moments of the run, and one unlucky one
 * moved a mean, or even a median, past a target; seven rounds of 4 s in the same time put each
 * variant in seven moments. Within a round the variants are measured within a minute of each
 * other, so a round's ratio compares them under much the same load, and the median leaves the
 * three most unusual rounds out.
 */
const PAGE_ROUNDS = quick ? 3 : 7;
const PAGE_SECONDS = quick ? 2 : 4;
/** Servers stay up through the run and are warmed once at the start of each round. */
const PAGE_WARMUP_SECONDS = 1;
const STORE_ROWS = quick ? 20_000 : 1_000_000;
const MEMORY_REQUESTS = quick ? 5_000 : 50_000;
const MEMORY_WINDOWS = 4;
const CONNECTIONS = 10;
/** The registration flood's connections, all from one address: as in the auditor's run. */
const FLOOD_CONNECTIONS = 40;
/** How long a person's login may wait during the registration flood (8): a browser's patience. */
const LOGIN_WAIT_SECONDS = 30;
const PG_SERVER = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PG_DATABASE = 'session_starter_bench';

const tmp = path.join(projectRoot, 'bench', 'tmp');
/** Pages that each differ from the last one viewed: every view changes the history. */
const ROTATING_PAGES = ['/dashboard', '/about', '/contact', '/'];

const pgUrl = (() => {
  const url = new URL(PG_SERVER);
  url.pathname = `/${PG_DATABASE}`;
  return url.toString();
})();

/**
 * `items`, ROUNDS times over, every other round in reverse order: each is measured as often as
 * the others, and a slow drift of the machine during the run favours none of them.
 */
function* interleaved<T>(items: readonly T[], rounds = ROUNDS): Generator<T> {
  for (let round = 0; round < rounds; round++) {
    yield* round % 2 === 0 ? items : [...items].reverse();
  }
}

async function freshPostgresDatabase(): Promise<void> {
  const admin = knex(knexConfig(PG_SERVER));
  try {
    await admin.raw(`DROP DATABASE IF EXISTS ${PG_DATABASE} WITH (FORCE)`);
    await admin.raw(`CREATE DATABASE ${PG_DATABASE}`);
  } finally {
    await admin.destroy();
  }
}

async function migrated(databaseUrl: string): Promise<string> {
  const db = createDatabase({ databaseUrl });
  await db.migrate.latest();
  await db.destroy();
  return databaseUrl;
}

const appEnv = (databaseUrl: string, extra: Record<string, string> = {}) => ({
  NODE_ENV: 'production',
  DATABASE_URL: databaseUrl,
  SESSION_SECRETS: randomBytes(32).toString('base64url'),
  TRUST_PROXY: '1',
  // The servers listen on 127.0.0.1, on ports of their own (the Host allow-list ignores ports).
  PUBLIC_URL: 'https://127.0.0.1',
  // The login storm is ten people logging in as fast as the server answers, again and again:
  // measured is what the server can do, so the per-minute budgets of password checks (built
  // to refuse one person doing exactly that) are lifted.
  PASSWORD_CHECKS_PER_IP: '1000000',
  PASSWORD_CHECKS_PER_ACCOUNT: '1000000',
  // The registration flood (8) measures what is left when one address has a registration
  // allowance as large as it likes (the auditor's run): the password threads' fair shares.
  REGISTRATIONS_PER_IP: '100000',
  ...extra,
});

const peersDir = path.join(projectRoot, 'bench', 'peers');

/**
 * The peers' own node_modules, from their own lock file, unless the version it pins is there
 * already; returns the better-auth version measured.
 */
function installPeers(): string {
  const installed = path.join(peersDir, 'node_modules', 'better-auth', 'package.json');
  const pinned = (
    JSON.parse(fs.readFileSync(path.join(peersDir, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    }
  ).dependencies['better-auth'];
  const version = () =>
    (JSON.parse(fs.readFileSync(installed, 'utf8')) as { version: string }).version;
  if (!fs.existsSync(installed) || version() !== pinned) {
    log('installing the peers (bench/peers/package.json)');
    execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: peersDir, stdio: 'inherit' });
  }
  return version();
}

async function startVariants(): Promise<Record<VariantName, RunningServer>> {
  await freshPostgresDatabase();
  const app = path.join('dist', 'src', 'server.js');
  const sqlite = (name: string) => migrated(`sqlite:${path.join(tmp, `${name}.sqlite3`)}`);
  return {
    memory: await startServer(
      'memory',
      app,
      appEnv(await sqlite('memory'), { SESSION_STORE: 'memory' }),
    ),
    ceiling: await startServer('ceiling', 'bench/ceiling-server.ts', { NODE_ENV: 'production' }),
    sqlite: await startServer('sqlite', app, appEnv(await sqlite('sqlite'))),
    postgres: await startServer('postgres', app, appEnv(await migrated(pgUrl))),
    ...(Object.fromEntries(
      await Promise.all(
        Object.entries(PEER_VARIANTS).map(async ([name, variant]) => [
          name,
          await startServer(name, 'bench/peers/better-auth-server.ts', {
            NODE_ENV: 'production',
            PEER_VARIANT: variant,
            PEER_DATABASE: path.join(tmp, `${name}.sqlite3`),
          }),
        ]),
      ),
    ) as Record<PeerVariant, RunningServer>),
  };
}

const isPeer = (name: VariantName): name is PeerVariant => Object.hasOwn(PEER_VARIANTS, name);

/** One signed-in session per connection, as ten people browsing at once. */
async function sessionsFor(server: RunningServer, peer: boolean): Promise<string[]> {
  if (peer) {
    return Promise.all(
      Array.from({ length: CONNECTIONS }, (_, person) => signUpOnPeer(server.url, person)),
    );
  }
  await registerBenchUsers(server.url);
  const cookies: string[] = [];
  for (let person = 0; person < CONNECTIONS; person++)
    cookies.push(await signIn(server.url, person));
  return cookies;
}

function summary(runs: LoadResult[]) {
  return {
    requestsPerSecond: middle(runs.map((run) => run.requestsPerSecond)),
    p50Ms: middle(runs.map((run) => run.p50Ms)),
    p99Ms: middle(runs.map((run) => run.p99Ms)),
    runs,
  };
}

function log(message: string) {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)}  ${message}\n`);
}

async function pageViews(
  servers: Record<VariantName, RunningServer>,
  cookies: Partial<Record<VariantName, string[]>>,
  database: PinnedPostgres | undefined,
) {
  const write: Partial<Record<VariantName, LoadResult[]>> = {};
  const read: Partial<Record<VariantName, LoadResult[]>> = {};
  /** The load's result, with PostgreSQL's own CPU per request when it is the one measured. */
  async function measured(name: VariantName, run: () => Promise<LoadResult>) {
    const before = database?.cpuSeconds();
    const result = await run();
    if (name !== 'postgres' || !database || before === undefined) return result;
    const micros = ((database.cpuSeconds() - before) * 1e6) / result.requests;
    return { ...result, databaseCpuMicros: micros };
  }
  const described = (run: LoadResult) =>
    `${run.requestsPerSecond.toFixed(0)} req/s, p99 ${run.p99Ms} ms` +
    (run.databaseCpuMicros === undefined
      ? ''
      : `, PostgreSQL's CPU ${run.databaseCpuMicros.toFixed(0)} µs a page`);

  for (const name of interleaved(Object.keys(servers) as VariantName[], PAGE_ROUNDS)) {
    const { url } = servers[name];
    const base = { connections: CONNECTIONS, cookies: cookies[name] };
    // The peer keeps no page history, so it has no page view that writes its session.
    if (!isPeer(name) && !signedInOnly) {
      await load(url, { ...base, paths: ROTATING_PAGES, durationSeconds: PAGE_WARMUP_SECONDS });
      const w = await measured(name, () =>
        load(url, { ...base, paths: ROTATING_PAGES, durationSeconds: PAGE_SECONDS }),
      );
      (write[name] ??= []).push(w);
      log(`(1) ${name}: ${described(w)}`);
    }
    // Ten views of the same page make the history ten times "/dashboard": from then on a view
    // leaves the session as it was, which is measurement 2.
    await load(url, { ...base, paths: ['/dashboard'], durationSeconds: PAGE_WARMUP_SECONDS });
    const r = await measured(name, () =>
      load(url, { ...base, paths: ['/dashboard'], durationSeconds: PAGE_SECONDS }),
    );
    (read[name] ??= []).push(r);
    log(`(2) ${name}: ${described(r)}`);
  }

  const summarise = (runs: Partial<Record<VariantName, LoadResult[]>>) =>
    Object.fromEntries(Object.entries(runs).map(([name, list]) => [name, summary(list)]));
  return { sessionWrite: summarise(write), sessionUnchanged: summarise(read) };
}

/** The people's login POSTs, one connection each, each sent again as soon as it is answered. */
function logInRepeatedly(
  url: string,
  people: { body: string; cookie: string; address: string }[],
  durationSeconds: number,
  expect: number[],
  timeoutSeconds?: number,
) {
  return load(url, {
    method: 'POST',
    paths: ['/login'],
    bodies: people.map((person) => person.body),
    cookies: people.map((person) => person.cookie),
    addresses: people.map((person) => person.address),
    connections: people.length,
    durationSeconds,
    expect,
    timeoutSeconds,
  });
}

/**
 * Measurements 3 and 4: ten connections posting the login form as fast as the server answers,
 * while a signed-in visitor loads the dashboard 50 times a second. The visitor's latency is
 * also measured without the storm, for comparison.
 */
async function loginStorm(server: RunningServer, cookies: string[]) {
  const visitor = { cookies: cookies.slice(0, 1), paths: ['/dashboard'], connections: 1 };
  const quiet = await load(server.url, {
    ...visitor,
    ratePerSecond: 50,
    durationSeconds: SECONDS,
  });
  // Ten people logging in at once, each from an address and into an account of their own.
  const people = await Promise.all(
    Array.from({ length: CONNECTIONS }, (_, person) => loginRequest(server.url, person)),
  );
  const storm = logInRepeatedly(server.url, people, SECONDS + 2, [303]);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const during = await load(server.url, {
    ...visitor,
    ratePerSecond: 50,
    durationSeconds: SECONDS,
  });
  const logins = await storm;
  log(
    `(3,4) ${server.name}: ${logins.requestsPerSecond.toFixed(1)} logins/s; dashboard p99 ` +
      `${quiet.p99Ms} ms quiet, ${during.p99Ms} ms during the storm`,
  );
  return { logins, quiet, during };
}

/**
 * Measurement 8: one address sends registrations with 64-digit passwords over 40 connections (an
 * estimate and a bcrypt hash each), while the ten people log in from their own addresses. Their
 * logins are measured alone first, then during the flood; the flood's answers are counted.
 *
 * On a server of its own that may use both cores, its password thread beside its main thread,
 * as on this machine unpinned. Pinned to one core, the flood's own stream of instant refusals
 * (about 600 a second) keeps the main thread busy, and the password thread, at the lowest
 * priority so that pages win, starves whoever's work it holds (measured: the people's logins
 * waited past autocannon's 10 s timeout, and the next ones found their abandoned predecessors
 * still queued and were refused). A flood of any request does that to one core; the answer to
 * it is a per-address request limit at the proxy (docs/production.md), not the app. What this
 * measures is the app's part, the password threads' fair shares, with the flood's registration
 * limit lifted, as for an attacker with as large an allowance as it likes.
 */
async function registrationFlood(): Promise<FloodResult[]> {
  const server = await startServer(
    'flood',
    path.join('dist', 'src', 'server.js'),
    appEnv(await migrated(`sqlite:${path.join(tmp, 'flood.sqlite3')}`), {
      REGISTRATIONS_PER_IP: '100000',
    }),
    { cores: '0,1' },
  );
  try {
    await registerBenchUsers(server.url);
    const people = await Promise.all(
      Array.from({ length: CONNECTIONS }, (_, person) => loginRequest(server.url, person)),
    );
    // A 503 ("busy") is counted and reported, not a failed run: it is what this measures. A
    // login may wait up to 30 s, as a browser would (far longer, in fact), not autocannon's
    // 10 s: on a slow machine one or two of ~100 logins during the flood took longer than 10 s
    // and failed the run, while every one was answered. Their time shows in the p99 column.
    const logins = (seconds: number) =>
      logInRepeatedly(server.url, people, seconds, [303, 503], LOGIN_WAIT_SECONDS);
    const flood = await floodRequest(server.url);
    const floodLoad = (durationSeconds: number) =>
      load(server.url, {
        method: 'POST',
        paths: ['/register'],
        bodies: [flood.body],
        cookies: [flood.cookie],
        addresses: [FLOOD_ADDRESS],
        connections: FLOOD_CONNECTIONS,
        durationSeconds,
        expect: [303, 409, 429, 503],
        countFailures: true,
      });
    // The first estimate loads zxcvbn's dictionaries: not part of what is measured. Then the
    // work the warm-up left queued drains before the first measurement.
    await floodLoad(WARMUP_SECONDS);
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const results: FloodResult[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const alone = await logins(SECONDS);
      const flooding = floodLoad(SECONDS + 2);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const during = await logins(SECONDS);
      const result = { alone, during, flood: await flooding };
      await new Promise((resolve) => setTimeout(resolve, 5000));
      const answered = ((during.statuses[303] ?? 0) / during.requests) * 100;
      log(
        `(8) logins ${alone.requestsPerSecond.toFixed(1)}/s alone, ` +
          `${during.requestsPerSecond.toFixed(1)}/s during the flood (${answered.toFixed(1)} % ` +
          `answered); the flood: ${JSON.stringify(result.flood.statuses)}`,
      );
      results.push(result);
    }
    return results;
  } finally {
    await server.stop();
  }
}

/**
 * Measurement 7: resident memory, sampled every 250 ms while one server answers `MEMORY_WINDOWS`
 * windows of page views after a warm-up window. "Flat" is judged on each window's mean RSS
 * against the first window's: a leak shows as a mean that climbs window after window. Single
 * samples also swing with V8's garbage collection (a full collection every ~2 s under this load
 * gives back ~85 MB of heap that request objects filled; see bench/optimisations.md), so that
 * swing is reported beside it, not mistaken for growth.
 */
async function memoryOver(server: RunningServer, cookies: string[]): Promise<MemoryResult> {
  const base = { connections: CONNECTIONS, cookies, paths: ROTATING_PAGES };
  // The warm-up is a whole window. By now this server has sat idle through the other
  // measurements, and V8 gives heap back when idle; a 20k warm-up measured the heap growing back
  // to its working size (178 → 206 MiB), not a leak.
  await load(server.url, { ...base, amount: MEMORY_REQUESTS });
  const mib = (bytes: number) => bytes / 2 ** 20;
  const windows: MemoryWindow[] = [];
  for (let window = 0; window < MEMORY_WINDOWS; window++) {
    const samples: number[] = [];
    const sampler = setInterval(() => samples.push(mib(residentBytes(server.pid))), 250);
    await load(server.url, { ...base, amount: MEMORY_REQUESTS });
    clearInterval(sampler);
    samples.push(mib(residentBytes(server.pid)));
    windows.push({
      meanMiB: samples.reduce((sum, sample) => sum + sample, 0) / samples.length,
      minMiB: Math.min(...samples),
      maxMiB: Math.max(...samples),
    });
  }
  const first = windows[0]?.meanMiB ?? NaN;
  const drifts = windows.map((window) => ((window.meanMiB - first) / first) * 100);
  const lowest = Math.min(...windows.map((w) => w.minMiB));
  const highest = Math.max(...windows.map((w) => w.maxMiB));
  const result: MemoryResult = {
    requests: MEMORY_REQUESTS,
    windows,
    changePercent: drifts.reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a), 0),
    swingPercent: ((highest - lowest) / 2 / first) * 100,
  };
  log(
    `(7) ${server.name}: mean RSS per window ${windows.map((w) => w.meanMiB.toFixed(1)).join(' → ')}` +
      ` MiB; samples ${lowest.toFixed(1)}–${highest.toFixed(1)} MiB`,
  );
  return result;
}

/** Measurements 5 and 6 in their own pinned process (bench/store-bench.ts). */
function storeBench(databaseUrl: string): StoreResult {
  // Each run starts with the disk quiet: the previous run's writes flushed first. (Measured
  // without this: a SQLite run that followed two PostgreSQL runs stalled 225 ms instead of 17 ms,
  // waiting on the disk behind PostgreSQL's writes.)
  execFileSync('sync');
  const node = [process.execPath, '--import', 'tsx', 'bench/store-bench.ts'];
  const command = canPin ? ['taskset', '-c', '0', ...node] : node;
  const output = execFileSync(
    command[0] ?? '',
    [...command.slice(1), databaseUrl, `${STORE_ROWS}`],
    {
      cwd: projectRoot,
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    },
  );
  const result = JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as StoreResult;
  log(
    `(5,6) ${databaseUrl.split(':')[0]}: read p99 ${result.read.p99Ms.toFixed(3)} ms; cleanup ` +
      `stall ${result.cleanup.maxStallMs.toFixed(1)} ms (stock ${result.stockCleanup.maxStallMs.toFixed(0)} ms)`,
  );
  return result;
}

async function main() {
  log(
    `${quick ? 'quick run' : 'full run'}; pinned to cores: ${canPin ? 'yes' : 'no (no taskset)'}`,
  );
  // The 1M-row measurements first, each in a process of its own, before any server runs.
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  const store: BenchResults['store'] = { sqlite: [], postgres: [] };
  // Its own folder, so the file goes with its -wal and -shm companions.
  const storeDir = path.join(tmp, 'store');
  for (const kind of pagesOnly || floodOnly || signedInOnly
    ? []
    : interleaved(['sqlite', 'postgres'] as const)) {
    fs.rmSync(storeDir, { recursive: true, force: true });
    if (kind === 'postgres') await freshPostgresDatabase();
    const databaseUrl =
      kind === 'sqlite' ? `sqlite:${path.join(storeDir, 'store.sqlite3')}` : pgUrl;
    store[kind].push(storeBench(databaseUrl));
  }
  fs.rmSync(storeDir, { recursive: true, force: true });
  const peerVersion = installPeers();
  const servers = await startVariants();
  const database = canPin ? await pinPostgres(PG_SERVER, '1') : undefined;
  log(
    `PostgreSQL server on the load generator's core: ${database ? 'yes' : 'no (not here, or not allowed)'}`,
  );
  try {
    const cookies: Partial<Record<VariantName, string[]>> = {};
    for (const name of Object.keys(servers) as VariantName[]) {
      if (name !== 'ceiling') cookies[name] = await sessionsFor(servers[name], isPeer(name));
    }
    if (floodOnly) {
      await registrationFlood();
      return;
    }
    const pages = await pageViews(servers, cookies, database);
    if (pagesOnly || signedInOnly) {
      for (const [measurement, results] of Object.entries(pages)) {
        if (!results.sqlite) continue;
        const ratio = (name: VariantName, over: VariantName) =>
          ratioOf(results, name, over, true).ratio.toFixed(2);
        for (const [name, result] of Object.entries(results)) {
          log(`${measurement} ${name}: ${result.requestsPerSecond.toFixed(0)} req/s`);
        }
        log(
          `${measurement}: SQLite ÷ memory ${ratio('sqlite', 'memory')}, ÷ ceiling ` +
            `${ratio('sqlite', 'ceiling')}, ÷ better-auth ${ratio('sqlite', 'betterAuth')}, ` +
            `÷ better-auth + headers and log ${ratio('sqlite', 'betterAuthLogged')}; ` +
            `PostgreSQL ÷ SQLite ${ratio('postgres', 'sqlite')}`,
        );
      }
      return;
    }
    const storms: BenchResults['loginStorm'] = {};
    for (const name of interleaved(['memory', 'sqlite', 'postgres'] satisfies AppVariant[])) {
      (storms[name] ??= []).push(await loginStorm(servers[name], cookies[name] ?? []));
    }
    const memory = await memoryOver(servers.sqlite, cookies.sqlite ?? []);
    const results: BenchResults = {
      date: new Date().toISOString(),
      peer: { name: 'better-auth', version: peerVersion },
      quick,
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        node: process.version,
        pinned: canPin,
        databasePinned: database !== undefined,
      },
      settings: {
        seconds: SECONDS,
        rounds: ROUNDS,
        pageRounds: PAGE_ROUNDS,
        pageSeconds: PAGE_SECONDS,
        pageMedians: true,
        pairedRatios: true,
        connections: CONNECTIONS,
        storeRows: STORE_ROWS,
      },
      ...pages,
      loginStorm: storms,
      registrationFlood: await registrationFlood(),
      memory,
      store,
    };
    const written = writeReport(results);
    log(`written: ${written.join(', ')}`);
  } finally {
    database?.restore();
    await Promise.all(Object.values(servers).map((server) => server.stop().catch(() => undefined)));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
