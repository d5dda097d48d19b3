import { describe, expect, it } from 'vitest';
import { OwnerTable } from '../../src/core/model/owners';

describe('OwnerTable', () => {
  it('interns each owner once, by pid, snapshot id, device and inode, or agent name', () => {
    const t = new OwnerTable();
    expect(t.kernel()).toBe(1);
    const p = t.process(100, 'bash');
    expect(t.process(100, 'other', 7)).toBe(p);
    expect(t.get(p)).toEqual({ id: p, kind: 'process', pid: 100, comm: 'bash', tgid: 7 });
    const f = t.file('259:1', 42);
    expect(t.file('259:1', 43)).not.toBe(f);
    expect(t.file('259:1/4', 2)).not.toBe(t.file('259:1', 42));
    expect(t.file('259:1', 42)).toBe(f);
    const s = t.snapshot(3);
    expect(t.snapshot(3, 100)).toBe(s);
    expect(t.get(s)).toEqual({ id: s, kind: 'snapshot', snap: 3, pid: 100 });
    const a = t.agent('numactl');
    expect(t.agent('numactl')).toBe(a);
    expect(t.agent('numactl2')).not.toBe(a);
    expect(t.findProcess(100)).toBe(p);
    expect(t.findProcess(101)).toBeUndefined();
    expect(t.findSnapshot(3)).toBe(s);
    expect(t.hasComm(100)).toBe(true);
    expect(t.objects().map((o) => o.id)).toEqual(t.objects().map((_, i) => i));
  });

  it('keeps the field order of owners whose comm or pid came later (the JSON output shows it)', () => {
    const t = new OwnerTable();
    const a = t.process(1);
    t.process(1, 'init');
    const b = t.process(2, undefined, 2);
    t.process(2, 'kthreadd');
    const c = t.process(3, 'sh', 3);
    const s = t.snapshot(9);
    t.snapshot(9, 3);
    expect(JSON.stringify([t.get(a), t.get(b), t.get(c), t.get(s)])).toBe(
      JSON.stringify([
        { id: a, kind: 'process', pid: 1, comm: 'init' },
        { id: b, kind: 'process', pid: 2, tgid: 2, comm: 'kthreadd' },
        { id: c, kind: 'process', pid: 3, comm: 'sh', tgid: 3 },
        { id: s, kind: 'snapshot', snap: 9, pid: 3 },
      ]),
    );
  });

  it('finds the owners of a list read back (fromList) and appends after them', () => {
    const t = new OwnerTable();
    t.process(5, 'a');
    t.file('8:1', 9);
    t.snapshot(2, 5);
    t.agent('x');
    const u = OwnerTable.fromList(t.objects().map((o) => ({ ...o })));
    expect(u.process(5)).toBe(t.process(5));
    expect(u.file('8:1', 9)).toBe(t.file('8:1', 9));
    expect(u.snapshot(2)).toBe(t.snapshot(2));
    expect(u.agent('x')).toBe(t.agent('x'));
    expect(u.process(6)).toBe(t.objects().length);
  });

  it('keeps every number it is given exactly (small integers, large ones, -0 and fractions)', () => {
    const t = new OwnerTable();
    const f = new Float64Array([7, 2 ** 40, -0, 1.5, -3]);
    const ids = [...f].map((pid) => t.process(pid));
    expect(ids.map((id) => t.get(id).pid)).toEqual([7, 2 ** 40, -0, 1.5, -3]);
    expect(Object.is(t.get(ids[2]).pid, -0)).toBe(true);
    expect([...f].map((pid) => t.findProcess(pid))).toEqual(ids);
    const s = t.snapshot(f[1], f[0]);
    expect(t.get(s)).toEqual({ id: s, kind: 'snapshot', snap: 2 ** 40, pid: 7 });
    expect(t.file('8:1', f[3])).toBe(t.file('8:1', 1.5));
  });

  it('reads back from its columns with ids, field order and lookups kept', () => {
    const t = new OwnerTable();
    t.process(2, undefined, 2);
    t.process(2, 'kthreadd');
    t.process(3, 'sh', 3);
    t.file('8:1', 2 ** 40);
    t.snapshot(9, 3);
    t.agent('numactl');
    const u = OwnerTable.fromColumns(t.columns());
    expect(JSON.stringify(u.objects())).toBe(JSON.stringify(t.objects()));
    expect(u.findProcess(3)).toBe(t.findProcess(3));
    expect(u.file('8:1', 2 ** 40)).toBe(t.file('8:1', 2 ** 40));
    expect(u.agent('numactl')).toBe(t.agent('numactl'));
    expect(u.process(4)).toBe(t.size);
  });

  it('interns the columns of another table in parts, mapping its strings, and says when a known owner got a field', () => {
    const w = new OwnerTable();
    const main = new OwnerTable();
    const out = new Int32Array(16);
    const strMap: number[] = [];
    main.agent('first');
    w.process(7);
    w.file('259:1', 5);
    expect(main.internColumns(w.columns(0, 0), strMap, out, 0)).toBe(false);
    const sent = w.size;
    const strings = w.stringCount;
    w.process(8, 'cat');
    w.file('259:1', 6);
    w.agent('first');
    expect(main.internColumns(w.columns(sent, strings), strMap, out, sent)).toBe(false);
    expect([...out.subarray(0, w.size)].map((id) => main.get(id))).toEqual(w.objects().map((o, i) => ({ ...o, id: out[i] })));
    expect(out[w.findProcess(8)!]).toBe(main.findProcess(8));
    // A process the main table has without a comm gets one from the other table: its label changes.
    const v = new OwnerTable();
    v.process(7, 'sleep');
    expect(main.internColumns(v.columns(), [], new Int32Array(8), 0)).toBe(true);
    expect(main.commOf(main.findProcess(7)!)).toBe('sleep');
  });

  it('fills in fields learnt late (patch) and tells whether the label changed', () => {
    const t = new OwnerTable();
    const p = t.process(5);
    expect(t.patch(p, undefined, 5, undefined)).toBe(false);
    expect(t.patch(p, 'a', undefined, undefined)).toBe(true);
    expect(t.patch(p, 'b', 6, undefined)).toBe(false);
    expect(JSON.stringify(t.get(p))).toBe(JSON.stringify({ id: p, kind: 'process', pid: 5, tgid: 5, comm: 'a' }));
    const s = t.snapshot(1);
    expect(t.patch(s, undefined, undefined, 5)).toBe(true);
    expect(t.get(s)).toEqual({ id: s, kind: 'snapshot', snap: 1, pid: 5 });
    expect(t.pidOf(s)).toBe(5);
    expect(t.pidOf(999)).toBeUndefined();
  });

  it('finds every owner among many (the lookup table grows)', () => {
    const t = new OwnerTable();
    const ids: number[] = [];
    for (let k = 0; k < 5000; k++) ids.push(k % 3 === 0 ? t.process(k * 7919) : k % 3 === 1 ? t.file(`d${k % 5}`, k) : t.snapshot(k + 0.5));
    for (let k = 0; k < 5000; k++) {
      expect(k % 3 === 0 ? t.findProcess(k * 7919) : k % 3 === 1 ? t.file(`d${k % 5}`, k) : t.findSnapshot(k + 0.5)).toBe(ids[k]);
    }
    expect(t.size).toBe(5002);
    expect(t.findProcess(NaN)).toBeUndefined();
    const n = t.process(NaN);
    expect(t.process(NaN)).toBe(n);
  });
});
