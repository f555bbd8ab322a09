import autocannon from 'autocannon';
import { PROXY_HEADERS } from './site';

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** How many answers had each status (all of them expected, or the run would have failed). */
  statuses: Record<number, number>;
  /** With `countFailures`: requests that got no answer (a socket error, or the timeout). */
  failures?: number;
  /**
   * On PostgreSQL, where its server runs here: the CPU its processes used per request, in µs
   * (bench/pin-postgres.ts). Absent from runs made before it was measured.
   */
  databaseCpuMicros?: number;
}

export interface LoadOptions {
  /** Paths each connection requests in turn. */
  paths?: string[];
  method?: 'GET' | 'POST';
  body?: string;
  /** One Cookie header per connection (connections share them round-robin). */
  cookies?: string[];
  /** One body per connection, instead of `body` (round-robin, like `cookies`). */
  bodies?: string[];
  /** One client address per connection, sent as X-Forwarded-For (round-robin). */
  addresses?: string[];
  connections: number;
  durationSeconds?: number;
  amount?: number;
  /** A fixed request rate instead of as fast as the server answers. */
  ratePerSecond?: number;
  /** Status codes that count as an answer (default 200). */
  expect?: number[];
  /**
   * Errors and timeouts are counted in the result instead of failing the run: for a load that is
   * refused on purpose (the registration flood), whose requests may wait past the timeout.
   */
  countFailures?: boolean;
  /** Seconds a request may wait for its answer before it counts as none (autocannon: 10). */
  timeoutSeconds?: number;
}

/**
 * One autocannon run. Any unexpected status fails the benchmark: a run that measured login
 * redirects or 503 pages would be fast and meaningless.
 */
export async function load(url: string, options: LoadOptions): Promise<LoadResult> {
  const { cookies = [], bodies = [], addresses = [], paths = ['/'], method = 'GET' } = options;
  const { body, expect = [200] } = options;
  let nextClient = 0;
  const unexpected = new Map<number, number>();
  const statuses: Record<number, number> = {};
  const onResponse = (status: number) => {
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (!expect.includes(status)) unexpected.set(status, (unexpected.get(status) ?? 0) + 1);
  };
  const result = await autocannon({
    url,
    connections: options.connections,
    ...(options.amount ? { amount: options.amount } : { duration: options.durationSeconds }),
    overallRate: options.ratePerSecond,
    ...(options.timeoutSeconds ? { timeout: options.timeoutSeconds } : {}),
    requests: paths.map((path) => ({ method, path, body, onResponse })),
    setupClient: (client) => {
      const index = nextClient++;
      const pick = (list: string[]) => list[index % Math.max(list.length, 1)];
      const [cookie, ownBody, address] = [pick(cookies), pick(bodies), pick(addresses)];
      client.setHeaders({
        ...PROXY_HEADERS,
        ...(body || ownBody ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...(cookie ? { cookie } : {}),
        ...(address ? { 'x-forwarded-for': address } : {}),
      });
      if (ownBody) client.setBody(ownBody);
    },
  });
  const failed = result.errors > 0 || result.timeouts > 0;
  if (result.requests.total === 0 || (failed && !options.countFailures) || unexpected.size > 0) {
    throw new Error(
      `${method} ${url}${paths.join(',')}: ${result.errors} errors, ${result.timeouts} ` +
        `timeouts, unexpected ${[...unexpected].map(([status, n]) => `${n}×${status}`).join(', ')}`,
    );
  }
  return {
    requestsPerSecond: result.requests.total / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    statuses,
    ...(options.countFailures ? { failures: result.errors } : {}),
  };
}
