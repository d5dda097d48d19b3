import { describe, expect, it } from 'vitest';
import { FREE, HeldChunk, LIVE, PageChunk, PageMarks, PageTable, slotOf, SpareMemory, UNKNOWN } from '../../src/core/analysis/pageTable';
import { rng } from '../helpers';

describe('PageTable', () => {
  it('starts every page unknown, unowned, with no event and no head order', () => {
    const c = new PageTable().chunk(0x1234);
    expect(c.base).toBe(0x1000);
    for (const s of [0, 0x234, 4095]) expect([c.owner(s), c.state(s), c.since(s), c.headOrder(s)]).toEqual([0, UNKNOWN, -1, 255]);
  });

  it('keeps the head order when a page changes hands, and each field apart from its neighbours', () => {
    const c = new PageTable().chunk(0);
    c.set(7, 42, LIVE, 1000);
    c.setHeadOrder(7, 3);
    c.set(7, 43, FREE, 2_000_000_000);
    c.set(8, 9, LIVE, 5);
    expect([c.owner(7), c.state(7), c.since(7), c.headOrder(7)]).toEqual([43, FREE, 2_000_000_000, 3]);
    c.setHeadOrder(7, 255);
    expect([c.owner(7), c.state(7), c.headOrder(7)]).toEqual([43, FREE, 255]);
    expect([c.owner(8), c.state(8), c.since(8), c.headOrder(8)]).toEqual([9, LIVE, 5, 255]);
    expect([c.owner(6), c.state(6), c.since(6)]).toEqual([0, UNKNOWN, -1]);
  });

  it('keeps owner ids up to 2^30 - 1 beside every state, and refuses a larger one', () => {
    const c = new PageTable().chunk(0);
    const top = 2 ** 30 - 1;
    for (const [s, state] of [[1, UNKNOWN], [2, LIVE], [3, FREE]]) {
      c.set(s, top, state, 2 ** 31 - 1);
      expect([c.owner(s), c.state(s), c.since(s)]).toEqual([top, state, 2 ** 31 - 1]);
    }
    expect(() => c.set(4, 2 ** 30, LIVE, 0)).toThrow(RangeError);
  });

  it('gives back through columns() what load() took', () => {
    const t = new PageTable();
    const a = t.chunk(0x5000);
    for (let s = 0; s < 4096; s += 7) {
      a.set(s, s * 13, s % 3, s * 1000 - 1);
      a.setHeadOrder(s, s % 11);
    }
    const cols = a.columns();
    expect(cols.owner[7 * 5]).toBe(7 * 5 * 13);
    const b = new PageTable().chunk(0x5000);
    b.load(cols);
    expect(b.columns()).toEqual(cols);
    expect(b.slots).toEqual(a.slots);
    expect(b.heads).toEqual(a.heads);
  });

  it('finds chunks low and far above RAM, and lists them in the order they were made', () => {
    const t = new PageTable();
    const far = 2 ** 36 + 5; // a device 256 TiB up: past the directly indexed chunks
    const order = [0x200000, far, 3, 0x1ffff000];
    for (const p of order) t.chunk(p).set(p % 4096, 1, LIVE, 0);
    expect([...t.all()].map((c) => c.base)).toEqual(order.map((p) => p - (p % 4096)));
    for (const p of order) expect(t.peek(p)!.owner(p % 4096)).toBe(1);
    expect(t.peek(0x9000)).toBeUndefined();
    expect(t.peek(2 ** 36 + 4096 * 5)).toBeUndefined();
    expect(t.chunk(far)).toBe(t.peek(far));
    expect(t.size).toBe(4 * 4096);
  });

  it('touches the slots of pages in chunks already made, and makes none', () => {
    const t = new PageTable();
    const a = t.chunk(0x1000);
    const b = t.chunk(0x7000);
    a.set(5, 3, LIVE, 9);
    b.set(4095, 6, FREE, 2);
    const made = [...t.all()];
    const pfns = Float64Array.from([0x1005, 0x7fff, 0x3000, NaN, -1, Infinity, 2 ** 40 + 5, 0x1005, 0x1006]);
    // 0x1005 twice cancels out: the xor is that of 0x7fff and 0x1006 (unknown: 0).
    expect(t.touch(pfns, pfns.length)).toBe(6 | (FREE << 30));
    expect(t.touch(pfns, 1)).toBe(3 | (LIVE << 30));
    expect(t.touch(pfns, 0)).toBe(0);
    expect([...t.all()]).toEqual(made);
    expect(t.peek(0x3000)).toBeUndefined();
  });

  it('gives the slot of a pfn as pfn % 4096, below and above 2^31', () => {
    for (const p of [0, 1, 4095, 4096, 0x1ffff6, 2 ** 31 - 1, 2 ** 31, 2 ** 31 + 4097, 2 ** 32 + 7, 2 ** 40 + 5, 2 ** 52 - 1]) {
      expect(slotOf(p)).toBe(p % 4096);
      expect(PageTable.slot(p)).toBe(p % 4096);
    }
    expect(slotOf(NaN)).toBeNaN();
    expect(slotOf(-4097)).toBe(-4097 % 4096);
  });

  /** A table whose chunks for the marked ranges [pfn, pages] are reserved (held unless nearly full). */
  const reserved = (ranges: [number, number][]): PageTable => {
    const marks = new PageMarks();
    for (const [p, n] of ranges) marks.add(p, n);
    const t = new PageTable();
    t.reserve(marks);
    return t;
  };
  const fields = (c: PageChunk, s: number): number[] => [c.owner(s), c.state(s), c.since(s), c.headOrder(s)];

  it('holds a slot a marked block; a block is written whole, its other pages and the unmarked ones read right', () => {
    const t = reserved([
      [0x1000, 1],
      [0x1008, 8],
      [0x1010, 2],
      [0x1fff, 1],
    ]);
    const c = t.chunk(0x1000);
    expect(c.capacity).toBe(4);
    for (const s of [0, 1, 7, 8, 15, 16, 4095]) expect(fields(c, s)).toEqual([0, UNKNOWN, -1, 255]);
    // Only a marked block exactly: not a part of one, not one and the page after it, not an unmarked run.
    expect([c.blockSlot(8, 4), c.blockSlot(9, 7), c.blockSlot(8, 9), c.blockSlot(8, 10), c.blockSlot(1, 2), c.blockSlot(0, 1)]).toEqual([-1, -1, -1, -1, -1, 1 - 1]);
    const k = c.blockSlot(8, 8);
    expect(k).toBe(1);
    c.setAt(k, 5, LIVE, 77);
    c.setHeadAt(k, 3);
    expect(c.blockSlot(0x10, 2)).toBe(2);
    c.set(0, 6, FREE, 2 ** 31 - 1);
    c.set(4095, 6, FREE, 4);
    for (let s = 8; s < 16; s++) expect(fields(c, s)).toEqual([5, LIVE, 77, s === 8 ? 3 : 255]);
    expect(fields(c, 0)).toEqual([6, FREE, 2 ** 31 - 1, 255]);
    expect(fields(c, 4095)).toEqual([6, FREE, 4, 255]);
    // The unmarked pages between still read as never seen: the unseen slot is not written through.
    for (const s of [1, 7, 0x12, 4094]) expect(fields(c, s)).toEqual([0, UNKNOWN, -1, 255]);
    expect(c.capacity).toBe(4);
    // A write to one page of a block of several turns the chunk dense, every page as it was.
    const before = c.columns();
    c.set(9, 2, FREE, 80);
    expect(c.capacity).toBe(4096);
    expect(fields(c, 8)).toEqual([5, LIVE, 77, 3]);
    expect(fields(c, 9)).toEqual([2, FREE, 80, 255]);
    expect(c.blockSlot(8, 8)).toBe(-1);
    const after = c.columns();
    after.owner[9] = 5;
    after.state[9] = LIVE;
    after.since[9] = 77;
    expect(after).toEqual(before);
    // So does a head order written to a page of a block that is not its first.
    const d = reserved([[0x3000, 4]]).chunk(0x3000);
    d.setHeadOrder(2, 1);
    expect([d.capacity, d.headOrder(2), d.headOrder(0)]).toEqual([4096, 1, 255]);
  });

  it('makes each page of blocks that meet a block of its own', () => {
    // An order-3 block, then an order-1 block inside it (a dump read while pages changed), then one that
    // starts right after the first without meeting it.
    const t = reserved([
      [0x5000, 8],
      [0x5002, 2],
      [0x5008, 4],
    ]);
    const c = t.chunk(0x5000);
    expect(c.capacity).toBe(9);
    expect([c.blockSlot(0, 8), c.blockSlot(2, 2)]).toEqual([-1, -1]);
    expect(c.blockSlot(8, 4)).toBe(8);
    for (let s = 0; s < 8; s++) c.set(s, 1 + s, LIVE, s);
    expect(c.capacity).toBe(9);
    for (let s = 0; s < 8; s++) expect(fields(c, s)).toEqual([1 + s, LIVE, s, 255]);
  });

  it('turns a held chunk dense on a write to a page it does not hold, keeping every page', () => {
    const t = reserved([[0x2020, 4]]);
    const c = t.chunk(0x2020);
    c.set(0x20, 9, LIVE, 1);
    c.setHeadOrder(0x20, 2);
    c.set(0x23, 9, LIVE, 1);
    const before = c.columns();
    c.set(0x24, 4, FREE, 3);
    expect(c.capacity).toBe(4096);
    expect(fields(c, 0x20)).toEqual([9, LIVE, 1, 2]);
    expect(fields(c, 0x23)).toEqual([9, LIVE, 1, 255]);
    expect(fields(c, 0x24)).toEqual([4, FREE, 3, 255]);
    const after = c.columns();
    after.owner[0x24] = 0;
    after.state[0x24] = UNKNOWN;
    after.since[0x24] = -1;
    expect(after).toEqual(before);
    // A head order written first to an unheld page turns it dense as well.
    const d = reserved([[0x3000, 1]]).chunk(0x3000);
    d.setHeadOrder(9, 0);
    expect([d.capacity, d.headOrder(9), d.state(9)]).toEqual([4096, 0, UNKNOWN]);
  });

  it('marks a block across a chunk border in both chunks, and makes a chunk of nearly as many blocks as pages dense', () => {
    // An order-10 block from 0x4e00: 512 pages in chunk 4, 512 in chunk 5, a block in each.
    const singles = (base: number, n: number): [number, number][] => Array.from({ length: n }, (_, k) => [base + k, 1]);
    const t = reserved([[0x4e00, 1024], [0x6000, 4096], ...singles(0x7000, 3924), ...singles(0x8000, 3925)]);
    expect(t.peek(0x4000)!.capacity).toBe(1);
    expect(t.peek(0x5000)!.capacity).toBe(1);
    expect(t.peek(0x6000)!.capacity).toBe(1);
    expect(t.peek(0x7000)!.capacity).toBe(3924);
    expect(t.peek(0x8000)!.capacity).toBe(4096);
    expect(t.peek(0x4000)!.blockSlot(0xe00, 1024)).toBe(-1);
    expect(t.peek(0x4000)!.blockSlot(0xe00, 512)).toBe(0);
    for (let p = 0x4e00; p < 0x5200; p++) t.chunk(p).set(slotOf(p), 3, LIVE, p);
    for (let p = 0x4e00; p < 0x5200; p++) expect(t.peek(p)!.since(slotOf(p))).toBe(p);
    expect(fields(t.peek(0x4dff)!, 0xdff)).toEqual([0, UNKNOWN, -1, 255]);
    expect(fields(t.peek(0x5200)!, 0x200)).toEqual([0, UNKNOWN, -1, 255]);
  });

  it('lists a reserved chunk when it is first asked for, and keeps chunks made before', () => {
    const t = new PageTable();
    const made = t.chunk(0x9000);
    made.set(1, 1, LIVE, 0);
    const marks = new PageMarks();
    for (const p of [0x9001, 0x3000, 0x1000, 2 ** 36 + 5]) marks.add(p, 1);
    t.reserve(marks);
    expect(t.peek(0x9000)).toBe(made);
    expect(made.capacity).toBe(4096);
    expect([...t.all()].map((c) => c.base)).toEqual([0x9000]);
    expect(t.size).toBe(4096);
    for (const p of [2 ** 36 + 5, 0x1000, 0x3000]) t.chunk(p);
    expect([...t.all()].map((c) => c.base)).toEqual([0x9000, 2 ** 36, 0x1000, 0x3000]);
    expect(t.peek(2 ** 36)!.capacity).toBe(1);
  });

  it('reads through touch() the slot of a held page, and 0 for one it does not hold', () => {
    const t = reserved([[0x1010, 2]]);
    const c = t.chunk(0x1000);
    c.set(0x11, 7, LIVE, 4);
    expect(t.touch(Float64Array.from([0x1011]), 1)).toBe(7 | (LIVE << 30));
    expect(t.touch(Float64Array.from([0x1010, 0x1012, 0x1fff]), 3)).toBe(0);
  });

  it('cuts typed arrays from spare buffers, aligned and apart, then makes new ones', () => {
    const a = new ArrayBuffer(20);
    const b = new ArrayBuffer(8);
    const m = new SpareMemory([a, b]);
    const x = m.uint8(3);
    const y = m.int32(3);
    const z = m.int32(2);
    const w = m.uint8(1);
    expect([x.buffer, x.byteOffset, x.length]).toEqual([a, 0, 3]);
    // The int32 array starts at the next multiple of 4, and fits the rest of the first buffer.
    expect([y.buffer, y.byteOffset, y.length]).toEqual([a, 4, 3]);
    expect([z.buffer, z.byteOffset, z.length]).toEqual([b, 0, 2]);
    // Used up: a new array of its own.
    expect(w.buffer).not.toBe(a);
    expect(w.buffer).not.toBe(b);
    expect(w.length).toBe(1);
    expect(new SpareMemory([]).int32(5)).toEqual(new Int32Array(5));
  });

  it('makes reserved chunks in spare buffers as they would be in new ones, whatever the buffers held', () => {
    const marks = new PageMarks();
    for (const [p, n] of [
      [0x1000, 8],
      [0x3ff0, 32],
    ] as const)
      marks.add(p, n);
    for (let p = 0x2000; p < 0x3000; p++) marks.add(p, 1);
    const spare = [new ArrayBuffer(1 << 16), new ArrayBuffer(1 << 16)];
    for (const b of spare) new Uint8Array(b).fill(0x5a);
    const t = new PageTable();
    t.reserve(marks, spare);
    const fresh = new PageTable();
    fresh.reserve(marks);
    for (const p of [0x1000, 0x2000, 0x3000, 0x4000]) {
      const c = t.chunk(p);
      expect(c.slots.buffer === spare[0] || c.slots.buffer === spare[1]).toBe(true);
      expect(c.columns()).toEqual(fresh.chunk(p).columns());
    }
    expect(t.chunk(0x1000)).toBeInstanceOf(HeldChunk);
    // A full chunk is dense, of the plain class, and in spare memory too.
    expect(t.chunk(0x2000).constructor).toBe(PageChunk);
    // Writes to one chunk leave the others (cut from the same buffer) as they were.
    const c = t.chunk(0x1000);
    c.setAt(c.blockSlot(0, 8), 3, LIVE, 7);
    c.setHeadAt(c.blockSlot(0, 8), 3);
    c.set(100, 4, FREE, 9);
    expect(t.chunk(0x3000).columns()).toEqual(fresh.chunk(0x3000).columns());
    expect(t.chunk(0x2000).columns()).toEqual(fresh.chunk(0x2000).columns());
    expect(fields(c, 0)).toEqual([3, LIVE, 7, 3]);
    expect(fields(c, 7)).toEqual([3, LIVE, 7, 255]);
    expect(fields(c, 100)).toEqual([4, FREE, 9, 255]);
  });

  it('gives a held chunk the same fields as a dense one under any writes (property)', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const r = rng(seed);
      const marks = new PageMarks();
      const runs = 1 + Math.floor(r() * 60);
      // Blocks of 1 to 32 pages, mostly apart, some meeting others, some across the chunk's end.
      const blocks: [number, number][] = [];
      for (let k = 0; k < runs; k++) {
        const n = 2 ** Math.floor(r() * 6);
        const at = r() < 0.8 ? Math.floor(r() * (4096 / n)) * n : Math.floor(r() * 4096);
        blocks.push([at, n]);
        marks.add(at, n);
      }
      const t = new PageTable();
      // Half the time in spare memory holding other values.
      const spare = seed % 2 === 0 ? [new Int32Array(Math.floor(r() * 20000)).fill(-7).buffer] : [];
      t.reserve(marks, spare);
      const held = t.chunk(0);
      const dense = new PageTable().chunk(0);
      const marked = [...Array(4096).keys()].filter((s) => marks.has(s));
      const writes = Math.floor(r() * 300);
      // Mostly whole blocks (as a replay of a dump writes) and single marked pages; now and then any page.
      const densifyAt = seed % 3 === 0 ? Math.floor(r() * writes) : -1;
      for (let w = 0; w < writes; w++) {
        const [b, n] = blocks[Math.floor(r() * blocks.length)];
        const k = held.blockSlot(b, n);
        const owner = Math.floor(r() * 2 ** 30);
        const since = Math.floor(r() * 2 ** 31) - 1;
        if (w !== densifyAt && r() < 0.6 && k >= 0) {
          const order = Math.floor(r() * 6);
          held.setAt(k, owner, LIVE, since);
          held.setHeadAt(k, order);
          for (let q = 0; q < n; q++) {
            dense.set(b + q, owner, LIVE, since);
            dense.setHeadOrder(b + q, q === 0 ? order : 255);
          }
          continue;
        }
        const s = w === densifyAt ? Math.floor(r() * 4096) : marked[Math.floor(r() * marked.length)];
        if (r() < 0.8) {
          const state = Math.floor(r() * 3);
          held.set(s, owner, state, since);
          dense.set(s, owner, state, since);
        } else {
          const o = r() < 0.5 ? 255 : Math.floor(r() * 11);
          held.setHeadOrder(s, o);
          dense.setHeadOrder(s, o);
        }
      }
      expect(held.columns()).toEqual(dense.columns());
      for (let s = 0; s < 4096; s += 97) expect(fields(held, s)).toEqual(fields(dense, s));
    }
  });
});
