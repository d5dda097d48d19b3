import { describe, expect, it } from 'vitest';
import { NumberIndex, SnapStates } from '../../src/core/analysis/snapStates';

describe('SnapStates', () => {
  it('copies a snapshot\'s pages into one array it reuses, longer lists included', () => {
    const s = new SnapStates();
    const a = s.index(1, 0, 0);
    const b = s.index(2, 0, 1);
    for (let p = 0; p < 300; p++) s.addPage(a, 1000 + p);
    s.addPage(b, 7);
    s.addPage(b, 5);
    expect(s.copyPages(b)).toBe(2);
    const small = s.copied;
    expect([small[0], small[1]]).toEqual([7, 5]);
    expect(s.copyPages(a)).toBe(300);
    expect(Array.from(s.copied.subarray(0, 300))).toEqual(Array.from({ length: 300 }, (_, k) => 1000 + k));
    expect(s.copyPages(b)).toBe(2);
    expect([s.copied[0], s.copied[1]]).toEqual([7, 5]);
    expect(s.copyPages(s.index(3, 0, 2))).toBe(0);
    // pages() is still a copy of its own.
    const own = s.pages(a);
    s.copyPages(b);
    expect(own.length).toBe(300);
    expect(own[0]).toBe(1000);
  });

  it('keeps each snapshot by first sighting, its pid once known, and its pages in reference order', () => {
    const s = new SnapStates();
    const a = s.index(7, 0, 10);
    const b = s.index(3, 42, 11);
    expect(s.index(7, 5, 12)).toBe(a);
    expect(s.index(7, 9, 13)).toBe(a);
    expect(s.pid[a]).toBe(5);
    s.addPage(a, 100);
    s.addPage(b, 200);
    s.addPage(a, 101);
    s.addPage(a, 100);
    expect([...s.pages(a)]).toEqual([100, 101, 100]);
    expect([...s.pages(b)]).toEqual([200]);
    s.cows[a]++;
    s.records[b] += 4;
    s.end[a] = 20;
    s.live[b] = 0;
    const r = s.results((pfn) => pfn === 100);
    expect([...r.stats.keys()]).toEqual([7, 3]);
    expect(r.stats.get(7)).toEqual({ id: 7, pages: 3, shared: 2, cows: 1, dropped: false, begin: 10, end: 20 });
    expect(r.stats.get(3)).toEqual({ id: 3, pages: 5, shared: 0, cows: 0, dropped: true, begin: 11, end: -1 });
    expect(r.stats.get(4)).toBeUndefined();
    expect(r.stats.has(3)).toBe(true);
    expect([...r.pages]).toEqual([
      [7, [100, 101, 100]],
      [3, [200]],
    ]);
    expect(r.pages.size).toBe(2);
  });

  it('reports a (snapshot, page) once', () => {
    const s = new SnapStates();
    const a = s.index(1, 0, 0);
    const b = s.index(2, 0, 1);
    expect(s.firstReport(a, 5)).toBe(true);
    expect(s.firstReport(a, 5)).toBe(false);
    expect(s.firstReport(b, 5)).toBe(true);
  });

  it('grows past its first columns and finds every id, fractional and large ones too', () => {
    const s = new SnapStates();
    const ids = Array.from({ length: 3000 }, (_, k) => (k % 3 === 0 ? k : k % 3 === 1 ? 2 ** 40 + k : k + 0.25));
    ids.forEach((id, k) => expect(s.index(id, 0, k)).toBe(k));
    ids.forEach((id, k) => expect(s.index(id, 0, 0)).toBe(k));
    for (let k = 0; k < 3000; k++) s.addPage(k, k);
    expect(s.results(() => false).stats.get(2 ** 40 + 1)?.begin).toBe(1);
  });

  it('gives the same figures and pages made at the expected size, smaller or larger than it, or grown from the least', () => {
    const fill = (s: SnapStates): ReturnType<SnapStates['results']> => {
      for (let k = 0; k < 1500; k++) {
        const i = s.index(1000 + k, k % 7, k);
        s.records[i] += k % 3;
        s.cows[i] += k % 2;
        if (k % 5 === 0) s.end[i] = k + 9;
        if (k % 11 === 0) s.live[i] = 0;
        // Pages of earlier snapshots too, so each list runs through references made for others.
        for (let m = 0; m < 1 + (k % 4); m++) s.addPage(s.index(1000 + ((k * 7 + m) % (k + 1)), 0, 0), k * 10 + m);
      }
      return s.results((pfn) => pfn % 3 === 0);
    };
    const plain = (r: ReturnType<SnapStates['results']>) => ({ stats: [...r.stats.values()], pages: [...r.pages] });
    const grown = plain(fill(new SnapStates()));
    expect(grown.stats).toHaveLength(1500);
    for (const expected of [1, 1500, 700, 5000]) expect(plain(fill(new SnapStates(expected)))).toEqual(grown);
  });
});

describe('NumberIndex', () => {
  it('finds positions of keys, NaN included, and -1 for keys not added', () => {
    const keys = new Float64Array([5, NaN, -0, 1.5]);
    const ix = new NumberIndex(() => keys);
    for (let k = 0; k < keys.length; k++) ix.add(k);
    expect(ix.get(5)).toBe(0);
    expect(ix.get(NaN)).toBe(1);
    expect(ix.get(0)).toBe(2);
    expect(ix.get(1.5)).toBe(3);
    expect(ix.get(6)).toBe(-1);
  });
});
