import { EventKind, newEventRecord } from '../model/events';
import type { TraceModel } from '../trace';
import { FREED, HELD, PageSetBuilder, type PageSet } from './pageSet';

const UNSEEN = 0;
const LIVE = 1;
const FREE = 2;
const CHUNK_BITS = 12;
const CHUNK = 1 << CHUNK_BITS;

/** Per-page columns of one 4096-page chunk of the ownership state. */
class StateChunk {
  readonly owner = new Int32Array(CHUNK);
  readonly state = new Uint8Array(CHUNK);
  readonly vaddr = new Float64Array(CHUNK).fill(NaN);
  readonly node = new Int16Array(CHUNK).fill(-1);
  /** Event that gave the page its current owner or freed it. */
  readonly since = new Int32Array(CHUNK).fill(-1);
  /** References from live snapshots. */
  readonly refs = new Uint16Array(CHUNK);
  constructor(readonly base: number) {}
}

interface SnapState {
  pid: number;
  live: boolean;
  pfns: number[];
  vaddrs: number[];
}

/**
 * The ownership of every page seen, as it stands after every event up to a time. The same transitions as
 * the analysis pass (replay.ts), without the rules, so a state can be had at any moment of the trace.
 */
export class OwnershipState {
  private readonly chunks = new Map<number, StateChunk>();
  /** Pids that had exited by then (and were not reborn by a later fork). */
  readonly exited = new Set<number>();
  /** Time the state was taken at (ns; Infinity for the end). */
  constructor(readonly model: TraceModel, readonly time: number) {}

  /** @internal The chunk holding pfn, created on first use. */
  chunk(pfn: number): StateChunk {
    const key = Math.floor(pfn / CHUNK);
    let c = this.chunks.get(key);
    if (!c) {
      c = new StateChunk(key * CHUNK);
      this.chunks.set(key, c);
    }
    return c;
  }

  /** Owner id (model owner table) of pfn, 0 when free or never seen. */
  ownerOf(pfn: number): number {
    const c = this.chunks.get(Math.floor(pfn / CHUNK));
    return c ? c.owner[pfn % CHUNK] : 0;
  }

  /**
   * The state as a diff side. With a scope, only pages whose owner is (or is a snapshot of) `pid`, and
   * the pages at `pfns` (free or not), so a process snapshot is compared with that process only.
   */
  toPageSet(scope?: { pid?: number; pfns?: ArrayLike<number> }): PageSet {
    const b = this.model.builder;
    const owners = b.owners;
    const set = new PageSetBuilder(1024);
    const free = set.ownerOf('free', 'free');
    const local = new Int32Array(owners.size).fill(-1);
    const wanted = scope?.pfns ? new Set<number>(Array.from(scope.pfns)) : null;
    const pid = scope?.pid;
    const layout = b.layout;
    const ev = b.events;
    const keys = [...this.chunks.keys()].sort((x, y) => x - y);
    for (const k of keys) {
      const c = this.chunks.get(k)!;
      for (let s = 0; s < CHUNK; s++) {
        const st = c.state[s];
        if (st === UNSEEN) continue;
        const pfn = c.base + s;
        const o = c.owner[s];
        if (scope) {
          const inScope = (pid !== undefined && o !== 0 && owners.pidOf(o) === pid) || (wanted !== null && wanted.has(pfn));
          if (!inScope) continue;
        }
        const since = c.since[s];
        const file = since >= 0 ? ev.file.get(since) : 0;
        const line = since >= 0 ? ev.line.get(since) : 0;
        const node = c.node[s] >= 0 ? c.node[s] : (layout.regionOf(pfn)?.node ?? -1);
        if (st === FREE || o === 0) {
          set.add(pfn, c.vaddr[s], free, node, file, line, NaN, 255, 0, 0, FREED);
          continue;
        }
        if (local[o] < 0) local[o] = set.owner(owners.get(o));
        const isProcess = owners.kindOf(o) === 'process';
        const shared = isProcess && c.refs[s] > 0 ? 1 : 0;
        const exited = isProcess && c.refs[s] === 0 && this.exited.has(owners.pidOf(o)!) ? 1 : 0;
        set.add(pfn, c.vaddr[s], local[o], node, file, line, NaN, 255, shared, exited, HELD);
      }
    }
    const when = this.time === Infinity ? 'end' : `${this.time} ns`;
    const who = pid !== undefined ? `pid ${pid} ` : '';
    return set.finish(`${who}at ${when}`, b.files.map((f) => f.path), true);
  }
}

/** Replay the events of a model up to time `t` (inclusive; Infinity for the end) and return the ownership state then. */
export function ownershipAt(m: TraceModel, t: number): OwnershipState {
  const b = m.builder;
  const ev = b.events;
  const owners = b.owners;
  const state = new OwnershipState(m, t);
  const snaps = new Map<number, SnapState>();
  const e = newEventRecord();
  const order = m.result.order;
  const setPage = (pfn: number, owner: number, st: number, i: number, node: number, vaddr: number): void => {
    const c = state.chunk(pfn);
    const s = pfn % CHUNK;
    c.owner[s] = owner;
    c.state[s] = st;
    c.since[s] = i;
    c.node[s] = node;
    c.vaddr[s] = vaddr;
  };
  const snap = (id: number, pid: number): SnapState => {
    let s = snaps.get(id);
    if (!s) snaps.set(id, (s = { pid, live: true, pfns: [], vaddrs: [] }));
    if (!s.pid && pid) s.pid = pid;
    return s;
  };
  for (let k = 0; k < ev.length; k++) {
    const i = order ? order[k] : k;
    ev.read(i, e);
    // Events without a time sit where the stable time order put them: they belong to the moment before.
    if (e.time > t) break;
    const n = 2 ** e.order;
    switch (e.kind) {
      case EventKind.Alloc:
      case EventKind.Record:
      case EventKind.FsAlloc:
      case EventKind.CacheAdd:
        for (let p = 0; p < n; p++) setPage(e.pfn + p, e.owner, LIVE, i, e.node, NaN);
        break;
      case EventKind.Free:
      case EventKind.FsFree:
        for (let p = 0; p < n; p++) {
          const c = state.chunk(e.pfn + p);
          // A second free leaves the first one as the line to show.
          if (c.state[(e.pfn + p) % CHUNK] !== FREE) setPage(e.pfn + p, 0, FREE, i, -1, NaN);
        }
        break;
      case EventKind.Fault:
        setPage(e.pfn, e.owner, LIVE, i, e.node, e.arg);
        break;
      case EventKind.Map:
      case EventKind.Write: {
        const c = state.chunk(e.pfn);
        const s = e.pfn % CHUNK;
        if (c.state[s] === UNSEEN) setPage(e.pfn, e.owner, LIVE, i, e.node, e.kind === EventKind.Map ? e.arg : NaN);
        else if (e.kind === EventKind.Map && c.owner[s] === e.owner && c.state[s] === LIVE) c.vaddr[s] = e.arg;
        break;
      }
      case EventKind.SnapBegin:
        snap(e.ref, e.pid);
        break;
      case EventKind.SnapRef: {
        const sn = snap(e.ref, e.pid);
        for (let p = 0; p < n; p++) {
          const pfn = e.pfn + p;
          const va = e.arg === e.arg ? e.arg + p * 4096 : NaN;
          sn.pfns.push(pfn);
          sn.vaddrs.push(va);
          const c = state.chunk(pfn);
          const s = pfn % CHUNK;
          if (sn.live) c.refs[s]++;
          if (c.state[s] === UNSEEN) {
            const proc = sn.pid ? owners.findProcess(sn.pid) : undefined;
            setPage(pfn, proc ?? e.owner, LIVE, i, e.node, va);
          }
        }
        break;
      }
      case EventKind.Cow: {
        snap(e.ref, e.pid);
        const old = state.chunk(e.pfn);
        const os = e.pfn % CHUNK;
        const snapOwner = owners.findSnapshot(e.ref) ?? 0;
        if (old.owner[os] === e.owner || old.state[os] !== LIVE) {
          setPage(e.pfn, snapOwner, LIVE, i, old.node[os], old.vaddr[os] === old.vaddr[os] ? old.vaddr[os] : e.arg2);
        }
        setPage(e.arg, e.owner, LIVE, i, -1, e.arg2);
        break;
      }
      case EventKind.Restore: {
        const sn = snap(e.ref, e.pid);
        const snapOwner = owners.findSnapshot(e.ref) ?? -1;
        for (let q = 0; q < sn.pfns.length; q++) {
          const pfn = sn.pfns[q];
          const c = state.chunk(pfn);
          const s = pfn % CHUNK;
          if (c.owner[s] === snapOwner) setPage(pfn, e.owner, LIVE, i, c.node[s], sn.vaddrs[q]);
        }
        break;
      }
      case EventKind.SnapDrop: {
        const sn = snap(e.ref, e.pid);
        const snapOwner = owners.findSnapshot(e.ref) ?? -1;
        for (const pfn of sn.pfns) {
          const c = state.chunk(pfn);
          const s = pfn % CHUNK;
          if (sn.live && c.refs[s] > 0) c.refs[s]--;
          if (c.owner[s] === snapOwner) setPage(pfn, 0, FREE, i, -1, NaN);
        }
        sn.live = false;
        break;
      }
      case EventKind.Migrate:
        for (let p = 0; p < n; p++) {
          const from = state.chunk(e.pfn + p);
          const fs = (e.pfn + p) % CHUNK;
          const owner = from.owner[fs];
          const vaddr = from.vaddr[fs];
          setPage(e.pfn + p, 0, FREE, i, -1, NaN);
          setPage(e.arg + p, owner, owner === 0 ? FREE : LIVE, i, e.node, vaddr);
        }
        break;
      case EventKind.Exit:
        state.exited.add(e.pid);
        break;
      case EventKind.Fork:
        state.exited.delete(e.ref);
        break;
    }
  }
  return state;
}
