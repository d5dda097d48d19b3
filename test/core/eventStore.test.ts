import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHUNK, ChunkGroups, CompactColumn, EventStore, Rep } from '../../src/core/model/eventStore';
import { EventKind, newEventRecord } from '../../src/core/model/events';
import { rng } from '../helpers';

/** Fill a column with `values` through begin/current as EventStore.push does, then pack the tail. */
function columnOf(values: readonly number[], steps = false): CompactColumn {
  const col = new CompactColumn(steps);
  let raw: Float64Array = new Float64Array(0);
  values.forEach((v, i) => {
    if ((i & (CHUNK - 1)) === 0) raw = col.begin();
    raw[i & (CHUNK - 1)] = v;
  });
  col.setFilled(values.length & (CHUNK - 1) || (values.length ? CHUNK : 0));
  col.finish();
  return col;
}

/** The first index where `read(i)` is not `values[i]` (Object.is: NaN equals NaN), or -1. */
function firstMismatch(values: readonly number[], read: (i: number) => number, order: Iterable<number>): number {
  for (const i of order) if (!Object.is(read(i), values[i])) return i;
  return -1;
}

function* downFrom(n: number): Iterable<number> {
  for (let i = n - 1; i >= 0; i--) yield i;
}

/** Every value read back through get (in order, backwards, at random) and through exportChunks/importChunks. */
function expectExact(col: CompactColumn, values: readonly number[]): void {
  const n = values.length;
  expect(firstMismatch(values, (i) => col.get(i), values.keys())).toBe(-1);
  expect(firstMismatch(values, (i) => col.get(i), downFrom(n))).toBe(-1);
  expect(firstMismatch(values, (i) => col.get(i), Array.from({ length: 3000 }, (_, k) => (k * 7919 + 11) % n))).toBe(-1);
  const copy = new CompactColumn();
  copy.importChunks(col.exportChunks());
  expect(firstMismatch(values, (i) => copy.get(i), values.keys())).toBe(-1);
  // range(): whole, from and to any slot, across chunk boundaries, and empty.
  for (const [from, to] of [[0, n], [0, 1], [n - 1, n], [Math.floor(n / 3), Math.floor((2 * n) / 3) + 1], [CHUNK - 3, CHUNK + 5], [5, 5]]) {
    if (from > n || to > n || from > to) continue;
    const out = new Float64Array(to - from + 1).fill(-0.5);
    col.range(from, to, out);
    expect(firstMismatch(values, (i) => out[i - from], Array.from({ length: to - from }, (_, k) => from + k))).toBe(-1);
    expect(out[to - from]).toBe(-0.5);
  }
}

const PAGE = 4096;
const VA = 0x7f0000000000;

/** One chunk's worth of values in one of the shapes the packer tells apart, from a seed. */
function shape(kind: number, seed: number): number[] {
  const r = rng(seed);
  const int = (m: number) => Math.floor(r() * m);
  const v: number[] = new Array(CHUNK);
  switch (kind) {
    case 0: {
      // Mostly one value (sparse), with NaN, fractions, infinities and large values among the rest; or only it.
      const base = [0, NaN, 7, -1][int(4)];
      v.fill(base);
      const k = r() < 0.1 ? 0 : int(r() < 0.5 ? 300 : 12000);
      const odd = [NaN, 0.25, -Infinity, Infinity, VA, 2 ** 53 + 2, -5e300];
      for (let m = 0; m < k; m++) v[int(CHUNK)] = r() < 0.3 ? odd[int(odd.length)] : int(2 ** 40);
      break;
    }
    case 1: {
      // Page multiples of virtual addresses (over 2^24 or 2^22 pages) with NaN, zeros and a few values that are not multiples.
      const pages = r() < 0.5 ? 1 << 24 : 1 << 22;
      for (let j = 0; j < CHUNK; j++) {
        const x = r();
        v[j] = x < 0.85 ? VA + int(pages) * PAGE : x < 0.9 ? NaN : x < 0.93 ? 0x100000 + int(0x40000) : x < 0.95 ? VA + int(200) * PAGE + 12 : 0;
      }
      break;
    }
    case 2: {
      // Line-like runs: affine, or affine but for one value.
      const start = int(1 << 30);
      for (let j = 0; j < CHUNK; j++) v[j] = start + j;
      if (r() < 0.5) v[int(CHUNK)] += int(7) - 3;
      break;
    }
    case 3: {
      // Page numbers over a narrow or a wide span, with NaN.
      const p = int(1 << 20);
      const span = r() < 0.5 ? 200 : 60000;
      for (let j = 0; j < CHUNK; j++) v[j] = j % 97 === 0 ? NaN : (p + int(span)) * PAGE;
      break;
    }
    case 4: {
      // Offsets of each width, with NaN and an occasional fraction.
      const lo = int(2 ** 40) - 1000;
      const span = [200, 60000, 2 ** 31, 2 ** 33, 15][int(5)];
      const frac = r() < 0.2;
      for (let j = 0; j < CHUNK; j++) v[j] = j % 1001 === 5 ? NaN : lo + int(span) + (frac && j === 77 ? 0.5 : 0);
      break;
    }
    case 6: {
      // Ramps: lines of events of 3 to 14 lines each (the walk may leave a byte), or pfns that grow by a
      // block of 1 to 8 pages with a few values off it by up to ±2^15; from near 0 or near 2^52.
      let x = r() < 0.2 ? 2 ** 52 - 2 ** 25 : r() < 0.5 ? -(2 ** 30) : int(1 << 30);
      const far = r() < 0.3;
      for (let j = 0; j < CHUNK; j++) {
        x += far ? 1 + int(8) : 3 + int(12);
        v[j] = far && j % 4001 === 7 ? x + int(2 ** 15) - 2 ** 14 : x;
      }
      break;
    }
    case 7: {
      // A few far-apart values (allocation site hashes), NaN among them in some chunks; or one nearly everywhere.
      const sites = Array.from({ length: 1 + int(16) }, () => (r() < 0.1 ? NaN : int(2 ** 32)));
      const skew = r() < 0.2;
      for (let j = 0; j < CHUNK; j++) v[j] = skew && r() < 0.99 ? sites[0] : sites[int(sites.length)];
      break;
    }
    case 8: {
      // Times in order: steps below 2^16 (Delta16), or with one step too long, one step back, or NaN; or
      // ids of a few high halves (Split).
      let x = r() < 0.2 ? 2 ** 52 - 2 ** 40 : int(2 ** 40);
      const flaw = int(5);
      const at = int(CHUNK);
      for (let j = 0; j < CHUNK; j++) {
        x += flaw === 4 ? 0 : int(4000);
        v[j] = flaw === 4 ? 0x40000 + (j % 7) * 65536 + int(60000) : x;
      }
      if (flaw === 1) for (let j = at; j < CHUNK; j++) v[j] += 65536;
      if (flaw === 2) v[at] -= 4001;
      if (flaw === 3) v[at] = NaN;
      break;
    }
    default:
      // Any double.
      for (let j = 0; j < CHUNK; j++) v[j] = (r() - 0.5) * 10 ** int(300);
  }
  return v;
}

const chunkValues = fc.tuple(fc.nat(8), fc.nat()).map(([kind, seed]) => shape(kind, seed));

describe('CompactColumn', () => {
  it('reads back exactly every value of chunks of each shape, whole or partial', () => {
    fc.assert(
      fc.property(fc.array(chunkValues, { minLength: 1, maxLength: 3 }), fc.nat(CHUNK - 1), (chunks, cut) => {
        const values = chunks.flat().slice(0, (chunks.length - 1) * CHUNK + cut + 1);
        expectExact(columnOf(values), values);
      }),
      { numRuns: 60 },
    );
  });

  it('reads back chunks of every form (fixed seeds of each shape)', () => {
    const seen = new Set<number>();
    for (let kind = 0; kind < 9; kind++) {
      for (let seed = 0; seed < 12; seed++) {
        const values = shape(kind, seed);
        for (const steps of [false, true]) {
          const col = columnOf(values, steps);
          for (const r of col.rep) seen.add(r);
          expect(firstMismatch(values, (i) => col.get(i), values.keys())).toBe(-1);
        }
      }
    }
    // Keyed needs a key column (describe 'Keyed' below).
    expect([...seen].sort()).toEqual(Object.values(Rep).filter((r) => r !== Rep.Keyed).sort());
  });

  it('packs a chunk that starts with a run of one value as it packs the same values with another first', () => {
    const run = (first: number, len: number, rest: (j: number) => number): number[] => Array.from({ length: CHUNK }, (_, j) => (j < len ? first : rest(j)));
    expect(columnOf(run(5, CHUNK, () => 0)).rep).toEqual([Rep.Const]);
    expect(columnOf(run(NaN, CHUNK, () => 0)).rep).toEqual([Rep.Const]);
    const cases = [
      run(7, 1000, (j) => j % 200),
      run(7, CHUNK - 1, () => 3),
      run(NaN, 1000, (j) => 100 + j),
      run(NaN, 5, () => 9),
      run(NaN, CHUNK - 1, () => 9),
      run(2 ** 40, 300, (j) => 2 ** 40 + j * 70000),
      run(0.5, 300, (j) => j),
      run(0, 2000, (j) => (j % 25 === 0 ? VA + j * PAGE : 0)),
    ];
    for (const values of cases) {
      const col = columnOf(values);
      expectExact(col, values);
      // The last value moved to the front: no run to start with, the same form.
      const moved = [values[CHUNK - 1], ...values.slice(0, CHUNK - 1)];
      expect(col.rep).toEqual(columnOf(moved).rep);
      expect(col.bytes()).toBe(columnOf(moved).bytes());
    }
    for (const n of [1, 2, 3]) {
      const vals = [4, 4, 9].slice(0, n);
      const col = columnOf(vals);
      expect(col.rep).toEqual([n < 3 ? Rep.Const : Rep.U4]);
      expectExact(col, vals);
    }
  });

  it('takes the narrowest form for each shape', () => {
    const line = Array.from({ length: CHUNK }, (_, i) => 100 + i);
    expect(columnOf(line).rep).toEqual([Rep.Affine]);
    expect(columnOf(line).bytes()).toBe(0);
    // A few nodes: half a byte; NaN among them; an odd partial chunk; a span of 15 or a fraction: a byte or more.
    const node = Array.from({ length: CHUNK }, (_, i) => (i % 3) - 1);
    expect(columnOf(node).rep).toEqual([Rep.U4]);
    expect(columnOf(node).bytes()).toBe(CHUNK / 2);
    expectExact(columnOf(node), node);
    const nodes = Array.from({ length: 777 }, (_, i) => (i % 50 === 0 ? NaN : 3 + (i % 15)));
    expect(columnOf(nodes).rep).toEqual([Rep.U4]);
    expectExact(columnOf(nodes), nodes);
    expect(columnOf(nodes.map((x) => (x === 17 ? 18 : x))).rep).toEqual([Rep.U8]);
    const half = nodes.map((x, i) => (i === 5 ? x + 0.5 : x));
    expect(columnOf(half).rep).not.toEqual([Rep.U4]);
    expectExact(columnOf(half), half);
    expect(columnOf(Array.from({ length: CHUNK }, (_, i) => i % 200)).rep).toEqual([Rep.U8]);
    // Virtual addresses with NaN, 0 (no address) and one pfn in 30: 32-bit page numbers, and the pfns and the 0
    // beside them; those of 2^22 pages take 64 high halves, stored as a byte an address into them.
    const va = Array.from({ length: CHUNK }, (_, i) => (i % 30 === 0 ? 0x100001 + i : i % 30 === 1 ? 0 : i % 50 === 0 ? NaN : VA + ((i * 7919) % 2 ** 22) * PAGE));
    const col = columnOf(va);
    expect(col.rep).toEqual([Rep.PSplit]);
    expect(col.bytes()).toBe(CHUNK * 3 + 1024 + (Math.ceil(CHUNK / 30) + 1) * 8);
    expectExact(col, va);
    const wide = va.map((x, i) => (x >= VA ? VA + ((i * 7919 * 61) % 2 ** 28) * PAGE : x));
    expect(columnOf(wide).rep).toEqual([Rep.P32]);
    expect(columnOf(wide).bytes()).toBe(CHUNK * 4 + (Math.ceil(CHUNK / 30) + 1) * 8);
    expectExact(columnOf(wide), wide);
    const near = Array.from({ length: CHUNK }, (_, i) => VA + (i % 1000) * PAGE);
    expect(columnOf(near).rep).toEqual([Rep.P16]);
    // 0 almost everywhere (arg2): the other slots listed.
    const arg2 = Array.from({ length: CHUNK }, (_, i) => (i % 25 === 0 ? VA + i * PAGE : 0));
    const sparse = columnOf(arg2);
    // Whole values less than 2^32 apart: 32-bit offsets beside the slots (6 bytes each); a fraction, a
    // NaN or a wider span among them: float64 (10 bytes each).
    expect(sparse.rep).toEqual([Rep.Sparse32]);
    expect(sparse.bytes()).toBe(Math.ceil(CHUNK / 25) * 6 + 8);
    expectExact(sparse, arg2);
    for (const odd of [0.5, NaN, VA + 2 ** 32, VA - 1]) {
      const other = arg2.map((x, i) => (i === 50 ? odd : x));
      const col = columnOf(other);
      const narrow = odd === VA - 1;
      expect(col.rep).toEqual([narrow ? Rep.Sparse32 : Rep.Sparse]);
      expect(col.bytes()).toBe(Math.ceil(CHUNK / 25) * (narrow ? 6 : 10) + (narrow ? 8 : 0));
      expectExact(col, other);
    }
    const few = arg2.slice(0, 1001);
    expect(columnOf(few).rep).toEqual([Rep.Sparse32]);
    expectExact(columnOf(few), few);
    // The line of events of 8 or 9 lines each: a byte from the ramp through the first and last line.
    const lines: number[] = [];
    for (let j = 0, x = 1; j < CHUNK; j++, x += 8 + (j % 2)) lines.push(x);
    const ramp = columnOf(lines);
    expect(ramp.rep).toEqual([Rep.Ramp8]);
    expect(ramp.bytes()).toBe(CHUNK + 8);
    expectExact(ramp, lines);
    // pfns in frame order, each after a block of 1 to 8 pages: two bytes.
    const r = rng(3);
    const pfns: number[] = [];
    for (let j = 0, x = 0x100000; j < CHUNK; j++, x += 1 + Math.floor(r() * 8)) pfns.push(x);
    const ramp16 = columnOf(pfns);
    expect(ramp16.rep).toEqual([Rep.Ramp16]);
    expectExact(ramp16, pfns);
    // Not a ramp: random values (16 high halves: 3 bytes), NaN among ramp values, a fraction, a ramp too
    // steep for any code (65536 high halves: 4 bytes).
    const ids = Array.from({ length: CHUNK }, () => Math.floor(r() * 2 ** 20));
    expect(columnOf(ids).rep).toEqual([Rep.Split]);
    expect(columnOf(ids).bytes()).toBe(CHUNK * 3 + 1024);
    expectExact(columnOf(ids), ids);
    expect(columnOf(lines.map((x, j) => (j === 500 ? NaN : x))).rep).toEqual([Rep.Split]);
    expect(columnOf(lines.map((x, j) => (j === 500 ? x + 0.5 : x))).rep).toEqual([Rep.F64]);
    expect(columnOf(Array.from({ length: CHUNK }, (_, j) => j * j)).rep).toEqual([Rep.U32]);
    // Times in order, 0 to 4000 apart: two bytes a step and a mark every 256 slots; a step back, a step of
    // 2^16 or a NaN and they are not steps.
    const times: number[] = [];
    for (let j = 0, x = 1_000_000_000; j < CHUNK; j++, x += Math.floor(r() * 4001)) times.push(x);
    const delta = columnOf(times);
    expect(delta.rep).toEqual([Rep.Delta16]);
    expect(delta.bytes()).toBe(CHUNK * 2 + (CHUNK / 256) * 8);
    expectExact(delta, times);
    // Read a block at a time (the replay in store order) from the mark at or before each block: from every
    // slot around a mark, and blocks of 4096 from any start.
    for (const from of [1, 255, 256, 257, 511, 512, 513, 4095, 4096, 4097, 65279, 65280, 65281, CHUNK - 1]) {
      for (const len of [1, 2, 300, 4096]) {
        const to = Math.min(CHUNK, from + len);
        const out = new Float64Array(to - from);
        delta.range(from, to, out);
        expect(firstMismatch(times, (i) => out[i - from], Array.from({ length: to - from }, (_, k) => from + k))).toBe(-1);
      }
    }
    expect(columnOf(times.map((x, j) => (j === 9000 ? x - 4001 : x))).rep).not.toEqual([Rep.Delta16]);
    expect(columnOf(times.map((x, j) => (j >= 9000 ? x + 65536 : x))).rep).not.toEqual([Rep.Delta16]);
    const longest = 65535 - (times[9000] - times[8999]);
    expect(columnOf(times.map((x, j) => (j >= 9000 ? x + longest : x))).rep).toEqual([Rep.Delta16]);
    expect(columnOf(times.map((x, j) => (j === 9000 ? NaN : x))).rep).not.toEqual([Rep.Delta16]);
    // Four allocation site hashes: a byte each, coding one of them; sixteen and NaN still; seventeen not.
    const hashes = [0x811c9dc5, 0x12345678, 0xfedcba98, 7];
    const sites = Array.from({ length: CHUNK }, (_, j) => hashes[(j * 7919) % 4]);
    const dict = columnOf(sites);
    expect(dict.rep).toEqual([Rep.Dict8]);
    expect(dict.bytes()).toBe(CHUNK + 4 * 8);
    expectExact(dict, sites);
    const many = (k: number) => Array.from({ length: CHUNK }, (_, j) => (j % k === 0 ? NaN : 1000 * (j % k)));
    expect(columnOf(many(16)).rep).toEqual([Rep.Dict8]);
    expectExact(columnOf(many(16)), many(16));
    expect(columnOf(many(17)).rep).toEqual([Rep.U16]);
    // One hash nearly everywhere: listing the others beside it is smaller.
    expect(columnOf(sites.map((_, j) => (j % 100 === 0 ? hashes[1 + (j % 3)] : hashes[0]))).rep).toEqual([Rep.Sparse32]);
  });

  it('reads a sparse chunk right in any order', () => {
    const v = Array.from({ length: CHUNK }, (_, i) => (i % 50 === 3 ? i * 0.5 : NaN));
    const col = columnOf(v);
    expect(col.rep).toEqual([Rep.Sparse]);
    const idx = Array.from({ length: 5000 }, (_, k) => (k * 7919 + 13) % CHUNK);
    for (const i of idx) expect(col.get(i)).toBe(v[i]);
    for (let i = 0; i < CHUNK; i += 3) expect(col.get(i)).toBe(v[i]);
  });
});

describe('EventStore byte columns', () => {
  it('read a range of kinds and orders as get reads them, within a chunk and across chunks', () => {
    const s = new EventStore();
    const n = 2 * CHUNK + 300;
    for (let i = 0; i < n; i++) {
      const e = newEventRecord();
      e.kind = ((i * 7) % 23) as EventKind;
      e.order = (i * 13) % 11;
      s.push(e, 0);
    }
    for (const [from, to] of [[0, n], [0, 1], [5, 4101], [CHUNK - 3, CHUNK + 5], [CHUNK - 1, 2 * CHUNK + 1], [n - 1, n], [7, 7]]) {
      const kinds = new Uint8Array(to - from + 1).fill(99);
      const orders = new Uint8Array(to - from + 1).fill(99);
      s.kind.range(from, to, kinds);
      s.orderCol.range(from, to, orders);
      for (let i = from; i < to; i++) {
        if (kinds[i - from] !== s.kind.get(i) || orders[i - from] !== s.orderCol.get(i)) expect([i, kinds[i - from], orders[i - from]]).toEqual([i, s.kind.get(i), s.orderCol.get(i)]);
      }
      expect([kinds[to - from], orders[to - from]]).toEqual([99, 99]);
    }
  });
});

describe('EventStore with the new forms', () => {
  it('reads back events whose line is base + slot and whose arg holds addresses, across export and resume', () => {
    const s = new EventStore();
    const rec = (i: number) => {
      const e = newEventRecord();
      e.line = 5 + i + (i > CHUNK + 100 ? 1 : 0);
      e.time = 1000 + i * 3;
      e.pfn = 0x100000 + ((i * 13) % 40000);
      e.arg = i % 3 === 0 ? VA + ((i * 7) % 5000) * PAGE : i % 31 === 0 ? 0x123456 : 0;
      e.arg2 = i % 40 === 0 ? VA + i * PAGE : 0;
      e.node = i % 2;
      e.ref = i % 10 === 0 ? i : 0;
      return e;
    };
    const n = 2 * CHUNK + 777;
    for (let i = 0; i < n; i++) s.push(rec(i), 0);
    const t = EventStore.fromData(s.exportData());
    for (let i = n; i < n + 100; i++) t.push(rec(i), 0);
    const out = newEventRecord();
    for (let i = 0; i < n + 100; i++) expect(t.read(i, out)).toEqual({ ...rec(i) });
    expect(s.line.rep[0]).toBe(Rep.Affine);
    // One line skipped in chunk 1: a ramp with codes 0 and 1.
    expect(s.line.rep[1]).toBe(Rep.Ramp8);
    expect(s.node.rep[0]).toBe(Rep.U4);
    expect(s.arg2.rep[0]).toBe(Rep.Sparse32);
  });

  it('reads back times in steps, ids and addresses of a few high halves, in order, at random, across export and resume', () => {
    const s = new EventStore();
    const r = rng(11);
    const recs: ReturnType<typeof newEventRecord>[] = [];
    let time = 5_000_000;
    const rec = (i: number) => {
      const e = newEventRecord();
      e.line = 2 + i;
      e.time = time += Math.floor(r() * 3000);
      e.owner = 100_000 + Math.floor(r() * 400_000);
      e.pid = i % 1000 === 0 ? NaN : 1 + Math.floor(r() * 300_000);
      e.pfn = r() < 0.5 ? 0x100000 + Math.floor(r() * 327_680) : 0x4000000 + Math.floor(r() * 294_912);
      e.arg = i % 17 === 0 ? 0 : 0x7f0000000000 + Math.floor(r() * 2 ** 23) * PAGE;
      return e;
    };
    const n = 2 * CHUNK + 4321;
    for (let i = 0; i < n; i++) s.push((recs[i] = rec(i)), 0);
    const t = EventStore.fromData(s.exportData());
    for (let i = n; i < n + 2000; i++) t.push((recs[i] = rec(i)), 0);
    expect(s.time.rep.slice(0, 2)).toEqual([Rep.Delta16, Rep.Delta16]);
    expect(s.owner.rep[0]).toBe(Rep.Split);
    expect(s.pid.rep[0]).toBe(Rep.Split);
    expect(s.pfn.rep[0]).toBe(Rep.Split);
    expect(s.arg.rep[0]).toBe(Rep.PSplit);
    const out = newEventRecord();
    let bad = -1;
    for (let i = 0; i < n + 2000 && bad < 0; i++) if (JSON.stringify(t.read(i, out)) !== JSON.stringify(recs[i])) bad = i;
    expect(bad).toBe(-1);
    for (let k = 0; k < 5000 && bad < 0; k++) {
      const i = (k * 7919 + 5) % (n + 2000);
      if (JSON.stringify(t.read(i, out)) !== JSON.stringify(recs[i])) bad = i;
    }
    expect(bad).toBe(-1);
    for (let i = n + 1999; i >= 0 && bad < 0; i -= 3) if (t.time.get(i) !== recs[i].time) bad = i;
    expect(bad).toBe(-1);
  });

  it('reads right in order, at random and between pushes into the chunk being read', () => {
    const s = new EventStore();
    const rec = (i: number) => {
      const e = newEventRecord();
      e.line = 3 + i;
      e.time = i * 10;
      e.pfn = 0x100000 + ((i * 31) % 70000);
      e.arg = i % 4 === 0 ? VA + i * PAGE : 0;
      e.ref = i % 9 === 0 ? 7 : 0;
      return e;
    };
    const out = newEventRecord();
    const n = CHUNK + 500;
    for (let i = 0; i < n; i++) {
      s.push(rec(i), 0);
      // Read back the first event of the chunk and the one just pushed: each push must be seen.
      if (i % 1000 === 0) {
        expect(s.read(i & ~(CHUNK - 1), out)).toEqual({ ...rec(i & ~(CHUNK - 1)) });
        expect(s.read(i, out)).toEqual({ ...rec(i) });
      }
    }
    let bad = -1;
    for (let i = 0; i < n && bad < 0; i++) if (JSON.stringify(s.read(i, out)) !== JSON.stringify(rec(i))) bad = i;
    expect(bad).toBe(-1);
    for (let k = 0; k < 3000 && bad < 0; k++) {
      const i = (k * 7919 + 5) % n;
      if (JSON.stringify(s.read(i, out)) !== JSON.stringify(rec(i))) bad = i;
    }
    expect(bad).toBe(-1);
    s.push(rec(n), 0);
    expect(s.read(n, out)).toEqual({ ...rec(n) });
  });
});

describe('Delta8', () => {
  /** Values that never decrease, by steps of 0 to maxStep, from `start` (a ramp's codes would not fit a byte). */
  const climbing = (n: number, start: number, maxStep: number, seed: number) => {
    const r = rng(seed);
    const v: number[] = [];
    let x = start;
    for (let i = 0; i < n; i++) {
      v.push(x);
      // Runs of short and long steps, so the values stray far from any straight line.
      x += Math.floor(r() * (i % 400 < 200 ? 4 : maxStep + 1));
    }
    return v;
  };
  const stepped = (values: readonly number[]) => columnOf(values, true);

  // Values spanning 2^16 or more (narrower ones take U16 or a ramp first).
  it('takes steps below 256 in a byte, only in a column that allows it, and reads them back exactly', () => {
    for (const n of [CHUNK + 1000, 2 * CHUNK, 3000]) {
      const values = climbing(n, 12345, 255, n);
      const col = stepped(values);
      expect([n, col.rep[0]]).toEqual([n, Rep.Delta8]);
      expectExact(col, values);
      expect(columnOf(values).rep[0]).toBe(Rep.Ramp16);
    }
  });

  it('takes another form when a step is 256 or more, or a value goes down', () => {
    const big = climbing(CHUNK, 7, 255, 3);
    big[4000] = big[3999] + 256;
    for (let i = 4001; i < big.length; i++) big[i] = big[i - 1] + 1;
    expect(stepped(big).rep[0]).not.toBe(Rep.Delta8);
    expectExact(stepped(big), big);
    const down = climbing(CHUNK, 7, 255, 4);
    down[5000] = down[4999] - 1;
    expect(stepped(down).rep[0]).not.toBe(Rep.Delta8);
    expectExact(stepped(down), down);
  });

  it('reads back through EventStore.read, in order and at random, across export and a resumed tail', () => {
    const s = new EventStore();
    const lines = climbing(CHUNK + 3000, 1, 200, 9);
    const rec = (i: number) => {
      const e = newEventRecord();
      e.kind = EventKind.Record;
      e.line = lines[i];
      e.time = (i * 7919) % 100003;
      return e;
    };
    for (let i = 0; i < CHUNK + 2000; i++) s.push(rec(i), 0);
    const copy = EventStore.fromData(s.exportData());
    for (let i = CHUNK + 2000; i < lines.length; i++) copy.push(rec(i), 0);
    expect(copy.line.rep[0]).toBe(Rep.Delta8);
    const out = newEventRecord();
    let bad = -1;
    for (let i = 0; i < lines.length && bad < 0; i++) if (copy.read(i, out).line !== lines[i]) bad = i;
    for (let k = 0; k < 3000 && bad < 0; k++) {
      const i = (k * 7919 + 5) % lines.length;
      if (copy.read(i, out).line !== lines[i]) bad = i;
    }
    expect(bad).toBe(-1);
  });
});

describe('EventStore.compact', () => {
  const rec = (i: number) => {
    const e = newEventRecord();
    e.line = 3 + 9 * i;
    e.time = (i * 7919) % 100003;
    e.pfn = 0x100000 + ((i * 31) % 70000);
    e.owner = 1 + (i % 5);
    e.pid = i % 3 === 0 ? NaN : 100 + i;
    return e;
  };
  const filled = (n: number) => {
    const s = new EventStore();
    for (let i = 0; i < n; i++) s.push(rec(i), 0);
    return s;
  };
  const mismatch = (s: EventStore, n: number) => {
    const out = newEventRecord();
    for (let i = 0; i < n; i++) if (JSON.stringify(s.read(i, out)) !== JSON.stringify(rec(i))) return i;
    return -1;
  };

  it('packs a partial last chunk and hands over each column\'s kept raw array; pushes after it go on', () => {
    const n = CHUNK + 700;
    const s = filled(n);
    const before = s.bytes();
    const spare: ArrayBuffer[] = [];
    s.compact(spare);
    expect(s.bytes()).toBeLessThan(before);
    // One kept array per column that packed a chunk (10 compact columns), each a raw chunk's size.
    expect(spare.length).toBe(10);
    for (const b of spare) expect(b.byteLength).toBe(CHUNK * 8);
    // No buffer handed over is still read by the store.
    for (const b of spare) new Float64Array(b).fill(-1);
    expect(mismatch(s, n)).toBe(-1);
    expect(s.order()).toEqual(filled(n).order());
    for (let i = n; i < n + 10; i++) s.push(rec(i), 0);
    expect(mismatch(s, n + 10)).toBe(-1);
    // A second compact hands over only what the pushes made.
    const again: ArrayBuffer[] = [];
    s.compact(again);
    expect(again.length).toBe(10);
    expect(mismatch(s, n + 10)).toBe(-1);
  });

  it('packs a full raw last chunk, leaves an empty store alone, and a push after it starts a chunk', () => {
    const s = filled(2 * CHUNK);
    const spare: ArrayBuffer[] = [];
    s.compact(spare);
    for (const b of spare) new Float64Array(b).fill(-1);
    expect(mismatch(s, 2 * CHUNK)).toBe(-1);
    s.push(rec(2 * CHUNK), 0);
    expect(mismatch(s, 2 * CHUNK + 1)).toBe(-1);
    const empty = new EventStore();
    const none: ArrayBuffer[] = [];
    empty.compact(none);
    expect(none).toEqual([]);
    expect(empty.length).toBe(0);
  });
});

describe('EventStore.appendStore', () => {
  /** Events of many shapes: faults (an agent owner in ref), frees, allocs; times out of order and missing. */
  const rec = (i: number) => {
    const e = newEventRecord();
    e.kind = i % 7 === 0 ? EventKind.Fault : i % 3 === 0 ? EventKind.Free : EventKind.Alloc;
    e.line = 2 + i * 3 + (i > CHUNK ? 5 : 0);
    e.time = i % 500 === 0 ? NaN : 1000 + ((i * 7919) % 100000);
    e.pfn = 0x100000 + ((i * 13) % 40000);
    e.order = i % 4;
    e.owner = i % 50;
    e.ref = e.kind === EventKind.Fault ? (i * 3) % 50 : i % 11 === 0 ? 9 : 0;
    e.arg = i % 3 === 0 ? VA + ((i * 7) % 5000) * PAGE : i % 31 === 0 ? 0x123456 : 0;
    e.arg2 = i % 40 === 0 ? VA + i * PAGE : 0;
    e.node = i % 2;
    e.pid = i % 300;
    return e;
  };

  for (const at of [0, 1000, CHUNK - 5, CHUNK]) {
    it(`appends as pushes would, lines shifted, file set, owners and fault agents mapped (store of ${at} events before)`, () => {
      const n = 2 * CHUNK + 321;
      const src = new EventStore();
      for (let i = 0; i < n; i++) src.push(rec(i), 0);
      const map = Int32Array.from({ length: 50 }, (_, k) => 1000 + 3 * k);
      const before = (i: number) => ({ ...rec(i + 5 * CHUNK), time: i });
      const dst = new EventStore();
      const want = new EventStore();
      for (let i = 0; i < at; i++) {
        dst.push(before(i), 2);
        want.push(before(i), 2);
      }
      dst.appendStore(EventStore.fromData(src.exportData()), 1, 40, map);
      const expected = (i: number) => {
        const e = rec(i);
        return { ...e, line: e.line + 40, owner: map[e.owner], ref: e.kind === EventKind.Fault ? map[e.ref] : e.ref };
      };
      for (let i = 0; i < n; i++) want.push(expected(i), 1);
      // Pushes after the append go on in the same chunk.
      dst.push(before(7), 3);
      want.push(before(7), 3);
      expect(dst.length).toBe(at + n + 1);
      const a = newEventRecord();
      const b = newEventRecord();
      let bad = -1;
      for (let i = 0; i < at + n + 1 && bad < 0; i++) {
        if (JSON.stringify(dst.read(i, a)) !== JSON.stringify(want.read(i, b)) || dst.file.get(i) !== want.file.get(i)) bad = i;
      }
      expect(bad).toBe(-1);
      expect(dst.read(at + 7, a)).toEqual(expected(7));
      expect(dst.file.get(at)).toBe(1);
      expect(dst.sorted).toBe(false);
      expect(Array.from(dst.order() ?? [])).toEqual(Array.from(want.order() ?? []));
    });
  }
});

describe('EventStore.order', () => {
  /** The order the analysis wants: time, ties (and events without a time, which keep the one before them in their file) in push order. */
  function naiveOrder(times: number[], files: number[]): number[] {
    const t: number[] = [];
    let last = -Infinity;
    times.forEach((x, i) => {
      if (i === 0 || files[i] !== files[i - 1]) last = -Infinity;
      if (x === x) last = x;
      t.push(last);
    });
    return [...t.keys()].sort((a, b) => (t[a] === t[b] ? a - b : t[a] - t[b]));
  }

  function storeOf(times: number[], files: number[]): EventStore {
    const s = new EventStore();
    const e = newEventRecord();
    times.forEach((x, i) => {
      e.time = x;
      e.line = i + 1;
      s.push(e, files[i]);
    });
    return s;
  }

  it('orders whole times within 2^32 by one key, and others by the float path, the same way', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 9 })), { minLength: 2, maxLength: 300 }),
        fc.constantFrom(0, 1e12, -5e9, 2 ** 32 - 1001, 2 ** 32, 0.5),
        fc.boolean(),
        (pairs, offset, twoFiles) => {
          // Times of page_owner records (shuffled ns), some missing; one in 8 far away when the offset is big.
          const times = pairs.map(([t, k]) => (k === 0 ? NaN : k === 1 && offset >= 2 ** 32 - 1001 ? offset + t : t + (offset === 0.5 ? (k === 2 ? 0.5 : 0) : offset % 2 ** 32)));
          const files = pairs.map((_, i) => (twoFiles && i >= pairs.length / 2 ? 1 : 0));
          // Both ways order() can take, called directly (order() itself answers null when pushes were in order).
          const s = storeOf(times, files) as unknown as { orderByWholeTimes(): Uint32Array | null; orderByTimes(): Uint32Array };
          const want = naiveOrder(times, files);
          expect([...s.orderByTimes()]).toEqual(want);
          const whole = s.orderByWholeTimes();
          const known = times.filter((t) => t === t);
          const fits = known.every((t) => Number.isInteger(t)) && (known.length === 0 || Math.max(...known) - Math.min(...known) < 2 ** 32 - 1);
          expect(whole !== null).toBe(fits);
          if (whole) expect([...whole]).toEqual(want);
        },
      ),
      { numRuns: 200 },
    );
  });

  /** The most events whose 32-bit keys (orderByWholeTimes: time - least + 1, carried over missing times) share their high half. */
  const maxHighHalf = (times: number[], files: number[]): number => {
    const known = times.filter((t) => t === t);
    const lo = Math.min(...known);
    const count = new Map<number, number>();
    let last = 0;
    times.forEach((t, i) => {
      if (i === 0 || files[i] !== files[i - 1]) last = 0;
      if (t === t) last = t - lo + 1;
      const h = Math.floor(last / 65536);
      count.set(h, (count.get(h) ?? 0) + 1);
    });
    return Math.max(...count.values());
  };

  /** Every slice of orderSlices(most), joined (null when it gives none). */
  const sliced = (s: EventStore, most: number): { order: number[]; sizes: number[] } | null => {
    const slices = s.orderSlices(most);
    if (slices === null) return null;
    const order: number[] = [];
    const sizes: number[] = [];
    for (let x = slices.take(); x !== null; x = slices.take()) {
      order.push(...x);
      sizes.push(x.length);
    }
    return { order, sizes };
  };

  it('gives order() in slices of about `most` events each, from times missing, tied, in two files, far apart', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 4000 }), fc.integer({ min: 0, max: 9 })), { minLength: 2, maxLength: 400 }),
        fc.constantFrom(1e9, 0, 2 ** 32 - 3000),
        fc.boolean(),
        fc.integer({ min: 1, max: 120 }),
        (pairs, offset, twoFiles, most) => {
          // Times in a few high halves of the key (k sets which), some missing, many tied.
          const times = pairs.map(([t, k]) => (k === 0 ? NaN : offset + (k % 4) * 65536 * 3 + t));
          const files = pairs.map((_, i) => (twoFiles && i >= pairs.length / 3 ? 1 : 0));
          const s = storeOf(times, files);
          const want = s.order();
          const got = sliced(s, most);
          if (want === null) expect(got).toBeNull();
          // Declined only when a slice may hold more than half the events: `most` is, or one high half holds, that many.
          else if (got === null) expect(most * 2 > times.length || maxHighHalf(times, files) * 2 > times.length).toBe(true);
          else {
            expect(got.order).toEqual([...want]);
            expect(got.sizes.reduce((a, b) => a + b, 0)).toBe(times.length);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('cuts the order where `most` says, and declines what order() does otherwise', () => {
    const r = rng(13);
    const n = 3 * CHUNK + 77;
    const times = Array.from({ length: n }, () => (r() < 0.01 ? NaN : 5e9 + Math.floor(r() * 3e9)));
    const files = times.map((_, i) => (i < CHUNK ? 0 : 1));
    const s = storeOf(times, files);
    const got = sliced(s, 20000)!;
    expect(got.order).toEqual(naiveOrder(times, files));
    expect(got.sizes.length).toBeGreaterThanOrEqual(10);
    for (const k of got.sizes) expect(k).toBeLessThanOrEqual(20000);
    // Times in order: no order; fractions: the float path; most times in one high half of the key: one
    // slice would hold them (order() then).
    expect(storeOf([1, 2, 3], [0, 0, 0]).orderSlices(10)).toBeNull();
    expect(storeOf([3, 2.5, 1], [0, 0, 0]).orderSlices(10)).toBeNull();
    const close = Array.from({ length: 1000 }, (_, i) => (i < 600 ? 1e9 + ((i * 7) % 600) : 3e9 + i));
    expect(storeOf(close, close.map(() => 0)).orderSlices(100)).toBeNull();
    expect([...storeOf(close, close.map(() => 0)).order()!]).toEqual(naiveOrder(close, close.map(() => 0)));
  });

  it('orders 2.5 chunks of shuffled nanoseconds with ties across chunks', () => {
    const r = rng(9);
    const n = 2 * CHUNK + CHUNK / 2;
    const times = Array.from({ length: n }, () => (r() < 0.01 ? NaN : 1e9 + Math.floor(r() * 5000)));
    const files = times.map(() => 0);
    expect([...(storeOf(times, files).order() ?? [])]).toEqual(naiveOrder(times, files));
  });

  it('hands over the scratch buffers of the sort when asked, none of them the buffer of the order', () => {
    const r = rng(11);
    const n = CHUNK + 77;
    const times = Array.from({ length: n }, () => 1e9 + Math.floor(r() * 100000));
    const files = times.map(() => 0);
    const spare: ArrayBuffer[] = [];
    const order = storeOf(times, files).order(spare)!;
    expect([...order]).toEqual(naiveOrder(times, files));
    // The key and the other array of the radix passes: 4 bytes an event each.
    expect(spare.map((b) => b.byteLength)).toEqual([4 * n, 4 * n]);
    expect(spare[0]).not.toBe(spare[1]);
    for (const b of spare) expect(b).not.toBe(order.buffer);
    // Writing over them leaves the order as it was.
    for (const b of spare) new Uint8Array(b).fill(0xa5);
    expect([...order]).toEqual(naiveOrder(times, files));
    // Times that are not whole take the float path, which hands over nothing.
    const none: ArrayBuffer[] = [];
    expect([...(storeOf(times.map((t) => t + 0.5), files).order(none) ?? [])]).toEqual(naiveOrder(times, files));
    expect(none).toEqual([]);
  });
});

describe('range', () => {
  it('reads the chunk being filled, before and after it is packed, and runs that end inside it', () => {
    const col = new CompactColumn();
    const values = [...shape(6, 9), ...shape(0, 10).slice(0, 700)];
    let raw: Float64Array = new Float64Array(0);
    const out = new Float64Array(CHUNK + 700);
    values.forEach((v, i) => {
      if ((i & (CHUNK - 1)) === 0) raw = col.begin();
      raw[i & (CHUNK - 1)] = v;
      if (i === CHUNK + 300) {
        col.range(CHUNK - 10, i + 1, out);
        expect(firstMismatch(values, (k) => out[k - (CHUNK - 10)], Array.from({ length: 311 }, (_, k) => CHUNK - 10 + k))).toBe(-1);
      }
    });
    col.setFilled(700);
    col.finish();
    col.range(0, values.length, out);
    expect(firstMismatch(values, (k) => out[k], values.keys())).toBe(-1);
  });
});

describe('gather', () => {
  it('reads the events an index list names, a column at a time, across chunks and forms, from any offset', () => {
    const n = 3 * CHUNK + 100;
    const values = [...shape(6, 1), ...shape(7, 2), ...shape(4, 3), ...shape(0, 4).slice(0, 100)];
    const col = columnOf(values);
    const s = new EventStore();
    const e = newEventRecord();
    for (let i = 0; i < n; i++) {
      e.kind = (i % 20) as EventKind;
      e.order = i % 7;
      s.push(e, 0);
    }
    const r = rng(5);
    const idx = Uint32Array.from({ length: 5000 }, () => Math.floor(r() * n));
    const out = new Float64Array(1000);
    col.gather(idx, 1234, 2234, out);
    expect([...out]).toEqual([...idx.subarray(1234, 2234)].map((i) => values[i]));
    const kinds = new Uint8Array(5000);
    s.kind.gather(idx, 0, 5000, kinds);
    expect([...kinds]).toEqual([...idx].map((i) => i % 20));
    const orders = new Uint8Array(10);
    s.orderCol.gather(idx, 4990, 5000, orders);
    expect([...orders]).toEqual([...idx.subarray(4990)].map((i) => i % 7));
  });

  it('reads the same values through one grouping shared by several columns, grouped again for each block', () => {
    const a = [...shape(6, 1), ...shape(7, 2), ...shape(4, 3)];
    const b = [...shape(2, 4), ...shape(5, 5), ...shape(1, 6)];
    const ca = columnOf(a);
    const cb = columnOf(b);
    expect(ca.chunkCount).toBe(3);
    const r = rng(9);
    const idx = Uint32Array.from({ length: 6000 }, () => Math.floor(r() * a.length));
    const groups = new ChunkGroups();
    for (const [from, to] of [
      [0, 4096],
      [4096, 6000],
      [10, 90],
    ]) {
      groups.group(idx, from, to, ca.chunkCount);
      const oa = new Float64Array(to - from);
      const ob = new Float64Array(to - from);
      ca.gather(idx, from, to, oa, groups);
      cb.gather(idx, from, to, ob, groups);
      expect([...oa]).toEqual([...idx.subarray(from, to)].map((i) => a[i]));
      expect([...ob]).toEqual([...idx.subarray(from, to)].map((i) => b[i]));
    }
  });

  it('gives every form the values get() gives, blocks large and small, indices repeated, a raw last chunk', () => {
    const same = (a: number, b: number): boolean => a === b || (a !== a && b !== b);
    for (let kind = 0; kind <= 7; kind++) {
      for (const seed of [1, 2, 3]) {
        // Four chunks of one shape each (every form the shape makes), and a last chunk left raw.
        const values = [...shape(kind, seed), ...shape(kind, seed + 10), ...shape(kind, seed + 20), ...shape(kind, seed + 30)];
        const col = columnOf(values);
        const raw = col.begin();
        for (let j = 0; j < 500; j++) raw[j] = values[j] * 3 + 0.5;
        col.setFilled(500);
        const all = [...values, ...Array.from({ length: 500 }, (_, j) => values[j] * 3 + 0.5)];
        const r = rng(kind * 7 + seed);
        const idx = Uint32Array.from({ length: 9000 }, (_, k) => (k % 97 === 0 ? 4 * CHUNK + 499 : Math.floor(r() * all.length)));
        for (const [from, to] of [
          [0, 9000],
          [17, 80],
          [100, 163],
          [5000, 5003],
        ]) {
          const out = new Float64Array(to - from).fill(-7);
          col.gather(idx, from, to, out);
          for (let k = from; k < to; k++) {
            const want = col.get(idx[k]);
            if (!same(out[k - from], want) || !same(want, all[idx[k]])) expect([kind, seed, k, out[k - from]]).toEqual([kind, seed, k, want]);
          }
        }
      }
    }
  });
});

describe('Keyed', () => {
  /** A key column and a column keyed by it, filled in step as EventStore.push does (the key's chunk packed first). */
  function keyedPair(keys: readonly number[], values: readonly number[]): { key: CompactColumn; col: CompactColumn } {
    const key = new CompactColumn();
    const col = new CompactColumn(false, key);
    let rk: Float64Array = new Float64Array(0);
    let rv: Float64Array = new Float64Array(0);
    values.forEach((v, i) => {
      if ((i & (CHUNK - 1)) === 0) {
        rk = key.begin();
        rv = col.begin();
      }
      rk[i & (CHUNK - 1)] = keys[i];
      rv[i & (CHUNK - 1)] = v;
    });
    const n = values.length & (CHUNK - 1) || (values.length ? CHUNK : 0);
    key.setFilled(n);
    key.finish();
    col.setFilled(n);
    col.finish();
    return { key, col };
  }

  /** Every value read back through get (in order, backwards, at random), range, decode and gather (grouped or not). */
  function expectKeyed(col: CompactColumn, values: readonly number[]): void {
    const n = values.length;
    expect(firstMismatch(values, (i) => col.get(i), values.keys())).toBe(-1);
    expect(firstMismatch(values, (i) => col.get(i), downFrom(n))).toBe(-1);
    const r = rng(n);
    const idx = Uint32Array.from({ length: 6000 }, () => Math.floor(r() * n));
    expect(firstMismatch(values, (i) => col.get(i), idx)).toBe(-1);
    for (const [from, to] of [[0, n], [CHUNK - 3, Math.min(n, CHUNK + 5)], [n - 1, n], [5, 5]]) {
      const out = new Float64Array(to - from + 1).fill(-0.5);
      col.range(from, to, out);
      expect(firstMismatch(values, (i) => out[i - from], Array.from({ length: to - from }, (_, k) => from + k))).toBe(-1);
      expect(out[to - from]).toBe(-0.5);
    }
    const dec = new Float64Array(CHUNK);
    for (let c = 0; c * CHUNK < n; c++) {
      const m = Math.min(CHUNK, n - c * CHUNK);
      col.decode(c, m, dec);
      expect(firstMismatch(values, (i) => dec[i - c * CHUNK], Array.from({ length: m }, (_, k) => c * CHUNK + k))).toBe(-1);
    }
    const groups = new ChunkGroups();
    for (const [from, to] of [[0, 6000], [17, 80], [100, 130]]) {
      const out = new Float64Array(to - from).fill(-7);
      col.gather(idx, from, to, out);
      groups.group(idx, from, to, col.chunkCount);
      const grouped = new Float64Array(to - from).fill(-7);
      col.gather(idx, from, to, grouped, groups);
      for (let k = from; k < to; k++) if (!Object.is(out[k - from], values[idx[k]]) || !Object.is(grouped[k - from], values[idx[k]])) expect([k, out[k - from], grouped[k - from]]).toEqual([k, values[idx[k]], values[idx[k]]]);
    }
  }

  // Pids of 3000 owners (owner ids 2..3001), the kernel's (id 1) 0, as page_owner records have them.
  const pidOf = (owner: number) => (owner === 1 ? 0 : 1000 + ((owner * 7919) % 60000));

  it('codes a value fixed by the key once per key value, chunk by chunk, and reads it back every way', () => {
    const r = rng(3);
    const n = 6 * CHUNK + 999;
    const keys = Array.from({ length: n }, () => 1 + Math.floor(r() * 3001));
    const values = keys.map(pidOf);
    // Chunk 1: one key with a second value. Chunk 2: a fraction. Chunk 3: a NaN among the values.
    // Chunk 4: keys over too wide a span for the codes to pay. Chunk 5: a key that is not whole.
    values[CHUNK + 4000] += 1;
    values[2 * CHUNK + 7] += 0.5;
    values[3 * CHUNK + 70] = NaN;
    for (let j = 0; j < CHUNK; j += 2) keys[4 * CHUNK + j] = 50_000 + j;
    for (let j = 0; j < CHUNK; j++) values[4 * CHUNK + j] = pidOf(keys[4 * CHUNK + j]);
    keys[5 * CHUNK + 9] += 0.25;
    const { col, key } = keyedPair(keys, values);
    expect(col.rep).toEqual([Rep.Keyed, Rep.U16, Rep.F64, Rep.U16, Rep.U16, Rep.U16, Rep.Keyed]);
    expectKeyed(col, values);
    expectKeyed(key, keys);
    // 3001 codes of 4 bytes and the key's first value, against 2 bytes a slot in U16.
    expect(col.data[0]!.byteLength + col.ex[0]!.byteLength).toBe(3001 * 4 + 8);
  });

  it('takes a constant or a narrower form first, and only values less than 2^32 apart', () => {
    const keys = Array.from({ length: CHUNK }, (_, j) => j % 300);
    expect(keyedPair(keys, keys.map(() => 5)).col.rep).toEqual([Rep.Const]);
    const wide = keys.map((k) => (k === 7 ? 2 ** 33 : k));
    const w = keyedPair(keys, wide);
    expect(w.col.rep).not.toEqual([Rep.Keyed]);
    expectKeyed(w.col, wide);
    const negative = keys.map((k) => -1e12 + k * 3);
    const neg = keyedPair(keys, negative);
    expect(neg.col.rep).toEqual([Rep.Keyed]);
    expectKeyed(neg.col, negative);
    // A column without a key never takes it.
    expect(columnOf(keys.map(pidOf)).rep).not.toEqual([Rep.Keyed]);
  });

  /** page_owner-like records: owner and pid go together, but in the last chunk (a merged dump's frees). */
  const rec = (i: number) => {
    const e = newEventRecord();
    e.kind = EventKind.Record;
    e.line = 1 + 9 * i;
    e.time = (i * 7919) % 1000003;
    e.pfn = 0x1000 + 2 * i;
    e.owner = i < 3 * CHUNK ? 1 + ((i * 131) % 3001) : 1 + (i % 7);
    e.pid = i < 3 * CHUNK ? pidOf(e.owner) : i % 5;
    e.arg = 0x811c9dc5 + (i % 4);
    return e;
  };
  const mismatch = (s: EventStore, n: number, want: (i: number) => ReturnType<typeof newEventRecord>) => {
    const out = newEventRecord();
    for (let i = 0; i < n; i++) if (JSON.stringify(s.read(i, out)) !== JSON.stringify(want(i))) return i;
    for (let k = 0; k < 5000; k++) {
      const i = (k * 7919 + 3) % n;
      if (JSON.stringify(s.read(i, out)) !== JSON.stringify(want(i))) return i;
    }
    return -1;
  };

  it('keeps a store\'s pids by owner across export, a resumed tail, compact, parts taken and adopted, and an append with owners mapped', () => {
    const n = 3 * CHUNK + 500;
    const s = new EventStore();
    for (let i = 0; i < n; i++) s.push(rec(i), 0);
    expect(mismatch(s, n, rec)).toBe(-1);
    const t = EventStore.fromData(s.exportData());
    expect(t.pid.rep.slice(0, 3)).toEqual([Rep.Keyed, Rep.Keyed, Rep.Keyed]);
    expect(t.pid.rep[3]).not.toBe(Rep.Keyed);
    for (let i = n; i < n + 100; i++) t.push(rec(i), 0);
    expect(mismatch(t, n + 100, rec)).toBe(-1);
    t.compact([]);
    expect(mismatch(t, n + 100, rec)).toBe(-1);
    // A worker's parts: whole chunks taken from the front and adopted by another store.
    const w = new EventStore();
    for (let i = 0; i < 2 * CHUNK + 10; i++) w.push(rec(i), 0);
    const main = new EventStore();
    expect(main.adoptData(w.takeFullChunks(1))).toBe(true);
    expect(main.adoptData(w.takeFullChunks())).toBe(true);
    expect(main.pid.rep).toEqual([Rep.Keyed, Rep.Keyed]);
    expect(mismatch(main, 2 * CHUNK, rec)).toBe(-1);
    // Owners mapped on an append: the pids stay the events' own, keyed again by the new ids.
    const map = Int32Array.from({ length: 3002 }, (_, k) => 5 + 2 * k);
    const dst = new EventStore();
    for (let i = 0; i < 1000; i++) dst.push(rec(i), 1);
    dst.appendStore(EventStore.fromData(s.exportData()), 0, 0, map);
    const mapped = (i: number) => (i < 1000 ? rec(i) : { ...rec(i - 1000), owner: map[rec(i - 1000).owner] });
    expect(mismatch(dst, 1000 + n, mapped)).toBe(-1);
    dst.compact();
    // Chunk 0 holds ids of both numberings, one id with two pids: not keyed.
    expect(dst.pid.rep.slice(0, 3)).toEqual([Rep.U16, Rep.Keyed, Rep.Keyed]);
    expect(mismatch(dst, 1000 + n, mapped)).toBe(-1);
  });
});
