import { EventKind, type EventRecord } from './events';

// Columns grow in fixed chunks instead of doubling: a doubling typed array briefly holds old + new copies
// (3x the data at the copy), which is what sets peak memory on a 10-million-event trace.
const CHUNK_BITS = 16;
const CHUNK = 1 << CHUNK_BITS;
const MASK = CHUNK - 1;

type Numeric = Float64Array | Uint32Array | Int32Array | Uint8Array | Int16Array | Uint16Array;

/** Read-only view of one column: value of event i. */
export interface ColumnView {
  get(i: number): number;
}

/**
 * One column as fixed-size chunks. Each EventStore field is its own Column instance over a single
 * typed-array type, so V8 keeps the accesses monomorphic.
 */
class Column<T extends Numeric> implements ColumnView {
  readonly chunks: T[] = [];
  constructor(private readonly make: (n: number) => T) {}
  grow(): T {
    const c = this.make(CHUNK);
    this.chunks.push(c);
    return c;
  }
  get(i: number): number {
    return this.chunks[i >>> CHUNK_BITS][i & MASK];
  }
  set(i: number, v: number): void {
    this.chunks[i >>> CHUNK_BITS][i & MASK] = v;
  }
  bytes(): number {
    return this.chunks.length * (this.chunks[0]?.byteLength ?? 0);
  }
}

/**
 * All events of a trace, one typed-array column per field (50 bytes an event). Event i is the i-th
 * pushed; the analysis visits them in time order through `order()`.
 */
export class EventStore {
  length = 0;
  readonly kind = new Column((n) => new Uint8Array(n));
  readonly orderCol = new Column((n) => new Uint8Array(n));
  readonly file = new Column((n) => new Uint16Array(n));
  readonly node = new Column((n) => new Int16Array(n));
  readonly line = new Column((n) => new Uint32Array(n));
  readonly owner = new Column((n) => new Uint32Array(n));
  readonly pid = new Column((n) => new Int32Array(n));
  readonly ref = new Column((n) => new Uint32Array(n));
  readonly time = new Column((n) => new Float64Array(n));
  readonly pfn = new Column((n) => new Float64Array(n));
  readonly arg = new Column((n) => new Float64Array(n));
  readonly arg2 = new Column((n) => new Float64Array(n));
  /** True while every event was pushed with a time not smaller than the one before. */
  sorted = true;
  private lastTime = -Infinity;
  // The chunks being filled, held directly so push() does no lookups.
  private cKind!: Uint8Array;
  private cOrder!: Uint8Array;
  private cFile!: Uint16Array;
  private cNode!: Int16Array;
  private cLine!: Uint32Array;
  private cOwner!: Uint32Array;
  private cPid!: Int32Array;
  private cRef!: Uint32Array;
  private cTime!: Float64Array;
  private cPfn!: Float64Array;
  private cArg!: Float64Array;
  private cArg2!: Float64Array;

  push(e: EventRecord, file: number): number {
    const i = this.length;
    const j = i & MASK;
    if (j === 0) this.grow();
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
    this.cKind = this.kind.grow();
    this.cOrder = this.orderCol.grow();
    this.cFile = this.file.grow();
    this.cNode = this.node.grow();
    this.cLine = this.line.grow();
    this.cOwner = this.owner.grow();
    this.cPid = this.pid.grow();
    this.cRef = this.ref.grow();
    this.cTime = this.time.grow();
    this.cPfn = this.pfn.grow();
    this.cArg = this.arg.grow();
    this.cArg2 = this.arg2.grow();
  }

  /** Read event i back into a scratch record. */
  read(i: number, out: EventRecord): EventRecord {
    const c = i >>> CHUNK_BITS;
    const j = i & MASK;
    out.kind = this.kind.chunks[c][j] as EventKind;
    out.order = this.orderCol.chunks[c][j];
    out.node = this.node.chunks[c][j];
    out.line = this.line.chunks[c][j];
    out.owner = this.owner.chunks[c][j];
    out.pid = this.pid.chunks[c][j];
    out.ref = this.ref.chunks[c][j];
    out.time = this.time.chunks[c][j];
    out.pfn = this.pfn.chunks[c][j];
    out.arg = this.arg.chunks[c][j];
    out.arg2 = this.arg2.chunks[c][j];
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
    for (const col of [this.kind, this.orderCol, this.file, this.node, this.line, this.owner, this.pid, this.ref, this.time, this.pfn, this.arg, this.arg2]) n += col.bytes();
    return n;
  }
}
