import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../src/paths';
import type { LoadResult } from './load';

/** The project's own variants, measured in every page measurement. */
export type AppVariant = 'memory' | 'ceiling' | 'sqlite' | 'postgres';
/** better-auth serving the same page (bench/peers/): measured in (2) only, having no history. */
export type PeerVariant = 'betterAuth' | 'betterAuthCache' | 'betterAuthLogged';
export type VariantName = AppVariant | PeerVariant;

export const PEER_VARIANTS: Record<PeerVariant, string> = {
  betterAuth: 'default',
  betterAuthCache: 'cookie-cache',
  betterAuthLogged: 'headers-log',
};

const LABELS: Record<VariantName, string> = {
  ceiling: 'express + pug, no session (ceiling)',
  memory: 'MemoryStore (baseline)',
  sqlite: 'this project, SQLite',
  postgres: 'this project, PostgreSQL',
  betterAuth: 'better-auth, default',
  betterAuthCache: 'better-auth, cookie cache (5 min)',
  betterAuthLogged: 'better-auth + our headers and request log',
};

/** A page variant's rounds and their middle (`settings.pageMedians`; before that, their mean). */
interface Summary {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  runs: LoadResult[];
}

type PageRows = Partial<Record<VariantName, Summary>>;

/** The middle value (the mean of the middle two for an even count). */
export function middle(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const half = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[half] ?? NaN)
    : ((sorted[half - 1] ?? NaN) + (sorted[half] ?? NaN)) / 2;
}

interface Ratio {
  ratio: number;
  /** Each round's own ratio, in round order (empty for runs that did not pair them). */
  rounds: number[];
}

/**
 * How many times variant `a`'s requests per second are `b`'s. Every round measures each variant
 * in turn, within a minute of the others, so a round's own ratio compares two servers under much
 * the same load from the machine's neighbours. With `paired` (`settings.pairedRatios`) the ratio
 * is the median of those per-round ratios, which a neighbour's busy minute moves much less than it
 * moves either variant's own median; without it, as runs before it were judged, the ratio of the
 * two variants' figures.
 */
export function ratioOf(rows: PageRows, a: VariantName, b: VariantName, paired: boolean): Ratio {
  const over = rows[b];
  const under = rows[a];
  if (!over || !under) return { ratio: NaN, rounds: [] };
  if (!paired) return { ratio: under.requestsPerSecond / over.requestsPerSecond, rounds: [] };
  const rounds = under.runs
    .slice(0, over.runs.length)
    .map((run, round) => run.requestsPerSecond / (over.runs[round]?.requestsPerSecond ?? NaN));
  return { ratio: middle(rounds), rounds };
}

export interface StoreResult {
  rows: number;
  expired: number;
  read: { reads: number; p50Ms: number; p99Ms: number };
  /** SQLite only: `fsync` after writing `pages` random pages, the disk's own answer time. */
  disk?: { pages: number; p50Ms: number; p99Ms: number; maxMs: number };
  /** The same probe (a 1 ms timer, one session save per firing) for 5 s with no cleanup. */
  idle?: Stall;
  cleanup: Stall;
  stockCleanup: Stall;
}

interface Stall {
  maxStallMs: number;
  p99StallMs: number;
  durationMs: number;
  saves?: number;
}

export interface StormResult {
  logins: LoadResult;
  quiet: LoadResult;
  during: LoadResult;
}

export interface FloodResult {
  /** The ten people's logins with nobody else about, then during the flood. */
  alone: LoadResult;
  during: LoadResult;
  /** The flood's own answers. */
  flood: LoadResult;
}

export interface MemoryWindow {
  meanMiB: number;
  minMiB: number;
  maxMiB: number;
}

export interface MemoryResult {
  /** Page views per window; the windows follow a warm-up window of the same size. */
  requests: number;
  windows: MemoryWindow[];
  /** The window mean furthest from the first window's, as a percentage of it. */
  changePercent: number;
  /** Half the spread of all samples (highest minus lowest), as a percentage of the first mean. */
  swingPercent: number;
}

export interface BenchResults {
  date: string;
  /** The peer's name and the version measured (absent from runs made before it existed). */
  peer?: { name: string; version: string };
  quick: boolean;
  machine: {
    cpus: number;
    cpuModel: string;
    node: string;
    pinned: boolean;
    /** Whether the local PostgreSQL server ran on core 1 while the app servers were measured. */
    databasePinned?: boolean;
  };
  settings: {
    seconds: number;
    rounds: number;
    /** Rounds of the page measurements 1 and 2 (absent from runs before it differed: `rounds`). */
    pageRounds?: number;
    /** Seconds of each page round (absent from runs before it differed: `seconds`). */
    pageSeconds?: number;
    /** Page figures are the medians of the rounds (absent from runs that took their means). */
    pageMedians?: boolean;
    /** Ratios between page variants are medians of per-round ratios (see `ratioOf`). */
    pairedRatios?: boolean;
    connections: number;
    storeRows: number;
  };
  sessionWrite: Partial<Record<VariantName, Summary>>;
  sessionUnchanged: Partial<Record<VariantName, Summary>>;
  /** One entry per round. */
  loginStorm: Partial<Record<VariantName, StormResult[]>>;
  /** One entry per round, on SQLite (absent from runs made before it existed). */
  registrationFlood?: FloodResult[];
  memory: MemoryResult;
  /** One entry per run. */
  store: { sqlite: StoreResult[]; postgres: StoreResult[] };
}

const fixed = (value: number | undefined, digits = 0) =>
  value === undefined ? '–' : value.toFixed(digits);

/** `value (note; note)`, leaving out the notes that are false. */
function withNotes(value: string, notes: (string | false)[]): string {
  const shown = notes.filter((note): note is string => note !== false);
  return shown.length > 0 ? `${value} (${shown.join('; ')})` : value;
}

/** The share of a run's answers that were 303 (a login or registration that went through). */
const answered = (run: LoadResult) => ((run.statuses?.[303] ?? 0) / run.requests) * 100;

/** "5 × 303, 2 × 429": a run's answers by status. */
const statusList = (run: LoadResult) =>
  [
    ...Object.entries(run.statuses ?? {}).map(([status, count]) => `${count} × ${status}`),
    ...(run.failures ? [`${run.failures} × no answer`] : []),
  ].join(', ');

function diskColumn(disk: StoreResult['disk']): string {
  return disk
    ? `${disk.p50Ms.toFixed(1)} / ${disk.p99Ms.toFixed(1)} / ${disk.maxMs.toFixed(1)}`
    : '–';
}

function pageTable(rows: PageRows, paired: boolean): string[] {
  const lines = [
    '| variant | req/s | p50 ms | p99 ms | × MemoryStore | × ceiling |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const name of Object.keys(LABELS) as VariantName[]) {
    const row = rows[name];
    if (!row) continue;
    const runs = row.runs.map((run) => fixed(run.requestsPerSecond)).join(' / ');
    lines.push(
      `| ${LABELS[name]} | ${fixed(row.requestsPerSecond)} (${runs}) | ${fixed(row.p50Ms, 1)} | ` +
        `${fixed(row.p99Ms, 1)} | ${fixed(ratioOf(rows, name, 'memory', paired).ratio, 2)} | ` +
        `${fixed(ratioOf(rows, name, 'ceiling', paired).ratio, 2)} |`,
    );
  }
  const databaseCpu = (rows.postgres?.runs ?? []).flatMap((run) => run.databaseCpuMicros ?? []);
  if (databaseCpu.length > 0) {
    const mean = databaseCpu.reduce((sum, micros) => sum + micros, 0) / databaseCpu.length;
    lines.push(
      '',
      `PostgreSQL's own processes used ${fixed(mean)} µs of CPU per page on PostgreSQL ` +
        `(${databaseCpu.map((micros) => fixed(micros)).join(' / ')}), on the load generator's core.`,
    );
  }
  return lines;
}

interface Target {
  name: string;
  goal: string;
  measured: string;
  met: boolean;
}

export function targets(results: BenchResults): Target[] {
  const paired = results.settings.pairedRatios === true;
  const write = (name: VariantName, over: VariantName) =>
    ratioOf(results.sessionWrite, name, over, paired);
  const unchanged = (name: VariantName, over: VariantName) =>
    ratioOf(results.sessionUnchanged, name, over, paired);
  // The worst of the rounds: a target is met only if every round met it.
  const storm = Math.max(...(results.loginStorm.sqlite ?? []).map((r) => r.during.p99Ms));
  const stall = Math.max(...results.store.sqlite.map((r) => r.cleanup.maxStallMs));
  const idleFloor = Math.max(0, ...results.store.sqlite.map((r) => r.idle?.maxStallMs ?? 0));
  const diskMax = Math.max(0, ...results.store.sqlite.map((r) => r.disk?.maxMs ?? 0));
  const readP99 = Math.max(...results.store.sqlite.map((r) => r.read.p99Ms));
  const floods = results.registrationFlood ?? [];
  const loginRate = (name: AppVariant) => {
    const rounds = results.loginStorm[name] ?? [];
    return rounds.reduce((sum, r) => sum + r.logins.requestsPerSecond, 0) / rounds.length;
  };
  const loginRatio = loginRate('sqlite') / loginRate('memory');
  const answeredDuring = Math.min(...floods.map((f) => answered(f.during)));
  return [
    pageTarget(
      '(1) page view with a session write, SQLite',
      write('sqlite', 'memory'),
      0.85,
      'MemoryStore',
    ),
    {
      // The same app with the MemoryStore, in the same run: a change that slowed logins down
      // (a cookie, a query, a hash on the way in) would show here.
      name: '(3) logins per second, SQLite',
      goal: '≥ 0.9 × MemoryStore',
      measured: `${loginRatio.toFixed(2)} × (${loginRate('sqlite').toFixed(1)} a second)`,
      met: loginRatio >= 0.9,
    },
    {
      name: '(4) other pages during a login storm, SQLite',
      goal: 'p99 ≤ 50 ms',
      measured: `${storm} ms`,
      met: storm <= 50,
    },
    {
      name: '(5) expired-session cleanup, SQLite',
      goal: 'stall ≤ 20 ms',
      measured: withNotes(`${stall.toFixed(1)} ms`, [
        idleFloor > 0 && `no cleanup: ${idleFloor.toFixed(1)} ms`,
        diskMax > 0 && `one disk fsync: up to ${diskMax.toFixed(1)} ms`,
      ]),
      met: stall <= 20,
    },
    {
      name: '(6) session read with 1M rows, SQLite',
      goal: 'p99 < 1 ms',
      measured: `${readP99.toFixed(3)} ms`,
      met: readP99 < 1,
    },
    {
      name: `(7) resident memory over ${(results.memory.requests * results.memory.windows.length).toLocaleString('en')} requests`,
      goal: 'mean per window within ± 10 %',
      measured:
        `${results.memory.changePercent >= 0 ? '+' : ''}${results.memory.changePercent.toFixed(1)} %` +
        ` (samples ± ${results.memory.swingPercent.toFixed(0)} %)`,
      met: Math.abs(results.memory.changePercent) <= 10,
    },
    ...(floods.length === 0
      ? []
      : [
          {
            name: '(8) other people’s logins during a registration flood, SQLite',
            goal: 'every one answered (303)',
            measured: `${answeredDuring.toFixed(1)} %`,
            met: answeredDuring === 100,
          },
        ]),
    pageTarget('(1) on PostgreSQL', write('postgres', 'sqlite'), 0.7, 'SQLite'),
    ...(results.peer
      ? [
          pageTarget(
            '(2) signed-in page, SQLite',
            unchanged('sqlite', 'betterAuthLogged'),
            1.25,
            'better-auth + headers and log',
          ),
          pageTarget(
            '(2) signed-in page, SQLite',
            unchanged('sqlite', 'betterAuth'),
            1.0,
            'better-auth default',
          ),
          pageTarget(
            '(2) signed-in page, SQLite',
            unchanged('sqlite', 'ceiling'),
            0.25,
            'the ceiling',
          ),
          pageTarget(
            '(2) signed-in page, PostgreSQL',
            unchanged('postgres', 'sqlite'),
            0.8,
            'SQLite',
          ),
        ]
      : []),
  ];
}

/** A ratio of two variants' page views and the least it may be, as a row of the targets table. */
function pageTarget(name: string, { ratio, rounds }: Ratio, least: number, over: string): Target {
  return {
    name,
    goal: `≥ ${least.toFixed(2)} × ${over}`,
    measured: withNotes(`${ratio.toFixed(2)} ×`, [
      rounds.length > 0 &&
        `rounds ${Math.min(...rounds).toFixed(2)}–${Math.max(...rounds).toFixed(2)}`,
    ]),
    met: ratio >= least,
  };
}

function markdown(results: BenchResults): string {
  const { machine, settings, memory, store } = results;
  const lines = [
    '# Benchmark results',
    '',
    `Written by \`npm run bench\` on ${results.date.slice(0, 16).replace('T', ' ')} UTC` +
      `${results.quick ? ' (**quick run**: short and small, not for comparison)' : ''}. ` +
      `${machine.cpus} × ${machine.cpuModel}, Node.js ${machine.node}; servers ` +
      `${machine.pinned ? 'pinned to core 0, load generator to core 1' : 'not pinned (no taskset)'}` +
      `${machine.databasePinned ? ', and with it the PostgreSQL server while the app servers ran' : ''}. ` +
      `Each page measurement: ${settings.connections} connections, ${settings.pageSeconds ?? settings.seconds} s, ` +
      `${settings.pageRounds ?? settings.rounds} rounds interleaved across variants, ` +
      `${settings.pageMedians ? 'their median' : 'their mean'} shown with single runs in brackets` +
      `${settings.pairedRatios ? ", and a ratio between two variants is the median of the rounds' own ratios" : ''}; ` +
      `measurements 3 to 7 are also taken ${settings.rounds} times, and a target counts the worst. ` +
      'Raw numbers: `results.json`; ratios: `ratios.svg`; how it works: `README.md`.',
    '',
    '## Targets',
    '',
    '| measurement | target | measured | |',
    '|---|---|---|---|',
    ...targets(results).map(
      (t) => `| ${t.name} | ${t.goal} | ${t.measured} | ${t.met ? 'met' : '**missed**'} |`,
    ),
    '',
    '## 1. Signed-in page views that append to the page history (a session write each)',
    '',
    ...pageTable(results.sessionWrite, settings.pairedRatios === true),
    '',
    '## 2. Signed-in page views that leave the session unchanged',
    '',
    ...(results.peer
      ? [
          `Beside the project: ${results.peer.name} ${results.peer.version} serving the same page ` +
            '(bench/peers/): same Pug views and HTML, same SQLite pragmas, production mode. Its ' +
            'default reads the session and its user on every request; its cookie cache reads ' +
            'nothing while the cookie is fresh, so a revoked session works on for up to 5 ' +
            'minutes, which this project never allows.',
          '',
        ]
      : []),
    ...pageTable(results.sessionUnchanged, settings.pairedRatios === true),
    '',
    '## 3 and 4. Login storm: 10 connections posting the login form',
    '',
    'A signed-in visitor loads the dashboard 50 times a second, first alone, then during the storm.',
    '',
    'One row per round; rounds interleaved across variants.',
    '',
    '| variant | logins/s | login p99 ms | dashboard p99 ms, quiet | dashboard p50 / p99 ms, storm |',
    '|---|---:|---:|---:|---:|',
    ...(['memory', 'sqlite', 'postgres'] as const).flatMap((name) =>
      (results.loginStorm[name] ?? []).map(
        (storm) =>
          `| ${LABELS[name]} | ${fixed(storm.logins.requestsPerSecond, 1)} | ${storm.logins.p99Ms} | ` +
          `${storm.quiet.p99Ms} | ${storm.during.p50Ms} / ${storm.during.p99Ms} |`,
      ),
    ),
    '',
    ...(results.registrationFlood
      ? [
          '## 8. A registration flood from one address, while ten people log in',
          '',
          "One address posts registrations with 64-digit passwords (zxcvbn's slowest input, " +
            'then a bcrypt hash) over 40 connections, with its registration limit lifted, so ' +
            "that only the password threads' fair shares stand between it and everyone else. " +
            'The ten people log in as in (3), each from an address of their own: alone, then ' +
            'during the flood. One row per round, SQLite, on a server that may use both ' +
            'cores (bench/README.md says why).',
          '',
          "| round | logins/s alone | logins/s during | answered during | login p99 ms alone / during | the flood's answers |",
          '|---:|---:|---:|---:|---:|---|',
          ...results.registrationFlood.map(
            (f, i) =>
              `| ${i + 1} | ${fixed(f.alone.requestsPerSecond, 1)} | ` +
              `${fixed(f.during.requestsPerSecond, 1)} | ${answered(f.during).toFixed(1)} % | ` +
              `${f.alone.p99Ms} / ${f.during.p99Ms} | ${statusList(f.flood)} |`,
          ),
          '',
        ]
      : []),
    `## 5 and 6. The sessions table with ${(store.sqlite[0]?.rows ?? 0).toLocaleString('en')} ` +
      'rows, half expired',
    '',
    'One row per run, each in a fresh process and a freshly filled table. A stall is the ' +
      'longest gap between firings of a 1 ms timer that also saves one live session per firing, ' +
      'as page views would; "no cleanup" is that probe alone for 5 s: the floor.',
    '',
    '"disk fsync" is the disk alone: `fsync` after writing 100 random pages. A SQLite ' +
      'checkpoint waits for three `fsync` calls on the event loop; PostgreSQL syncs in its own ' +
      'processes.',
    '',
    '| database | session read p50 / p99 ms | disk fsync p50 / p99 / max ms | ' +
      'no cleanup: longest stall ms | cleanup: longest stall ms | cleanup: total s | ' +
      'connect-session-knex cleanup: stall ms |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...(['sqlite', 'postgres'] as const).flatMap((name) =>
      store[name].map(
        (s) =>
          `| ${name === 'sqlite' ? 'SQLite' : 'PostgreSQL'} | ${s.read.p50Ms.toFixed(3)} / ` +
          `${s.read.p99Ms.toFixed(3)} | ${diskColumn(s.disk)} | ${fixed(s.idle?.maxStallMs, 1)} | ` +
          `${s.cleanup.maxStallMs.toFixed(1)} | ` +
          `${(s.cleanup.durationMs / 1000).toFixed(1)} | ${s.stockCleanup.maxStallMs.toFixed(0)} |`,
      ),
    ),
    '',
    '## 7. Resident memory, this project on SQLite',
    '',
    `${memory.windows.length} windows of ${memory.requests.toLocaleString('en')} page views after ` +
      'a warm-up window, RSS sampled every 250 ms. "Flat" compares each window\'s mean with the ' +
      "first's: a leak would climb window after window. The samples also rise and fall with each " +
      'full garbage collection (every ~2 s under this load, ~85 MB of heap each time): the lowest ' +
      'and highest columns. That swing is not growth.',
    '',
    '| window | mean MiB | lowest | highest | mean × first |',
    '|---|---:|---:|---:|---:|',
    ...memory.windows.map(
      (w, i) =>
        `| ${i + 1} | ${w.meanMiB.toFixed(1)} | ${w.minMiB.toFixed(1)} | ${w.maxMiB.toFixed(1)} | ` +
        `${(w.meanMiB / (memory.windows[0]?.meanMiB ?? NaN)).toFixed(3)} |`,
    ),
    '',
  ];
  const history = path.join(projectRoot, 'bench', 'optimisations.md');
  if (fs.existsSync(history)) lines.push(fs.readFileSync(history, 'utf8').trim(), '');
  return lines.join('\n');
}

/** Horizontal bars: each variant's req/s as a multiple of MemoryStore's, for measurements 1 and 2. */
function chart(results: BenchResults): string {
  const groups = [
    ['1. history write', results.sessionWrite],
    ['2. session unchanged', results.sessionUnchanged],
  ] as const;
  const colours: Record<VariantName, string> = {
    ceiling: '#8a94a6',
    memory: '#3b6fd8',
    sqlite: '#1f9d6b',
    postgres: '#c2762b',
    betterAuth: '#7a4fb5',
    betterAuthCache: '#a98bd1',
    betterAuthLogged: '#5b3590',
  };
  const barHeight = 18;
  const left = 250;
  const scale = 150; // pixels for 1.0 ×
  const maxRatio = 5;
  const width = left + scale * maxRatio + 60;
  let y = 40;
  const parts: string[] = [];
  for (const [title, rows] of groups) {
    parts.push(`<text x="10" y="${y}" font-weight="bold">${title}</text>`);
    y += 10;
    for (const name of (Object.keys(LABELS) as VariantName[]).filter((n) => rows[n])) {
      const { ratio } = ratioOf(rows, name, 'memory', results.settings.pairedRatios === true);
      const w = Math.min(ratio, maxRatio) * scale;
      parts.push(
        `<text x="10" y="${y + 13}">${LABELS[name]}</text>`,
        `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${colours[name]}"/>`,
        `<text x="${(left + w + 6).toFixed(1)}" y="${y + 13}">${ratio.toFixed(2)} ×</text>`,
      );
      y += barHeight + 6;
    }
    y += 20;
  }
  // Labels on either side of their line: the two lines are close together.
  const line = (ratio: number, label: string, side: 'start' | 'end') =>
    `<line x1="${left + ratio * scale}" y1="20" x2="${left + ratio * scale}" y2="${y - 20}" ` +
    `stroke="#555" stroke-dasharray="4 3"/><text x="${left + ratio * scale + (side === 'start' ? 3 : -3)}" ` +
    `y="16" font-size="11" text-anchor="${side}">${label}</text>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" ` +
      `font-family="system-ui, sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    line(1, 'MemoryStore', 'start'),
    line(0.85, 'target 0.85', 'end'),
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

/**
 * Writes results.md, results.json and ratios.svg under bench/ (a quick run: under bench/tmp/,
 * leaving the last full results in place); returns their paths.
 */
export function writeReport(results: BenchResults): string[] {
  const dir = path.join(projectRoot, 'bench', results.quick ? 'tmp' : '');
  const files = {
    'results.md': markdown(results),
    'results.json': `${JSON.stringify(results, null, 2)}\n`,
    'ratios.svg': chart(results),
  };
  return Object.entries(files).map(([name, content]) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, content);
    return path.relative(projectRoot, file);
  });
}

// `node --import tsx bench/report.ts`: writes the report again from results.json (after editing
// optimisations.md, say) without measuring anything.
if (require.main === module) {
  const file = path.join(projectRoot, 'bench', 'results.json');
  const written = writeReport(JSON.parse(fs.readFileSync(file, 'utf8')) as BenchResults);
  console.log(`written: ${written.join(', ')}`);
}
