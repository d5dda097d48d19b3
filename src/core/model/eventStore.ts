import { EventKind, type EventRecord } from './events';

// Columns grow in fixed chunks instead of doubling: a doubling typed array briefly holds old + new copies
// (3x the data at the copy), which is what sets peak memory on a 10-million-event trace.
const CHUNK_BITS = 16;
/** Events per column chunk. */
export const CHUNK = 1 << CHUNK_BITS;
const MASK = CHUNK - 1;

/** Read-only view of one column: value of event i. */
export interface ColumnView {
  get(i: number): number;
}

/** One byte per event (kind, order): fixed-size Uint8Array chunks. */
class ByteColumn implements ColumnView {
  readonly chunks: Uint8Array[] = [];
  grow(): Uint8Array {
    const c = new Uint8Array(CHUNK);
    this.chunks.push(c);
    return c;
  }
  get(i: number): number {
    return this.chunks[i >>> CHUNK_BITS][i & MASK];
  }
  bytes(): number {
    return this.chunks.length * CHUNK;
  }
}

/** How one chunk of a CompactColumn holds its values. */
export const Rep = {
  /** Every value of the chunk is `base` (no array at all). */
  Const: 0,
  /** Uint16 offsets from `base`; 0xffff is NaN. */
  U16: 1,
  /** Uint32 offsets from `base`; 0xffffffff is NaN. */
  U32: 2,
  /** The values as they are. */
  F64: 3,
} as const;

const NAN16 = 0xffff;
const NAN32 = 0xffffffff;
// Offsets from a chunk's minimum are exact while values stay below 2^53.
const EXACT = 2 ** 53;

/** One chunk of a CompactColumn as plain data (for the index cache and worker transfer). */
export interface CompactChunk {
  rep: number;
  base: number;
  data: Uint16Array | Uint32Array | Float64Array | null;
}

/**
 * A numeric column whose chunks each take the narrowest form their values allow: a constant (no
 * array), 2- or 4-byte offsets from the chunk's minimum, or 8-byte floats; exact for every value. The
 * chunk being filled is a plain Float64Array (push is one store per value) and is packed when full, by
 * typed loops over it: packing per value on push cost 110 ns an event. On the 2-million-event native
 * bench trace this took the store from 55 to 41 bytes an event, on ftrace kmem from 63 to 18: file, ref
 * and arg2 are mostly constant per chunk, pids and owner ids fit 16 bits, times and pfns 32.
 */
export class CompactColumn implements ColumnView {
  readonly rep: number[] = [];
  readonly base: number[] = [];
  readonly data: (Uint16Array | Uint32Array | Float64Array | null)[] = [];
  /** The chunk being filled (raw), -1 when none is. */
  private c = -1;
  /** Slots of chunk c written so far (known when packing a partial chunk). */
  private filled = 0;
  private spare: Float64Array | null = null;

  /** Start a new chunk (packing the full one before it) and return its raw array to write slots into. */
  begin(): Float64Array {
    if (this.c >= 0) this.pack(this.c, CHUNK);
    const raw = this.spare ?? new Float64Array(CHUNK);
    this.spare = null;
    this.c = this.rep.length;
    this.rep.push(Rep.F64);
    this.base.push(0);
    this.data.push(raw);
    this.filled = 0;
    return raw;
  }

  /** Tell the column how many slots of the current chunk hold values (before a pack of a partial chunk). */
  setFilled(n: number): void {
    this.filled = n;
  }

  /** Pack the chunk being filled now (a partial last chunk), e.g. before export. */
  finish(): void {
    if (this.c >= 0) this.pack(this.c, this.filled);
    this.c = -1;
  }

  /** Unpack the last chunk into a raw array again to append to it (after finish or fromData); returns it. */
  resume(filled: number): Float64Array {
    const c = this.rep.length - 1;
    const raw = new Float64Array(CHUNK);
    for (let j = 0; j < filled; j++) raw[j] = this.get(c * CHUNK + j);
    this.rep[c] = Rep.F64;
    this.base[c] = 0;
    this.data[c] = raw;
    this.c = c;
    this.filled = filled;
    this.rc = -1;
    return raw;
  }

  /** The raw array of the chunk being filled. */
  current(): Float64Array {
    return this.data[this.c] as Float64Array;
  }

  private pack(c: number, n: number): void {
    if (n === 0) return;
    const raw = this.data[c] as Float64Array;
    // Pass 1: range and NaNs (comparisons with NaN are false, so NaN never moves lo or hi).
    let lo = Infinity;
    let hi = -Infinity;
    let nans = 0;
    for (let j = 0; j < n; j++) {
      const x = raw[j];
      if (x < lo) lo = x;
      if (x > hi) hi = x;
      if (x !== x) nans++;
    }
    this.rc = -1;
    if (lo > hi || (lo === hi && nans === 0)) {
      // Every value the same (or every one NaN).
      this.rep[c] = Rep.Const;
      this.base[c] = lo > hi ? NaN : lo;
      this.data[c] = null;
      this.spare = raw;
      return;
    }
    if (!(lo >= -EXACT && hi < EXACT) || Math.floor(lo) !== lo) return;
    // Pass 2: offsets, each checked by reading it back (a fraction or an out-of-range value does not
    // round-trip); on the first that does not, the chunk stays float64.
    const span = hi - lo;
    if (span < NAN16) {
      const a = new Uint16Array(CHUNK);
      for (let j = 0; j < n; j++) {
        const x = raw[j];
        if (x !== x) {
          a[j] = NAN16;
          continue;
        }
        const off = x - lo;
        a[j] = off;
        if (a[j] !== off) return;
      }
      this.rep[c] = Rep.U16;
      this.base[c] = lo;
      this.data[c] = a;
      this.spare = raw;
    } else if (span < NAN32) {
      const a = new Uint32Array(CHUNK);
      for (let j = 0; j < n; j++) {
        const x = raw[j];
        if (x !== x) {
          a[j] = NAN32;
          continue;
        }
        const off = x - lo;
        a[j] = off;
        if (a[j] !== off) return;
      }
      this.rep[c] = Rep.U32;
      this.base[c] = lo;
      this.data[c] = a;
      this.spare = raw;
    }
    // Else the raw array stays as the chunk's float64 form.
  }

  // Read cursor: the chunk last read, its form and its array in fields of one type each. Reads in order
  // (the replay) then skip three array loads per value: 1 M native events read in 2-3x less time.
  private rc = -1;
  private rRep: number = Rep.Const;
  private rBase = 0;
  private r16: Uint16Array = new Uint16Array(0);
  private r32: Uint32Array = new Uint32Array(0);
  private r64: Float64Array = new Float64Array(0);

  private seek(c: number): void {
    this.rc = c;
    this.rRep = this.rep[c];
    this.rBase = this.base[c];
    const d = this.data[c];
    if (this.rRep === Rep.U16) this.r16 = d as Uint16Array;
    else if (this.rRep === Rep.U32) this.r32 = d as Uint32Array;
    else if (this.rRep === Rep.F64) this.r64 = d as Float64Array;
  }

  /** Value at slot j of chunk c, through the read cursor. */
  at(c: number, j: number): number {
    if (c !== this.rc) this.seek(c);
    switch (this.rRep) {
      case Rep.Const:
        return this.rBase;
      case Rep.U16: {
        const x = this.r16[j];
        return x === NAN16 ? NaN : x + this.rBase;
      }
      case Rep.U32: {
        const x = this.r32[j];
        return x === NAN32 ? NaN : x + this.rBase;
      }
      default:
        return this.r64[j];
    }
  }

  get(i: number): number {
    const c = i >>> CHUNK_BITS;
    switch (this.rep[c]) {
      case Rep.Const:
        return this.base[c];
      case Rep.U16: {
        const x = (this.data[c] as Uint16Array)[i & MASK];
        return x === NAN16 ? NaN : x + this.base[c];
      }
      case Rep.U32: {
        const x = (this.data[c] as Uint32Array)[i & MASK];
        return x === NAN32 ? NaN : x + this.base[c];
      }
      default:
        return (this.data[c] as Float64Array)[i & MASK];
    }
  }

  bytes(): number {
    let n = 0;
    for (const d of this.data) if (d) n += d.byteLength;
    return n;
  }

  /**
   * Remove the first k chunks (all packed) and return them as plain data; the chunk being filled, if
   * any, becomes chunk c - k.
   */
  takeFront(k: number): CompactChunk[] {
    const out: CompactChunk[] = [];
    for (let c = 0; c < k; c++) out.push({ rep: this.rep[c], base: this.base[c], data: this.data[c] });
    this.rep.splice(0, k);
    this.base.splice(0, k);
    this.data.splice(0, k);
    if (this.c >= 0) this.c -= k;
    this.rc = -1;
    return out;
  }

  /** Append packed chunks as they are (no copy); the column must have no chunk being filled. */
  adopt(chunks: CompactChunk[]): void {
    for (const ch of chunks) {
      this.rep.push(ch.rep);
      this.base.push(ch.base);
      this.data.push(ch.data);
    }
  }

  /** The chunks as plain data (arrays shared, not copied). */
  exportChunks(): CompactChunk[] {
    return this.rep.map((rep, c) => ({ rep, base: this.base[c], data: this.data[c] }));
  }
}

/**
 * Indices 0..n-1 (given in `idx`) ordered by t, ties in index order: an LSD radix sort over the bits of
 * each double made order-preserving, 16 bits a pass. A comparator sort of 750 k page_owner records took
 * 240 ms (and grew faster than n: 2.5 M records spent most of an 18 s replay sorting and reading out of
 * order); this is four linear passes.
 */
export function argsortStable(t: Float64Array, idx: Uint32Array): Uint32Array {
  const n = idx.length;
  if (n < 2) return idx;
  const bits = new Uint32Array(t.buffer, t.byteOffset, n * 2);
  // Little-endian halves: bits[2i] low, bits[2i+1] high. Flip so unsigned order is numeric order.
  const lo = new Uint32Array(n);
  const hi = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let h = bits[2 * i + 1];
    let l = bits[2 * i];
    if (h & 0x80000000) {
      h = ~h >>> 0;
      l = ~l >>> 0;
    } else h = (h | 0x80000000) >>> 0;
    hi[i] = h;
    lo[i] = l;
  }
  let src: Uint32Array = idx;
  let dst: Uint32Array = new Uint32Array(n);
  const count = new Uint32Array(65537);
  for (let pass = 0; pass < 4; pass++) {
    const key = pass < 2 ? lo : hi;
    const shift = (pass & 1) * 16;
    count.fill(0);
    for (let k = 0; k < n; k++) count[((key[src[k]] >>> shift) & 0xffff) + 1]++;
    // All keys share this digit: the pass would not move anything.
    if (count[((key[src[0]] >>> shift) & 0xffff) + 1] === n) continue;
    for (let d = 0; d < 65536; d++) count[d + 1] += count[d];
    for (let k = 0; k < n; k++) {
      const i = src[k];
      dst[count[(key[i] >>> shift) & 0xffff]++] = i;
    }
    const tmp = src;
    src = dst;
    dst = tmp;
  }
  return src;
}

/** The names of an EventStore's numeric columns, in a fixed order (the index cache relies on it). */
export const COMPACT_COLUMNS = ['file', 'node', 'line', 'owner', 'pid', 'ref', 'time', 'pfn', 'arg', 'arg2'] as const;
/** One of COMPACT_COLUMNS. */
export type CompactColumnName = (typeof COMPACT_COLUMNS)[number];

/** An EventStore's columns as plain data: what the index cache writes and workers transfer. */
export interface EventStoreData {
  length: number;
  sorted: boolean;
  lastTime: number;
  kind: Uint8Array[];
  order: Uint8Array[];
  columns: Record<CompactColumnName, CompactChunk[]>;
}

/**
 * All events of a trace, one column per field, each chunk in the narrowest form its values allow
 * (CompactColumn). Event i is the i-th pushed; the analysis visits them in time order through `order()`.
 */
export class EventStore {
  length = 0;
  readonly kind = new ByteColumn();
  readonly orderCol = new ByteColumn();
  readonly file = new CompactColumn();
  readonly node = new CompactColumn();
  readonly line = new CompactColumn();
  readonly owner = new CompactColumn();
  readonly pid = new CompactColumn();
  readonly ref = new CompactColumn();
  readonly time = new CompactColumn();
  readonly pfn = new CompactColumn();
  readonly arg = new CompactColumn();
  readonly arg2 = new CompactColumn();
  /** True while every event was pushed with a time not smaller than the one before. */
  sorted = true;
  private lastTime = -Infinity;
  // The chunks being filled, held directly so push() does plain typed-array stores.
  private cKind!: Uint8Array;
  private cOrder!: Uint8Array;
  private cFile!: Float64Array;
  private cNode!: Float64Array;
  private cLine!: Float64Array;
  private cOwner!: Float64Array;
  private cPid!: Float64Array;
  private cRef!: Float64Array;
  private cTime!: Float64Array;
  private cPfn!: Float64Array;
  private cArg!: Float64Array;
  private cArg2!: Float64Array;
  /** The last chunk is packed (by exportData or fromData) and must be unpacked before a push into it. */
  private packedTail = false;

  push(e: EventRecord, file: number): number {
    const i = this.length;
    const j = i & MASK;
    if (j === 0) this.grow();
    else if (this.packedTail) this.resumeTail();
    this.cKind[j] = e.kind;
    this.cOrder[j] = e.order;
    this.cFile[j] = file;
    this.cNode[j] = e.node;
    this.cLine[j] = e.line;
    this.cOwner[j] = e.owner;
    this.cPid[j] = e.pid;
    this.cRef[j] = e.ref;
    this.cTime[j] = e.time;
    this.cPfn[j] = e.pfn;
    this.cArg[j] = e.arg;
    this.cArg2[j] = e.arg2;
    const t = e.time;
    if (t < this.lastTime) this.sorted = false;
    else if (t === t) this.lastTime = t;
    this.length = i + 1;
    return i;
  }

  private grow(): void {
    this.packedTail = false;
    this.cKind = this.kind.grow();
    this.cOrder = this.orderCol.grow();
    this.cFile = this.file.begin();
    this.cNode = this.node.begin();
    this.cLine = this.line.begin();
    this.cOwner = this.owner.begin();
    this.cPid = this.pid.begin();
    this.cRef = this.ref.begin();
    this.cTime = this.time.begin();
    this.cPfn = this.pfn.begin();
    this.cArg = this.arg.begin();
    this.cArg2 = this.arg2.begin();
  }

  private resumeTail(): void {
    this.packedTail = false;
    const n = this.length & MASK;
    this.cKind = this.kind.chunks[this.kind.chunks.length - 1];
    this.cOrder = this.orderCol.chunks[this.orderCol.chunks.length - 1];
    this.cFile = this.file.resume(n);
    this.cNode = this.node.resume(n);
    this.cLine = this.line.resume(n);
    this.cOwner = this.owner.resume(n);
    this.cPid = this.pid.resume(n);
    this.cRef = this.ref.resume(n);
    this.cTime = this.time.resume(n);
    this.cPfn = this.pfn.resume(n);
    this.cArg = this.arg.resume(n);
    this.cArg2 = this.arg2.resume(n);
  }

  /** Pack the partly filled last chunk of every column (before the columns are exported). */
  private packTail(): void {
    const n = this.length & MASK;
    if (n === 0 || this.packedTail) return;
    for (const name of COMPACT_COLUMNS) {
      this[name].setFilled(n);
      this[name].finish();
    }
    this.packedTail = true;
  }

  /**
   * Append every event of `src` as if pushed one by one, with its lines shifted by `lineOffset`, its file
   * set to `file` and its owner ids (and a fault's agent in ref) mapped through `ownerMap`. Column by
   * column: the two-thread parse merges a million events this way in a fraction of what read + push took.
   */
  appendStore(src: EventStore, file: number, lineOffset: number, ownerMap: Int32Array): void {
    const n = src.length;
    if (n === 0) return;
    const at = this.length;
    if ((at & MASK) !== 0 && this.packedTail) this.resumeTail();
    for (let i = 0; i < n; i++) {
      const j = (at + i) & MASK;
      if (j === 0) {
        this.cKind = this.kind.grow();
        this.cOrder = this.orderCol.grow();
      }
      this.cKind[j] = src.kind.get(i);
      this.cOrder[j] = src.orderCol.get(i);
    }
    for (const name of COMPACT_COLUMNS) {
      const d = this[name];
      const s = src[name];
      const mode = name === 'file' ? 1 : name === 'line' ? 2 : name === 'owner' ? 3 : name === 'ref' ? 4 : 0;
      let raw = (at & MASK) !== 0 ? d.current() : new Float64Array(0);
      for (let i = 0; i < n; i++) {
        let v = s.get(i);
        if (mode === 1) v = file;
        else if (mode === 2) v += lineOffset;
        else if (mode === 3) v = ownerMap[v];
        else if (mode === 4 && src.kind.get(i) === EventKind.Fault) v = ownerMap[v];
        const j = (at + i) & MASK;
        if (j === 0) raw = d.begin();
        raw[j] = v;
      }
    }
    for (let i = 0; i < n; i++) {
      const t = src.time.get(i);
      if (t < this.lastTime) this.sorted = false;
      else if (t === t) this.lastTime = t;
    }
    this.length = at + n;
    this.packedTail = false;
    this.cFile = this.file.current();
    this.cNode = this.node.current();
    this.cLine = this.line.current();
    this.cOwner = this.owner.current();
    this.cPid = this.pid.current();
    this.cRef = this.ref.current();
    this.cTime = this.time.current();
    this.cPfn = this.pfn.current();
    this.cArg = this.arg.current();
    this.cArg2 = this.arg2.current();
  }

  /**
   * Hand over the full chunks as plain data (the last one packed now if it is full) and keep only the
   * chunk being filled: a parse worker sends its events off a chunk at a time, with no copy on either side
   * (`adoptData`).
   */
  takeFullChunks(): EventStoreData {
    const full = this.length >>> CHUNK_BITS;
    if ((this.length & MASK) === 0 && full > 0 && !this.packedTail) {
      // The last chunk is full but still raw (a chunk is packed when the next one begins).
      for (const name of COMPACT_COLUMNS) {
        this[name].setFilled(CHUNK);
        this[name].finish();
      }
    }
    const columns = {} as Record<CompactColumnName, CompactChunk[]>;
    for (const name of COMPACT_COLUMNS) columns[name] = this[name].takeFront(full);
    const data: EventStoreData = {
      length: full * CHUNK,
      sorted: this.sorted,
      lastTime: this.lastTime,
      kind: this.kind.chunks.splice(0, full),
      order: this.orderCol.chunks.splice(0, full),
      columns,
    };
    this.length -= full * CHUNK;
    return data;
  }

  /**
   * Append the events of `d` (from `takeFullChunks` or `exportData` of a store whose file, line numbers
   * and owner ids are already this store's) by taking its chunks as they are. Only when this store ends
   * on a chunk boundary; returns false (and appends nothing) when it does not.
   */
  adoptData(d: EventStoreData): boolean {
    if ((this.length & MASK) !== 0) return false;
    if (d.length === 0) return true;
    // Time order exactly as push() would have judged it, value by value (the data's own flags cover
    // events the sender kept back).
    const times = new CompactColumn();
    times.adopt(d.columns.time);
    let last = this.lastTime;
    let sorted = this.sorted;
    for (let i = 0; i < d.length; i++) {
      const t = times.get(i);
      if (t < last) sorted = false;
      else if (t === t) last = t;
    }
    this.sorted = sorted;
    this.lastTime = last;
    this.kind.chunks.push(...d.kind);
    this.orderCol.chunks.push(...d.order);
    for (const name of COMPACT_COLUMNS) this[name].adopt(d.columns[name]);
    this.length += d.length;
    this.packedTail = (this.length & MASK) !== 0;
    return true;
  }

  /** Read event i back into a scratch record. */
  read(i: number, out: EventRecord): EventRecord {
    const c = i >>> CHUNK_BITS;
    const j = i & MASK;
    out.kind = this.kind.chunks[c][j] as EventKind;
    out.order = this.orderCol.chunks[c][j];
    out.node = this.node.at(c, j);
    out.line = this.line.at(c, j);
    out.owner = this.owner.at(c, j);
    out.pid = this.pid.at(c, j);
    out.ref = this.ref.at(c, j);
    out.time = this.time.at(c, j);
    out.pfn = this.pfn.at(c, j);
    out.arg = this.arg.at(c, j);
    out.arg2 = this.arg2.at(c, j);
    return out;
  }

  /**
   * Event indices in time order, stable (ties keep file order, then line order). Events without a
   * time keep the time of the event before them in the same file. Null when pushes were already in order.
   */
  order(): Uint32Array | null {
    if (this.sorted) return null;
    const n = this.length;
    const idx = new Uint32Array(n);
    const t = new Float64Array(n);
    let last = -Infinity;
    let lastFile = -1;
    for (let i = 0; i < n; i++) {
      idx[i] = i;
      const f = this.file.get(i);
      if (f !== lastFile) {
        last = -Infinity;
        lastFile = f;
      }
      const ti = this.time.get(i);
      if (ti === ti) last = ti;
      t[i] = last;
    }
    return argsortStable(t, idx);
  }

  bytes(): number {
    let n = this.kind.bytes() + this.orderCol.bytes();
    for (const name of COMPACT_COLUMNS) n += this[name].bytes();
    return n;
  }

  /** The columns as plain data; the typed arrays are shared, not copied. */
  exportData(): EventStoreData {
    this.packTail();
    const columns = {} as Record<CompactColumnName, CompactChunk[]>;
    for (const name of COMPACT_COLUMNS) columns[name] = this[name].exportChunks();
    return { length: this.length, sorted: this.sorted, lastTime: this.lastTime, kind: this.kind.chunks, order: this.orderCol.chunks, columns };
  }

  /** A store over columns from `exportData` (read back from the index cache or a worker). */
  static fromData(d: EventStoreData): EventStore {
    const s = new EventStore();
    s.length = d.length;
    s.sorted = d.sorted;
    s.lastTime = d.lastTime;
    s.kind.chunks.push(...d.kind);
    s.orderCol.chunks.push(...d.order);
    for (const name of COMPACT_COLUMNS) {
      const col = s[name];
      for (const ch of d.columns[name]) {
        col.rep.push(ch.rep);
        col.base.push(ch.base);
        col.data.push(ch.data);
      }
    }
    s.packedTail = (s.length & MASK) !== 0;
    return s;
  }
}
