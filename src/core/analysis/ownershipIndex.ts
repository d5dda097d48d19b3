import { EventKind, type EventRecord } from '../model/events';
import type { ViewSegment } from '../../protocol/viewData';
import type { TraceBuilder } from '../model/traceBuilder';
import { Replay, type ReplayObserver } from './replay';
import { ANOMALY_KINDS, type Anomaly } from './anomalies';

/**
 * Ownership of every page at any moment, for the views. Built once per trace by replaying it with an
 * observer that logs every page change (time, page, new owner, previous owner, event); then
 *  - per-owner page counts are checkpointed every K changes, so the counts at any time cost one copy plus
 *    at most K changes; the checkpoints are built on first need (a series of the whole trace needs none,
 *    a map window never does), or all at once with `buildCheckpoints` when the worker is idle;
 *  - the log is indexed per page (pages sorted by pfn), so one page's state at a time is a binary search.
 * A window query costs O(changes in the window + one checkpoint), never a pass over the trace.
 */

// Checkpoints hold one Int32 per owner; their total is capped at this many values (64 MB), so traces with
// many short-lived processes get sparser checkpoints rather than gigabytes of them.
const CHECKPOINT_BUDGET = 16 * 1024 * 1024;
const MIN_CHECKPOINT_EVERY = 4096;

/** Change flag: a live snapshot references the page after the change. */
const REFD = 1;

/** A contiguous run of the map's rows: the protocol's ViewSegment, which the index builds and the view sends as is. */
export type MapSegment = ViewSegment;

/** A memory block's offline intervals [from, to), flattened. */
export interface BlockTimeline {
  id: number;
  start: number;
  pages: number;
  node: number;
  offline: number[];
}

/** The state of a page at a moment. */
export interface PageState {
  /** -1 never seen yet, 0 free, else the owner id. */
  owner: number;
  /** Process-held while a live snapshot references it. */
  shared: boolean;
}

/** One entry of a page's history. */
export interface PageChange {
  owner: number;
  time: number;
  /** Store index of the event. */
  event: number;
  shared: boolean;
}

/** Pages per owner sampled over a window. */
export interface OwnershipSeries {
  times: Float64Array;
  owners: Uint32Array;
  values: Float64Array;
  other: Float64Array;
  free: Float64Array;
  unknown: Float64Array;
}

/** What `seriesOf` reads: a change log in time order, and the counts after its first changes. */
export interface ChangeLog {
  /** Replay position of each change's event, its new owner and the one before (-1: first sight). */
  readonly pos: Uint32Array;
  readonly owner: Int32Array;
  readonly prev: Int32Array;
  /** Owner ids run from 0 (free) to ownerCount - 1. */
  readonly ownerCount: number;
  /** Rows of the page map: a series' `unknown` is the rows not seen yet. */
  readonly rows: number;
  /** Changes with time <= t. */
  changesUpTo(t: number): number;
  /** Per-owner counts (0 = free) and pages seen after the first `c` changes; `counts` is overwritten. */
  countsAt(c: number, counts: Int32Array): number;
}

/** The page-map window cells (see MapReply in src/protocol/viewData.ts for the exact meaning). */
export interface MapCells {
  owner: Int32Array;
  fill: Uint8Array;
  shared: Uint8Array;
}

/** The change log in page order (see OwnershipIndex.pageStart and the perm columns). */
interface PageOrder {
  pageStart: Uint32Array;
  permPos: Uint32Array;
  permTime: Float64Array;
  permState: Int32Array;
}

/** A typed array that grows by half as it fills. */
class Growable<T extends Float64Array | Int32Array | Uint32Array | Uint8Array> {
  a: T;
  n = 0;
  constructor(private readonly make: (n: number) => T) {
    this.a = make(1024);
  }
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = this.make(Math.ceil(this.a.length * 1.5));
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  done(): T {
    return this.a.subarray(0, this.n) as T;
  }
}

// Chunks of pfns below 2^28 (1 TiB of 4 KiB pages) are found by array index, the rest through a Map:
// a Map lookup per change was a tenth of the recorder's time.
const LOW_KEYS = 1 << 16;
/** Int32s per page in a PageSlots chunk: id, current owner, live snapshot references, padding. */
const SLOT = 4;

/**
 * The recorder's per-page state in 4096-pfn chunks: dense id (first-seen order, -1 unseen), current owner
 * (-1 unseen) and live snapshot references side by side, so a change touches one cache line. Three
 * separate arrays cost three cache misses a change: 3.2 s of CPU for 10 M changes over 1 M pages.
 */
class PageSlots {
  private readonly low = new Array<Int32Array | undefined>(LOW_KEYS).fill(undefined);
  private readonly high = new Map<number, Int32Array>();
  /** Pfn of each id. */
  readonly pfns = new Growable((n) => new Float64Array(n));

  /** The chunk holding pfn, or undefined when none of its pages was seen. */
  peek(pfn: number): Int32Array | undefined {
    const key = Math.floor(pfn / 4096);
    return key < LOW_KEYS ? this.low[key] : this.high.get(key);
  }

  /** The chunk holding pfn, created when new. */
  chunk(pfn: number): Int32Array {
    const key = Math.floor(pfn / 4096);
    let c = key < LOW_KEYS ? this.low[key] : this.high.get(key);
    if (!c) {
      c = new Int32Array(4096 * SLOT);
      for (let s = 0; s < c.length; s += SLOT) c[s] = c[s + 1] = -1;
      if (key < LOW_KEYS) this.low[key] = c;
      else this.high.set(key, c);
    }
    return c;
  }

  /** Slot offset of pfn inside its chunk (exact for every integer pfn below 2^53). */
  static slot(pfn: number): number {
    return (pfn & 4095) * SLOT;
  }

  /** The id of pfn, -1 when never seen. */
  find(pfn: number): number {
    const c = this.peek(pfn);
    return c ? c[PageSlots.slot(pfn)] : -1;
  }

  /**
   * Every page seen in pfn order and the rank of each id in it, from a walk over the chunks in pfn order:
   * a walk costs as much as the chunks' setup did (4096 slots each), where the sort of 311 k pfns and a
   * lookup of each one took 57-120 ms of the 103 MB trace's first view.
   */
  ranked(): { pfns: Float64Array; rank: Uint32Array } {
    const pages = this.pfns.n;
    const pfns = new Float64Array(pages);
    const rank = new Uint32Array(pages);
    let r = 0;
    const walk = (key: number, c: Int32Array): void => {
      const base = key * 4096;
      for (let s = 0; s < c.length; s += SLOT) {
        const id = c[s];
        if (id < 0) continue;
        pfns[r] = base + s / SLOT;
        rank[id] = r++;
      }
    };
    for (let key = 0; key < LOW_KEYS; key++) {
      const c = this.low[key];
      if (c) walk(key, c);
    }
    for (const key of [...this.high.keys()].sort((x, y) => x - y)) walk(key, this.high.get(key)!);
    return { pfns, rank };
  }

  /** Give the page at slot s of chunk c an id when it has none. */
  ensure(c: Int32Array, s: number, pfn: number): void {
    if (c[s] < 0) {
      c[s] = this.pfns.n;
      this.pfns.push(pfn);
    }
  }
}

/** A recorder's columns after a complete replay, as persisted with the index (src/node/indexCache.ts). */
export interface RecordedChanges {
  eventTimes: Float64Array;
  pos: Uint32Array;
  pageCol: Uint32Array;
  owner: Int32Array;
  prev: Int32Array;
  flags: Uint8Array;
  /** Pfn of each page id. */
  pagePfns: Float64Array;
  /** Offline/online toggles per block id: [time, offline?1:0, ...]. */
  toggles: [number, number[]][];
}

/**
 * Records a replay's page changes (see ReplayObserver) for the ownership index, straight into typed columns
 * sized for one change an event, with one capacity check a change: six separately growing columns cost
 * about 20% of the build. Pass one to the analysis replay (OpenOptions.recordOwnership) and the index needs
 * no replay of its own.
 */
export class OwnershipRecorder implements ReplayObserver {
  /** Changes recorded. */
  n = 0;
  /** Replay position (index into eventTimes) of the event behind each change. */
  pos: Uint32Array;
  /** Page id (first-seen order) of each change. */
  pageCol: Uint32Array;
  owner: Int32Array;
  prev: Int32Array;
  flags: Uint8Array;
  /**
   * Effective time of each event in replay order (untimed events take the time before them). Sized for
   * the events given to the constructor; a replay of events still arriving grows it, and `seal` trims it.
   */
  eventTimes: Float64Array;
  readonly slots = new PageSlots();
  /** Pfns referenced by each live snapshot, in reference order. */
  private readonly snapPages = new Map<number, number[]>();
  private readonly blockToggles = new Map<number, number[]>();
  private now = -Infinity;
  private k = 0;

  constructor(events: number, saved?: RecordedChanges) {
    if (saved) {
      this.eventTimes = saved.eventTimes;
      this.k = saved.eventTimes.length;
      if (this.k > 0) this.now = saved.eventTimes[this.k - 1];
      this.n = saved.pos.length;
      this.pos = saved.pos;
      this.pageCol = saved.pageCol;
      this.owner = saved.owner;
      this.prev = saved.prev;
      this.flags = saved.flags;
      // Page ids are first-seen order: seeing the pfns again in id order gives every page its id back.
      for (const pfn of saved.pagePfns) this.slots.ensure(this.slots.chunk(pfn), PageSlots.slot(pfn), pfn);
      for (const [id, list] of saved.toggles) this.blockToggles.set(id, list);
      return;
    }
    this.eventTimes = new Float64Array(events);
    const cap = Math.max(1024, events);
    this.pos = new Uint32Array(cap);
    this.pageCol = new Uint32Array(cap);
    this.owner = new Int32Array(cap);
    this.prev = new Int32Array(cap);
    this.flags = new Uint8Array(cap);
  }

  /** The changes of a complete replay, trimmed, to persist; the ownership index must not have taken them yet. */
  saved(): RecordedChanges {
    this.trim();
    const n = this.n;
    return {
      eventTimes: this.eventTimes,
      pos: this.pos.subarray(0, n),
      pageCol: this.pageCol.subarray(0, n),
      owner: this.owner.subarray(0, n),
      prev: this.prev.subarray(0, n),
      flags: this.flags.subarray(0, n),
      pagePfns: this.slots.pfns.done(),
      toggles: [...this.blockToggles],
    };
  }

  /** A recorder holding changes saved earlier (`saved()`), as if it had just recorded a complete replay. */
  static restore(saved: RecordedChanges): OwnershipRecorder {
    return new OwnershipRecorder(saved.eventTimes.length, saved);
  }

  event(_i: number, e: EventRecord): void {
    const t = e.time;
    if (t === t && t > this.now) this.now = t;
    if (this.k === this.eventTimes.length) this.growEvents();
    this.eventTimes[this.k++] = this.now;
    const kind = e.kind;
    if (kind === EventKind.SnapRef) {
      let list = this.snapPages.get(e.ref);
      if (!list) this.snapPages.set(e.ref, (list = []));
      for (let p = e.pfn; p < e.pfn + 2 ** e.order; p++) {
        list.push(p);
        const c = this.slots.chunk(p);
        const s = PageSlots.slot(p);
        this.slots.ensure(c, s, p);
        if (c[s + 2]++ === 0 && c[s + 1] >= 0) this.log(c, s, c[s + 1]);
      }
    } else if (kind === EventKind.SnapDrop) {
      const snap = e.ref;
      const list = this.snapPages.get(snap);
      if (!list) return;
      this.snapPages.delete(snap);
      // Replay drops every reference of the snapshot to a page at once, duplicates included.
      const times = new Map<number, number>();
      for (const p of list) times.set(p, (times.get(p) ?? 0) + 1);
      for (const [p, n] of times) {
        const c = this.slots.chunk(p);
        const s = PageSlots.slot(p);
        c[s + 2] -= n;
        if (c[s + 2] === 0 && c[s + 1] >= 0) this.log(c, s, c[s + 1]);
      }
    } else if (kind === EventKind.Online || kind === EventKind.Offline) {
      const id = e.ref;
      let list = this.blockToggles.get(id);
      if (!list) this.blockToggles.set(id, (list = []));
      list.push(this.now, kind === EventKind.Offline ? 1 : 0);
    }
  }

  page(pfn: number, owner: number): void {
    const c = this.slots.chunk(pfn);
    const s = PageSlots.slot(pfn);
    this.slots.ensure(c, s, pfn);
    this.log(c, s, owner);
  }

  /** Offline/online toggles per block id: [time, offline?1:0, ...]. */
  toggles(): Map<number, number[]> {
    return this.blockToggles;
  }

  /** Events replayed so far. */
  get events(): number {
    return this.k;
  }

  /**
   * The changes recorded so far, while the replay goes on, as a change log over `ownerCount` owners (the
   * owner table's size now). It has no rows: which pages the rest of the trace will show is not known, so
   * a series of it leaves `unknown` at 0. A view of the recorder's columns, valid until it records again.
   */
  prefix(ownerCount: number): ChangeLog {
    return new RecordedPrefix(this.pos.subarray(0, this.n), this.owner.subarray(0, this.n), this.prev.subarray(0, this.n), this.eventTimes.subarray(0, this.k), ownerCount);
  }

  /** After the last event: eventTimes holds exactly the events replayed. */
  seal(): void {
    if (this.eventTimes.length !== this.k) this.eventTimes = this.eventTimes.slice(0, this.k);
  }

  private growEvents(): void {
    const next = new Float64Array(Math.max(1024, Math.ceil(this.eventTimes.length * 1.5)));
    next.set(this.eventTimes);
    this.eventTimes = next;
  }

  /** Trim the columns to the changes recorded, copying only when over an eighth would be left unused. */
  trim(): void {
    const n = this.n;
    if (this.pos.length - n <= n / 8) return;
    this.pos = this.pos.slice(0, n);
    this.pageCol = this.pageCol.slice(0, n);
    this.owner = this.owner.slice(0, n);
    this.prev = this.prev.slice(0, n);
    this.flags = this.flags.slice(0, n);
  }

  /** Log that the page at slot s of chunk c now has `owner`. */
  private log(c: Int32Array, s: number, owner: number): void {
    if (this.n === this.pos.length) this.grow();
    const i = this.n++;
    this.pos[i] = this.k - 1;
    this.pageCol[i] = c[s];
    this.owner[i] = owner;
    this.prev[i] = c[s + 1];
    this.flags[i] = c[s + 2] > 0 ? REFD : 0;
    c[s + 1] = owner;
  }

  private grow(): void {
    const cap = Math.ceil(this.pos.length * 1.5);
    const pos = new Uint32Array(cap);
    pos.set(this.pos);
    this.pos = pos;
    const page = new Uint32Array(cap);
    page.set(this.pageCol);
    this.pageCol = page;
    const owner = new Int32Array(cap);
    owner.set(this.owner);
    this.owner = owner;
    const prev = new Int32Array(cap);
    prev.set(this.prev);
    this.prev = prev;
    const flags = new Uint8Array(cap);
    flags.set(this.flags);
    this.flags = flags;
  }
}

/** Changes (replay positions `pos`, in order) whose event time in `eventTimes` is <= t. */
function changesUpTo(pos: Uint32Array, eventTimes: Float64Array, t: number): number {
  let lo = 0;
  let hi = pos.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (eventTimes[pos[mid]] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The changes of a replay under way (OwnershipRecorder.prefix): no checkpoints, no rows. */
class RecordedPrefix implements ChangeLog {
  readonly rows = 0;
  constructor(
    readonly pos: Uint32Array,
    readonly owner: Int32Array,
    readonly prev: Int32Array,
    /** Effective event times in replay order (non-decreasing). */
    private readonly eventTimes: Float64Array,
    readonly ownerCount: number,
  ) {}

  changesUpTo(t: number): number {
    return changesUpTo(this.pos, this.eventTimes, t);
  }

  countsAt(c: number, counts: Int32Array): number {
    counts.fill(0);
    let seen = 0;
    for (let k = 0; k < c; k++) {
      const p = this.prev[k];
      if (p >= 0) counts[p]--;
      else seen++;
      counts[this.owner[k]]++;
    }
    return seen;
  }
}

/** First index in sorted `a[lo..hi)` with a[i] > v. */
function upperBound(a: Float64Array, v: number, lo = 0, hi = a.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index in sorted `a[lo..hi)` with a[i] >= v. */
export function lowerBound(a: Float64Array, v: number, lo = 0, hi = a.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Ownership of every page over time; see the file comment. Build with `OwnershipIndex.build`. */
export class OwnershipIndex implements ChangeLog {
  /**
   * Change log in replay (time) order: the replay position of each change's event (its time is
   * eventTimes[pos], its store index order[pos]), the new owner and the one before (-1: first sight).
   * Positions rather than times and event indices: 12 bytes a change less, 120 MB at 10 M changes.
   */
  readonly pos: Uint32Array;
  readonly owner: Int32Array;
  readonly prev: Int32Array;
  /** Every page seen, sorted. */
  readonly pfns: Float64Array;
  /**
   * The log in page order (pageStart, permPos, permTime, permState), built on first use: a view's init
   * and its first chart read only the log in time order, and the sort by page was 50-60 ms of the
   * 103 MB trace's first view. Until then, the page id of each change and the rank of each id.
   */
  private byPage: PageOrder | undefined;
  private unsorted: { pageCol: Uint32Array; rank: Uint32Array; flags: Uint8Array } | undefined;
  /** Effective event times in replay order, and the replay order (null: store order). */
  readonly eventTimes: Float64Array;
  readonly order: Uint32Array | null;
  readonly ownerCount: number;
  /** Owner kinds by id, so the index can tell process pages (for "shared") without the owner table. */
  readonly isProcess: Uint8Array;
  readonly checkpointEvery: number;
  /**
   * Per-owner counts (index 0 = free pages) and pages seen, before change c*checkpointEvery, for c below
   * checkpoints.length: the first ones of ceil(changes / checkpointEvery), the rest built when asked for.
   * Built with the index, they were 69-84 ms of a 103 MB trace's first view (227 of them, 67 MB) that its
   * first chart does not use.
   */
  private readonly checkpoints: Int32Array[] = [];
  private readonly checkpointSeen: number[] = [];
  readonly segments: MapSegment[];
  /** Row-space size: the sum of segment pages. */
  readonly rows: number;
  readonly blocks: BlockTimeline[];
  /** Anomalies with a time and a pfn, sorted by time. */
  readonly placedAnomalies: Anomaly[];

  private constructor(b: TraceBuilder, rec: OwnershipRecorder, order: Uint32Array | null, anomalies: Anomaly[]) {
    rec.trim();
    const n = rec.n;
    // Rank pages by pfn so a pfn range is a contiguous run of ranks.
    const { pfns, rank } = rec.slots.ranked();
    this.pfns = pfns;
    // The recorder's columns may run past its last change (trim leaves up to an eighth unused).
    this.pos = rec.pos.subarray(0, n);
    this.owner = rec.owner.subarray(0, n);
    this.prev = rec.prev.subarray(0, n);
    this.eventTimes = rec.eventTimes;
    this.order = order;
    this.unsorted = { pageCol: rec.pageCol.subarray(0, n), rank, flags: rec.flags.subarray(0, n) };

    this.ownerCount = b.owners.size;
    const isProcess = (this.isProcess = new Uint8Array(this.ownerCount));
    for (let o = 0; o < this.ownerCount; o++) isProcess[o] = b.owners.kindOf(o) === 'process' ? 1 : 0;
    this.checkpointEvery = Math.max(MIN_CHECKPOINT_EVERY, Math.ceil((n * this.ownerCount) / CHECKPOINT_BUDGET));

    this.segments = buildSegments(b, this.pfns);
    this.rows = this.segments.reduce((s, g) => s + g.pages, 0);
    this.blocks = buildBlocks(b, rec.toggles());
    this.placedAnomalies = anomalies.filter((a) => a.time === a.time && a.pfn === a.pfn).sort((x, y) => x.time - y.time);
  }

  /** Changes of page rank p: entries pageStart[p] .. pageStart[p+1] of the perm columns, in time order. */
  get pageStart(): Uint32Array {
    return this.pageOrder().pageStart;
  }

  /** Replay position of each change in page order. */
  get permPos(): Uint32Array {
    return this.pageOrder().permPos;
  }

  /** Time of each change in page order (for binary searches inside one page). */
  get permTime(): Float64Array {
    return this.pageOrder().permTime;
  }

  /**
   * State after each change in page order: owner * 2 + 1 when shared (process-held while a live snapshot
   * references it). Kept beside permTime so a map window reads both in one sequential sweep: gathering
   * the owner through the time-ordered log cost a cache miss a change, most of the 19.5 s full-view window
   * at 10 M events.
   */
  get permState(): Int32Array {
    return this.pageOrder().permState;
  }

  /** Whether the log in page order is built yet. */
  get pageOrderBuilt(): boolean {
    return this.byPage !== undefined;
  }

  /** The log in page order, sorted on first use. */
  pageOrder(): PageOrder {
    if (!this.byPage) {
      this.byPage = this.sortByPage(this.unsorted!);
      this.unsorted = undefined;
    }
    return this.byPage;
  }

  private sortByPage({ pageCol: page, rank, flags }: { pageCol: Uint32Array; rank: Uint32Array; flags: Uint8Array }): PageOrder {
    const n = this.pos.length;
    const pages = this.pfns.length;
    const pos = this.pos;
    const owner = this.owner;
    const eventTimes = this.eventTimes;
    const isProcess = this.isProcess;

    // Counting sort of the log by page keeps each page's changes in time order.
    const start = new Uint32Array(pages + 1);
    // The recorder's page column is read, not rewritten to ranks: an index written after the view opened
    // still saves the recording (src/node/openFiles.ts, saveIndexLater).
    for (let c = 0; c < n; c++) start[rank[page[c]] + 1]++;
    for (let p = 0; p < pages; p++) start[p + 1] += start[p];
    const permPos = new Uint32Array(n);
    const permTime = new Float64Array(n);
    const permState = new Int32Array(n);
    // Two passes, first into at most 1024 buckets of consecutive ranks (so the write streams stay in cache),
    // then inside each bucket by exact rank. Writing each change straight to its place cost a cache miss a
    // column: 1.6 s of CPU for 10 M changes over 1 M pages.
    const shift = Math.max(0, Math.ceil(Math.log2(Math.max(1, pages))) - 10);
    const buckets = pages === 0 ? 0 : ((pages - 1) >>> shift) + 1;
    const bucketAt = new Uint32Array(buckets);
    for (let k = 0; k < buckets; k++) bucketAt[k] = start[k << shift];
    const low = shift <= 16 ? new Uint16Array(n) : new Uint32Array(n);
    const mask = (1 << shift) - 1;
    for (let c = 0; c < n; c++) {
      const r = rank[page[c]];
      const at = bucketAt[r >>> shift]++;
      low[at] = r & mask;
      const ps = pos[c];
      const o = owner[c];
      permPos[at] = ps;
      permTime[at] = eventTimes[ps];
      permState[at] = o * 2 + ((flags[c] & REFD) !== 0 && isProcess[o] === 1 ? 1 : 0);
    }
    let widest = 0;
    for (let k = 0; k < buckets; k++) widest = Math.max(widest, start[Math.min(pages, (k + 1) << shift)] - start[k << shift]);
    const sPos = new Uint32Array(widest);
    const sTime = new Float64Array(widest);
    const sState = new Int32Array(widest);
    const sLow = new Uint32Array(widest);
    const fillAt = start.slice(0, pages);
    for (let k = 0; k < buckets; k++) {
      const lo = start[k << shift];
      const hi = start[Math.min(pages, (k + 1) << shift)];
      const w = hi - lo;
      sPos.set(permPos.subarray(lo, hi));
      sTime.set(permTime.subarray(lo, hi));
      sState.set(permState.subarray(lo, hi));
      sLow.set(low.subarray(lo, hi));
      const base = k << shift;
      for (let i = 0; i < w; i++) {
        const at = fillAt[base + sLow[i]]++;
        permPos[at] = sPos[i];
        permTime[at] = sTime[i];
        permState[at] = sState[i];
      }
    }
    return { pageStart: start, permPos, permTime, permState };
  }

  /**
   * Replay the trace once more with a recorder. Ownership does not depend on rule settings, so every rule
   * is off: the rules' checks (placement, order, snapshot references) are a sixth of the replay.
   */
  static build(b: TraceBuilder, anomalies: Anomaly[]): OwnershipIndex {
    const rec = new OwnershipRecorder(b.events.length);
    const r = new Replay(b, { disabled: [...ANOMALY_KINDS] }, rec).run();
    return new OwnershipIndex(b, rec, r.order, anomalies);
  }

  /** The index from changes recorded during a complete replay of b (`order`: that replay's order). */
  static fromRecording(b: TraceBuilder, rec: OwnershipRecorder, order: Uint32Array | null, anomalies: Anomaly[]): OwnershipIndex {
    return new OwnershipIndex(b, rec, order, anomalies);
  }

  get changes(): number {
    return this.pos.length;
  }

  /** Store index of the event at replay position k. */
  eventAt(k: number): number {
    return this.order ? this.order[k] : k;
  }

  /** Changes with time <= t. */
  changesUpTo(t: number): number {
    return changesUpTo(this.pos, this.eventTimes, t);
  }

  /** Checkpoints the index holds: ceil(changes / checkpointEvery) once all are built. */
  get checkpointsBuilt(): number {
    return this.checkpoints.length;
  }

  /** Build every checkpoint not built yet (the worker runs it when idle, so a zoom does not pay for it). */
  buildCheckpoints(): void {
    this.checkpointsUpTo(Math.ceil(this.pos.length / this.checkpointEvery) - 1);
  }

  /** Build the checkpoints up to number cp, going on from the last one built. */
  private checkpointsUpTo(cp: number): void {
    const every = this.checkpointEvery;
    const built = this.checkpoints.length;
    if (cp < built) return;
    const counts = built === 0 ? new Int32Array(this.ownerCount) : this.checkpoints[built - 1].slice();
    let seen = built === 0 ? 0 : this.checkpointSeen[built - 1];
    let c = built === 0 ? 0 : (built - 1) * every;
    const owner = this.owner;
    const prev = this.prev;
    for (let next = built; next <= cp; next++) {
      for (const end = next * every; c < end; c++) {
        const p = prev[c];
        if (p >= 0) counts[p]--;
        else seen++;
        counts[owner[c]]++;
      }
      this.checkpoints.push(next === cp ? counts : counts.slice());
      this.checkpointSeen.push(seen);
    }
  }

  /** Per-owner counts (0 = free) and pages seen after the first `c` changes; `counts` is overwritten. */
  countsAt(c: number, counts: Int32Array): number {
    const cp = Math.min(Math.floor(c / this.checkpointEvery), Math.ceil(this.pos.length / this.checkpointEvery) - 1);
    if (cp < 0) {
      counts.fill(0);
      return 0;
    }
    this.checkpointsUpTo(cp);
    counts.set(this.checkpoints[cp]);
    let seen = this.checkpointSeen[cp];
    for (let k = cp * this.checkpointEvery; k < c; k++) {
      const p = this.prev[k];
      if (p >= 0) counts[p]--;
      else seen++;
      counts[this.owner[k]]++;
    }
    return seen;
  }

  /**
   * Pages per owner at n times evenly spread over [t0, t1]: see `seriesOf`.
   */
  series(t0: number, t1: number, n: number, top: number, pinned: readonly number[] = [], hidden: readonly number[] = []): OwnershipSeries {
    return seriesOf(this, t0, t1, n, top, pinned, hidden);
  }

  /** Rank of pfn among pages seen, -1 when never seen. */
  rankOf(pfn: number): number {
    const r = lowerBound(this.pfns, pfn);
    return r < this.pfns.length && this.pfns[r] === pfn ? r : -1;
  }

  /** State of page rank p after every change at or before t. */
  stateAt(p: number, t: number): PageState {
    const { pageStart, permTime, permState } = this.pageOrder();
    const a = pageStart[p];
    const j = upperBound(permTime, t, a, pageStart[p + 1]) - 1;
    if (j < a) return { owner: -1, shared: false };
    const st = permState[j];
    return { owner: st >> 1, shared: (st & 1) === 1 };
  }

  /** Every change of page rank p, oldest first. */
  history(p: number): PageChange[] {
    const out: PageChange[] = [];
    const { pageStart, permTime, permState, permPos } = this.pageOrder();
    for (let j = pageStart[p]; j < pageStart[p + 1]; j++) {
      const st = permState[j];
      out.push({ owner: st >> 1, time: permTime[j], event: this.eventAt(permPos[j]), shared: (st & 1) === 1 });
    }
    return out;
  }

  /** Row-space index of pfn, -1 outside every segment. */
  rowOf(pfn: number): number {
    const g = this.segmentOfPfn(pfn);
    return g ? g.offset + (pfn - g.start) : -1;
  }

  /** The segment holding pfn. */
  segmentOfPfn(pfn: number): MapSegment | undefined {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const g = this.segments[mid];
      if (pfn < g.start) hi = mid - 1;
      else if (pfn >= g.start + g.pages) lo = mid + 1;
      else return g;
    }
    return undefined;
  }

  /** The segment holding row-space index y. */
  segmentOfRow(y: number): MapSegment | undefined {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const g = this.segments[mid];
      if (y < g.offset) hi = mid - 1;
      else if (y >= g.offset + g.pages) lo = mid + 1;
      else return g;
    }
    return undefined;
  }

  /** Ranks [r0, r1) of the pages seen with row-space index in [y0, y1), per segment crossed. */
  ranksOfRows(y0: number, y1: number, out: number[]): void {
    out.length = 0;
    let g = this.segmentOfRow(y0);
    let gi = g ? this.segments.indexOf(g) : this.segments.findIndex((s) => s.offset >= y0);
    if (gi < 0) return;
    for (; gi < this.segments.length; gi++) {
      g = this.segments[gi];
      if (g.offset >= y1) break;
      const a = Math.max(y0, g.offset) - g.offset + g.start;
      const b = Math.min(y1, g.offset + g.pages) - g.offset + g.start;
      if (b <= a) continue;
      out.push(lowerBound(this.pfns, a), lowerBound(this.pfns, b));
    }
  }

  /**
   * Map cells: dominant owner, fill and shared bits (flags for anomalies and blocks are added by the caller).
   * Row by row: each page's state at the first column comes from a binary search in its changes, then its
   * later changes up to the last column become switches (from state, to state) linked into the column they
   * first show in, and a sweep over the columns applies them to per-owner counts. Exact, and linear in the
   * pages and changes of the window: 10 M changes over 1 M pages answer a full 1335x529 window in about
   * 0.3 s of CPU (19.5 s before, when switches were sorted per row and states gathered through perm).
   */
  mapCells(t0: number, t1: number, nx: number, y0: number, y1: number, ny: number): MapCells {
    const cells = nx * ny;
    const owner = new Int32Array(cells).fill(-1);
    const fill = new Uint8Array(cells);
    const shared = new Uint8Array(cells);
    const dt = (t1 - t0) / nx;
    const t0s = t0 + 0.5 * dt;
    const lastSample = t0 + (nx - 1 + 0.5) * dt;
    const h = (y1 - y0) / ny;
    const tally = new CellTally(this.ownerCount);
    const ranges: number[] = [];
    const { pageStart, permTime, permState } = this.pageOrder();
    // Switches of the current row, linked per column (order inside a column does not matter: the counts
    // after a column are the same whatever order its switches are applied in).
    const head = new Int32Array(nx);
    let next: Int32Array = new Int32Array(4096);
    let from: Int32Array = new Int32Array(4096);
    let to: Int32Array = new Int32Array(4096);
    for (let r = 0; r < ny; r++) {
      const lo = Math.floor(y0 + r * h);
      const hi = Math.max(lo + 1, Math.floor(y0 + (r + 1) * h));
      const rowPages = hi - lo;
      this.ranksOfRows(lo, hi, ranges);
      tally.reset();
      head.fill(-1);
      let sw = 0;
      for (let k = 0; k < ranges.length; k += 2) {
        for (let p = ranges[k]; p < ranges[k + 1]; p++) {
          const a = pageStart[p];
          const b = pageStart[p + 1];
          if (a === b) continue;
          // Most pages have a handful of changes: a linear step past the first column beats a binary search.
          let j = a;
          if (b - a > 16) j = upperBound(permTime, t0s, a, b);
          else while (j < b && permTime[j] <= t0s) j++;
          let st = j > a ? permState[j - 1] : -1;
          tally.add(st);
          let lastCol = -1;
          for (; j < b; j++) {
            const t = permTime[j];
            if (t > lastSample) break;
            const nst = permState[j];
            // The first column whose sample time (t0 + (c + 0.5) dt) is at or after t; t > t0s, so c >= 1.
            let c = Math.min(nx - 1, Math.max(1, Math.ceil((t - t0) / dt - 0.5)));
            while (c > 1 && t0 + (c - 1 + 0.5) * dt >= t) c--;
            while (c < nx - 1 && t0 + (c + 0.5) * dt < t) c++;
            if (c === lastCol) {
              // Another change of this page before the same column: only where it ends up counts.
              to[sw - 1] = nst;
            } else {
              if (sw === next.length) {
                next = grow(next);
                from = grow(from);
                to = grow(to);
              }
              from[sw] = st;
              to[sw] = nst;
              next[sw] = head[c];
              head[c] = sw;
              sw++;
              lastCol = c;
            }
            st = nst;
          }
        }
      }
      const rowBase = r * nx;
      for (let col = 0; col < nx; col++) {
        for (let w = head[col]; w >= 0; w = next[w]) {
          tally.remove(from[w]);
          tally.add(to[w]);
        }
        const cell = rowBase + col;
        if (tally.owned > 0) {
          owner[cell] = tally.dominant();
          fill[cell] = Math.max(1, Math.round((255 * tally.owned) / rowPages));
        } else if (tally.free > 0) owner[cell] = 0;
        if (tally.shared > 0) shared[cell] = 1;
      }
    }
    return { owner, fill, shared };
  }
}

/**
 * Pages per owner at n times evenly spread over [t0, t1] (state after every change at or before each
 * time). The `top` owners with the largest count at any sample are kept (pinned ones first, hidden ones
 * left in "other"), largest first, ties by id.
 */
export function seriesOf(log: ChangeLog, t0: number, t1: number, n: number, top: number, pinned: readonly number[] = [], hidden: readonly number[] = []): OwnershipSeries {
  const times = new Float64Array(n);
  for (let i = 0; i < n; i++) times[i] = n === 1 ? t1 : t0 + ((t1 - t0) * i) / (n - 1);
  // Read once: the loops below run over every change of the window.
  const prev = log.prev;
  const owner = log.owner;
  const ownerCount = log.ownerCount;
  const counts = new Int32Array(ownerCount);
  const start = log.changesUpTo(times[0]);
  const ends = new Uint32Array(n);
  for (let i = 0; i < n; i++) ends[i] = i === 0 ? start : log.changesUpTo(times[i]);
  // With fewer owners at all samples than changes in the window, the counts of every owner at every sample
  // are kept from the first pass over the changes, and the values read from them: a second pass over the
  // changes cost as much as the first (the webview bench's 10 M events, 2002 owners, 1780 samples).
  const cells = n * ownerCount;
  const kept = n > 0 && cells <= ends[n - 1] - start && cells <= KEPT_COUNTS_MAX ? new Int32Array(cells) : null;
  const seenAt = kept ? new Float64Array(n) : null;

  // Pass 1: each owner's largest count over the samples.
  const peak = new Int32Array(ownerCount);
  let seen = log.countsAt(start, counts);
  peak.set(counts);
  if (kept && seenAt) {
    kept.set(counts, 0);
    seenAt[0] = seen;
  }
  const touched: number[] = [];
  const mark = new Uint8Array(ownerCount);
  let c = start;
  for (let i = 1; i < n; i++) {
    const end = ends[i];
    if (kept && seenAt) {
      for (; c < end; c++) {
        const p = prev[c];
        if (p >= 0) counts[p]--;
        else seen++;
        counts[owner[c]]++;
      }
      for (let o = 0; o < ownerCount; o++) if (counts[o] > peak[o]) peak[o] = counts[o];
      kept.set(counts, i * ownerCount);
      seenAt[i] = seen;
      continue;
    }
    for (; c < end; c++) {
      const p = prev[c];
      if (p >= 0) counts[p]--;
      const o = owner[c];
      counts[o]++;
      if (!mark[o]) {
        mark[o] = 1;
        touched.push(o);
      }
    }
    for (const o of touched) {
      if (counts[o] > peak[o]) peak[o] = counts[o];
      mark[o] = 0;
    }
    touched.length = 0;
  }
  const owners = topOwners(peak, top, pinned, hidden);

  // Pass 2: the values, from the kept counts or from a second pass over the changes.
  const values = new Float64Array(owners.length * n);
  const other = new Float64Array(n);
  const free = new Float64Array(n);
  const unknown = new Float64Array(n);
  if (!kept) seen = log.countsAt(start, counts);
  c = start;
  for (let i = 0; i < n; i++) {
    let row = counts;
    let at = 0;
    if (kept && seenAt) {
      row = kept;
      at = i * ownerCount;
      seen = seenAt[i];
    } else {
      const end = ends[i];
      for (; c < end; c++) {
        const p = prev[c];
        if (p >= 0) counts[p]--;
        else seen++;
        counts[owner[c]]++;
      }
    }
    let shown = 0;
    for (let j = 0; j < owners.length; j++) {
      const v = row[at + owners[j]];
      values[j * n + i] = v;
      shown += v;
    }
    free[i] = row[at];
    other[i] = seen - row[at] - shown;
    unknown[i] = Math.max(0, log.rows - seen);
  }
  return { times, owners, values, other, free, unknown };
}

/**
 * The owners a series shows: the pinned ones first (valid, not hidden, once each), then the others with the
 * largest peak, largest first, ties by id, `top` in all. One pass over the owners keeping the best few in
 * order: sorting every owner with pages took 5-6 ms of a 20 ms partial series of the VS Code bench's trace
 * (52 k owners).
 */
function topOwners(peak: Int32Array, top: number, pinned: readonly number[], hidden: readonly number[]): Uint32Array {
  const ownerCount = peak.length;
  const skip = new Uint8Array(ownerCount);
  for (const o of hidden) if (o >= 0 && o < ownerCount) skip[o] = 1;
  const chosen: number[] = [];
  for (const o of pinned) {
    if (chosen.length >= top || o <= 0 || o >= ownerCount || skip[o]) continue;
    chosen.push(o);
    skip[o] = 1;
  }
  const room = top - chosen.length;
  // The best `room` owners so far, best first: by peak, then by id (owners come in id order, so an owner
  // with the peak of the last kept one comes after it).
  const best: number[] = [];
  if (room > 0) {
    for (let o = 1; o < ownerCount; o++) {
      const v = peak[o];
      if (v <= 0 || skip[o]) continue;
      if (best.length === room) {
        if (v <= peak[best[room - 1]]) continue;
        best.pop();
      }
      let i = best.length;
      while (i > 0 && peak[best[i - 1]] < v) i--;
      best.splice(i, 0, o);
    }
  }
  return Uint32Array.from([...chosen, ...best]);
}

/** At most this many counts (owners x samples) kept by `seriesOf`: 64 MiB. */
const KEPT_COUNTS_MAX = 1 << 24;

/** A typed array one and a half times as long, holding the same values first. */
function grow(a: Int32Array): Int32Array {
  const b = new Int32Array(Math.ceil(a.length * 1.5));
  b.set(a);
  return b;
}

/**
 * Page counts of one map cell as its row's switches are applied: per owner, owned, free and shared, with
 * the dominant owner (most pages, ties by lowest id) kept up to date on additions and recomputed, over the
 * owners holding pages only, when it loses one.
 */
class CellTally {
  owned = 0;
  free = 0;
  shared = 0;
  private readonly counts: Int32Array;
  /** Owners with a positive count, and each owner's index in it (-1 when absent). */
  private readonly live: Int32Array;
  private readonly at: Int32Array;
  private liveN = 0;
  private best = -1;
  private bestCount = 0;
  private dirty = false;

  constructor(owners: number) {
    this.counts = new Int32Array(owners);
    this.live = new Int32Array(owners);
    this.at = new Int32Array(owners).fill(-1);
  }

  reset(): void {
    for (let k = 0; k < this.liveN; k++) {
      const o = this.live[k];
      this.counts[o] = 0;
      this.at[o] = -1;
    }
    this.liveN = 0;
    this.owned = this.free = this.shared = 0;
    this.best = -1;
    this.bestCount = 0;
    this.dirty = false;
  }

  /** Count a page in state st (owner * 2 + shared bit; negative: never seen). */
  add(st: number): void {
    if (st < 0) return;
    this.shared += st & 1;
    const o = st >> 1;
    if (o === 0) {
      this.free++;
      return;
    }
    this.owned++;
    const v = ++this.counts[o];
    if (v === 1) {
      this.live[this.liveN] = o;
      this.at[o] = this.liveN++;
    }
    if (v > this.bestCount || (v === this.bestCount && o < this.best)) {
      this.best = o;
      this.bestCount = v;
    }
  }

  /** Stop counting a page in state st. */
  remove(st: number): void {
    if (st < 0) return;
    this.shared -= st & 1;
    const o = st >> 1;
    if (o === 0) {
      this.free--;
      return;
    }
    this.owned--;
    const v = --this.counts[o];
    if (v === 0) {
      const k = this.at[o];
      const last = this.live[--this.liveN];
      this.live[k] = last;
      this.at[last] = k;
      this.at[o] = -1;
    }
    if (o === this.best) this.dirty = true;
  }

  /** The owner holding most pages, ties by lowest id (-1 when none). */
  dominant(): number {
    if (this.dirty) {
      let best = -1;
      let bestCount = 0;
      for (let k = 0; k < this.liveN; k++) {
        const o = this.live[k];
        const v = this.counts[o];
        if (v > bestCount || (v === bestCount && o < best)) {
          best = o;
          bestCount = v;
        }
      }
      this.best = best;
      this.bestCount = bestCount;
      this.dirty = false;
    }
    return this.best;
  }
}

/** Layout regions in pfn order, plus clusters of pages seen outside any region. */
function buildSegments(b: TraceBuilder, pfns: Float64Array): MapSegment[] {
  const regions = b.layout.regions.filter((r) => r.start === r.start && r.pages > 0).sort((x, y) => x.start - y.start);
  const segs: MapSegment[] = [];
  let end = -Infinity;
  for (const r of regions) {
    const start = Math.max(r.start, end);
    const stop = r.start + r.pages;
    if (stop <= start) continue;
    segs.push({ name: r.name, type: r.type, node: r.node, start, pages: stop - start, offset: 0 });
    end = stop;
  }
  // Pages outside every region, clustered: a gap of more than one 16 MiB stretch starts a new cluster.
  const GAP = 4096;
  const inRegion = (pfn: number): boolean => {
    let lo = 0;
    let hi = segs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (pfn < segs[mid].start) hi = mid - 1;
      else if (pfn >= segs[mid].start + segs[mid].pages) lo = mid + 1;
      else return true;
    }
    return false;
  };
  const extra: MapSegment[] = [];
  let first = -1;
  let last = -1;
  const flush = (): void => {
    if (first < 0) return;
    extra.push({ name: `unlisted 0x${first.toString(16)}`, type: 'unlisted', node: b.layout.regionOf(first)?.node ?? -1, start: first, pages: last - first + 1, offset: 0 });
  };
  for (const pfn of pfns) {
    if (inRegion(pfn)) continue;
    if (first >= 0 && pfn - last <= GAP && !regionBetween(segs, last, pfn)) last = pfn;
    else {
      flush();
      first = last = pfn;
    }
  }
  flush();
  const all = [...segs, ...extra].sort((x, y) => x.start - y.start);
  let offset = 0;
  for (const g of all) {
    g.offset = offset;
    offset += g.pages;
  }
  return all;
}

function regionBetween(segs: MapSegment[], a: number, b: number): boolean {
  return segs.some((g) => g.start > a && g.start < b);
}

/** Offline intervals of every declared block, from its declared state and the online/offline events. */
function buildBlocks(b: TraceBuilder, toggles: Map<number, number[]>): BlockTimeline[] {
  return b.layout.blocks.map((blk) => {
    const offline: number[] = [];
    let off = blk.state === 'offline';
    let since = -Infinity;
    const list = toggles.get(blk.id) ?? [];
    for (let k = 0; k < list.length; k += 2) {
      const nowOff = list[k + 1] === 1;
      if (nowOff === off) continue;
      if (off) offline.push(since, list[k]);
      else since = list[k];
      off = nowOff;
    }
    if (off) offline.push(since, Infinity);
    return { id: blk.id, start: blk.start, pages: blk.pages, node: blk.node ?? -1, offline };
  });
}
