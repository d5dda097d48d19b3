import { describe, expect, it } from 'vitest';
import { FREE, LIVE, PageTable, slotOf, UNKNOWN } from '../../src/core/analysis/pageTable';

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
});
