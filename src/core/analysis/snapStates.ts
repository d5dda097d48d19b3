/** Per-snapshot figures at the end of the trace. */
export interface SnapshotStats {
  id: number;
  /** Pages it references. */
  pages: number;
  /** Referenced pages still mapped by the process (shared) at the end. */
  shared: number;
  /** Copy-on-write breaks since it was taken. */
  cows: number;
  /** Dropped within the trace. */
  dropped: boolean;
  /** Event indices of its begin and end (-1 when absent). */
  begin: number;
  end: number;
}

const f64 = new Float64Array(1);
const i32 = new Int32Array(f64.buffer);

/**
 * Positions of numbers (snapshot ids) in a column, by open addressing over an Int32Array: 8 bytes a key
 * where a Map<number, number> took 40-60 (148 k snapshots: about 9 MB).
 */
export class NumberIndex {
  private slots = new Int32Array(512);
  private mask = 511;
  private n = 0;

  constructor(private keys: () => Float64Array) {}

  private hash(x: number): number {
    let h: number;
    if ((x | 0) === x) h = x | 0;
    else {
      f64[0] = x;
      h = i32[0] ^ Math.imul(i32[1], 0x9e3779b1);
    }
    h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
    return (h ^ (h >>> 16)) & this.mask;
  }

  /** The position of key x, or -1. */
  get(x: number): number {
    const keys = this.keys();
    for (let h = this.hash(x); ; h = (h + 1) & this.mask) {
      const v = this.slots[h];
      if (v === 0) return -1;
      const y = keys[v - 1];
      if (y === x || (y !== y && x !== x)) return v - 1;
    }
  }

  /** Record that key keys()[k] is at position k (the key is not there yet). */
  add(k: number): void {
    if (++this.n * 2 > this.slots.length) {
      this.slots = new Int32Array(this.slots.length * 2);
      this.mask = this.slots.length - 1;
      for (let j = 0; j < k; j++) this.place(j);
    }
    this.place(k);
  }

  private place(k: number): void {
    let h = this.hash(this.keys()[k]);
    while (this.slots[h] !== 0) h = (h + 1) & this.mask;
    this.slots[h] = k + 1;
  }
}

/**
 * The next capacity of columns that hold n: half as much again. Doubling left 148 k snapshots in columns
 * for 262 k and 637 k page references in columns for 1 M (unused at the peak of the 10 M-event
 * native trace, 13 MB); half again leaves at most a third unused: 168 k and 673 k there.
 */
function more(n: number): number {
  return n + (n >>> 1);
}

function grow<T extends Float64Array | Int32Array | Uint8Array>(a: T, n: number): T {
  const out = new (a.constructor as new (n: number) => T)(n);
  out.set(a);
  return out;
}

/**
 * The replay's state of every snapshot, as columns by snapshot index (the order snapshots were first
 * seen): its id, pid, whether it is live, its figures, and the pages it references as linked lists in
 * typed arrays. As one object with a stats object and an array of pages per snapshot (and a Map entry)
 * it was about 300 bytes a snapshot, 150 k of them in the 10 M-event native trace, all live at the
 * replay's end when its memory peaks.
 */
export class SnapStates {
  n = 0;
  id: Float64Array;
  pid: Float64Array;
  live: Uint8Array;
  records: Float64Array;
  cows: Float64Array;
  begin: Float64Array;
  end: Float64Array;
  private readonly byId = new NumberIndex(() => this.id);
  private head: Int32Array;
  private tail: Int32Array;
  private count: Int32Array;
  /** Page references: pfn and the next reference of the same snapshot (-1 none). */
  private refPfn = new Float64Array(1024);
  private refNext = new Int32Array(1024);
  private refs = 0;
  /**
   * Pages already reported as dangling or as written without CoW, per snapshot index: one report per
   * (snapshot, page). Made on the first report: an empty Set per snapshot was about 20 MB at 150 k snapshots.
   */
  private readonly reported = new Map<number, Set<number>>();

  /** `expected`: the number of snapshots when known (a replay after the parse), so the columns are made once at that size. */
  constructor(expected = 0) {
    const m = Math.max(256, expected);
    this.id = new Float64Array(m);
    this.pid = new Float64Array(m);
    this.live = new Uint8Array(m);
    this.records = new Float64Array(m);
    this.cows = new Float64Array(m);
    this.begin = new Float64Array(m);
    this.end = new Float64Array(m);
    this.head = new Int32Array(m);
    this.tail = new Int32Array(m);
    this.count = new Int32Array(m);
  }

  /** The index of snapshot `id`, made live with begin event i when new; its pid set if it had none. */
  index(id: number, pid: number, i: number): number {
    let k = this.byId.get(id);
    if (k < 0) {
      k = this.n++;
      if (k === this.id.length) {
        const m = more(k);
        this.id = grow(this.id, m);
        this.pid = grow(this.pid, m);
        this.live = grow(this.live, m);
        this.records = grow(this.records, m);
        this.cows = grow(this.cows, m);
        this.begin = grow(this.begin, m);
        this.end = grow(this.end, m);
        this.head = grow(this.head, m);
        this.tail = grow(this.tail, m);
        this.count = grow(this.count, m);
      }
      this.id[k] = id;
      this.byId.add(k);
      this.pid[k] = pid;
      this.live[k] = 1;
      this.records[k] = 0;
      this.cows[k] = 0;
      this.begin[k] = i;
      this.end[k] = -1;
      this.head[k] = this.tail[k] = -1;
      this.count[k] = 0;
    } else if (!this.pid[k] && pid) this.pid[k] = pid;
    return k;
  }

  /** Add page p to the references of snapshot k. */
  addPage(k: number, p: number): void {
    const r = this.refs++;
    if (r === this.refPfn.length) {
      this.refPfn = grow(this.refPfn, more(r));
      this.refNext = grow(this.refNext, more(r));
    }
    this.refPfn[r] = p;
    this.refNext[r] = -1;
    if (this.tail[k] < 0) this.head[k] = r;
    else this.refNext[this.tail[k]] = r;
    this.tail[k] = r;
    this.count[k]++;
  }

  /** The pages snapshot k references, in reference order (a copy: callers may change pages as they go). */
  pages(k: number): Float64Array {
    return this.copied.slice(0, this.copyPages(k));
  }

  /**
   * pages(k) into `copied` (valid until the next call), returning their count: no array made a call. A
   * restore and a drop read their snapshot's pages, 200 k times in the 10 M-event native trace, where a
   * new array each time was about 50 ms of the replay's 2.5 s.
   */
  copyPages(k: number): number {
    const n = this.count[k];
    if (this.copied.length < n) this.copied = new Float64Array(Math.max(n, this.copied.length * 2));
    const out = this.copied;
    let at = 0;
    for (let r = this.head[k]; r !== -1; r = this.refNext[r]) out[at++] = this.refPfn[r];
    return n;
  }

  /** The pages the last copyPages copied, from 0. */
  copied = new Float64Array(64);

  /** First report about page p for snapshot k: true once per (snapshot, page). */
  firstReport(k: number, p: number): boolean {
    let s = this.reported.get(k);
    if (s === undefined) this.reported.set(k, (s = new Set()));
    else if (s.has(p)) return false;
    s.add(p);
    return true;
  }

  /** The figures and pages at the end; `shared(pfn)` tells whether a referenced page is mapped by a process. */
  results(shared: (pfn: number) => boolean): SnapshotResults {
    const n = this.n;
    const start = new Uint32Array(n + 1);
    for (let k = 0; k < n; k++) start[k + 1] = start[k] + this.count[k];
    const pfns = new Float64Array(start[n]);
    const pages = new Float64Array(n);
    const sharedCount = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      let at = start[k];
      let sh = 0;
      for (let r = this.head[k]; r !== -1; r = this.refNext[r]) {
        const p = this.refPfn[r];
        pfns[at++] = p;
        if (shared(p)) sh++;
      }
      sharedCount[k] = sh;
      pages[k] = this.count[k] + this.records[k];
    }
    const dropped = new Uint8Array(n);
    for (let k = 0; k < n; k++) dropped[k] = this.live[k] ? 0 : 1;
    return new SnapshotResults(
      {
        id: this.id.slice(0, n),
        pages,
        shared: sharedCount,
        cows: this.cows.slice(0, n),
        dropped,
        begin: this.begin.slice(0, n),
        end: this.end.slice(0, n),
      },
      start,
      pfns,
    );
  }
}

/** Snapshot figures as columns, by snapshot index. */
export interface SnapshotStatsColumns {
  id: Float64Array;
  pages: Float64Array;
  shared: Float64Array;
  cows: Float64Array;
  dropped: Uint8Array;
  begin: Float64Array;
  end: Float64Array;
}

/**
 * Every snapshot's figures and referenced pages at the end of a replay, held as columns; `stats` and
 * `pages` read them as the maps `ReplayResult` has always offered (objects and arrays made when asked).
 */
export class SnapshotResults {
  private readonly byId: NumberIndex;
  readonly stats: ReadonlyMap<number, SnapshotStats>;
  readonly pages: ReadonlyMap<number, number[]>;

  constructor(
    readonly cols: SnapshotStatsColumns,
    readonly start: Uint32Array,
    readonly pfns: Float64Array,
  ) {
    this.byId = new NumberIndex(() => cols.id);
    for (let k = 0; k < cols.id.length; k++) this.byId.add(k);
    this.stats = new ColumnMap(cols.id, this.byId, (k) => this.statsAt(k));
    this.pages = new ColumnMap(cols.id, this.byId, (k) => Array.from(this.pfns.subarray(this.start[k], this.start[k + 1])));
  }

  private statsAt(k: number): SnapshotStats {
    const c = this.cols;
    return { id: c.id[k], pages: c.pages[k], shared: c.shared[k], cows: c.cows[k], dropped: c.dropped[k] === 1, begin: c.begin[k], end: c.end[k] };
  }
}

/** A read-only map over snapshot indices whose values are made on each read. */
class ColumnMap<V> implements ReadonlyMap<number, V> {
  constructor(
    private readonly ids: Float64Array,
    private readonly byId: NumberIndex,
    private readonly at: (k: number) => V,
  ) {}

  get size(): number {
    return this.ids.length;
  }

  get(id: number): V | undefined {
    const k = this.byId.get(id);
    return k < 0 ? undefined : this.at(k);
  }

  has(id: number): boolean {
    return this.byId.get(id) >= 0;
  }

  *entries(): MapIterator<[number, V]> {
    for (let k = 0; k < this.ids.length; k++) yield [this.ids[k], this.at(k)];
  }

  *keys(): MapIterator<number> {
    yield* this.ids;
  }

  *values(): MapIterator<V> {
    for (let k = 0; k < this.ids.length; k++) yield this.at(k);
  }

  forEach(fn: (value: V, key: number, map: ReadonlyMap<number, V>) => void): void {
    for (let k = 0; k < this.ids.length; k++) fn(this.at(k), this.ids[k], this);
  }

  [Symbol.iterator](): MapIterator<[number, V]> {
    return this.entries();
  }
}
