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
const HALF16 = 0x7fff;
const HALF32 = 0x7fffffff;

/** One chunk of a CompactColumn as plain data (for the index cache and worker transfer). */
export interface CompactChunk {
  rep: number;
  base: number;
  data: Uint16Array | Uint32Array | Float64Array | null;
}

/**
 * A numeric column whose chunks each take the narrowest form their values allow: a constant (no
 * array), 2- or 4-byte offsets from a base centred on the chunk's first value, or 8-byte floats. Exact
 * for every value (a value that does not round-trip widens the chunk). On the 2-million-event native
 * bench trace this took the store from 55 to 31 bytes an event: file, ref and arg2 are mostly constant
 * per chunk, pids and owner ids fit 16 bits, times and pfns 32.
 */
export class CompactColumn implements ColumnView {
  readonly rep: number[] = [];
  readonly base: number[] = [];
  readonly data: (Uint16Array | Uint32Array | Float64Array | null)[] = [];
  // The chunk being filled.
  private c = -1;
  private cRep: number = Rep.Const;
  private cBase = 0;
  private cRef = 0;
  private c16: Uint16Array = new Uint16Array(0);
  private c32: Uint32Array = new Uint32Array(0);
  private c64: Float64Array = new Float64Array(0);

  /** Start a new chunk whose first value is v. */
  begin(v: number): void {
    this.c = this.rep.length;
    this.rep.push(Rep.Const);
    this.base.push(v);
    this.data.push(null);
    this.cRep = Rep.Const;
    this.cBase = v;
  }

  /** Continue filling the last chunk (after columns were loaded with fromData). */
  resume(): void {
    const c = this.rep.length - 1;
    if (c < 0) return;
    this.c = c;
    this.cRep = this.rep[c];
    this.cBase = this.base[c];
    const d = this.data[c];
    if (this.cRep === Rep.U16) {
      this.c16 = d as Uint16Array;
      this.cRef = this.cBase + HALF16;
    } else if (this.cRep === Rep.U32) {
      this.c32 = d as Uint32Array;
      this.cRef = this.cBase + HALF32;
    } else if (this.cRep === Rep.F64) this.c64 = d as Float64Array;
  }

  /** Store v at slot j of the chunk being filled (slots are filled in order). */
  put(j: number, v: number): void {
    switch (this.cRep) {
      case Rep.Const: {
        const b = this.cBase;
        if (v === b || (v !== v && b !== b)) return;
        break;
      }
      case Rep.U16: {
        if (v !== v) {
          this.c16[j] = NAN16;
          return;
        }
        const off = v - this.cBase;
        if (off >= 0 && off < NAN16 && (off | 0) === off && off + this.cBase === v) {
          this.c16[j] = off;
          return;
        }
        break;
      }
      case Rep.U32: {
        if (v !== v) {
          this.c32[j] = NAN32;
          return;
        }
        const off = v - this.cBase;
        if (off >= 0 && off < NAN32 && Math.floor(off) === off && off + this.cBase === v) {
          this.c32[j] = off;
          return;
        }
        break;
      }
      default:
        this.c64[j] = v;
        return;
    }
    this.widen(j, v);
  }

  /** Slot j of the chunk being filled takes v, which its form cannot hold: move to the next form that can. */
  private widen(j: number, v: number): void {
    const c = this.c;
    if (this.cRep === Rep.Const) {
      // Centre the offsets on the first real number seen, so values on either side of it fit.
      const b = this.cBase;
      this.cRef = b === b ? b : v === v ? v : 0;
    }
    // Range of the offsets held so far (typed loops: this runs up to 3 times per chunk and column).
    let lo = Infinity;
    let hi = -Infinity;
    if (this.cRep === Rep.Const) {
      if (this.cBase === this.cBase) lo = hi = this.cBase;
    } else if (this.cRep === Rep.U16) {
      const a = this.c16;
      for (let k = 0; k < j; k++) {
        const x = a[k];
        if (x === NAN16) continue;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
      lo += this.cBase;
      hi += this.cBase;
    } else {
      const a = this.c32;
      for (let k = 0; k < j; k++) {
        const x = a[k];
        if (x === NAN32) continue;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
      lo += this.cBase;
      hi += this.cBase;
    }
    const ref = this.cRef;
    // Values held so far are exact offsets from ref - HALF16 or ref - HALF32 (a constant is ref itself),
    // and both bases differ by an integer: only their range and the new value need checking.
    const fits = (base: number, max: number): boolean => {
      if (lo <= hi && !(lo - base >= 0 && hi - base < max)) return false;
      if (v !== v) return true;
      const off = v - base;
      return off >= 0 && off < max && Math.floor(off) === off && off + base === v;
    };
    let rep: number = Rep.F64;
    if (this.cRep < Rep.U16 && fits(ref - HALF16, NAN16)) rep = Rep.U16;
    else if (this.cRep < Rep.U32 && fits(ref - HALF32, NAN32)) rep = Rep.U32;
    const oldRep = this.cRep;
    const oldBase = this.cBase;
    const o16 = this.c16;
    const o32 = this.c32;
    const old = (k: number): number =>
      oldRep === Rep.Const ? oldBase : oldRep === Rep.U16 ? (o16[k] === NAN16 ? NaN : o16[k] + oldBase) : o32[k] === NAN32 ? NaN : o32[k] + oldBase;
    this.cRep = rep;
    this.rep[c] = rep;
    if (rep === Rep.U16) {
      const base = ref - HALF16;
      const a = new Uint16Array(CHUNK);
      // Only Const widens to U16.
      a.fill(oldBase !== oldBase ? NAN16 : oldBase - base, 0, j);
      a[j] = v !== v ? NAN16 : v - base;
      this.c16 = a;
      this.cBase = base;
      this.data[c] = a;
    } else if (rep === Rep.U32) {
      const base = ref - HALF32;
      const a = new Uint32Array(CHUNK);
      if (oldRep === Rep.Const) a.fill(oldBase !== oldBase ? NAN32 : oldBase - base, 0, j);
      else {
        const shift = oldBase - base;
        for (let k = 0; k < j; k++) a[k] = o16[k] === NAN16 ? NAN32 : o16[k] + shift;
      }
      a[j] = v !== v ? NAN32 : v - base;
      this.c32 = a;
      this.cBase = base;
      this.data[c] = a;
    } else {
      const a = new Float64Array(CHUNK);
      if (oldRep === Rep.Const) a.fill(oldBase, 0, j);
      else for (let k = 0; k < j; k++) a[k] = old(k);
      a[j] = v;
      this.c64 = a;
      this.cBase = 0;
      this.data[c] = a;
    }
    this.base[c] = this.cBase;
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

  /** The chunks as plain data (arrays shared, not copied). */
  exportChunks(): CompactChunk[] {
    return this.rep.map((rep, c) => ({ rep, base: this.base[c], data: this.data[c] }));
  }
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
  // The byte chunks being filled, held directly so push() does no lookups.
  private cKind!: Uint8Array;
  private cOrder!: Uint8Array;

  push(e: EventRecord, file: number): number {
    const i = this.length;
    const j = i & MASK;
    if (j === 0) this.grow(e, file);
    this.cKind[j] = e.kind;
    this.cOrder[j] = e.order;
    this.file.put(j, file);
    this.node.put(j, e.node);
    this.line.put(j, e.line);
    this.owner.put(j, e.owner);
    this.pid.put(j, e.pid);
    this.ref.put(j, e.ref);
    this.time.put(j, e.time);
    this.pfn.put(j, e.pfn);
    this.arg.put(j, e.arg);
    this.arg2.put(j, e.arg2);
    const t = e.time;
    if (t < this.lastTime) this.sorted = false;
    else if (t === t) this.lastTime = t;
    this.length = i + 1;
    return i;
  }

  private grow(e: EventRecord, file: number): void {
    this.cKind = this.kind.grow();
    this.cOrder = this.orderCol.grow();
    this.file.begin(file);
    this.node.begin(e.node);
    this.line.begin(e.line);
    this.owner.begin(e.owner);
    this.pid.begin(e.pid);
    this.ref.begin(e.ref);
    this.time.begin(e.time);
    this.pfn.begin(e.pfn);
    this.arg.begin(e.arg);
    this.arg2.begin(e.arg2);
  }

  /**
   * Append every event of `src` as if pushed one by one, with its lines shifted by `lineOffset`, its file
   * set to `file` and its owner ids (and a fault's agent in ref) mapped through `ownerMap`. Column by
   * column: the two-thread parse merges a million events this way in a fraction of what read + push took.
   */
  appendStore(src: EventStore, file: number, lineOffset: number, ownerMap: Int32Array): void {
    const n = src.length;
    const at = this.length;
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
      for (let i = 0; i < n; i++) {
        let v = s.get(i);
        if (mode === 1) v = file;
        else if (mode === 2) v += lineOffset;
        else if (mode === 3) v = ownerMap[v];
        else if (mode === 4 && src.kind.get(i) === EventKind.Fault) v = ownerMap[v];
        const j = (at + i) & MASK;
        if (j === 0) d.begin(v);
        d.put(j, v);
      }
    }
    for (let i = 0; i < n; i++) {
      const t = src.time.get(i);
      if (t < this.lastTime) this.sorted = false;
      else if (t === t) this.lastTime = t;
    }
    this.length = at + n;
  }

  /** Read event i back into a scratch record. */
  read(i: number, out: EventRecord): EventRecord {
    const c = i >>> CHUNK_BITS;
    const j = i & MASK;
    out.kind = this.kind.chunks[c][j] as EventKind;
    out.order = this.orderCol.chunks[c][j];
    out.node = this.node.get(i);
    out.line = this.line.get(i);
    out.owner = this.owner.get(i);
    out.pid = this.pid.get(i);
    out.ref = this.ref.get(i);
    out.time = this.time.get(i);
    out.pfn = this.pfn.get(i);
    out.arg = this.arg.get(i);
    out.arg2 = this.arg2.get(i);
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
    idx.sort((a, b) => t[a] - t[b] || a - b);
    return idx;
  }

  bytes(): number {
    let n = this.kind.bytes() + this.orderCol.bytes();
    for (const name of COMPACT_COLUMNS) n += this[name].bytes();
    return n;
  }

  /** The columns as plain data; the typed arrays are shared, not copied. */
  exportData(): EventStoreData {
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
      col.resume();
    }
    if (s.length > 0) {
      s.cKind = s.kind.chunks[s.kind.chunks.length - 1];
      s.cOrder = s.orderCol.chunks[s.orderCol.chunks.length - 1];
    }
    return s;
  }
}
