import { middle, ratioOf } from '../bench/report';
import type { LoadResult } from '../bench/load';

/** A page variant as the benchmark records it: its rounds' req/s, and their median. */
function variant(...roundsPerSecond: number[]) {
  const runs: LoadResult[] = roundsPerSecond.map((requestsPerSecond) => ({
    requestsPerSecond,
    p50Ms: 1,
    p99Ms: 2,
    requests: requestsPerSecond * 4,
    statuses: { 200: requestsPerSecond * 4 },
  }));
  return { requestsPerSecond: middle(roundsPerSecond), p50Ms: 1, p99Ms: 2, runs };
}

describe("the benchmark's page ratios", () => {
  // Round 2 is a neighbour's busy minute for both; in round 3 it fell on the SQLite run only.
  const rows = { sqlite: variant(1500, 750, 750), memory: variant(1000, 500, 1000) };

  it('a busy round that slows both variants leaves their ratio where it was', () => {
    const { ratio, rounds } = ratioOf(rows, 'sqlite', 'memory', true);
    expect(rounds).toEqual([1.5, 1.5, 0.75]);
    expect(ratio).toBe(1.5);
  });

  it('a run from before paired ratios is judged as it was: the ratio of the two medians', () => {
    expect(ratioOf(rows, 'sqlite', 'memory', false)).toEqual({ ratio: 0.75, rounds: [] });
  });

  it('takes the mean of the middle two rounds when their number is even', () => {
    const even = { sqlite: variant(900, 1000, 1200, 800), memory: variant(1000, 1000, 1000, 1000) };
    expect(ratioOf(even, 'sqlite', 'memory', true).ratio).toBeCloseTo(0.95);
  });
});
