import { describe, expect, it } from 'vitest';
import { CHUNK, EventStore, Rep } from '../../src/core/model/eventStore';
import { newEventRecord, type EventRecord } from '../../src/core/model/events';

function rec(i: number): EventRecord {
  const e = newEventRecord();
  e.kind = 1 + (i % 20) as EventRecord['kind'];
  e.order = i % 3;
  e.line = i + 7;
  e.time = i % 1000 === 999 ? NaN : 1e12 + i * 1000;
  // pfns: small in the first chunk, around 2^40 in the second, mixed in the third.
  e.pfn = i < CHUNK ? 0x1000 + i : i < 2 * CHUNK ? 2 ** 40 + i : i % 2 ? 2 ** 40 : 5;
  e.owner = i % 300;
  e.pid = i % 7 === 0 ? 0 : 1000 + (i % 50);
  e.arg = i % 5 === 0 ? 0x7f0000000000 + i * 4096 : i % 5 === 1 ? NaN : 0;
  e.arg2 = i === 2 * CHUNK + 5 ? 0.5 : 0;
  e.node = i % 11 === 0 ? -1 : i % 2;
  e.ref = i >= 3 * CHUNK ? i : 0;
  return e;
}

describe('EventStore compact columns', () => {
  it('reads back every value it was given, in each chunk form', () => {
    const s = new EventStore();
    const n = 3 * CHUNK + 1234;
    for (let i = 0; i < n; i++) s.push(rec(i), i < CHUNK ? 0 : 1);
    const out = newEventRecord();
    for (let i = 0; i < n; i++) {
      const want = rec(i);
      s.read(i, out);
      expect(out).toEqual({ ...want });
      expect(s.file.get(i)).toBe(i < CHUNK ? 0 : 1);
    }
    // file is constant in chunk 0; pfn is base + slot in chunks 0 and 1 (a run of 2^16 values, one an event) and
    // two values in chunk 2 (a byte each, coding one of the two); arg2 is constant but for one
    // fraction in chunk 2 (listed beside the constant).
    expect(s.file.rep[0]).toBe(Rep.Const);
    expect(s.pfn.rep.slice(0, 3)).toEqual([Rep.Affine, Rep.Affine, Rep.Dict8]);
    expect(s.pid.rep[0]).toBe(Rep.U16);
    expect(s.arg2.rep.slice(0, 3)).toEqual([Rep.Const, Rep.Const, Rep.Sparse]);
    expect(s.time.rep[0]).toBe(Rep.U32);
  });

  it('survives exportData/fromData and keeps appending to the last chunk', () => {
    const s = new EventStore();
    for (let i = 0; i < CHUNK + 10; i++) s.push(rec(i), 0);
    const t = EventStore.fromData(s.exportData());
    for (let i = CHUNK + 10; i < CHUNK + 5000; i++) t.push(rec(i), 0);
    const out = newEventRecord();
    for (let i = 0; i < CHUNK + 5000; i++) expect(t.read(i, out)).toEqual({ ...rec(i) });
    expect(t.length).toBe(CHUNK + 5000);
  });
});

describe('argsortStable', () => {
  it('orders by time with ties in index order, negatives and -Infinity first', async () => {
    const { argsortStable } = await import('../../src/core/model/eventStore');
    const t = new Float64Array([5, -Infinity, 3.5, 5, -2, 0, 1e15, 3.5, -1e15, 0]);
    const idx = Uint32Array.from(t.keys());
    const want = [...t.keys()].sort((a, b) => t[a] - t[b] || a - b);
    expect([...argsortStable(t, idx)]).toEqual(want);
    const big = new Float64Array(200000).map((_, i) => Math.floor(((i * 7919) % 100003) * 1e7) - 5e11);
    const wantBig = [...big.keys()].sort((a, b) => big[a] - big[b] || a - b);
    expect([...argsortStable(big, Uint32Array.from(big.keys()))]).toEqual(wantBig);
  });
});
