import { describe, expect, it } from 'vitest';
import { CHUNK, EventStore } from '../../src/core/model/eventStore';
import { newEventRecord, type EventRecord } from '../../src/core/model/events';
import { eventBuffers, PartAppender, PartCutter } from '../../src/core/model/partStream';
import { releaseBuffers } from '../../src/node/parallelParse';
import { detachEarly } from '../../src/node/releaseBuffers';
import { TraceBuilder } from '../../src/core/model/traceBuilder';
import { OwnerTable } from '../../src/core/model/owners';

function rec(i: number, time = 1e9 + i * 10): EventRecord {
  const e = newEventRecord();
  e.kind = (1 + (i % 9)) as EventRecord['kind'];
  e.order = i % 2;
  e.line = i + 1;
  e.time = i % 777 === 0 ? NaN : time;
  e.pfn = 0x100000 + ((i * 7919) % 300000);
  e.pid = 1000 + (i % 40);
  e.arg = i % 3 === 0 ? 0x7f0000000000 + i * 4096 : NaN;
  e.node = i % 2;
  return e;
}

function allEvents(s: EventStore): EventRecord[] {
  const out: EventRecord[] = [];
  for (let i = 0; i < s.length; i++) out.push({ ...s.read(i, newEventRecord()) });
  return out;
}

describe('EventStore chunk hand-over', () => {
  it('takeFullChunks + adoptData give the store one push sequence makes, across partial and full chunks', () => {
    const n = 3 * CHUNK + 4321;
    const whole = new EventStore();
    const worker = new EventStore();
    const main = new EventStore();
    const cuts = new Set([10, CHUNK - 1, CHUNK, CHUNK + 5, 2 * CHUNK + 100, 3 * CHUNK]);
    for (let i = 0; i < n; i++) {
      whole.push(rec(i), 0);
      worker.push(rec(i), 0);
      if (cuts.has(i + 1)) {
        const d = worker.takeFullChunks();
        expect(d.length % CHUNK).toBe(0);
        expect(main.adoptData(d)).toBe(true);
      }
    }
    expect(main.adoptData(worker.takeFullChunks())).toBe(true);
    // The rest, partial chunk included, then more pushes into the adopted tail.
    expect(main.adoptData(worker.exportData())).toBe(true);
    for (let i = n; i < n + 50; i++) {
      whole.push(rec(i), 0);
      main.push(rec(i), 0);
    }
    expect(main.length).toBe(whole.length);
    expect(main.sorted).toBe(true);
    expect(allEvents(main)).toEqual(allEvents(whole));
    // A store that does not end on a chunk boundary does not take chunks as they are.
    expect(main.adoptData(whole.exportData())).toBe(false);
  });

  it('notices time going back across a hand-over, and within a part', () => {
    const worker = new EventStore();
    for (let i = 0; i < CHUNK; i++) worker.push(rec(i), 0);
    const main = new EventStore();
    main.adoptData(worker.takeFullChunks());
    expect(main.sorted).toBe(true);
    worker.push(rec(CHUNK, 5), 0);
    expect(main.adoptData(worker.exportData())).toBe(true);
    expect(main.sorted).toBe(false);
    expect(main.order()).not.toBeNull();
  });
});

describe('PartCutter and PartAppender', () => {
  it('keep a last partial chunk back with holdTail, and append a part without its events', () => {
    const worker = new TraceBuilder();
    worker.beginFile('t', 'pageledger', 0);
    for (let i = 0; i < CHUNK + 5; i++) worker.push({ ...rec(i), owner: worker.owners.process(1000 + (i % 3), 'app') });
    const end = new PartCutter(worker).end(100, CHUNK + 5, undefined, true);
    expect(end.events.length).toBe(CHUNK);
    expect(worker.events.length).toBe(5);
    expect(end.end?.lines).toBe(CHUNK + 5);
    const target = new TraceBuilder();
    target.beginFile('t', 'pageledger', 0);
    // A target that has an owner already: the part's ids map past it.
    target.owners.process(7, 'other');
    const app = new PartAppender(target, 10);
    app.append(end, false);
    expect(target.events.length).toBe(0);
    const map = app.ownerMap();
    expect(map.length).toBe(worker.owners.size);
    for (let id = 0; id < map.length; id++) expect([target.owners.commOf(map[id]), target.owners.pidOf(map[id])]).toEqual([worker.owners.commOf(id), worker.owners.pidOf(id)]);
    expect(Array.from(map)).not.toEqual(Array.from(map, (_, id) => id));
    expect(app.adopts).toBe(false);
    expect(new PartAppender(new TraceBuilder(), 0).adopts).toBe(true);
  });

  it('rebuild the builder the parser filled: owners, comm learnt late, snapshots, errors, counters, layout', () => {
    const worker = new TraceBuilder();
    worker.beginFile('t', 'pageledger', 0);
    const cutter = new PartCutter(worker);
    const target = new TraceBuilder();
    target.beginFile('t', 'pageledger', 0);
    const app = new PartAppender(target, 0);
    const reference = new TraceBuilder();
    reference.beginFile('t', 'pageledger', 0);
    reference.layout.addRegion({ name: 'ram0', node: 0, start: 0x100000, pages: 1 << 20, type: 'ram' });
    worker.layout.addRegion({ name: 'ram0', node: 0, start: 0x100000, pages: 1 << 20, type: 'ram' });
    let patched = false;
    let layoutSeen = 0;
    const n = 2 * CHUNK + 999;
    for (let i = 0; i < n; i++) {
      for (const b of [worker, reference]) {
        const e = rec(i);
        // pid 1039 shows up without a comm and gets one later; a new pid every 1000 events.
        const pid = 1000 + (i % 40) + Math.floor(i / 1000);
        e.owner = b.owners.process(pid, pid === 1039 && i < 30000 ? undefined : `c${pid}`);
        e.pid = pid;
        b.push(e);
        if (i % 20000 === 3) b.error(i + 1, `bad ${i}`);
        if (i % 30000 === 5) b.addSnapshot({ id: i, source: 'native', name: `snapshot ${i}`, time: e.time, line: i + 1 });
      }
      if (i % 25000 === 24999) {
        const p = cutter.cut(i);
        if (p.layout) layoutSeen++;
        patched ||= app.append(p).patched;
      }
    }
    worker.count('records', 3);
    reference.count('records', 3);
    const last = cutter.end(n, n);
    expect(last.end?.patches.some((p) => p.comm === 'c1039')).toBe(true);
    patched ||= app.append(last).patched;
    expect(patched).toBe(true);
    expect(layoutSeen).toBe(1);
    expect(target.owners.objects()).toEqual(reference.owners.objects());
    expect(allEvents(target.events)).toEqual(allEvents(reference.events));
    expect(target.snapshots.objects()).toEqual(reference.snapshots.objects());
    expect(target.errors).toEqual(reference.errors);
    expect([...target.counters]).toEqual([...reference.counters]);
    expect(target.layout.regions).toEqual(reference.layout.regions);
  });
});

describe('a rest parsed on a copy of the receiver\'s owner table', () => {
  it('gives the owners one pass gives: the rest\'s new owners after the table, and fields the rest adds to owners of the table', () => {
    const reference = new TraceBuilder();
    const target = new TraceBuilder();
    for (const b of [reference, target]) b.beginFile('t', 'pageledger', 0);
    // Before the rest: pid 5 without a comm, pid 6 with one, a file.
    for (const b of [reference, target]) {
      b.owners.process(5);
      b.owners.process(6, 'six');
      b.owners.file('259:1', 42);
    }
    const rest = new TraceBuilder();
    rest.beginFile('t', 'pageledger', 0);
    rest.useOwners(OwnerTable.fromColumns(target.owners.columns()));
    const cutter = new PartCutter(rest);
    cutter.ownersSent();
    for (const b of [reference, rest]) {
      // A new pid, then pid 5 learns its comm and tgid, pid 6 keeps its first comm, a new agent and file.
      b.push({ ...rec(0), owner: b.owners.process(9, 'nine') });
      b.push({ ...rec(1), owner: b.owners.process(5, 'five', 50) });
      b.push({ ...rec(2), owner: b.owners.process(6, 'other') });
      b.push({ ...rec(3), owner: b.owners.agent('numactlX') });
      b.push({ ...rec(4), owner: b.owners.file('259:1', 43) });
      b.error(7, 'bad');
    }
    const part = cutter.end(10, 5);
    expect(part.owners.kind.length).toBe(3);
    expect(part.end?.patches).toEqual([{ id: 2, comm: 'five', tgid: 50 }]);
    const app = new PartAppender(target, 0);
    app.sameOwners(target.owners.size, target.owners.stringCount);
    expect(app.append(part, false).patched).toBe(true);
    expect(app.adopts).toBe(true);
    expect(target.events.adoptData(part.events)).toBe(true);
    expect(target.owners.objects()).toEqual(reference.owners.objects());
    expect(allEvents(target.events)).toEqual(allEvents(reference.events));
    expect(target.errors).toEqual(reference.errors);
    // Appended once a part came, or to a table that does not match, the ids tell.
    expect(() => app.sameOwners(1, 0)).toThrow();
    const other = new TraceBuilder();
    other.owners.process(77);
    const mismatch = new PartAppender(other, 0);
    mismatch.sameOwners(2, 0);
    const fresh = new TraceBuilder();
    const c2 = new PartCutter(fresh);
    c2.ownersSent();
    fresh.owners.process(1);
    mismatch.append(c2.end(0, 0), false);
    expect(mismatch.adopts).toBe(false);
  });
});

describe('parts of bounded size', () => {
  it('takeFullChunks(max) hands over at most max chunks from the front and keeps the rest in order', () => {
    const n = 4 * CHUNK + 777;
    const whole = new EventStore();
    const src = new EventStore();
    for (let i = 0; i < n; i++) {
      whole.push(rec(i), 0);
      src.push(rec(i), 0);
    }
    const main = new EventStore();
    const first = src.takeFullChunks(1);
    expect(first.length).toBe(CHUNK);
    expect(src.length).toBe(n - CHUNK);
    expect(main.adoptData(first)).toBe(true);
    const next = src.takeFullChunks(2);
    expect(next.length).toBe(2 * CHUNK);
    expect(main.adoptData(next)).toBe(true);
    // More than there are: the full ones (one), then the partial rest.
    expect(main.adoptData(src.takeFullChunks(5))).toBe(true);
    expect(src.length).toBe(777);
    expect(src.takeFullChunks(3).length).toBe(0);
    expect(main.adoptData(src.exportData())).toBe(true);
    expect(allEvents(main)).toEqual(allEvents(whole));
  });

  it('a range cut in parts of a few chunks and appended part by part makes the store one append of it makes', () => {
    const n = 3 * CHUNK + 99;
    const make = (): TraceBuilder => {
      const b = new TraceBuilder();
      b.beginFile('f', 'pageledger', 0);
      for (let i = 0; i < 1000; i++) b.push(rec(i));
      return b;
    };
    const range = (): TraceBuilder => {
      const b = new TraceBuilder();
      b.beginFile('f', 'pageledger', 0);
      for (let i = 0; i < n; i++) {
        const e = rec(i);
        e.owner = b.owners.process(1 + (i % 50));
        b.push(e);
      }
      return b;
    };
    const one = make();
    new PartAppender(one, 1000).append(new PartCutter(range()).end(0, n));
    const parts = make();
    const cutter = new PartCutter(range());
    const app = new PartAppender(parts, 1000);
    let copied = 0;
    for (;;) {
      const p = cutter.cut(0, false, 1);
      if (p.events.length === 0) break;
      expect(p.events.length).toBe(CHUNK);
      if (app.append(p).copied) copied++;
    }
    expect(app.append(cutter.end(0, n)).copied).toBe(true);
    expect(copied).toBe(3);
    expect(parts.events.length).toBe(one.events.length);
    expect(allEvents(parts.events)).toEqual(allEvents(one.events));
    expect(parts.owners.size).toBe(one.owners.size);
  });

  it('lists each buffer of a part once, and releaseBuffers detaches them', async () => {
    const s = new EventStore();
    for (let i = 0; i < CHUNK + 5; i++) s.push(rec(i), 0);
    const d = s.exportData();
    const bufs = eventBuffers(d);
    expect(new Set(bufs).size).toBe(bufs.length);
    expect(bufs).toContain(d.kind[0].buffer);
    expect(bufs).toContain(d.columns.pfn[1].data!.buffer);
    await releaseBuffers(bufs);
    expect(d.kind[0].length).toBe(0);
    expect(bufs.every((b) => b.byteLength === 0)).toBe(true);
    await releaseBuffers([]);
  });

  it('detachEarly detaches the buffer it is given (a new one by default) at once, and no other', () => {
    const other = new Uint8Array(16);
    const b = new ArrayBuffer(64);
    const view = new Float64Array(b);
    expect(detachEarly(b)).toBe(b);
    expect(b.byteLength).toBe(0);
    expect(view.length).toBe(0);
    expect(detachEarly().byteLength).toBe(0);
    expect(other.length).toBe(16);
  });
});
