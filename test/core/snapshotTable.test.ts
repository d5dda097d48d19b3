import { describe, expect, it } from 'vitest';
import { SnapshotTable } from '../../src/core/model/snapshotTable';
import { TraceBuilder } from '../../src/core/model/traceBuilder';

describe('SnapshotTable', () => {
  it('gives back every field it was given, the name `snapshot <id>` made when read', () => {
    const t = new SnapshotTable();
    t.add({ id: 3, source: 'native', name: 'snapshot 3', pid: 42, comm: 'nginx', time: 10, line: 3, file: 0 });
    t.add({ id: 2 ** 40, source: 'criu', name: 'pagemap-1 (dump 1)', time: NaN, line: 1, file: 1, parent: 3 });
    t.add({ id: 1.5, source: 'page_owner', name: 'page_owner dump 1', pid: 0, time: -0, line: 7, file: 2 });
    expect(t.length).toBe(3);
    expect(t.get(0)).toEqual({ id: 3, source: 'native', name: 'snapshot 3', pid: 42, comm: 'nginx', time: 10, line: 3, file: 0 });
    expect(t.get(1)).toEqual({ id: 2 ** 40, source: 'criu', name: 'pagemap-1 (dump 1)', time: NaN, line: 1, file: 1, parent: 3 });
    expect(t.get(2).pid).toBe(0);
    expect(Object.is(t.get(2).time, -0)).toBe(true);
    expect([t.indexOf(3), t.indexOf(2 ** 40), t.indexOf(1.5), t.indexOf(4)]).toEqual([0, 1, 2, -1]);
    expect(t.filter((s) => s.source === 'criu').map((s) => s.id)).toEqual([2 ** 40]);
    expect([...t].map((s) => s.id)).toEqual([3, 2 ** 40, 1.5]);
    expect(JSON.parse(JSON.stringify(t))).toHaveLength(3);
  });

  it('appends another table in parts, mapping strings, skipping ids taken, in the current file with lines shifted', () => {
    const w = new TraceBuilder();
    w.addSnapshot({ id: 1, source: 'snapshot-log', name: 'before', comm: 'a', time: 5, line: 2 });
    const b = new TraceBuilder();
    b.addSnapshot({ id: 9, source: 'snapshot-log', name: 'other', comm: 'b', time: 1, line: 1 });
    b.beginFile('x', 'pageledger', 0);
    b.beginFile('y', 'pageledger', 0);
    const map: number[] = [];
    b.addSnapshotColumns(w.snapshots.columns(0, 0), map, 100);
    const n = w.snapshots.length;
    const strings = w.snapshots.stringCount;
    w.addSnapshot({ id: 9, source: 'snapshot-log', name: 'before', comm: 'c', time: 6, line: 3 });
    w.addSnapshot({ id: 12, source: 'native', name: 'snapshot 12', pid: 4, time: 7, line: 4 });
    b.addSnapshotColumns(w.snapshots.columns(n, strings), map, 100);
    expect(b.snapshots.objects()).toEqual([
      { id: 9, source: 'snapshot-log', name: 'other', comm: 'b', time: 1, line: 1, file: 0 },
      { id: 1, source: 'snapshot-log', name: 'before', comm: 'a', time: 5, line: 102, file: 1 },
      { id: 12, source: 'native', name: 'snapshot 12', pid: 4, time: 7, line: 104, file: 1 },
    ]);
    // The next id given out comes after the largest one appended.
    expect(b.addSnapshot({ source: 'page_owner', name: 'd', time: NaN, line: 1 }).id).toBe(13);
  });

  it('changes the time through the object addSnapshot returned', () => {
    const b = new TraceBuilder();
    const s = b.addSnapshot({ source: 'page_owner', name: 'page_owner dump 1', time: NaN, line: 1 });
    s.time = 2000;
    expect(b.snapshot(s.id)?.time).toBe(2000);
    expect(s.time).toBe(2000);
  });
});
