import type { SnapshotInfo, SnapshotSource } from './traceBuilder';

const SOURCES: readonly SnapshotSource[] = ['native', 'snapshot-log', 'page_owner', 'criu'];
const HAS_PID = 1;
const HAS_PARENT = 2;
const HAS_COMM = 4;
/** The name is `snapshot <id>` (every native snapshot's): made when read, not stored. */
const DEFAULT_NAME = 8;

/**
 * A trace's snapshots as plain columns: what a parse worker sends (typed arrays, transferable) and what
 * the table holds. Row k is snapshot `first + k`; `name` and `comm` index `strings` (-1: none), counted
 * from `stringsFirst` (the strings before were sent earlier).
 */
export interface SnapshotColumns {
  first: number;
  id: Float64Array;
  source: Uint8Array;
  flags: Uint8Array;
  name: Int32Array;
  comm: Int32Array;
  pid: Float64Array;
  time: Float64Array;
  file: Int32Array;
  line: Float64Array;
  parent: Float64Array;
  strings: string[];
  stringsFirst: number;
}

function grow<T extends Float64Array | Int32Array | Uint8Array>(a: T, n: number): T {
  const out = new (a.constructor as new (n: number) => T)(n);
  out.set(a);
  return out;
}

const f64 = new Float64Array(1);
const i32 = new Int32Array(f64.buffer);

function hashNum(x: number): number {
  let h: number;
  if ((x | 0) === x) h = x | 0;
  else {
    f64[0] = x;
    h = i32[0] ^ Math.imul(i32[1], 0x9e3779b1);
  }
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return h ^ (h >>> 16);
}

/**
 * The snapshots of a trace in the order they were added, as columns, looked up by id through an
 * open-addressing table. `get(k)` makes a `SnapshotInfo` object when asked. As objects (with a Map by id)
 * the 148 k snapshots of the 10 M-event native trace took 36 MB of heap (about 240 bytes each: the
 * object, its time as a boxed double, its `snapshot <id>` name, the map entry).
 */
export class SnapshotTable {
  private n = 0;
  private id = new Float64Array(64);
  private source = new Uint8Array(64);
  private flags = new Uint8Array(64);
  private name = new Int32Array(64);
  private comm = new Int32Array(64);
  private pid = new Float64Array(64);
  private time = new Float64Array(64);
  private file = new Int32Array(64);
  private line = new Float64Array(64);
  private parent = new Float64Array(64);
  private readonly strings: string[] = [];
  private readonly stringIds = new Map<string, number>();
  private slots = new Int32Array(128);
  private mask = 127;

  get length(): number {
    return this.n;
  }

  /** Strings interned so far (a worker sends the new ones with each part). */
  get stringCount(): number {
    return this.strings.length;
  }

  private stringId(s: string): number {
    let k = this.stringIds.get(s);
    if (k === undefined) {
      k = this.strings.length;
      this.strings.push(s);
      this.stringIds.set(s, k);
    }
    return k;
  }

  /** Append a snapshot (its id not yet in the table); returns its position. */
  add(s: SnapshotInfo): number {
    return this.addRow(s.id, SOURCES.indexOf(s.source), s.name === `snapshot ${s.id}` ? -2 : this.stringId(s.name), s.comm === undefined ? -1 : this.stringId(s.comm), s.pid, s.time, s.file, s.line, s.parent);
  }

  private addRow(id: number, source: number, name: number, comm: number, pid: number | undefined, time: number, file: number, line: number, parent: number | undefined): number {
    const k = this.n++;
    if (k === this.id.length) {
      const m = k * 2;
      this.id = grow(this.id, m);
      this.source = grow(this.source, m);
      this.flags = grow(this.flags, m);
      this.name = grow(this.name, m);
      this.comm = grow(this.comm, m);
      this.pid = grow(this.pid, m);
      this.time = grow(this.time, m);
      this.file = grow(this.file, m);
      this.line = grow(this.line, m);
      this.parent = grow(this.parent, m);
    }
    this.id[k] = id;
    this.source[k] = source;
    this.flags[k] = (pid !== undefined ? HAS_PID : 0) | (parent !== undefined ? HAS_PARENT : 0) | (comm >= 0 ? HAS_COMM : 0) | (name === -2 ? DEFAULT_NAME : 0);
    this.name[k] = name;
    this.comm[k] = comm;
    this.pid[k] = pid ?? 0;
    this.time[k] = time;
    this.file[k] = file;
    this.line[k] = line;
    this.parent[k] = parent ?? 0;
    if (this.n * 2 > this.slots.length) {
      this.slots = new Int32Array(this.slots.length * 2);
      this.mask = this.slots.length - 1;
      for (let j = 0; j < k; j++) this.place(j);
    }
    this.place(k);
    return k;
  }

  private place(k: number): void {
    let h = hashNum(this.id[k]) & this.mask;
    while (this.slots[h] !== 0) h = (h + 1) & this.mask;
    this.slots[h] = k + 1;
  }

  /** Position of snapshot `id`, or -1. */
  indexOf(id: number): number {
    for (let h = hashNum(id) & this.mask; ; h = (h + 1) & this.mask) {
      const v = this.slots[h];
      if (v === 0) return -1;
      const x = this.id[v - 1];
      if (x === id || (x !== x && id !== id)) return v - 1;
    }
  }

  /** The snapshot at position k as an object (made on each call). */
  get(k: number): SnapshotInfo {
    const f = this.flags[k];
    const id = this.id[k];
    const s: SnapshotInfo = {
      id,
      source: SOURCES[this.source[k]],
      name: f & DEFAULT_NAME ? `snapshot ${id}` : this.strings[this.name[k]],
      pid: f & HAS_PID ? this.pid[k] : undefined,
      comm: f & HAS_COMM ? this.strings[this.comm[k]] : undefined,
      time: this.time[k],
      line: this.line[k],
      file: this.file[k],
    };
    if (f & HAS_PARENT) s.parent = this.parent[k];
    return s;
  }

  /** Id of the snapshot at position k. */
  idAt(k: number): number {
    return this.id[k];
  }

  /** Change the time of the snapshot at position k (a page_owner dump learns it from its records). */
  setTime(k: number, time: number): void {
    this.time[k] = time;
  }

  /** Every snapshot as objects, in order. */
  objects(): SnapshotInfo[] {
    const out: SnapshotInfo[] = [];
    for (let k = 0; k < this.n; k++) out.push(this.get(k));
    return out;
  }

  /** JSON of the table: its snapshots as objects. */
  toJSON(): SnapshotInfo[] {
    return this.objects();
  }

  filter(fn: (s: SnapshotInfo) => boolean): SnapshotInfo[] {
    return this.objects().filter(fn);
  }

  map<T>(fn: (s: SnapshotInfo, k: number) => T): T[] {
    const out: T[] = [];
    for (let k = 0; k < this.n; k++) out.push(fn(this.get(k), k));
    return out;
  }

  *[Symbol.iterator](): Generator<SnapshotInfo> {
    for (let k = 0; k < this.n; k++) yield this.get(k);
  }

  /** Append the rows of `c` as they are (a table read back: same files, lines and strings); returns the ids added. */
  load(c: SnapshotColumns): number[] {
    for (const str of c.strings) this.stringId(str);
    const ids: number[] = [];
    for (let k = 0; k < c.id.length; k++) {
      const f = c.flags[k];
      this.addRow(c.id[k], c.source[k], f & DEFAULT_NAME ? -2 : c.name[k], f & HAS_COMM ? c.comm[k] : -1, f & HAS_PID ? c.pid[k] : undefined, c.time[k], c.file[k], c.line[k], f & HAS_PARENT ? c.parent[k] : undefined);
      ids.push(c.id[k]);
    }
    return ids;
  }

  /**
   * Append the rows of `c` (another table's, with its string ids; `strMap` maps them to this table's and
   * is extended with `c.strings`) whose ids are not taken, in file `file`, lines shifted by `lineOffset`.
   * Returns the ids added.
   */
  addColumns(c: SnapshotColumns, strMap: number[], file: number, lineOffset: number): number[] {
    for (let k = 0; k < c.strings.length; k++) strMap[c.stringsFirst + k] = this.stringId(c.strings[k]);
    const added: number[] = [];
    for (let k = 0; k < c.id.length; k++) {
      const id = c.id[k];
      if (this.indexOf(id) >= 0) continue;
      const f = c.flags[k];
      this.addRow(id, c.source[k], f & DEFAULT_NAME ? -2 : strMap[c.name[k]], f & HAS_COMM ? strMap[c.comm[k]] : -1, f & HAS_PID ? c.pid[k] : undefined, c.time[k], file, c.line[k] + lineOffset, f & HAS_PARENT ? c.parent[k] : undefined);
      added.push(id);
    }
    return added;
  }

  /** Rows from `first` on as columns (copies, transferable), with the strings from `stringsFirst` on. */
  columns(first = 0, stringsFirst = 0): SnapshotColumns {
    const n = this.n;
    return {
      first,
      id: this.id.slice(first, n),
      source: this.source.slice(first, n),
      flags: this.flags.slice(first, n),
      name: this.name.slice(first, n),
      comm: this.comm.slice(first, n),
      pid: this.pid.slice(first, n),
      time: this.time.slice(first, n),
      file: this.file.slice(first, n),
      line: this.line.slice(first, n),
      parent: this.parent.slice(first, n),
      strings: this.strings.slice(stringsFirst),
      stringsFirst,
    };
  }
}

/** Every ArrayBuffer of snapshot columns, for a transfer list. */
export function snapshotColumnBuffers(c: SnapshotColumns): ArrayBuffer[] {
  return [c.id, c.source, c.flags, c.name, c.comm, c.pid, c.time, c.file, c.line, c.parent].map((a) => a.buffer as ArrayBuffer);
}
