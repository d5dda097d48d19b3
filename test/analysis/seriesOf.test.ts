import { describe, expect, it } from 'vitest';
import { seriesOf, type ChangeLog, type OwnershipSeries } from '../../src/core/analysis/ownershipIndex';
import { rng } from '../helpers';

// seriesOf against a plain recount: the counts at each sample from the first change on, the top owners by
// their largest count over the samples (pinned first, hidden left out), ties by id.

/** A change log of `changes` changes over `pages` pages and `owners` owners, times from `times`. */
function randomLog(rand: () => number, changes: number, pages: number, owners: number, rows: number): ChangeLog & { times: Float64Array } {
  const pos = new Uint32Array(changes);
  const owner = new Int32Array(changes);
  const prev = new Int32Array(changes);
  const times = new Float64Array(changes);
  const state = new Int32Array(pages).fill(-1);
  let t = 0;
  for (let c = 0; c < changes; c++) {
    if (rand() < 0.3) t += Math.floor(rand() * 5);
    times[c] = t;
    pos[c] = c;
    const page = Math.floor(rand() * pages);
    // Few owners hold most pages, so the top is decided by a few and ties happen.
    const o = rand() < 0.3 ? 0 : 1 + Math.floor(rand() * rand() * (owners - 1));
    prev[c] = state[page];
    owner[c] = o;
    state[page] = o;
  }
  return {
    pos,
    owner,
    prev,
    times,
    ownerCount: owners,
    rows,
    changesUpTo(x: number): number {
      let c = 0;
      while (c < changes && times[c] <= x) c++;
      return c;
    },
    countsAt(c: number, counts: Int32Array): number {
      counts.fill(0);
      let seen = 0;
      for (let k = 0; k < c; k++) {
        if (prev[k] >= 0) counts[prev[k]]--;
        else seen++;
        counts[owner[k]]++;
      }
      return seen;
    },
  };
}

function recount(log: ChangeLog, t0: number, t1: number, n: number, top: number, pinned: number[], hidden: number[]): OwnershipSeries {
  const times = new Float64Array(n);
  for (let i = 0; i < n; i++) times[i] = n === 1 ? t1 : t0 + ((t1 - t0) * i) / (n - 1);
  const at: Int32Array[] = [];
  const seen: number[] = [];
  for (let i = 0; i < n; i++) {
    const counts = new Int32Array(log.ownerCount);
    seen.push(log.countsAt(log.changesUpTo(times[i]), counts));
    at.push(counts);
  }
  const peak = (o: number): number => Math.max(...at.map((c) => c[o]));
  const chosen: number[] = [];
  for (const o of pinned) if (chosen.length < top && o > 0 && o < log.ownerCount && !hidden.includes(o) && !chosen.includes(o)) chosen.push(o);
  const rest = [];
  for (let o = 1; o < log.ownerCount; o++) if (peak(o) > 0 && !hidden.includes(o) && !chosen.includes(o)) rest.push(o);
  rest.sort((x, y) => peak(y) - peak(x) || x - y);
  chosen.push(...rest.slice(0, Math.max(0, top - chosen.length)));
  const values = new Float64Array(chosen.length * n);
  const other = new Float64Array(n);
  const free = new Float64Array(n);
  const unknown = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let shown = 0;
    chosen.forEach((o, j) => {
      values[j * n + i] = at[i][o];
      shown += at[i][o];
    });
    free[i] = at[i][0];
    other[i] = seen[i] - at[i][0] - shown;
    unknown[i] = Math.max(0, log.rows - seen[i]);
  }
  return { times, owners: Uint32Array.from(chosen), values, other, free, unknown };
}

describe('seriesOf', () => {
  it('gives the counts of a plain recount at every sample, over random logs, windows and selections', () => {
    const rand = rng(7);
    for (let round = 0; round < 60; round++) {
      const changes = Math.floor(rand() * 600);
      const owners = 2 + Math.floor(rand() * 30);
      const log = randomLog(rand, changes, 1 + Math.floor(rand() * 80), owners, Math.floor(rand() * 100));
      const span = changes > 0 ? log.times[changes - 1] : 0;
      const t0 = Math.floor(rand() * (span + 4)) - 2;
      const t1 = t0 + Math.floor(rand() * (span + 4));
      const n = 1 + Math.floor(rand() * 40);
      const top = Math.floor(rand() * 8);
      const pinned = rand() < 0.3 ? [Math.floor(rand() * (owners + 2)) - 1, 1] : [];
      const hidden = rand() < 0.3 ? [1 + Math.floor(rand() * owners)] : [];
      expect(seriesOf(log, t0, t1, n, top, pinned, hidden), `round ${round}`).toEqual(recount(log, t0, t1, n, top, pinned, hidden));
    }
  });

  it('handles a window before every change, one sample, and more owners noted than the first note space holds', () => {
    const rand = rng(11);
    const log = randomLog(rand, 40_000, 3000, 400, 3000);
    const end = log.times[log.times.length - 1];
    for (const [t0, t1, n] of [
      [-10, -5, 5],
      [0, end, 1],
      [0, end, 300],
      [end / 3, end / 2, 17],
    ] as const) {
      expect(seriesOf(log, t0, t1, n, 8)).toEqual(recount(log, t0, t1, n, 8, [], []));
    }
  });

  it('picks the top owners among thousands with tied peaks, after pins (hidden, repeated, out of range ones left out)', () => {
    const rand = rng(23);
    const log = randomLog(rand, 20_000, 400, 3000, 400);
    const end = log.times[log.times.length - 1];
    for (const [top, pinned, hidden] of [
      [16, [], []],
      [16, [5, 5, 0, 3000, 7, 9], [7]],
      [3, [11, 12, 13, 14], []],
      [0, [4], []],
      [40, [], [1, 2, 3]],
    ] as [number, number[], number[]][]) {
      expect(seriesOf(log, 0, end, 12, top, pinned, hidden)).toEqual(recount(log, 0, end, 12, top, pinned, hidden));
    }
  });
});
