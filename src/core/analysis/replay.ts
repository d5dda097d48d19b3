import { EventKind, EVENT_NAMES, newEventRecord, type EventRecord } from '../model/events';
import { isExclusiveKind, ownerLabel, type OwnerKind } from '../model/owners';
import type { TraceBuilder } from '../model/traceBuilder';
import { ChunkGroups } from '../model/eventStore';
import { RULES, type Anomaly, type AnomalyKind, type Location, type RuleConfig, type Severity } from './anomalies';
import type { Region } from '../model/addressSpace';
import { FREE, LIVE, PAGE_CHUNK_MASK, PageMarks, PageTable, slotOf, UNKNOWN, type PageChunk } from './pageTable';
import { SnapStates, type SnapshotStats } from './snapStates';

export type { SnapshotStats } from './snapStates';

const PAGE_SIZE = PAGE_CHUNK_MASK + 1;

/** Fields of an event (besides kind, order and time) its handler in the replay reads. */
const F = { pfn: 1, owner: 2, pid: 4, node: 8, ref: 16, arg: 32, arg2: 64 } as const;
const ALL = 127;
/**
 * By kind: what Replay.step reads before the event is applied. The frequent kinds read only what their
 * handler uses (free: pfn; alloc: pfn, owner, node for the placement rule); the others read everything.
 */
const NEEDS: Uint8Array = (() => {
  const n = new Uint8Array(EVENT_NAMES.length).fill(ALL);
  n[EventKind.Alloc] = F.pfn | F.owner | F.node;
  n[EventKind.Free] = F.pfn;
  // A dump record: its pages (pfn), owner, snapshot (ref), placement (node), and a summary's page count
  // (arg); not pid or arg2, two of the ten reads out of order a page_owner record costs.
  n[EventKind.Record] = F.pfn | F.owner | F.node | F.ref | F.arg;
  n[EventKind.FsFree] = F.pfn;
  n[EventKind.Map] = F.pfn | F.owner | F.pid;
  n[EventKind.Write] = F.pfn | F.owner | F.pid;
  n[EventKind.Unmap] = 0;
  return n;
})();

/**
 * Slices of the time order a replay without an observer reads (EventStore.orderSlices): a pass over the
 * times each (about 10 ms for 2.5 M events) for 2 bytes an event at hand instead of 4.
 */
const ORDER_SLICES = 8;
/** Replay.order when run() read the order in slices: the result makes it when asked. */
const LAZY = Symbol('lazy order');

/** The result's `order`, made from the store on first read (and kept). */
function lazyOrder(result: ReplayResult, b: TraceBuilder): void {
  let order: Uint32Array | null | undefined;
  Object.defineProperty(result, 'order', {
    enumerable: true,
    configurable: true,
    get(): Uint32Array | null {
      if (order === undefined) order = b.events.order();
      return order;
    },
    set(o: Uint32Array | null) {
      order = o;
    },
  });
}

/** Events stepBlocks reads a column for at a time: ten columns of 4096 values take 270 KB. */
const GATHER_BLOCK = 4096;

/** One block of events' columns, read out of store order. */
interface Gathered {
  kind: Uint8Array;
  order: Uint8Array;
  time: Float64Array;
  pfn: Float64Array;
  owner: Float64Array;
  pid: Float64Array;
  node: Float64Array;
  ref: Float64Array;
  arg: Float64Array;
  arg2: Float64Array;
}

function newGathered(): Gathered {
  const f = () => new Float64Array(GATHER_BLOCK);
  return { kind: new Uint8Array(GATHER_BLOCK), order: new Uint8Array(GATHER_BLOCK), time: f(), pfn: f(), owner: f(), pid: f(), node: f(), ref: f(), arg: f(), arg2: f() };
}

/** What one pass over the events in time order produces. */
export interface ReplayResult {
  anomalies: Anomaly[];
  /** Events by kind name. */
  counts: Record<string, number>;
  /** Pages live (allocated in the trace and still owned) at the end. */
  livePages: number;
  /** Pages per owner id at the end and at the peak. */
  ownerLive: Float64Array;
  ownerPeak: Float64Array;
  snapshots: ReadonlyMap<number, SnapshotStats>;
  /** Time of the first and last timed event (ns). */
  timeStart: number;
  timeEnd: number;
  /** Event indices in time order (null: store order is time order). */
  order: Uint32Array | null;
  pages: PageTable;
  /** Pages referenced by each snapshot, in reference order. */
  snapshotPages: ReadonlyMap<number, number[]>;
}

/**
 * Sees the replay as it happens: the view index (src/core/analysis/ownershipIndex.ts) records every page
 * change through it, so ownership at any time can be rebuilt without a second copy of the rules.
 */
export interface ReplayObserver {
  /**
   * Called before event i (store index) is applied. `e` holds its kind, order and time and the fields the
   * replay reads for its kind (NEEDS): all of them but for alloc, free, fsfree, map, write, unmap and dump
   * records, whose other fields are left from an earlier event.
   */
  event(i: number, e: EventRecord): void;
  /** Page pfn now has `owner` (0 = none) in `state` (LIVE or FREE), set by event ev. */
  page(pfn: number, owner: number, state: number, ev: number): void;
}

// Regions whose pages a DAX user maps straight from the device: they never pass through the page
// allocator, so the hot-plug state of the memory blocks over them says nothing about such users.
const DEVICE_MAPPED: ReadonlySet<string> = new Set(['devdax', 'fsdax']);




/**
 * The ownership pass: visits every event in time order, keeps the state of each page, counts pages per
 * owner, and applies the anomaly rules as it goes (one pass, no second read of the trace).
 */
export class Replay {
  private readonly pages = new PageTable();
  private readonly b: TraceBuilder;
  private readonly e: EventRecord = newEventRecord();
  private ownerLive: Float64Array;
  private ownerPeak: Float64Array;
  private readonly anomalies: Anomaly[] = [];
  /**
   * Snapshot references of pages, as linked lists in typed arrays (a page's first and last node sit in its
   * PageChunk): the snapshot (index in snapList), the SnapRef event and the next node of the page (-1
   * none). Unused nodes are chained from refFree. Before, a Map of arrays of objects, asked per freed
   * page whether it was referenced.
   */
  private refSnap: Int32Array = new Int32Array(1024);
  private refEv: Int32Array = new Int32Array(1024);
  private refNext: Int32Array = new Int32Array(1024);
  private refUsed = 0;
  private refFree = -1;
  private readonly snaps: SnapStates;
  private readonly bound = new Map<number, number>();
  private readonly exited = new Map<number, number>();
  /** Events whose leaked pages were reported already (a reused pid is judged at its reuse). */
  private readonly leakReported = new Set<number>();
  private readonly blockState = new Map<number, 'online' | 'offline'>();
  private readonly disabled: Set<AnomalyKind>;
  /** Rules asked about on every placed event, looked up once. */
  private readonly membindOn: boolean;
  private readonly offlineOn: boolean;
  /** Regions a fault with a device offset can be serviced from, and the region count they were taken at. */
  private daxRegions: Region[] = [];
  private daxSeen = -1;
  private readonly severity: Partial<Record<AnomalyKind, Severity>>;
  private livePages = 0;
  private cur = 0;
  /** Events by kind (a kind is one byte). */
  private readonly counts = new Float64Array(256);
  /** Events applied so far (store indices below this one, or all of `order` once run). */
  private applied = 0;
  private order: Uint32Array | null | undefined | typeof LAZY;
  private finished = false;
  private t0 = Infinity;
  private t1 = -Infinity;
  /** Memory blocks of the layout taken into blockState so far. */
  private blocksSeen = 0;
  /** Columns of a block of events (stepBlocks), made on first use. */
  private gathered: Gathered | null = null;
  /** A block's events grouped by store chunk, for the columns stepBlocks gathers (CompactColumn.gather). */
  private readonly groups = new ChunkGroups();
  /** What PageTable.touch read, kept so that its loads are not dropped as unused. */
  private touched = 0;

  constructor(builder: TraceBuilder, config: RuleConfig = {}, private readonly observer?: ReplayObserver) {
    this.b = builder;
    this.snaps = new SnapStates(builder.snapshots.length);
    this.ownerLive = new Float64Array(builder.owners.size + 16);
    this.ownerPeak = new Float64Array(builder.owners.size + 16);
    this.disabled = new Set(config.disabled ?? []);
    this.membindOn = !this.disabled.has('membind-violation');
    this.offlineOn = !this.disabled.has('offline-block');
    this.severity = config.severity ?? {};
  }

  /** Every event in time order, then the result. */
  run(): ReplayResult {
    const ev = this.b.events;
    // Without an observer nothing needs the time order during the replay but the replay itself, which
    // reads it once: a slice at a time, and the result's order is made if it is asked for (the index,
    // the views). page_owner-1: 10 MB less beside the page table.
    const slices = this.observer === undefined ? ev.orderSlices(Math.ceil(ev.length / ORDER_SLICES)) : null;
    if (slices !== null) {
      this.reserveRecordPages([]);
      this.sync();
      let k = 0;
      for (let s = slices.take(); s !== null; s = slices.take()) {
        this.stepBlocks(s, 0, s.length);
        k += s.length;
      }
      this.applied = k;
      this.order = LAZY;
      return this.finish();
    }
    // The sort's scratch, dead once it returns, becomes the page table's reserved chunks.
    const spare: ArrayBuffer[] = [];
    const order = ev.order(spare);
    this.reserveRecordPages(spare);
    if (order === null) {
      this.advance(ev.length);
      return this.finish();
    }
    this.sync();
    const n = ev.length;
    this.stepBlocks(order, 0, n);
    this.applied = n;
    this.order = order;
    return this.finish();
  }

  /**
   * Before a replay of the whole trace: mark the pages the dump records (Record events) cover, for the
   * page table to make their chunks in the held form, with slots for those pages only (PageTable.reserve).
   * A dump is one snapshot of the pages held, so it names most pages a replay of it visits. Only a
   * page_owner file has records: a trace without one is not scanned (a look at each event's kind was 22 ms
   * of the replay of ftrace kmem-1, 7.9 M events).
   */
  private reserveRecordPages(spare: ArrayBuffer[]): void {
    if (!this.b.files.some((f) => f.format === 'page_owner')) return;
    const ev = this.b.events;
    // The store's raw last chunk and kept arrays become reserved chunks too. Only here, where they are
    // used: elsewhere they stay alive until a collection, and the packed tail came on top of them (native-1:
    // 1.5 MB more at the peak).
    ev.compact(spare);
    const n = ev.length;
    const kinds = ev.kind.chunks;
    let marks: PageMarks | null = null;
    let pfns: Float64Array | null = null;
    for (let c = 0, k0 = 0; c < kinds.length && k0 < n; c++, k0 += kinds[c - 1].length) {
      const kc = kinds[c];
      const m = Math.min(kc.length, n - k0);
      for (let j0 = 0; j0 < m; j0 += GATHER_BLOCK) {
        const j1 = Math.min(m, j0 + GATHER_BLOCK);
        let j = j0;
        while (j < j1 && kc[j] !== EventKind.Record) j++;
        if (j === j1) continue;
        pfns ??= new Float64Array(GATHER_BLOCK);
        ev.pfn.range(k0 + j0, k0 + j1, pfns);
        for (; j < j1; j++) {
          if (kc[j] !== EventKind.Record) continue;
          const p = pfns[j - j0];
          if (p === p) (marks ??= new PageMarks()).add(p, pagesOf(ev.orderCol.get(k0 + j)));
        }
      }
    }
    if (marks !== null) this.pages.reserve(marks, spare);
  }

  /**
   * Apply events [applied, upTo) in store order. The caller guarantees store order is time order so far
   * (`events.sorted`); if it stops being so, this replay is void and `run()` of a new one is the answer.
   * The owner table and the layout may grow between calls (a parse still going on).
   */
  advance(upTo: number): void {
    this.sync();
    const n = Math.min(upTo, this.b.events.length);
    if (n > this.applied) this.stepBlocks(null, this.applied, n);
    if (n > this.applied) this.applied = n;
  }

  /** After the last advance: leaks, parse errors as anomalies, sorting, the result. Same result as run(). */
  finish(): ReplayResult {
    if (this.finished) throw new Error('Replay.finish called twice');
    this.finished = true;
    this.sync();
    const order = this.order === undefined ? this.b.events.order() : this.order;
    this.leaks();
    for (const err of this.b.errors) {
      this.report('parse-error', err.file, err.line, NaN, NaN, err.message, []);
    }
    this.anomalies.sort((a, b) => a.file - b.file || a.line - b.line);
    const counts: Record<string, number> = {};
    for (let k = 0; k < this.counts.length; k++) if (this.counts[k]) counts[EVENT_NAMES[k]] = this.counts[k];
    for (const [name, v] of this.b.counters) counts[name] = (counts[name] ?? 0) + v;
    const snaps = this.snaps.results((pfn) => {
      const c = this.pages.peek(pfn);
      return c !== undefined && c !== null && c.owner(slotOf(pfn)) !== 0 && this.kindOf(c.owner(slotOf(pfn))) === 'process';
    });
    // One slot per owner: the arrays grew by doubling while events were applied.
    const owners = this.b.owners.size;
    const result: ReplayResult = {
      anomalies: this.anomalies,
      counts,
      livePages: this.livePages,
      ownerLive: fit(this.ownerLive, owners),
      ownerPeak: fit(this.ownerPeak, owners),
      snapshots: snaps.stats,
      timeStart: this.t0 === Infinity ? 0 : this.t0,
      timeEnd: this.t1 === -Infinity ? 0 : this.t1,
      order: order === LAZY ? null : order,
      pages: this.pages,
      snapshotPages: snaps.pages,
    };
    if (order === LAZY) lazyOrder(result, this.b);
    return result;
  }

  /** Take in what the parse added since the last call: memory blocks. */
  private sync(): void {
    const blocks = this.b.layout.blocks;
    // A block listed after events were applied does not undo an online/offline event seen for it.
    for (let k = this.blocksSeen; k < blocks.length; k++) {
      const blk = blocks[k];
      if (this.applied === 0 || !this.blockState.has(blk.id)) this.blockState.set(blk.id, blk.state);
    }
    this.blocksSeen = blocks.length;
  }

  /**
   * step() over the events order[from, to) (store indices from..to when order is null), each column read
   * for a block of events at a time (only the columns the block's kinds need). Events out of store order
   * (a page_owner dump is in frame order, the replay in time order) cost a cache miss per column read;
   * read one column at a time they overlap. Before a block is applied, the page slot of each event's pfn
   * is read once in a tight loop (PageTable.touch): the loads do not wait on each other there, so their
   * cache misses overlap, where in apply() each one stalls the event behind it.
   */
  private stepBlocks(order: Uint32Array | null, from: number, to: number): void {
    const ev = this.b.events;
    const g = this.gathered ?? (this.gathered = newGathered());
    for (let k0 = from; k0 < to; k0 += GATHER_BLOCK) {
      const k1 = Math.min(to, k0 + GATHER_BLOCK);
      const m = k1 - k0;
      if (order !== null) ev.kind.gather(order, k0, k1, g.kind);
      else ev.kind.range(k0, k1, g.kind);
      let need = 0;
      for (let k = 0; k < m; k++) {
        const kind = g.kind[k];
        need |= kind < NEEDS.length ? NEEDS[kind] : ALL;
      }
      if (order !== null) {
        ev.orderCol.gather(order, k0, k1, g.order);
        // The block's events grouped by store chunk once, for every column read below.
        const grp = this.groups;
        grp.group(order, k0, k1, ev.time.chunkCount);
        ev.time.gather(order, k0, k1, g.time, grp);
        if (need & F.pfn) ev.pfn.gather(order, k0, k1, g.pfn, grp);
        if (need & F.owner) ev.owner.gather(order, k0, k1, g.owner, grp);
        if (need & F.pid) ev.pid.gather(order, k0, k1, g.pid, grp);
        if (need & F.node) ev.node.gather(order, k0, k1, g.node, grp);
        if (need & F.ref) ev.ref.gather(order, k0, k1, g.ref, grp);
        if (need & F.arg) ev.arg.gather(order, k0, k1, g.arg, grp);
        if (need & F.arg2) ev.arg2.gather(order, k0, k1, g.arg2, grp);
      } else {
        ev.orderCol.range(k0, k1, g.order);
        ev.time.range(k0, k1, g.time);
        if (need & F.pfn) ev.pfn.range(k0, k1, g.pfn);
        if (need & F.owner) ev.owner.range(k0, k1, g.owner);
        if (need & F.pid) ev.pid.range(k0, k1, g.pid);
        if (need & F.node) ev.node.range(k0, k1, g.node);
        if (need & F.ref) ev.ref.range(k0, k1, g.ref);
        if (need & F.arg) ev.arg.range(k0, k1, g.arg);
        if (need & F.arg2) ev.arg2.range(k0, k1, g.arg2);
      }
      if (need & F.pfn) this.touched ^= this.pages.touch(g.pfn, m);
      const e = this.e;
      for (let k = 0; k < m; k++) {
        // The fields step() reads for this kind, as it would read them.
        const kind = (e.kind = g.kind[k] as EventKind);
        e.order = g.order[k];
        e.time = g.time[k];
        const nd = kind < NEEDS.length ? NEEDS[kind] : ALL;
        if (nd & F.pfn) e.pfn = g.pfn[k];
        if (nd & F.owner) e.owner = g.owner[k];
        if (nd & F.pid) e.pid = g.pid[k];
        if (nd & F.node) e.node = g.node[k];
        if (nd & F.ref) e.ref = g.ref[k];
        if (nd & F.arg) e.arg = g.arg[k];
        if (nd & F.arg2) e.arg2 = g.arg2[k];
        this.stepRead(order !== null ? order[k0 + k] : k0 + k);
      }
    }
  }

  /** Apply event i (store index) once its fields are in this.e. */
  private stepRead(i: number): void {
    const e = this.e;
    this.cur = i;
    this.observer?.event(i, e);
    if (e.kind !== EventKind.Record) this.counts[e.kind]++;
    if (e.time === e.time) {
      if (e.time < this.t0) this.t0 = e.time;
      if (e.time > this.t1) this.t1 = e.time;
    }
    this.apply(e, i);
  }

  private apply(e: EventRecord, i: number): void {
    switch (e.kind) {
      case EventKind.Alloc:
      case EventKind.Record:
        return this.alloc(e, i);
      case EventKind.Free:
      case EventKind.FsFree:
        return this.free(e, i);
      case EventKind.FsAlloc:
        return this.fsAlloc(e, i);
      case EventKind.Fault:
        return this.fault(e, i);
      case EventKind.Map:
      case EventKind.Write:
        return this.access(e, i);
      case EventKind.CacheAdd:
        return this.transfer(e.pfn, 1 << e.order, e.owner, i);
      case EventKind.SnapBegin:
        this.snap(e.ref, e.pid, i);
        return;
      case EventKind.SnapRef:
        return this.snapRef(e, i);
      case EventKind.SnapEnd:
        this.snaps.end[this.snap(e.ref, e.pid, i)] = i;
        return;
      case EventKind.Cow:
        return this.cow(e, i);
      case EventKind.Restore:
        return this.restore(e, i);
      case EventKind.SnapDrop:
        return this.drop(e, i);
      case EventKind.Migrate:
        return this.migrate(e, i);
      case EventKind.Bind:
        this.bound.set(e.pid, e.node);
        return;
      case EventKind.Fork: {
        const node = this.bound.get(e.pid);
        if (node !== undefined) this.bound.set(e.ref, node);
        // A reused pid: what the previous process of that pid left behind is judged now, before the new one
        // can free it.
        if (this.exited.has(e.ref)) this.leaks(e.ref);
        this.exited.delete(e.ref);
        return;
      }
      case EventKind.Exit:
        this.exited.set(e.pid, i);
        return;
      case EventKind.Online:
        this.blockState.set(e.ref, 'online');
        return;
      case EventKind.Offline:
        this.blockState.set(e.ref, 'offline');
        return;
    }
  }

  // ---- ownership bookkeeping

  private grow(owner: number): void {
    if (owner < this.ownerLive.length) return;
    const n = Math.max(owner + 1, this.ownerLive.length * 2);
    const live = new Float64Array(n);
    live.set(this.ownerLive);
    const peak = new Float64Array(n);
    peak.set(this.ownerPeak);
    this.ownerLive = live;
    this.ownerPeak = peak;
  }

  /** Give one page to `owner` (0 = free). */
  private setPage(c: PageChunk, s: number, owner: number, state: number, ev: number): void {
    this.setPageAt(c, c.slotFor(s), s, owner, state, ev);
  }

  /** setPage of page slot s, whose fields are at k (c.slotFor(s)). */
  private setPageAt(c: PageChunk, k: number, s: number, owner: number, state: number, ev: number): void {
    const prev = c.ownerAt(k);
    if (prev !== 0) this.ownerLive[prev]--;
    if (c.stateAt(k) === LIVE) this.livePages--;
    c.setAt(k, owner, state, ev);
    this.observer?.page(c.base + s, owner, state, ev);
    if (owner !== 0) {
      if (owner >= this.ownerLive.length) this.grow(owner);
      const v = ++this.ownerLive[owner];
      if (v > this.ownerPeak[owner]) this.ownerPeak[owner] = v;
    }
    if (state === LIVE) this.livePages++;
  }

  /**
   * Give the n pages of the block at slot k of chunk c (page slots s to s + n - 1) to `owner`, live, with
   * head order `order`: what setPageAt and setHeadAt of each page in turn do, the pages sharing their
   * fields (so each page's previous owner and state are the block's).
   */
  private setBlockAt(c: PageChunk, k: number, s: number, n: number, owner: number, order: number, ev: number): void {
    const prev = c.ownerAt(k);
    if (prev !== 0) this.ownerLive[prev] -= n;
    if (c.stateAt(k) === LIVE) this.livePages -= n;
    c.setAt(k, owner, LIVE, ev);
    c.setHeadAt(k, order);
    if (this.observer) for (let q = 0; q < n; q++) this.observer.page(c.base + s + q, owner, LIVE, ev);
    if (owner !== 0) {
      if (owner >= this.ownerLive.length) this.grow(owner);
      // Page by page the count rises to this, its highest (or, when prev is owner, falls back to where it was).
      const v = (this.ownerLive[owner] += n);
      if (v > this.ownerPeak[owner]) this.ownerPeak[owner] = v;
    }
    this.livePages += n;
  }

  private transfer(pfn: number, n: number, owner: number, ev: number): void {
    for (let p = pfn; p < pfn + n; p++) {
      const c = this.pages.chunk(p);
      const s = slotOf(p);
      this.setPage(c, s, owner, LIVE, ev);
    }
  }

  private kindOf(owner: number): OwnerKind {
    return owner < this.b.owners.size ? this.b.owners.kindOf(owner) : 'free';
  }

  // ---- event handlers

  private alloc(e: EventRecord, i: number): void {
    if (e.kind === EventKind.Record && e.pfn !== e.pfn) return this.unplaced(e.owner, e.arg);
    const n = pagesOf(e.order);
    // A dump's records are its snapshot's pages (held by their owners, not referenced by the snapshot).
    if (e.kind === EventKind.Record && e.ref) this.snaps.records[this.snap(e.ref, 0, i)] += n;
    let reported = false;
    this.checkPlacement(e);
    if (n > 1 && e.kind === EventKind.Record) return this.recordBlock(e, n, i);
    for (let p = e.pfn; p < e.pfn + n; p++) {
      const c = this.pages.chunk(p);
      const s = slotOf(p);
      const k = c.slotFor(s);
      if (c.stateAt(k) === LIVE && e.kind === EventKind.Alloc && !reported) {
        reported = true;
        const prev = c.sinceAt(k);
        this.reportAt('double-alloc', e, p, `pfn ${hex(p)} allocated while still live: no free since the allocation at line ${this.lineOf(prev)}`, [prev]);
      }
      this.setPageAt(c, k, s, e.owner, LIVE, i);
      c.setHeadAt(k, p === e.pfn ? e.order : 255);
    }
  }

  /**
   * alloc() of a dump record of n > 1 pages: the part of the block in each chunk whose pages share one slot
   * of a held chunk (PageTable.reserve) is written once, the other parts page by page. The owner's count only
   * rises (or stays) from page to page, so its peak is the same checked at the end of a part.
   */
  private recordBlock(e: EventRecord, n: number, i: number): void {
    const end = e.pfn + n;
    for (let p = e.pfn; p < end; ) {
      const c = this.pages.chunk(p);
      const s = slotOf(p);
      const len = Math.min(end - p, PAGE_SIZE - s);
      const k = len > 1 ? c.blockSlot(s, len) : -1;
      if (k >= 0) this.setBlockAt(c, k, s, len, e.owner, p === e.pfn ? e.order : 255, i);
      else {
        for (let q = s; q < s + len; q++) {
          const kq = c.slotFor(q);
          this.setPageAt(c, kq, q, e.owner, LIVE, i);
          c.setHeadAt(kq, p + (q - s) === e.pfn ? e.order : 255);
        }
      }
      p += len;
    }
  }

  /** Pages a summary without pfns (page_owner_sort) gives an owner: counted, never placed in the page table. */
  private unplaced(owner: number, pages: number): void {
    if (owner >= this.ownerLive.length) this.grow(owner);
    const v = (this.ownerLive[owner] += pages);
    if (v > this.ownerPeak[owner]) this.ownerPeak[owner] = v;
    this.livePages += pages;
  }

  private free(e: EventRecord, i: number): void {
    const n = pagesOf(e.order);
    let reported = false;
    const head = this.pages.chunk(e.pfn);
    const hs = slotOf(e.pfn);
    if (e.kind === EventKind.Free) this.checkOrder(e, head, hs);
    for (let p = e.pfn; p < e.pfn + n; p++) {
      const c = this.pages.chunk(p);
      const s = slotOf(p);
      const k = c.slotFor(s);
      if (c.stateAt(k) === FREE && !reported) {
        reported = true;
        const prev = c.sinceAt(k);
        this.reportAt('double-free', e, p, `pfn ${hex(p)} freed again: already freed at line ${this.lineOf(prev)}`, [prev]);
        continue;
      }
      if (c.refHead !== null && c.refHead[s] !== -1) this.dangling(c, s, p, 'freed');
      this.setPageAt(c, k, s, 0, FREE, i);
      c.setHeadAt(k, 255);
    }
  }

  /**
   * A free must release exactly one allocation: same head, same order. Frees of non-head pages are
   * not checked, because split_page() legitimately turns one high-order allocation into order-0 pages
   * that are freed one by one; a free that swallows the head of another allocation is reported.
   */
  private checkOrder(e: EventRecord, head: PageChunk, hs: number): void {
    if (head.state(hs) === LIVE && head.headOrder(hs) !== 255 && head.headOrder(hs) !== e.order) {
      this.reportAt('order-mismatch', e, e.pfn, `free of order ${e.order} at pfn ${hex(e.pfn)}, allocated with order ${head.headOrder(hs)} at line ${this.lineOf(head.since(hs))}`, [head.since(hs)]);
      return;
    }
    const n = pagesOf(e.order);
    for (let p = e.pfn + 1; p < e.pfn + n; p++) {
      const c = this.pages.chunk(p);
      const s = slotOf(p);
      if (c.state(s) === LIVE && c.headOrder(s) !== 255) {
        this.reportAt('order-mismatch', e, p, `free of order ${e.order} at pfn ${hex(e.pfn)} also covers pfn ${hex(p)}, allocated on its own with order ${c.headOrder(s)} at line ${this.lineOf(c.since(s))}`, [c.since(s)]);
        return;
      }
    }
  }

  private fsAlloc(e: EventRecord, i: number): void {
    const n = pagesOf(e.order);
    let reported = false;
    this.checkPlacement(e);
    for (let p = e.pfn; p < e.pfn + n; p++) {
      const c = this.pages.chunk(p);
      const s = slotOf(p);
      const prev = c.owner(s);
      if (c.state(s) === LIVE && prev !== e.owner && isExclusiveKind(this.kindOf(prev)) && this.kindOf(prev) !== 'kernel' && !reported) {
        reported = true;
        this.reportAt('owner-conflict', e, p, `filesystem block placed on pfn ${hex(p)}, which ${this.ownerText(prev)} still holds (since line ${this.lineOf(c.since(s))})`, [c.since(s)]);
      }
      this.setPage(c, s, e.owner, LIVE, i);
      c.setHeadOrder(s, p === e.pfn ? e.order : 255);
    }
  }

  private fault(e: EventRecord, i: number): void {
    const p = e.pfn;
    const c = this.pages.chunk(p);
    const s = slotOf(p);
    const prev = c.owner(s);
    this.checkPlacement(e);
    if (c.state(s) === LIVE && prev !== e.owner && prev !== 0) {
      const k = this.kindOf(prev);
      if (k === 'file' || k === 'process' || k === 'agent') {
        this.reportAt('owner-conflict', e, p, `agent mapped pfn ${hex(p)} into pid ${e.pid}, but ${this.ownerText(prev)} holds it (since line ${this.lineOf(c.since(s))})`, [c.since(s)]);
      }
    }
    this.setPage(c, s, e.owner, LIVE, i);
  }

  private access(e: EventRecord, i: number): void {
    const p = e.pfn;
    const c = this.pages.chunk(p);
    const s = slotOf(p);
    const st = c.state(s);
    if (e.kind === EventKind.Map) this.checkBlock(e, p, 1);
    if (st === UNKNOWN) {
      this.setPage(c, s, e.owner, LIVE, i);
      return;
    }
    const what = e.kind === EventKind.Map ? 'maps' : 'writes';
    if (st === FREE) {
      this.reportAt('use-after-free', e, p, `pid ${e.pid} ${what} pfn ${hex(p)} after it was freed at line ${this.lineOf(c.since(s))}`, [c.since(s)]);
      return;
    }
    const owner = c.owner(s);
    const k = this.kindOf(owner);
    if (owner !== e.owner && (k === 'process' || k === 'agent' || k === 'snapshot')) {
      this.reportAt('use-after-free', e, p, `pid ${e.pid} ${what} pfn ${hex(p)}, which was handed to ${this.ownerText(owner)} at line ${this.lineOf(c.since(s))}`, [c.since(s)]);
      return;
    }
    if (e.kind === EventKind.Write && owner === e.owner && c.refHead !== null) {
      for (let r = c.refHead[s]; r !== -1; r = this.refNext[r]) {
        const snap = this.refSnap[r];
        if (!this.snaps.live[snap] || !this.snaps.firstReport(snap, p)) continue;
        this.reportAt('cow-missed', e, p, `pid ${e.pid} wrote pfn ${hex(p)} while snapshot ${this.snaps.id[snap]} shares it, with no copy-on-write break`, [this.refEv[r]]);
      }
    }
  }

  /** The index of snapshot `id` in this.snaps (made when new, with begin event i). */
  private snap(id: number, pid: number, i: number): number {
    return this.snaps.index(id, pid, i);
  }

  private snapRef(e: EventRecord, i: number): void {
    const s = this.snap(e.ref, e.pid, i);
    const snaps = this.snaps;
    const n = pagesOf(e.order);
    for (let p = e.pfn; p < e.pfn + n; p++) {
      snaps.addPage(s, p);
      const c = this.pages.chunk(p);
      const sl = slotOf(p);
      this.addRef(c, sl, s, i);
      if (c.state(sl) === UNKNOWN) this.setPage(c, sl, snaps.pid[s] ? this.b.owners.process(snaps.pid[s]) : e.owner, LIVE, i);
      else if (c.state(sl) === FREE && snaps.firstReport(s, p)) {
        this.reportAt('snapshot-dangling', e, p, `snapshot ${e.ref} references pfn ${hex(p)}, which was freed at line ${this.lineOf(c.since(sl))}`, [c.since(sl)]);
      }
    }
  }

  private cow(e: EventRecord, i: number): void {
    this.snaps.cows[this.snap(e.ref, e.pid, i)]++;
    const old = e.pfn;
    const c = this.pages.chunk(old);
    const sl = slotOf(old);
    if (c.owner(sl) === e.owner || c.state(sl) !== LIVE) {
      this.setPage(c, sl, this.b.owners.snapshot(e.ref), LIVE, i);
    }
    const np = e.arg;
    const nc = this.pages.chunk(np);
    const ns = slotOf(np);
    if (nc.state(ns) === LIVE) {
      this.reportAt('double-alloc', e, np, `copy-on-write gave pid ${e.pid} pfn ${hex(np)}, which is still live since line ${this.lineOf(nc.since(ns))}`, [nc.since(ns)]);
    }
    this.setPage(nc, ns, e.owner, LIVE, i);
    nc.setHeadOrder(ns, 0);
  }

  private restore(e: EventRecord, i: number): void {
    const s = this.snap(e.ref, e.pid, i);
    const snapOwner = this.b.owners.snapshot(e.ref);
    const n = this.snaps.copyPages(s);
    const pfns = this.snaps.copied;
    for (let q = 0; q < n; q++) {
      const p = pfns[q];
      const c = this.pages.chunk(p);
      const sl = slotOf(p);
      if (c.owner(sl) === snapOwner) this.setPage(c, sl, e.owner, LIVE, i);
    }
  }

  private drop(e: EventRecord, i: number): void {
    const s = this.snap(e.ref, e.pid, i);
    this.snaps.live[s] = 0;
    const snapOwner = this.b.owners.snapshot(e.ref);
    const n = this.snaps.copyPages(s);
    const pfns = this.snaps.copied;
    for (let q = 0; q < n; q++) {
      const p = pfns[q];
      const c = this.pages.chunk(p);
      const sl = slotOf(p);
      const heir = this.unref(c, sl, s);
      // Another live snapshot may share the page this one kept at a CoW break: it stays pinned for that one.
      if (c.owner(sl) === snapOwner) this.setPage(c, sl, heir === undefined ? 0 : this.b.owners.snapshot(heir), heir === undefined ? FREE : LIVE, i);
    }
  }

  private migrate(e: EventRecord, i: number): void {
    const n = pagesOf(e.order);
    for (let k = 0; k < n; k++) {
      const from = e.pfn + k;
      const to = e.arg + k;
      const fc = this.pages.chunk(from);
      const fs = slotOf(from);
      const owner = fc.owner(fs);
      if (fc.refHead !== null && fc.refHead[fs] !== -1) this.dangling(fc, fs, from, 'migrated away');
      this.setPage(fc, fs, 0, FREE, i);
      const tc = this.pages.chunk(to);
      this.setPage(tc, slotOf(to), owner, LIVE, i);
    }
  }

  // ---- rules that look at placement

  private checkPlacement(e: EventRecord): void {
    if (this.b.layout.blocks.length !== 0) this.checkBlock(e, e.pfn, e.kind === EventKind.Fault ? 1 : pagesOf(e.order));
    if (!this.membindOn) return;
    const fault = e.kind === EventKind.Fault;
    // Nothing bound and no device offset: no placement to check (most events).
    if (this.bound.size === 0 && !(fault && e.arg2 === e.arg2)) return;
    const layout = this.b.layout;
    const pid = e.kind === EventKind.Alloc ? this.b.owners.pidOf(e.owner) : fault ? e.pid : undefined;
    const want = pid === undefined || this.bound.size === 0 ? undefined : this.bound.get(pid);
    if (fault && e.arg2 === e.arg2) {
      // A fault with a device offset is serviced out of a DAX device: of the bound node's, when bound.
      const all = this.daxRegionsOf(layout.regions);
      const daxes = want === undefined ? all : all.filter((r) => r.node === want);
      if (daxes.length && !daxes.some((r) => e.pfn >= r.start && e.pfn < r.start + r.pages)) {
        const dax = daxes[0];
        this.reportAt('membind-violation', e, e.pfn, `fault of pid ${e.pid} serviced with pfn ${hex(e.pfn)}, outside ${dax.device} (pfn ${hex(dax.start)}..${hex(dax.start + dax.pages - 1)})`, []);
        return;
      }
    }
    if (want === undefined) return;
    const node = e.node >= 0 ? e.node : layout.regionOf(e.pfn)?.node;
    if (node !== undefined && node !== want) {
      this.reportAt('membind-violation', e, e.pfn, `pid ${pid} is bound to node ${want}, but pfn ${hex(e.pfn)} is on node ${node}`, []);
    }
  }

  /** The regions of a DAX device a fault can be serviced from, in layout order (kept until regions are added). */
  private daxRegionsOf(regions: readonly Region[]): Region[] {
    if (regions.length !== this.daxSeen) {
      this.daxRegions = regions.filter((r) => r.device !== undefined && r.start === r.start && (r.type === 'kmem' || r.type === 'devdax'));
      this.daxSeen = regions.length;
    }
    return this.daxRegions;
  }

  /** Report (once per event) a use of pages [pfn, pfn+pages) that falls in an offline memory block. */
  private checkBlock(e: EventRecord, pfn: number, pages: number): void {
    const layout = this.b.layout;
    if (layout.blocks.length === 0 || !this.offlineOn) return;
    if (e.kind !== EventKind.Alloc && e.kind !== EventKind.Record) {
      const region = layout.regionOf(pfn);
      if (region && DEVICE_MAPPED.has(region.type)) return;
    }
    for (let p = pfn; p < pfn + pages; ) {
      const blk = layout.blockOf(p);
      if (!blk) {
        p++;
        continue;
      }
      if (this.blockState.get(blk.id) === 'offline') {
        this.reportAt('offline-block', e, p, `pfn ${hex(p)} is in memory block ${blk.id}, which is offline`, []);
        return;
      }
      p = blk.start + blk.pages;
    }
  }

  /** Report each live snapshot that references p, once per (snapshot, page): the later reuse of a
   * dangling page is the same corruption, not a new one. */
  private dangling(c: PageChunk, s: number, p: number, how: string): void {
    for (let r = c.refHead![s]; r !== -1; r = this.refNext[r]) {
      const snap = this.refSnap[r];
      if (!this.snaps.live[snap] || !this.snaps.firstReport(snap, p)) continue;
      const ev = this.refEv[r];
      this.reportAt('snapshot-dangling', this.e, p, `pfn ${hex(p)} ${how} while snapshot ${this.snaps.id[snap]} still references it (line ${this.lineOf(ev)})`, [ev]);
    }
  }

  // ---- snapshot references of pages

  /** Append a reference of page slot s of c by snapshot `snap` (index in snapList), made by event ev. */
  private addRef(c: PageChunk, s: number, snap: number, ev: number): void {
    let r = this.refFree;
    if (r !== -1) this.refFree = this.refNext[r];
    else {
      if (this.refUsed === this.refSnap.length) {
        const n = this.refUsed * 2;
        this.refSnap = growInt32(this.refSnap, n);
        this.refEv = growInt32(this.refEv, n);
        this.refNext = growInt32(this.refNext, n);
      }
      r = this.refUsed++;
    }
    this.refSnap[r] = snap;
    this.refEv[r] = ev;
    this.refNext[r] = -1;
    if (c.refHead === null) {
      c.refHead = new Int32Array(PAGE_SIZE).fill(-1);
      c.refTail = new Int32Array(PAGE_SIZE).fill(-1);
    }
    const tail = c.refTail![s];
    if (tail === -1) c.refHead[s] = r;
    else this.refNext[tail] = r;
    c.refTail![s] = r;
  }

  /**
   * Remove every reference of page slot s of c by snapshot `snap` (index in snapList); return the id of
   * the first snapshot left that references the page and is live, if any.
   */
  private unref(c: PageChunk, s: number, snap: number): number | undefined {
    const head = c.refHead;
    if (head === null) return undefined;
    let heir: number | undefined;
    let prev = -1;
    for (let r = head[s]; r !== -1; ) {
      const next = this.refNext[r];
      if (this.refSnap[r] === snap) {
        if (prev === -1) head[s] = next;
        else this.refNext[prev] = next;
        if (c.refTail![s] === r) c.refTail![s] = prev;
        this.refNext[r] = this.refFree;
        this.refFree = r;
      } else {
        if (heir === undefined && this.snaps.live[this.refSnap[r]]) heir = this.snaps.id[this.refSnap[r]];
        prev = r;
      }
      r = next;
    }
    return heir;
  }

  /** Report the pages still held by exited processes (all of them, or only `onlyPid`). */
  private leaks(onlyPid?: number): void {
    if (this.exited.size === 0 || this.disabled.has('leak')) return;
    this.sync();
    // Group leaked pages by the allocation that gave them to the exited process.
    const byAlloc = new Map<number, { pfn: number; pages: number; pid: number }>();
    for (const c of this.pages.all()) {
      for (let s = 0; s < 4096; s++) {
        if (c.state(s) !== LIVE) continue;
        const o = c.owner(s);
        if (o === 0 || this.kindOf(o) !== 'process') continue;
        const pid = this.b.owners.pidOf(o)!;
        if (!this.exited.has(pid) || (onlyPid !== undefined && pid !== onlyPid)) continue;
        const pfn = c.base + s;
        if (c.refHead !== null && c.refHead[s] !== -1) continue;
        const at = c.since(s);
        if (this.leakReported.has(at)) continue;
        const g = byAlloc.get(at);
        if (g) {
          g.pages++;
          if (pfn < g.pfn) g.pfn = pfn;
        } else byAlloc.set(at, { pfn, pages: 1, pid });
      }
    }
    const ev = this.b.events;
    for (const [at, g] of byAlloc) {
      this.leakReported.add(at);
      const exit = this.exited.get(g.pid)!;
      this.report('leak', ev.file.get(at), ev.line.get(at), g.pfn, ev.time.get(at), `${g.pages} page${g.pages === 1 ? '' : 's'} from pfn ${hex(g.pfn)} still owned by pid ${g.pid} after it exited at line ${ev.line.get(exit)}`, [{ file: ev.file.get(exit), line: ev.line.get(exit) }]);
    }
  }

  // ---- reporting

  private lineOf(ev: number): number {
    return ev >= 0 ? this.b.events.line.get(ev) : 0;
  }

  private ownerText(owner: number): string {
    return ownerLabel(this.b.owners.get(owner));
  }

  private reportAt(kind: AnomalyKind, e: EventRecord, pfn: number, message: string, related: number[]): void {
    const ev = this.b.events;
    const i = this.cur;
    const rel: Location[] = [];
    for (const r of related) if (r >= 0) rel.push({ file: ev.file.get(r), line: ev.line.get(r) });
    // The line is read here, not with the event (see step).
    this.report(kind, ev.file.get(i), ev.line.get(i), pfn, e.time, message, rel);
  }

  private report(kind: AnomalyKind, file: number, line: number, pfn: number, time: number, message: string, related: Location[]): void {
    if (this.disabled.has(kind)) return;
    const severity = this.severity[kind] ?? RULES[kind].severity;
    this.anomalies.push({ kind, severity, file, line, pfn, time, message, related });
  }
}

/** Pages in an allocation of this order: a shift, not a float power, on the per-event path. */
function pagesOf(order: number): number {
  return order < 31 ? 1 << order : 2 ** order;
}

function growInt32(a: Int32Array, n: number): Int32Array {
  const out = new Int32Array(n);
  out.set(a);
  return out;
}

/** `a` cut or padded with zeros to n values. */
function fit(a: Float64Array, n: number): Float64Array {
  if (a.length === n) return a;
  // A view, not a copy, when it is longer: the copy was made when the replay's memory peaks (two 3.4 MB
  // arrays at 425 k owners).
  if (n < a.length) return a.subarray(0, n);
  const out = new Float64Array(n);
  out.set(a);
  return out;
}

/** `0x1a2b` */
export function hex(n: number): string {
  return '0x' + n.toString(16);
}
