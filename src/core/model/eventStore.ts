import { EventKind, type EventRecord } from './events';

// Columns grow in fixed chunks instead of doubling: a doubling typed array briefly holds old + new copies
// (3x the data at the copy), which is what sets peak memory on a 10-million-event trace.
const CHUNK_BITS = 16;
const CHUNK = 1 << CHUNK_BITS;
const MASK = CHUNK - 1;

type TypedArrayCtor<T> = { new (n: number): T };

/** A growable column of one typed-array type, stored as fixed-size chunks. */
class Column<T extends Float64Array | Uint32Array | Int32Array | Uint8Array | Int16Array | Uint16Array> {
  readonly chunks: T[] = [];
  constructor(private readonly ctor: TypedArrayCtor<T>) {}
  ensure(chunk: number): void {
    while (this.chunks.length <= chunk) this.chunks.push(new this.ctor(CHUNK));
  }
  get(i: number): number {
    return this.chunks[i >>> CHUNK_BITS][i & MASK];
  }
  set(i: number, v: number): void {
    this.chunks[i >>> CHUNK_BITS][i & MASK] = v;
  }
  bytes(): number {
    let n = 0;
    for (const c of this.chunks) n += c.byteLength;
    return n;
  }
}

/**
 * All events of a trace, one typed-array column per field (about 50 bytes an event). Event i is the
 * i-th pushed; the analysis visits them in time order through `order()`.
 */
export class EventStore {
  length = 0;
  readonly kind = new Column(Uint8Array);
  readonly orderCol = new Column(Uint8Array);
  readonly file = new Column(Uint16Array);
  readonly node = new Column(Int16Array);
  readonly line = new Column(Uint32Array);
  readonly owner = new Column(Uint32Array);
  readonly pid = new Column(Int32Array);
  readonly ref = new Column(Uint32Array);
  readonly time = new Column(Float64Array);
  readonly pfn = new Column(Float64Array);
  readonly arg = new Column(Float64Array);
  readonly arg2 = new Column(Float64Array);
  /** True while every event was pushed with a time not smaller than the one before. */
  sorted = true;
  private lastTime = -Infinity;

  push(e: EventRecord, file: number): number {
    const i = this.length;
    if ((i & MASK) === 0) {
      const c = i >>> CHUNK_BITS;
      for (const col of this.columns()) col.ensure(c);
    }
    this.kind.set(i, e.kind);
    this.orderCol.set(i, e.order);
    this.file.set(i, file);
    this.node.set(i, e.node);
    this.line.set(i, e.line);
    this.owner.set(i, e.owner);
    this.pid.set(i, e.pid);
    this.ref.set(i, e.ref);
    this.time.set(i, e.time);
    this.pfn.set(i, e.pfn);
    this.arg.set(i, e.arg);
    this.arg2.set(i, e.arg2);
    if (e.time < this.lastTime) this.sorted = false;
    else if (e.time === e.time) this.lastTime = e.time;
    this.length = i + 1;
    return i;
  }

  /** Read event i back into a scratch record. */
  read(i: number, out: EventRecord): EventRecord {
    out.kind = this.kind.get(i) as EventKind;
    out.order = this.orderCol.get(i);
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
    let n = 0;
    for (const col of this.columns()) n += col.bytes();
    return n;
  }

  private columns() {
    return [this.kind, this.orderCol, this.file, this.node, this.line, this.owner, this.pid, this.ref, this.time, this.pfn, this.arg, this.arg2] as const;
  }
}
