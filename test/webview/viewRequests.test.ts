import { describe, expect, it } from 'vitest';
import { Replay } from '../../src/core/analysis/replay';
import { LIVE, FREE } from '../../src/core/analysis/pageTable';
import { newEventRecord } from '../../src/core/model/events';
import { TraceBuilder } from '../../src/core/model/traceBuilder';
import { SCENARIOS, synthesize, type ScenarioName } from '../../src/core/synth/scenarios';
import type { TraceModel } from '../../src/core/trace';
import { answerViewRequest, ownershipIndexOf, viewInit } from '../../src/core/view/viewRequests';
import { CELL_ANOMALY, CELL_CONFLICT, CELL_OFFLINE, CELL_SHARED, INIT_OWNERS, MAX_OWNERS_ASKED, OWNER_KINDS, type MapReply, type SeriesReply } from '../../src/protocol/viewData';
import { ownerLabel } from '../../src/core/model/owners';
import { openText } from '../helpers';

/** Page states at one time, computed the slow way: replay only the events up to that time. */
interface Reference {
  owner(pfn: number): number;
  shared(pfn: number): boolean;
  seen: number[];
}

async function model(scenario: ScenarioName, seed: number, events: number): Promise<TraceModel> {
  let text = '';
  synthesize({ scenario, seed, events, injectEvery: 150 }, (c) => (text += c));
  return openText(text, `${scenario}.pltrace`);
}

function referenceAt(m: TraceModel, t: number): Reference {
  const src = m.builder;
  const b = new TraceBuilder();
  Object.assign(b, { owners: src.owners, layout: src.layout });
  const e = newEventRecord();
  const order = m.result.order;
  for (let k = 0; k < src.events.length; k++) {
    const i = order ? order[k] : k;
    src.events.read(i, e);
    if (e.time <= t) b.events.push(e, src.events.file.get(i));
  }
  const r = new Replay(b).run();
  const refd = new Set<number>();
  for (const [id, pages] of r.snapshotPages) if (!r.snapshots.get(id)!.dropped) for (const p of pages) refd.add(p);
  const seen: number[] = [];
  for (const c of r.pages.all()) for (let s = 0; s < 4096; s++) if (c.state(s) === LIVE || c.state(s) === FREE) seen.push(c.base + s);
  const owner = (pfn: number): number => {
    const c = r.pages.peek(pfn);
    const s = pfn % 4096;
    return c && (c.state(s) === LIVE || c.state(s) === FREE) ? c.owner(s) : -1;
  };
  return {
    owner,
    shared: (pfn) => {
      const o = owner(pfn);
      return o > 0 && src.owners.get(o).kind === 'process' && refd.has(pfn);
    },
    seen: seen.sort((x, y) => x - y),
  };
}

/** Sample times: before the start, a few event times, between events, and after the end. */
function sampleTimes(m: TraceModel): number[] {
  const { timeStart: a, timeEnd: z } = m.result;
  const ev = m.builder.events;
  return [a - 1, a, ev.time.get(Math.floor(ev.length / 3)), (a + z) / 2 + 0.5, ev.time.get(Math.floor((ev.length * 4) / 5)), z, z + 10];
}

const cases = SCENARIOS.flatMap((s) => [1, 2].map((seed) => [s, seed] as const));

describe.each(cases)('ownership index against a brute-force replay: %s seed %i', (scenario, seed) => {
  const loaded = model(scenario, seed, 1500);
  const refs = new Map<number, Reference>();
  const ref = async (t: number): Promise<Reference> => {
    const m = await loaded;
    let r = refs.get(t);
    if (!r) refs.set(t, (r = referenceAt(m, t)));
    return r;
  };

  it('gives every page the owner and sharing the replay gives it at each time', async () => {
    const m = await loaded;
    const ix = ownershipIndexOf(m);
    let checked = 0;
    for (const t of sampleTimes(m)) {
      const r = await ref(t);
      for (let p = 0; p < ix.pfns.length; p++) {
        const pfn = ix.pfns[p];
        const got = ix.stateAt(p, t);
        expect([pfn, got.owner, got.shared]).toEqual([pfn, r.owner(pfn), r.shared(pfn)]);
        checked++;
      }
      expect(r.seen.every((pfn) => ix.rankOf(pfn) >= 0)).toBe(true);
    }
    expect(checked).toBe(ix.pfns.length * 7);
  });

  it('answers series windows with the exact per-owner counts', async () => {
    const m = await loaded;
    const init = viewInit(m);
    const { timeStart: a, timeEnd: z } = m.result;
    for (const [t0, t1, n, top] of [[a, z, 9, 4], [a + (z - a) / 3, a + (z - a) / 2, 4, 2], [a - 5, a - 5, 1, 3]] as const) {
      const got = answerViewRequest(m, { kind: 'series', t0, t1, n, top }) as SeriesReply;
      expect(got.kind).toBe('series');
      const times = Array.from({ length: n }, (_, i) => (n === 1 ? t1 : t0 + ((t1 - t0) * i) / (n - 1)));
      const counts: Map<number, number>[] = [];
      const seen: number[] = [];
      for (const t of times) {
        const r = await ref(t);
        const c = new Map<number, number>();
        for (const pfn of r.seen) c.set(r.owner(pfn), (c.get(r.owner(pfn)) ?? 0) + 1);
        counts.push(c);
        seen.push(r.seen.length);
      }
      const peak = new Map<number, number>();
      for (const c of counts) for (const [o, v] of c) if (o > 0) peak.set(o, Math.max(peak.get(o) ?? 0, v));
      const owners = [...peak.keys()].sort((x, y) => peak.get(y)! - peak.get(x)! || x - y).slice(0, top);
      expect(Array.from(got.owners)).toEqual(owners);
      expect(Array.from(got.times)).toEqual(times);
      owners.forEach((o, j) => expect(Array.from(got.values.subarray(j * n, (j + 1) * n))).toEqual(counts.map((c) => c.get(o) ?? 0)));
      expect(Array.from(got.free)).toEqual(counts.map((c) => c.get(0) ?? 0));
      expect(Array.from(got.other)).toEqual(counts.map((c, i) => seen[i] - (c.get(0) ?? 0) - owners.reduce((s, o) => s + (c.get(o) ?? 0), 0)));
      expect(Array.from(got.unknown)).toEqual(seen.map((s) => init.rows - s));
    }
  });

  /** Every cell of a map window against the brute-force replay at the column's sample time. */
  const checkMap = async (m: TraceModel, w: { t0: number; t1: number; nx: number; y0: number; y1: number; ny: number }): Promise<void> => {
    const init = viewInit(m);
    const got = answerViewRequest(m, { kind: 'map', ...w }) as MapReply;
    expect(got.kind).toBe('map');
    const dt = (w.t1 - w.t0) / w.nx;
    const h = (w.y1 - w.y0) / w.ny;
    for (let r = 0; r < w.ny; r++) {
      const lo = Math.floor(w.y0 + r * h);
      const hi = Math.max(lo + 1, Math.floor(w.y0 + (r + 1) * h));
      const pfns: number[] = [];
      for (let y = lo; y < hi; y++) {
        const g = init.segments.find((s) => y >= s.offset && y < s.offset + s.pages);
        if (g) pfns.push(g.start + y - g.offset);
      }
      for (let c = 0; c < w.nx; c++) {
        const rf = await ref(w.t0 + (c + 0.5) * dt);
        const count = new Map<number, number>();
        let free = 0;
        let shared = false;
        for (const pfn of pfns) {
          const o = rf.owner(pfn);
          if (o === 0) free++;
          else if (o > 0) count.set(o, (count.get(o) ?? 0) + 1);
          shared ||= rf.shared(pfn);
        }
        let owned = 0;
        let best = -1;
        for (const [o, v] of count) {
          owned += v;
          if (best < 0 || v > count.get(best)! || (v === count.get(best)! && o < best)) best = o;
        }
        let anomalyBits = 0;
        for (const an of m.result.anomalies) {
          if (!(an.time >= w.t0 && an.time <= w.t1) || !pfns.includes(an.pfn)) continue;
          if (Math.min(w.nx - 1, Math.floor((an.time - w.t0) / dt)) !== c) continue;
          anomalyBits |= an.kind === 'owner-conflict' || an.kind === 'double-alloc' ? CELL_CONFLICT : CELL_ANOMALY;
        }
        const t = w.t0 + (c + 0.5) * dt;
        const offline = init.blocks.some((b) => pfns.some((pfn) => pfn >= b.start && pfn < b.start + b.pages) && b.offline.some((from, k) => k % 2 === 0 && t >= from && t < b.offline[k + 1]));
        const cell = r * w.nx + c;
        const want = [owned > 0 ? best : free > 0 ? 0 : -1, owned > 0 ? Math.max(1, Math.round((255 * owned) / (hi - lo))) : 0, (shared ? CELL_SHARED : 0) | anomalyBits | (offline ? CELL_OFFLINE : 0)];
        expect([r, c, got.owner[cell], got.fill[cell], got.flags[cell]]).toEqual([r, c, ...want]);
      }
    }
  };

  it('answers map windows with the exact dominant owner, fill and flags of every cell', async () => {
    const m = await loaded;
    const ix = ownershipIndexOf(m);
    const init = viewInit(m);
    const { timeStart: a, timeEnd: z } = m.result;
    const busy = ix.rowOf(ix.pfns[Math.floor(ix.pfns.length / 2)]);
    const windows = [
      { t0: a, t1: z, nx: 6, y0: 0, y1: init.rows, ny: 9 },
      { t0: a + (z - a) / 4, t1: a + (z - a) / 2, nx: 5, y0: busy - 2, y1: busy + 3, ny: 8 },
      { t0: a, t1: z, nx: 4, y0: Math.max(0, busy - 3000), y1: busy + 3000, ny: 7 },
    ];
    for (const w of windows) await checkMap(m, w);
  });

  it('answers wide map windows exactly: many columns, several changes of a page in one column, one page a row', async () => {
    const m = await loaded;
    const ix = ownershipIndexOf(m);
    const init = viewInit(m);
    const { timeStart: a, timeEnd: z } = m.result;
    const busy = ix.rowOf(ix.pfns[Math.floor(ix.pfns.length / 3)]);
    const windows = [
      { t0: a - (z - a) / 10, t1: z + (z - a) / 10, nx: 40, y0: 0, y1: init.rows, ny: 5 },
      { t0: a, t1: a + (z - a) / 7, nx: 33, y0: Math.max(0, busy - 6), y1: busy + 6, ny: 12 },
      { t0: a, t1: z, nx: 2, y0: Math.max(0, busy - 500), y1: busy + 500, ny: 50 },
    ];
    for (const w of windows) await checkMap(m, w);
  });

  it('builds the same index from changes recorded during the analysis as from its own replay', async () => {
    const m = await loaded;
    const own = ownershipIndexOf(m);
    let text = '';
    synthesize({ scenario, seed, events: 1500, injectEvery: 150 }, (c) => (text += c));
    const recorded = await openText(text, `${scenario}.pltrace`, { recordOwnership: true });
    expect(recorded.ownershipRecording).toBeDefined();
    const ix = ownershipIndexOf(recorded);
    expect(recorded.ownershipRecording).toBeUndefined();
    for (const k of ['pfns', 'pageStart', 'permPos', 'permTime', 'permState', 'pos', 'owner', 'prev', 'eventTimes'] as const) {
      expect([k, Array.from(ix[k])]).toEqual([k, Array.from(own[k])]);
    }
    expect(ix.segments).toEqual(own.segments);
    expect(ix.blocks).toEqual(own.blocks);
  });

  it('lists a page history whose owners match the replay after every change', async () => {
    const m = await loaded;
    const ix = ownershipIndexOf(m);
    const ev = m.builder.events;
    for (const p of [0, Math.floor(ix.pfns.length / 2), ix.pfns.length - 1]) {
      const pfn = ix.pfns[p];
      const got = answerViewRequest(m, { kind: 'page', pfn });
      if (got.kind !== 'page') throw new Error(got.kind);
      expect(got.changes.length).toBeGreaterThan(0);
      expect(got.dropped).toBe(0);
      for (const ch of got.changes) {
        const r = await ref(ch.from);
        expect([ch.from, ch.owner, ch.shared]).toEqual([ch.from, r.owner(pfn), r.shared(pfn)]);
        expect(ch.line).toBeGreaterThan(0);
        expect(ch.file).toBe(0);
      }
      void ev;
    }
  });

  it('finds the event nearest a time, overall and on a page', async () => {
    const m = await loaded;
    const ev = m.builder.events;
    const order = m.result.order;
    const ix = ownershipIndexOf(m);
    for (const t of sampleTimes(m)) {
      let best = -1;
      for (let k = 0; k < ev.length; k++) {
        const i = order ? order[k] : k;
        if (best < 0 || Math.abs(ev.time.get(i) - t) < Math.abs(ev.time.get(best) - t)) best = i;
      }
      const got = answerViewRequest(m, { kind: 'nearest', time: t });
      expect(got).toMatchObject({ kind: 'nearest', found: true, time: ev.time.get(best), line: ev.line.get(best) });
    }
    const pfn = ix.pfns[Math.floor(ix.pfns.length / 2)];
    const hist = ix.history(ix.rankOf(pfn));
    const got = answerViewRequest(m, { kind: 'nearest', time: hist[0].time - 1, pfn0: pfn, pfn1: pfn + 1 });
    expect(got).toMatchObject({ found: true, time: hist[0].time, line: ev.line.get(hist[0].event), pfn });
  });
});

describe('ownership index pages', () => {
  it('ranks the pages seen by pfn, across 4096-page chunks found by index and by map, seen in any order', async () => {
    // Chunk keys below 2^16 (pfns below 2^28) are array slots, the rest map keys: both kinds, each first
    // seen out of pfn order, pages at both ends of a chunk, and a page freed and taken again.
    const pfns = [0x30000000, 0x1000, 0xfff, 0x5, 0x1000000000, 0x10000000, 0xfffffff, 0x2000000000, 0x0, 0x1fff, 0x20000000];
    const lines = ['pageledger-trace 1'];
    pfns.forEach((pfn, k) => lines.push(`${10 + k} alloc pfn=0x${pfn.toString(16)} order=0 pid=${100 + (k % 3)} comm=p${k % 3}`));
    lines.push(`50 free pfn=0x${(0x1000).toString(16)} order=0`, `60 alloc pfn=0x${(0x1000).toString(16)} order=0 pid=200 comm=q`);
    const m = await openText(lines.join('\n') + '\n', 'ranked.pltrace', { recordOwnership: true });
    expect(m.builder.errors).toEqual([]);
    const ix = ownershipIndexOf(m);
    const sorted = [...pfns].sort((x, y) => x - y);
    expect(Array.from(ix.pfns)).toEqual(sorted);
    sorted.forEach((pfn, r) => expect(ix.rankOf(pfn)).toBe(r));
    // Each rank's changes are that page's: the owner after each change is the allocating process's.
    const pidOf = (o: number): number | undefined => m.builder.owners.get(o).pid;
    pfns.forEach((pfn, k) => {
      const h = ix.history(ix.rankOf(pfn)).map((c) => (c.owner === 0 ? 0 : pidOf(c.owner)));
      expect([pfn, h]).toEqual([pfn, pfn === 0x1000 ? [100 + (k % 3), 0, 200] : [100 + (k % 3)]]);
    });
  });
});

describe('ownership index page order', () => {
  it('is built by the first request that reads pages, whichever it is, and the same as one built first', async () => {
    const reference = await model('cow-snapshots', 5, 6000);
    const want = ownershipIndexOf(reference);
    want.pageOrder();
    const { timeStart: a, timeEnd: z } = reference.result;
    const mid = want.pfns[Math.floor(want.pfns.length / 2)];
    const init = viewInit(reference);
    const firsts = [
      { kind: 'page', pfn: mid },
      { kind: 'nearest', time: (a + z) / 2, pfn0: mid - 100, pfn1: mid + 100 },
      { kind: 'map', t0: a, t1: z, nx: 7, y0: 0, y1: init.rows, ny: 5 },
    ] as const;
    for (const q of firsts) {
      const m = await model('cow-snapshots', 5, 6000);
      viewInit(m);
      const ix = ownershipIndexOf(m);
      expect([q.kind, ix.pageOrderBuilt]).toEqual([q.kind, false]);
      expect(answerViewRequest(m, q)).toEqual(answerViewRequest(reference, q));
      expect([q.kind, ix.pageOrderBuilt]).toEqual([q.kind, true]);
      for (const k of ['pageStart', 'permPos', 'permTime', 'permState'] as const) expect([k, Array.from(ix[k])]).toEqual([k, Array.from(want[k])]);
      expect(ix.stateAt(ix.rankOf(mid), (a + z) / 2)).toEqual(want.stateAt(want.rankOf(mid), (a + z) / 2));
    }
  });
});

describe('ownership index checkpoints', () => {
  /** Per-owner counts and pages seen after the first c changes, straight from the change log. */
  const fromLog = (ix: ReturnType<typeof ownershipIndexOf>, c: number): [number[], number] => {
    const counts = new Array<number>(ix.ownerCount).fill(0);
    let seen = 0;
    for (let k = 0; k < c; k++) {
      if (ix.prev[k] >= 0) counts[ix.prev[k]]--;
      else seen++;
      counts[ix.owner[k]]++;
    }
    return [counts, seen];
  };

  it('builds none for the first view and its whole-trace chart, then exactly the ones a window needs, in any order', async () => {
    const m = await model('cow-snapshots', 3, 40000);
    const init = viewInit(m);
    const ix = ownershipIndexOf(m);
    const total = Math.ceil(ix.changes / ix.checkpointEvery);
    expect(total).toBeGreaterThan(4);
    expect(ix.checkpointsBuilt).toBe(0);
    answerViewRequest(m, { kind: 'series', t0: m.result.timeStart, t1: m.result.timeEnd, n: 50, top: 8 });
    expect(ix.pageOrderBuilt).toBe(false);
    answerViewRequest(m, { kind: 'map', t0: m.result.timeStart, t1: m.result.timeEnd, nx: 20, y0: 0, y1: init.rows, ny: 10 });
    expect(ix.checkpointsBuilt).toBeLessThanOrEqual(1);
    expect(ix.pageOrderBuilt).toBe(true);
    // Asked out of order: a late one first, then earlier ones, the last, one past the end and the start.
    const every = ix.checkpointEvery;
    const asked = [3 * every + 17, every + 1, 2 * every, ix.changes, ix.changes - 1, (total - 1) * every, 0, 5, every - 1];
    const counts = new Int32Array(ix.ownerCount);
    let built = ix.checkpointsBuilt;
    for (const c of asked) {
      const seen = ix.countsAt(c, counts);
      expect([c, Array.from(counts), seen]).toEqual([c, ...fromLog(ix, c)]);
      expect(ix.checkpointsBuilt).toBeGreaterThanOrEqual(Math.min(total, Math.floor(c / every) + 1));
      expect(ix.checkpointsBuilt).toBeGreaterThanOrEqual(built);
      built = ix.checkpointsBuilt;
    }
    ix.buildCheckpoints();
    expect(ix.checkpointsBuilt).toBe(total);
    for (const c of [every * 2 + 5, ix.changes]) {
      const seen = ix.countsAt(c, counts);
      expect([c, Array.from(counts), seen]).toEqual([c, ...fromLog(ix, c)]);
    }
  });

  it('answers a zoomed series the same with the checkpoints built on demand as with all of them built first', async () => {
    const lazy = await model('cow-snapshots', 4, 40000);
    const eager = await model('cow-snapshots', 4, 40000);
    ownershipIndexOf(eager).buildCheckpoints();
    const { timeStart: a, timeEnd: z } = lazy.result;
    for (const [t0, t1] of [[a + (z - a) * 0.7, a + (z - a) * 0.8], [a + (z - a) * 0.2, a + (z - a) * 0.25], [a + (z - a) * 0.9, z]]) {
      const q = { kind: 'series', t0, t1, n: 30, top: 6 } as const;
      expect(answerViewRequest(lazy, q)).toEqual(answerViewRequest(eager, q));
    }
  });
});

describe('view requests', () => {
  it('returns anomaly markers in the window, spread when capped', async () => {
    const m = await model('cow-snapshots', 3, 3000);
    const timed = m.result.anomalies.filter((a) => a.time === a.time);
    const all = answerViewRequest(m, { kind: 'anomalies', t0: m.result.timeStart, t1: m.result.timeEnd, max: 10000 });
    if (all.kind !== 'anomalies') throw new Error(all.kind);
    expect(all.total).toBe(timed.length);
    expect(all.time.length).toBe(timed.length);
    expect(Array.from(all.time)).toEqual(timed.map((a) => a.time).sort((x, y) => x - y));
    const few = answerViewRequest(m, { kind: 'anomalies', t0: m.result.timeStart, t1: m.result.timeEnd, max: 3 });
    if (few.kind !== 'anomalies') throw new Error(few.kind);
    expect([few.total, few.time.length]).toEqual([timed.length, 3]);
  });

  it('finds owners by comm and pid, and a pfn by hex', async () => {
    const m = await model('numactlx-remap', 1, 2000);
    const init = viewInit(m);
    const hit = answerViewRequest(m, { kind: 'search', query: 'app', max: 50 });
    if (hit.kind !== 'search') throw new Error(hit.kind);
    expect(hit.owners.length).toBeGreaterThan(0);
    const labels = answerViewRequest(m, { kind: 'owners', ids: hit.owners });
    if (labels.kind !== 'owners') throw new Error(labels.kind);
    expect(Array.from(labels.ids)).toEqual(hit.owners);
    expect(labels.labels.every((l) => l.includes('app'))).toBe(true);
    const pfn = init.segments[1].start + 5;
    const byPfn = answerViewRequest(m, { kind: 'search', query: '0x' + pfn.toString(16), max: 5 });
    expect(byPfn).toMatchObject({ kind: 'search', row: init.segments[1].offset + 5, pfn });
  });

  it('carries the labels of the top owners by peak pages and the kind counts; any other label on request', async () => {
    const m = await model('cow-snapshots', 3, 20000);
    const init = viewInit(m);
    const table = m.builder.owners;
    const peak = (o: number): number => m.result.ownerPeak[o] ?? 0;
    const held = [...Array(table.size).keys()].filter((o) => o > 0 && peak(o) > 0).sort((x, y) => peak(y) - peak(x) || x - y);
    expect(held.length).toBeGreaterThan(INIT_OWNERS);
    expect(Array.from(init.topOwners)).toEqual(held.slice(0, INIT_OWNERS));
    expect(init.topLabels).toEqual(held.slice(0, INIT_OWNERS).map((o) => ownerLabel(table.get(o))));
    expect(init.kindCounts).toEqual(OWNER_KINDS.map((k) => held.filter((o) => table.get(o).kind === k).length));
    expect(init.ownerKinds.length).toBe(table.size);
    const ids = [...Array(table.size).keys()].reverse();
    const all = answerViewRequest(m, { kind: 'owners', ids });
    if (all.kind !== 'owners') throw new Error(all.kind);
    expect(Array.from(all.ids)).toEqual(ids);
    expect(all.labels).toEqual(ids.map((o) => (o === 0 ? 'free' : ownerLabel(table.get(o)))));
    for (const bad of [[-1], [table.size], [1.5], new Array<number>(MAX_OWNERS_ASKED + 1).fill(1)]) expect(answerViewRequest(m, { kind: 'owners', ids: bad }).kind).toBe('error');
  });

  it('describes the layout as segments laid end to end', async () => {
    const m = await model('dax-kmem-persistent', 1, 500);
    const init = viewInit(m);
    expect(init.segments.map((s) => [s.name, s.node, s.start, s.pages, s.offset])).toEqual([
      ['ram0', 0, 0x100000, 24576, 0],
      ['dax0.0', 1, 0x4000000, 131072, 24576],
    ]);
    expect(init.rows).toBe(24576 + 131072);
    expect(init.blocks.map((b) => [b.id, b.offline.length])).toEqual([[2048, 2], [2049, 2], [2050, 2], [2051, 2]]);
    expect(init.blocks[3].offline).toEqual([-Infinity, Infinity]);
  });

  it('counts the lines no parser could read, for the empty view to name', async () => {
    const bad = viewInit(await openText('pageledger-trace 1\nthis is not an event\nalloc t=5 pfn=zz\n', 'malformed.pltrace'));
    expect([bad.events, bad.unreadLines, bad.timeStart, bad.timeEnd]).toEqual([0, 2, 0, 0]);
    expect(viewInit(await model('cow-snapshots', 1, 200)).unreadLines).toBe(0);
  });

  it('rejects malformed requests with an error reply', async () => {
    const m = await model('cow-snapshots', 1, 200);
    expect(answerViewRequest(m, { kind: 'map', t0: 5, t1: 1, nx: 2, y0: 0, y1: 1, ny: 1 }).kind).toBe('error');
    expect(answerViewRequest(m, { kind: 'series', t0: 0, t1: 1, n: 0, top: 1 }).kind).toBe('error');
  });
});
