import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzeText, native } from '../helpers';

// The replay keeps its state in typed-array chunks; this test re-states the ownership rules as plainly as
// possible (a Map per page, strings for owners) and checks that both agree on random event streams.

type Op =
  | { op: 'alloc'; pfn: number; order: number; pid: number }
  | { op: 'free'; pfn: number; order: number }
  | { op: 'map' | 'write'; pid: number; pfn: number }
  | { op: 'snap'; pid: number; pfns: number[] }
  | { op: 'cow'; snap: number; pid: number; old: number; new: number }
  | { op: 'restore'; snap: number; pid: number }
  | { op: 'drop'; snap: number }
  | { op: 'exit'; pid: number }
  | { op: 'fork'; child: number };

/** Page offsets 0..23 from a base pfn; pid 0 means the kernel. */
const offset = fc.integer({ min: 0, max: 23 });
const pid = fc.integer({ min: 1, max: 3 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('alloc' as const), pfn: offset, order: fc.integer({ min: 0, max: 2 }), pid: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('free' as const), pfn: offset, order: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('map' as const), pid, pfn: offset }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('write' as const), pid, pfn: offset }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('snap' as const), pid, pfns: fc.array(offset, { minLength: 1, maxLength: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('cow' as const), snap: fc.nat(), pid, old: offset, new: offset }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('restore' as const), snap: fc.nat(), pid }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('drop' as const), snap: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('exit' as const), pid }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('fork' as const), child: pid }) },
);

type Found = [kind: string, line: number, pfn: string, related: number[]];

interface NaivePage {
  state: 'live' | 'free';
  owner: string | null;
  since: number;
  headOrder: number | null;
}

interface NaiveSnap {
  live: boolean;
  pid: number;
  pages: number[];
  reported: Set<number>;
}

/** The reference model: plain maps, one rule at a time, written from docs/anomalies.md. */
class Naive {
  readonly pages = new Map<number, NaivePage>();
  readonly refs = new Map<number, { snap: number; line: number }[]>();
  readonly snaps = new Map<number, NaiveSnap>();
  readonly exited = new Map<number, number>();
  readonly leakReported = new Set<number>();
  readonly live = new Map<string, number>();
  readonly peak = new Map<string, number>();
  readonly found: Found[] = [];
  livePages = 0;

  private hex = (n: number): string => '0x' + n.toString(16);

  private set(pfn: number, owner: string | null, state: 'live' | 'free', line: number): void {
    const old = this.pages.get(pfn);
    if (old?.owner) this.live.set(old.owner, this.live.get(old.owner)! - 1);
    if (old?.state === 'live') this.livePages--;
    this.pages.set(pfn, { state, owner, since: line, headOrder: old?.headOrder ?? null });
    if (owner) {
      const v = (this.live.get(owner) ?? 0) + 1;
      this.live.set(owner, v);
      this.peak.set(owner, Math.max(v, this.peak.get(owner) ?? 0));
    }
    if (state === 'live') this.livePages++;
  }

  private report(kind: string, line: number, pfn: number, related: number[]): void {
    this.found.push([kind, line, this.hex(pfn), related]);
  }

  private dangling(pfn: number, line: number): void {
    for (const r of this.refs.get(pfn) ?? []) {
      const s = this.snaps.get(r.snap)!;
      if (!s.live || s.reported.has(pfn)) continue;
      s.reported.add(pfn);
      this.report('snapshot-dangling', line, pfn, [r.line]);
    }
  }

  private snap(id: number, pid: number): NaiveSnap {
    let s = this.snaps.get(id);
    if (!s) this.snaps.set(id, (s = { live: true, pid, pages: [], reported: new Set() }));
    return s;
  }

  alloc(line: number, pfn: number, order: number, owner: string): void {
    let reported = false;
    for (let p = pfn; p < pfn + 2 ** order; p++) {
      const pg = this.pages.get(p);
      if (pg?.state === 'live' && !reported) {
        reported = true;
        this.report('double-alloc', line, p, [pg.since]);
      }
      this.set(p, owner, 'live', line);
      this.pages.get(p)!.headOrder = p === pfn ? order : null;
    }
  }

  free(line: number, pfn: number, order: number): void {
    const head = this.pages.get(pfn);
    if (head?.state === 'live' && head.headOrder !== null && head.headOrder !== order) {
      this.report('order-mismatch', line, pfn, [head.since]);
    } else {
      for (let p = pfn + 1; p < pfn + 2 ** order; p++) {
        const pg = this.pages.get(p);
        if (pg?.state === 'live' && pg.headOrder !== null) {
          this.report('order-mismatch', line, p, [pg.since]);
          break;
        }
      }
    }
    let reported = false;
    for (let p = pfn; p < pfn + 2 ** order; p++) {
      const pg = this.pages.get(p);
      if (pg?.state === 'free' && !reported) {
        reported = true;
        this.report('double-free', line, p, [pg.since]);
        continue;
      }
      this.dangling(p, line);
      this.set(p, null, 'free', line);
      this.pages.get(p)!.headOrder = null;
    }
  }

  access(line: number, kind: 'map' | 'write', pid: number, pfn: number): void {
    const me = 'p' + pid;
    const pg = this.pages.get(pfn);
    if (!pg) return this.set(pfn, me, 'live', line);
    if (pg.state === 'free') return this.report('use-after-free', line, pfn, [pg.since]);
    if (pg.owner !== me && pg.owner !== null && pg.owner !== 'k') return this.report('use-after-free', line, pfn, [pg.since]);
    if (kind === 'write' && pg.owner === me) {
      for (const r of this.refs.get(pfn) ?? []) {
        const s = this.snaps.get(r.snap)!;
        if (!s.live || s.reported.has(pfn)) continue;
        s.reported.add(pfn);
        this.report('cow-missed', line, pfn, [r.line]);
      }
    }
  }

  snapRef(line: number, id: number, pfn: number): void {
    const s = this.snap(id, 0);
    s.pages.push(pfn);
    const rs = this.refs.get(pfn) ?? [];
    rs.push({ snap: id, line });
    this.refs.set(pfn, rs);
    const pg = this.pages.get(pfn);
    if (!pg) this.set(pfn, 'p' + s.pid, 'live', line);
    else if (pg.state === 'free' && !s.reported.has(pfn)) {
      s.reported.add(pfn);
      this.report('snapshot-dangling', line, pfn, [pg.since]);
    }
  }

  cow(line: number, id: number, pid: number, old: number, np: number): void {
    this.snap(id, pid);
    const o = this.pages.get(old);
    if (!o || o.owner === 'p' + pid || o.state !== 'live') this.set(old, 's' + id, 'live', line);
    const n = this.pages.get(np);
    if (n?.state === 'live') this.report('double-alloc', line, np, [n.since]);
    this.set(np, 'p' + pid, 'live', line);
    this.pages.get(np)!.headOrder = 0;
  }

  restore(line: number, id: number, pid: number): void {
    for (const p of this.snap(id, pid).pages) if (this.pages.get(p)?.owner === 's' + id) this.set(p, 'p' + pid, 'live', line);
  }

  drop(line: number, id: number): void {
    const s = this.snap(id, 0);
    s.live = false;
    for (const p of s.pages) {
      const left = (this.refs.get(p) ?? []).filter((r) => r.snap !== id);
      if (left.length) this.refs.set(p, left);
      else this.refs.delete(p);
      const heir = left.find((r) => this.snaps.get(r.snap)!.live);
      if (this.pages.get(p)?.owner === 's' + id) this.set(p, heir ? 's' + heir.snap : null, heir ? 'live' : 'free', line);
    }
  }

  fork(child: number): void {
    if (this.exited.has(child)) this.leaks(child);
    this.exited.delete(child);
  }

  leaks(only?: number): void {
    const groups = new Map<number, { pfn: number; pid: number }>();
    for (const [pfn, pg] of this.pages) {
      if (pg.state !== 'live' || !pg.owner?.startsWith('p')) continue;
      const pid = Number(pg.owner.slice(1));
      if (!this.exited.has(pid) || (only !== undefined && pid !== only) || this.refs.has(pfn) || this.leakReported.has(pg.since)) continue;
      const g = groups.get(pg.since);
      if (!g) groups.set(pg.since, { pfn, pid });
      else g.pfn = Math.min(g.pfn, pfn);
    }
    for (const [line, g] of groups) {
      this.leakReported.add(line);
      this.report('leak', line, g.pfn, [this.exited.get(g.pid)!]);
    }
  }
}

/** Native lines for the ops (line k of the result is line k + 2 of the trace), run through the naive model. */
function render(ops: Op[], base: number): { lines: string[]; model: Naive } {
  const m = new Naive();
  const lines: string[] = [];
  let nextSnap = 1;
  const snapPid = new Map<number, number>();
  const hx = (o: number): string => '0x' + (base + o).toString(16);
  const emit = (s: string): number => {
    lines.push(`${lines.length + 1} ${s}`);
    return lines.length + 1;
  };
  const pickSnap = (k: number): number | undefined => (nextSnap > 1 ? 1 + (k % (nextSnap - 1)) : undefined);
  for (const o of ops) {
    switch (o.op) {
      case 'alloc':
        m.alloc(emit(`alloc pfn=${hx(o.pfn)} order=${o.order} ${o.pid ? `pid=${o.pid}` : 'owner=kernel'}`), base + o.pfn, o.order, o.pid ? 'p' + o.pid : 'k');
        break;
      case 'free':
        m.free(emit(`free pfn=${hx(o.pfn)} order=${o.order}`), base + o.pfn, o.order);
        break;
      case 'map':
      case 'write':
        m.access(emit(`${o.op} pid=${o.pid} vaddr=0x1000 pfn=${hx(o.pfn)}`), o.op, o.pid, base + o.pfn);
        break;
      case 'snap': {
        const id = nextSnap++;
        snapPid.set(id, o.pid);
        emit(`snapshot-begin snap=${id} pid=${o.pid}`);
        m.snaps.set(id, { live: true, pid: o.pid, pages: [], reported: new Set() });
        for (const p of o.pfns) m.snapRef(emit(`snapref snap=${id} pfn=${hx(p)}`), id, base + p);
        emit(`snapshot-end snap=${id}`);
        break;
      }
      case 'cow': {
        const id = pickSnap(o.snap);
        if (id === undefined) break;
        m.cow(emit(`cow snap=${id} pid=${o.pid} old=${hx(o.old)} new=${hx(o.new)}`), id, o.pid, base + o.old, base + o.new);
        break;
      }
      case 'restore': {
        const id = pickSnap(o.snap);
        if (id === undefined) break;
        m.restore(emit(`restore snap=${id} pid=${o.pid}`), id, o.pid);
        break;
      }
      case 'drop': {
        const id = pickSnap(o.snap);
        if (id === undefined) break;
        m.drop(emit(`snapshot-drop snap=${id}`), id);
        break;
      }
      case 'exit':
        m.exited.set(o.pid, emit(`exit pid=${o.pid}`));
        break;
      case 'fork':
        emit(`fork pid=1 child=${o.child}`);
        m.fork(o.child);
        break;
    }
  }
  m.leaks();
  return { lines, model: m };
}

const byLine = (a: Found, b: Found): number => a[1] - b[1] || a[0].localeCompare(b[0]) || a[2].localeCompare(b[2]) || a[3].join().localeCompare(b[3].join());

describe('replay against a naive reference model', () => {
  it('agrees on anomalies, live pages and per-owner live/peak counts', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 60 }), fc.constantFrom(0x10, 0x7ffffff0, 2 ** 40 - 8), async (ops, base) => {
        const { lines, model } = render(ops, base);
        const s = await analyzeText(native(...lines));
        const got: Found[] = s.anomalies.map((a) => [a.kind, a.line, a.pfn ?? '', a.related]);
        expect(got.sort(byLine)).toEqual(model.found.sort(byLine));
        expect(s.livePages).toBe(model.livePages);
        const owners = new Map<string, [number, number]>();
        for (const o of s.owners) owners.set(o.kind === 'kernel' ? 'k' : o.kind === 'process' ? 'p' + o.pid : 's' + o.snap, [o.livePages, o.peakPages]);
        const expected = new Map<string, [number, number]>();
        for (const [k, peak] of model.peak) if (peak > 0) expected.set(k, [model.live.get(k)!, peak]);
        expect(owners).toEqual(expected);
      }),
      { numRuns: 400, seed: 20261126 },
    );
  });
});
