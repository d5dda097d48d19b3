import { describe, expect, it } from 'vitest';
import { PageSetBuilder, PAGE_BYTES } from '../../src/core/analysis/pageSet';
import { diffPageSets, toDiffResult } from '../../src/core/analysis/snapshotDiff';

/** A small deterministic generator (xorshift). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('PageSetBuilder.finish sorts pages by key', () => {
  // Spans that take the one-pass radix sort, the two-pass one, and the float sorts beyond 2^32.
  const cases: [string, number, number][] = [
    ['span under 2^16', 0x100000, 5000],
    ['span under 2^32', 0x100000, 3_000_000_000],
    ['span over 2^32', 0, 2 ** 45],
    ['span over 2^53 / n', 0, 2 ** 52],
  ];
  for (const [name, base, span] of cases) {
    it(`stable, every column moved with its page: ${name}`, () => {
      const r = rng(span % 1000 + 7);
      const n = 4000;
      const b = new PageSetBuilder(16);
      const owner = b.ownerOf('pid 1', 'process', 1);
      const pfns: number[] = [];
      for (let i = 0; i < n; i++) {
        // Repeated keys, to see that equal keys keep their order.
        const pfn = i % 5 === 0 && i > 0 ? pfns[i - 1] : base + Math.floor(r() * span);
        pfns.push(pfn);
        b.add(pfn, pfn * 2, owner, i % 3, i % 2, i, i * 10, i % 7, i % 2, (i >> 1) % 2, i % 2);
      }
      const s = b.finish('s', ['f0', 'f1'], false);
      expect(s.keyKind).toBe('pfn');
      const expected = pfns.map((pfn, i) => ({ pfn, i })).sort((x, y) => x.pfn - y.pfn || x.i - y.i);
      expect(Array.from(s.line)).toEqual(expected.map((e) => e.i));
      const rows = (pick: (k: number, i: number) => number[]): number[][] => Array.from(s.line, (i, k) => pick(k, i));
      expect(rows((k) => [s.key[k], s.pfn[k], s.vaddr[k], s.node[k], s.file[k], s.allocId[k], s.allocOrder[k], s.shared[k], s.exited[k], s.state[k], s.owner[k]])).toEqual(
        rows((_k, i) => [pfns[i], pfns[i], pfns[i] * 2, i % 3, i % 2, i * 10, i % 7, i % 2, (i >> 1) % 2, i % 2, owner]),
      );
    });
  }

  it('keys by virtual page when a page has no pfn, and leaves sorted input as it is', () => {
    const b = new PageSetBuilder();
    const o = b.ownerOf('pid 1', 'process', 1);
    b.add(NaN, 0x3000, o, -1, 0, 1);
    b.add(NaN, 0x1000, o, -1, 0, 2);
    b.add(NaN, 0x2000, o, -1, 0, 3);
    const s = b.finish('s', ['f'], false);
    expect(s.keyKind).toBe('vaddr');
    expect(Array.from(s.key)).toEqual([0x1000 / PAGE_BYTES, 0x2000 / PAGE_BYTES, 0x3000 / PAGE_BYTES]);
    expect(Array.from(s.line)).toEqual([2, 3, 1]);
    const c = new PageSetBuilder();
    for (let i = 0; i < 10; i++) c.add(100 + i, NaN, o, 0, 0, i);
    expect(Array.from(c.finish('s', ['f'], false).line)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe('pairing moved pages by process and virtual address', () => {
  const side = (pages: [number, number, number][], live = false): ReturnType<PageSetBuilder['finish']> => {
    const b = new PageSetBuilder();
    pages.forEach(([pfn, vaddr, pid], i) => b.add(pfn, vaddr, b.ownerOf(`pid ${pid}`, 'process', pid), -1, 0, i + 1));
    return b.finish(live ? 'live' : 'snap', ['f'], live);
  };

  it('pairs a page with the last page of B at its address, and every moved page of many processes', () => {
    const r = toDiffResult(diffPageSets(side([[10, 0x1000, 1]]), side([[20, 0x1000, 1], [30, 0x1000, 1]])));
    expect(r.changes.map((c) => [c.class, c.start, c.startAfter])).toEqual([
      ['cowSplit', '0xa', '0x1e'],
      ['added', '0x14', null],
    ]);
    // 20 000 pages of 300 processes at addresses above 2^32, each moved to a new frame in B.
    const rand = rng(11);
    const a: [number, number, number][] = [];
    const b: [number, number, number][] = [];
    for (let i = 0; i < 20_000; i++) {
      const pid = 1 + Math.floor(rand() * 300);
      const va = 0x7f0000000000 + i * 4096;
      a.push([0x100000 + i, va, pid]);
      b.push([0x900000 + i, va, pid]);
    }
    const d = toDiffResult(diffPageSets(side(a), side(b)));
    expect(Object.fromEntries(Object.entries(d.classes).filter(([, v]) => v))).toEqual({ cowSplit: 20_000 });
  });
});
