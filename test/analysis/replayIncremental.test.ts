import { describe, expect, it } from 'vitest';
import { Replay, type ReplayObserver, type ReplayResult } from '../../src/core/analysis/replay';
import { LineReader } from '../../src/core/formats/lineReader';
import { detectFormat } from '../../src/core/formats/registry';
import type { EventRecord } from '../../src/core/model/events';
import { TraceBuilder } from '../../src/core/model/traceBuilder';
import { SCENARIOS, synthesize } from '../../src/core/synth/scenarios';
import { native, realFixture, rng } from '../helpers';

// `advance` in steps while the parse goes on (owners and layout growing between calls), then `finish`,
// must give what `run` gives after the whole parse: same anomalies, counts, pages, snapshots, and the
// same observer calls in the same order.

/** Every observer call as numbers: [0, i, kind] for an event, [1, pfn, owner, state, ev] for a page. */
class Log implements ReplayObserver {
  readonly calls: number[] = [];
  event(i: number, e: EventRecord): void {
    this.calls.push(0, i, e.kind);
  }
  page(pfn: number, owner: number, state: number, ev: number): void {
    this.calls.push(1, pfn, owner, state, ev);
  }
}

/**
 * Parse `text` into a fresh builder in chunks of `chunk` bytes; after each chunk `between` is called
 * with the builder (the parse is not over yet).
 */
function parse(text: string, chunk: number, between: (b: TraceBuilder) => void): TraceBuilder {
  const b = new TraceBuilder();
  const format = detectFormat(text.slice(0, 64 * 1024))!;
  expect(format).toBeDefined();
  const bytes = new TextEncoder().encode(text);
  b.beginFile('t', format.name, bytes.length);
  const p = format.create({ builder: b, path: 't' });
  const reader = new LineReader((buf, s, e, n) => p.line(buf, s, e, n));
  for (let at = 0; at < bytes.length; at += chunk) {
    reader.feed(bytes.subarray(at, Math.min(bytes.length, at + chunk)));
    between(b);
  }
  reader.end();
  p.end(reader.lines);
  b.endFile(reader.lines);
  return b;
}

interface Outcome {
  result: ReplayResult;
  calls: number[];
  builder: TraceBuilder;
}

function whole(text: string): Outcome {
  const b = parse(text, 1 << 20, () => {});
  const log = new Log();
  return { result: new Replay(b, {}, log).run(), calls: log.calls, builder: b };
}

/** Advance by random steps while the parse goes on (chunks of random size too), then finish. */
function stepped(text: string, seed: number): Outcome {
  const r = rng(seed);
  const log = new Log();
  let replay: Replay | undefined;
  let upTo = 0;
  const chunk = 1 + Math.floor(r() * Math.min(8192, text.length));
  const b = parse(text, chunk, (b) => {
    // Created before any event sometimes, after a few at other times.
    replay ??= r() < 0.5 ? new Replay(b, {}, log) : undefined;
    if (!replay) return;
    while (upTo < b.events.length && r() < 0.7) {
      upTo = Math.min(b.events.length, upTo + Math.floor(r() * 64));
      replay.advance(upTo);
    }
  });
  replay ??= new Replay(b, {}, log);
  while (upTo < b.events.length) {
    upTo = Math.min(b.events.length, upTo + 1 + Math.floor(r() * 500));
    replay.advance(upTo);
  }
  replay.advance(b.events.length);
  return { result: replay.finish(), calls: log.calls, builder: b };
}

/** The page table as plain rows [pfn base, owners, states, since, head orders], sorted by base. */
function pageRows(r: ReplayResult): unknown[] {
  return [...r.pages.all()]
    .sort((x, y) => x.base - y.base)
    .map((c) => {
      const k = c.columns();
      return [c.base, [...k.owner], [...k.state], [...k.since], [...k.headOrder]];
    });
}

/** Index of the first difference, -1 when equal. */
function firstDiff(a: number[], b: number[]): number {
  const n = Math.max(a.length, b.length);
  for (let k = 0; k < n; k++) if (a[k] !== b[k]) return k;
  return -1;
}

/** An owner by what it is rather than by its id ('' for none). */
function ownerKey(b: TraceBuilder, id: number): string {
  if (id === 0) return '';
  const { id: _id, ...rest } = b.owners.get(id);
  return JSON.stringify(rest);
}

/** Pages per owner, by owner key, without the owners at 0. */
function perOwner(b: TraceBuilder, a: Float64Array): Map<string, number> {
  const m = new Map<string, number>();
  for (let o = 0; o < a.length; o++) if (a[o]) m.set(ownerKey(b, o), a[o]);
  return m;
}

/**
 * Compare the stepped replays of `text` with its run. An owner that only the replay interns (a snapshot
 * reference naming a pid the parse never saw) gets its id when the replay meets it, which in steps comes
 * before the parse's later owners: with `ownerIdsMayDiffer`, owners are compared by what they are.
 */
function expectSame(text: string, seeds: number[], ownerIdsMayDiffer = false): void {
  const want = whole(text);
  expect(want.result.order).toBeNull();
  // Without an observer the replay reads only the fields each event kind needs: same result.
  const plain = new Replay(parse(text, 1 << 20, () => {})).run();
  expect(plain.anomalies).toEqual(want.result.anomalies);
  expect([plain.counts, plain.livePages, [...plain.ownerPeak], [...plain.snapshots]]).toEqual([want.result.counts, want.result.livePages, [...want.result.ownerPeak], [...want.result.snapshots]]);
  expect(pageRows(plain)).toEqual(pageRows(want.result));
  for (const seed of seeds) {
    const got = stepped(text, seed);
    const g = got.result;
    const w = want.result;
    expect(g.anomalies).toEqual(w.anomalies);
    expect(g.counts).toEqual(w.counts);
    expect(g.livePages).toBe(w.livePages);
    expect([...g.snapshots]).toEqual([...w.snapshots]);
    expect([...g.snapshotPages]).toEqual([...w.snapshotPages]);
    expect([g.timeStart, g.timeEnd, g.order]).toEqual([w.timeStart, w.timeEnd, w.order]);
    expect(got.calls.length).toBe(want.calls.length);
    if (!ownerIdsMayDiffer) {
      expect(got.builder.owners.objects()).toEqual(want.builder.owners.objects());
      expect([...g.ownerLive]).toEqual([...w.ownerLive]);
      expect([...g.ownerPeak]).toEqual([...w.ownerPeak]);
      expect(pageRows(g)).toEqual(pageRows(w));
      expect(firstDiff(got.calls, want.calls)).toBe(-1);
      continue;
    }
    expect(perOwner(got.builder, g.ownerLive)).toEqual(perOwner(want.builder, w.ownerLive));
    expect(perOwner(got.builder, g.ownerPeak)).toEqual(perOwner(want.builder, w.ownerPeak));
    const named = (o: Outcome): unknown[] =>
      pageRows(o.result).map((row) => {
        const r = row as [number, number[], ...unknown[]];
        return [r[0], r[1].map((id) => ownerKey(o.builder, id)), ...r.slice(2)];
      });
    expect(named(got)).toEqual(named(want));
    // Observer page calls: [1, pfn, owner, state, ev]; owner at offset 2.
    const calls = (o: Outcome): unknown[] => {
      const out: unknown[] = [];
      for (let k = 0; k < o.calls.length; ) {
        if (o.calls[k] === 0) {
          out.push(o.calls.slice(k, k + 3).join());
          k += 3;
        } else {
          out.push([o.calls[k + 1], ownerKey(o.builder, o.calls[k + 2]), o.calls[k + 3], o.calls[k + 4]].join());
          k += 5;
        }
      }
      return out;
    };
    expect(calls(got)).toEqual(calls(want));
  }
}

function synth(scenario: (typeof SCENARIOS)[number], seed: number, events: number, injectEvery = 50): string {
  let text = '';
  synthesize({ scenario, seed, events, injectEvery }, (c) => (text += c));
  return text;
}

describe('Replay.advance + finish', () => {
  for (const scenario of SCENARIOS) {
    it(`gives what run gives on a generated ${scenario} trace`, () => {
      const text = synth(scenario, 7, 6000);
      const want = whole(text);
      // The generated trace has every kind of anomaly the scenario injects: the comparison is not empty.
      expect(want.result.anomalies.length).toBeGreaterThan(10);
      expectSame(text, [1, 2, 3]);
    });
  }

  it('gives what run gives with layout lines, blocks going offline and online, forks and exits', () => {
    const text = native(
      'region name=ram0 node=0 start=0x0 pages=0x8000',
      'region name=dax node=1 start=0x8000 pages=0x10000 type=kmem dev=/dev/dax0.0',
      'block id=0 start=0x0 pages=0x8000 node=0 state=online',
      'block id=1 start=0x8000 pages=0x8000 node=1 state=offline',
      '1 alloc pfn=0x8010 owner=kernel',
      '2 alloc pfn=0x7ffe order=2 owner=kernel',
      '3 offline block=0',
      '4 map pid=1 vaddr=0x1000 pfn=0x20',
      '5 online block=1',
      '6 alloc pfn=0x8020 owner=kernel',
      '7 membind pid=5 node=1',
      '8 fork pid=5 child=6',
      '9 alloc pfn=0x10 pid=6 node=0',
      '10 alloc pfn=0x11 order=1 pid=6',
      '11 exit pid=6',
      '12 fork pid=2 child=6',
      '13 alloc pfn=0x40 order=3 pid=6',
      '14 free pfn=0x40 order=2',
      '15 free pfn=0x40 order=2',
      '16 exit pid=6',
      'garbage line',
    );
    expectSame(text, [1, 2, 3, 4, 5, 6]);
  });

  it('gives what run gives with snapshots shared, broken, restored, dropped and dangling', () => {
    const text = native(
      '1 alloc pfn=0x10 order=0 pid=1 comm=app',
      '2 map pid=1 vaddr=0x7000 pfn=0x10',
      '3 snapshot-begin snap=1 pid=1',
      '4 snapref snap=1 vaddr=0x7000 pfn=0x10',
      '5 snapshot-end snap=1',
      '6 snapshot-begin snap=2 pid=1',
      '7 snapref snap=2 pfn=0x10',
      '8 write pid=1 vaddr=0x7000 pfn=0x10',
      '9 cow snap=1 pid=1 vaddr=0x7000 old=0x10 new=0x11',
      '10 write pid=1 vaddr=0x7000 pfn=0x10',
      '11 restore snap=1 pid=1',
      '12 snapshot-drop snap=1',
      '13 migrate pfn=0x10 order=0 to=0x40',
      '14 snapref snap=3 pid=1 pfn=0x99',
      '15 free pfn=0x99',
      '16 snapref snap=3 pfn=0x99',
      '17 fsalloc dev=pmem0 ino=5 off=0 pfn=0x11',
      '18 fault pid=7 vaddr=0x1000 devoff=0 pfn=0x11 agent=numactlX',
      '19 exit pid=1',
    );
    expectSame(text, [1, 2, 3, 4, 5, 6]);
  });

  it('gives what run gives, up to owner ids, when the replay interns an owner the parse never saw', () => {
    const text = native(
      '1 alloc pfn=0x10 order=0 pid=1 comm=app',
      '2 snapref snap=3 pid=2 pfn=0x99',
      '3 snapref snap=3 pid=2 pfn=0x10',
      '4 alloc pfn=0x20 pid=4',
      '5 free pfn=0x99',
      '6 snapshot-drop snap=3',
      '7 alloc pfn=0x30 pid=5',
    );
    const want = whole(text);
    // Process 2 is interned by the replay, after every owner of the parse.
    expect(want.builder.owners.get(want.builder.owners.size - 1)).toMatchObject({ kind: 'process', pid: 2 });
    expectSame(text, [1, 2, 3, 4, 5, 6], true);
  });

  it('gives what run gives when snapshots come and go on one page (references unlinked first, in the middle, last)', () => {
    const text = native(
      '1 alloc pfn=0x10 order=0 pid=1 comm=app',
      '2 snapshot-begin snap=1 pid=1',
      '3 snapref snap=1 pfn=0x10',
      '4 snapshot-begin snap=2 pid=1',
      '5 snapref snap=2 pfn=0x10',
      '6 snapshot-begin snap=3 pid=1',
      '7 snapref snap=3 pfn=0x10',
      '8 snapref snap=3 pfn=0x11',
      '9 snapshot-drop snap=2',
      '10 snapshot-begin snap=4 pid=1',
      '11 snapref snap=4 pfn=0x10',
      '12 write pid=1 vaddr=0x7000 pfn=0x10',
      '13 snapshot-drop snap=4',
      '14 cow snap=1 pid=1 old=0x10 new=0x12',
      '15 snapshot-drop snap=1',
      '16 snapshot-begin snap=5 pid=1',
      '17 snapref snap=5 pfn=0x10',
      '18 migrate pfn=0x10 order=0 to=0x40',
      '19 free pfn=0x11',
    );
    const want = whole(text);
    expect(want.result.anomalies.map((a) => [a.kind, a.line, a.related.map((r) => r.line)])).toEqual([
      ['cow-missed', 13, [4]],
      ['cow-missed', 13, [8]],
      ['cow-missed', 13, [12]],
      // Snapshot 3 was reported for pfn 0x10 at the write: one report per (snapshot, page).
      ['snapshot-dangling', 19, [18]],
      ['snapshot-dangling', 20, [9]],
    ]);
    expectSame(text, [1, 2, 3, 4]);
  });

  it('gives what run gives on a real ftrace capture', () => {
    expectSame(realFixture('ftrace-kmem-1.txt'), [1, 2]);
  });

  it('gives what run gives when advanced by nothing, or past the end, and fails on a second finish', () => {
    const text = native('1 alloc pfn=0x10 pid=1', '2 free pfn=0x10', '3 free pfn=0x10');
    const b = parse(text, 1 << 20, () => {});
    const r = new Replay(b);
    r.advance(0);
    r.advance(1);
    r.advance(1);
    r.advance(99);
    const got = r.finish();
    expect(got.anomalies.map((a) => [a.kind, a.line])).toEqual([['double-free', 4]]);
    expect(() => r.finish()).toThrow();
  });
});
