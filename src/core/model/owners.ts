/** What kind of thing holds a page. */
export type OwnerKind = 'kernel' | 'process' | 'file' | 'snapshot' | 'agent' | 'free';

/** One owner, as it appears in summaries and in the UI. */
export interface Owner {
  id: number;
  kind: OwnerKind;
  /** Process id (process owners, and the process a snapshot was taken of). */
  pid?: number;
  /** Thread group id where the source has it. */
  tgid?: number;
  /** Task name. */
  comm?: string;
  /** Block device or `major:minor` of a file owner. */
  dev?: string;
  /** Inode number of a file owner. */
  ino?: number;
  /** Snapshot id of a snapshot owner. */
  snap?: number;
  /** Agent name (e.g. `numactlX`). */
  name?: string;
}

/** Owner kinds by their number in OwnerTable's kind column. */
export const OWNER_KIND_NAMES: readonly OwnerKind[] = ['free', 'kernel', 'process', 'file', 'snapshot', 'agent'];
const K_FREE = 0;
const K_KERNEL = 1;
const K_PROCESS = 2;
const K_FILE = 3;
const K_SNAPSHOT = 4;
const K_AGENT = 5;

/** Flag bits of an owner (OwnerTable.fieldsOf): which optional fields it has. */
export const HAS_COMM = 1;
export const HAS_TGID = 2;
/** A snapshot's pid. */
export const HAS_PID = 4;
/** A process got its tgid before its comm: its object lists tgid first (the JSON output shows the order). */
const TGID_FIRST = 8;

/**
 * An owner table as plain columns: what the index cache stores and what a parse worker sends (typed
 * arrays, transferable). Row k is owner `first + k`. `num` is a process's pid, a file's inode or a
 * snapshot's id; `num2` a process's tgid or a snapshot's pid; `str` a process's comm, a file's device or
 * an agent's name, as an index into `strings` (-1: none).
 */
export interface OwnerColumns {
  first: number;
  kind: Uint8Array;
  flags: Uint8Array;
  num: Float64Array;
  num2: Float64Array;
  str: Int32Array;
  /** The strings `str` names, from index `stringsFirst` on (the ones before were sent earlier). */
  strings: string[];
  stringsFirst: number;
}

/** x as a small integer where it is one, so objects made from it hold no boxed double. -0 and fractions stay. */
function small(x: number): number {
  return (x | 0) === x && x !== 0 ? x | 0 : x;
}

const f64 = new Float64Array(1);
const i32 = new Int32Array(f64.buffer);

/** A hash of a number equal for values Map keys would take as equal (+0 and -0, NaN and NaN). */
function hashNum(x: number): number {
  if ((x | 0) === x) return x | 0;
  if (x !== x) return 0x7ff80000;
  f64[0] = x;
  return i32[0] ^ Math.imul(i32[1], 0x9e3779b1);
}

function sameNum(a: number, b: number): boolean {
  return a === b || (a !== a && b !== b);
}

/** Kinds whose holding of a page excludes every other exclusive holder. Snapshots share. */
export function isExclusiveKind(kind: OwnerKind): boolean {
  return kind !== 'snapshot' && kind !== 'free';
}

/**
 * Interns owners to small integer ids so the event columns store 4 bytes per owner. Id 0 means "no
 * owner named"; id 1 is always the kernel. Owners are columns (kind, flags, two numbers, a string id:
 * 22 bytes an owner) and are looked up through one open-addressing table of ids (8-16 bytes an owner)
 * keyed by number (pid, snapshot id), device and inode, or agent name; `get` makes an `Owner` object
 * when asked. As objects in Maps they took 52 MB of heap for the 425 k owners of the 10 M-event
 * native trace (a string key per lookup, 'p' + pid, had cost 70 bytes more an owner before that).
 */
export class OwnerTable {
  private n = 2;
  private kinds = new Uint8Array(1024);
  private flags = new Uint8Array(1024);
  private num = new Float64Array(1024);
  private num2 = new Float64Array(1024);
  private str = new Int32Array(1024);
  private readonly strings: string[] = [];
  private readonly stringIds = new Map<string, number>();
  /** Open addressing: owner id + 1 per slot, 0 empty. Built on the first lookup after a load (`unindexed`). */
  private slots = new Int32Array(0);
  private mask = -1;
  private unindexed = true;

  constructor() {
    this.kinds[0] = K_FREE;
    this.kinds[1] = K_KERNEL;
    this.str[0] = this.str[1] = -1;
  }

  /** A table holding `list` as it is (ids are list positions), e.g. owners listed by a test. */
  static fromList(list: readonly Owner[]): OwnerTable {
    const t = new OwnerTable();
    t.n = 0;
    for (const o of list) {
      const id = t.row(OWNER_KIND_NAMES.indexOf(o.kind));
      let flags = 0;
      switch (o.kind) {
        case 'process': {
          t.num[id] = o.pid!;
          if (o.tgid !== undefined) (t.num2[id] = o.tgid), (flags |= HAS_TGID);
          if (o.comm !== undefined) (t.str[id] = t.stringId(o.comm)), (flags |= HAS_COMM);
          const keys = Object.keys(o);
          if (o.comm !== undefined && o.tgid !== undefined && keys.indexOf('tgid') < keys.indexOf('comm')) flags |= TGID_FIRST;
          break;
        }
        case 'file':
          t.num[id] = o.ino!;
          t.str[id] = t.stringId(o.dev!);
          break;
        case 'snapshot':
          t.num[id] = o.snap!;
          if (o.pid !== undefined) (t.num2[id] = o.pid), (flags |= HAS_PID);
          break;
        case 'agent':
          t.str[id] = t.stringId(o.name!);
          break;
      }
      t.flags[id] = flags;
    }
    t.unindexed = true;
    return t;
  }

  /** A table read back from its columns (OwnerTable.columns, rows from 0). */
  static fromColumns(c: OwnerColumns): OwnerTable {
    const t = new OwnerTable();
    t.n = 0;
    t.appendColumns(c);
    t.unindexed = true;
    return t;
  }

  /** Owners from `first` on as columns (copies, transferable), with the strings from `stringsFirst` on. */
  columns(first = 0, stringsFirst = 0): OwnerColumns {
    const n = this.n;
    return {
      first,
      kind: this.kinds.slice(first, n),
      flags: this.flags.slice(first, n),
      num: this.num.slice(first, n),
      num2: this.num2.slice(first, n),
      str: this.str.slice(first, n),
      strings: this.strings.slice(stringsFirst),
      stringsFirst,
    };
  }

  /** Strings interned so far (a worker sends the new ones with each part). */
  get stringCount(): number {
    return this.strings.length;
  }

  /** Append the rows of `c` as they are (a table read back: ids are row positions). */
  private appendColumns(c: OwnerColumns): void {
    for (const str of c.strings) this.stringId(str);
    for (let k = 0; k < c.kind.length; k++) {
      const id = this.row(c.kind[k]);
      this.flags[id] = c.flags[k];
      this.num[id] = c.num[k];
      this.num2[id] = c.num2[k];
      this.str[id] = c.str[k];
    }
  }

  /**
   * Intern the rows of `c`, owners of another table (a parse worker's), writing their ids here into
   * `out` from `at` on. `strMap` maps the other table's string ids to this one's and is extended with
   * `c.strings`. True when an owner this table had already got a field from them (a comm: its label changed).
   */
  internColumns(c: OwnerColumns, strMap: number[], out: Int32Array, at: number): boolean {
    for (let k = 0; k < c.strings.length; k++) strMap[c.stringsFirst + k] = this.stringId(c.strings[k]);
    let changed = false;
    for (let k = 0; k < c.kind.length; k++) {
      const kind = c.kind[k];
      const s = c.str[k];
      const prior = kind === K_PROCESS || kind === K_SNAPSHOT ? this.find(kind, c.num[k], -1) : -1;
      const had = prior < 0 ? -1 : this.fieldsOf(prior);
      const id = this.internRow(kind, c.flags[k], c.num[k], c.num2[k], s < 0 ? -1 : strMap[s]);
      if (had >= 0 && this.fieldsOf(id) !== had) changed = true;
      out[at + k] = id;
    }
    return changed;
  }

  /** The id of an owner given as a row of another table (its string already mapped), interned if new. */
  private internRow(kind: number, flags: number, num: number, num2: number, str: number): number {
    switch (kind) {
      case K_FREE:
        return 0;
      case K_KERNEL:
        return 1;
      case K_PROCESS:
        // In one call, as an object of another table was interned before (comm listed before tgid when both are new).
        return this.processById(num, flags & HAS_COMM ? str : -1, flags & HAS_TGID ? num2 : undefined);
      case K_FILE:
        return this.fileById(str, num);
      case K_SNAPSHOT:
        return this.snapshot(num, flags & HAS_PID ? num2 : undefined);
      default:
        return this.agentById(str);
    }
  }

  private stringId(s: string): number {
    let id = this.stringIds.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.stringIds.set(s, id);
    }
    return id;
  }

  /** A new row of `kind`, its fields unset and not yet findable (indexNew). */
  private row(kind: number): number {
    const id = this.n;
    if (id === this.kinds.length) {
      const cap = id * 2;
      const grow = <T extends Uint8Array | Float64Array | Int32Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(cap);
        b.set(a);
        return b;
      };
      this.kinds = grow(this.kinds);
      this.flags = grow(this.flags);
      this.num = grow(this.num);
      this.num2 = grow(this.num2);
      this.str = grow(this.str);
    }
    this.n = id + 1;
    this.kinds[id] = kind;
    this.flags[id] = 0;
    this.num[id] = 0;
    this.num2[id] = 0;
    this.str[id] = -1;
    return id;
  }

  /** Make row `id`, its key fields now set, findable. */
  private indexNew(id: number): void {
    if (this.unindexed) return;
    if (this.n * 2 > this.slots.length) this.rehash();
    else this.place(id);
  }

  private hashOf(kind: number, num: number, str: number): number {
    let h: number;
    switch (kind) {
      case K_PROCESS:
      case K_SNAPSHOT:
        h = hashNum(num) ^ kind;
        break;
      case K_FILE:
        h = Math.imul(hashNum(num), 31) + str;
        break;
      default:
        h = str ^ (kind << 24);
    }
    h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
    return (h ^ (h >>> 16)) & this.mask;
  }

  private keyOf(id: number): number {
    return this.hashOf(this.kinds[id], this.num[id], this.str[id]);
  }

  private place(id: number): void {
    const k = this.kinds[id];
    if (k === K_FREE || k === K_KERNEL) return;
    let h = this.keyOf(id);
    while (this.slots[h] !== 0) h = (h + 1) & this.mask;
    this.slots[h] = id + 1;
  }

  private rehash(): void {
    let cap = 1024;
    while (cap < this.n * 2) cap *= 2;
    this.slots = new Int32Array(cap);
    this.mask = cap - 1;
    for (let id = 0; id < this.n; id++) this.place(id);
  }

  /** The id of the owner of `kind` keyed by num (process, snapshot), str (agent) or both (file); -1 if none. */
  private find(kind: number, num: number, str: number): number {
    if (this.unindexed) {
      this.unindexed = false;
      this.rehash();
    }
    const slots = this.slots;
    for (let h = this.hashOf(kind, num, str); ; h = (h + 1) & this.mask) {
      const v = slots[h];
      if (v === 0) return -1;
      const id = v - 1;
      if (this.kinds[id] !== kind) continue;
      if (kind === K_AGENT ? this.str[id] === str : sameNum(this.num[id], num) && (kind !== K_FILE || this.str[id] === str)) return id;
    }
  }

  get size(): number {
    return this.n;
  }

  /** Owner `id` as an object (made on each call; fields in the order the owner got them). */
  get(id: number): Owner {
    const kind = OWNER_KIND_NAMES[this.kinds[id]];
    const f = this.flags[id];
    const s = this.str[id];
    switch (kind) {
      case 'process': {
        const pid = small(this.num[id]);
        const comm = f & HAS_COMM ? this.strings[s] : undefined;
        const tgid = f & HAS_TGID ? small(this.num2[id]) : undefined;
        if (comm === undefined) return tgid === undefined ? { id, kind, pid } : { id, kind, pid, tgid };
        if (tgid === undefined) return { id, kind, pid, comm };
        return f & TGID_FIRST ? { id, kind, pid, tgid, comm } : { id, kind, pid, comm, tgid };
      }
      case 'file':
        return { id, kind, dev: this.strings[s], ino: small(this.num[id]) };
      case 'snapshot':
        return f & HAS_PID ? { id, kind, snap: small(this.num[id]), pid: small(this.num2[id]) } : { id, kind, snap: small(this.num[id]) };
      case 'agent':
        return { id, kind, name: this.strings[s] };
      default:
        return { id, kind };
    }
  }

  /** Every owner as objects, in id order (tests, small tables). */
  objects(): Owner[] {
    const out: Owner[] = [];
    for (let id = 0; id < this.n; id++) out.push(this.get(id));
    return out;
  }

  /** The kind of owner `id`. */
  kindOf(id: number): OwnerKind {
    return OWNER_KIND_NAMES[this.kinds[id]];
  }

  /** The pid of a process owner or of the process a snapshot was taken of; undefined for other owners or ids. */
  pidOf(id: number): number | undefined {
    if (id >= this.n) return undefined;
    const k = this.kinds[id];
    if (k === K_PROCESS) return small(this.num[id]);
    return k === K_SNAPSHOT && this.flags[id] & HAS_PID ? small(this.num2[id]) : undefined;
  }

  /** The comm of a process owner, if known. */
  commOf(id: number): string | undefined {
    return this.kinds[id] === K_PROCESS && this.flags[id] & HAS_COMM ? this.strings[this.str[id]] : undefined;
  }

  /** The tgid of a process owner, if known. */
  tgidOf(id: number): number | undefined {
    return this.kinds[id] === K_PROCESS && this.flags[id] & HAS_TGID ? small(this.num2[id]) : undefined;
  }

  /** Which of HAS_COMM, HAS_TGID and HAS_PID owner `id` has. */
  fieldsOf(id: number): number {
    return this.flags[id] & (HAS_COMM | HAS_TGID | HAS_PID);
  }

  kernel(): number {
    return 1;
  }

  /**
   * A process. The comm is taken from the first sighting; a later sighting with a different comm
   * (exec, or a thread name) keeps the first, since pid is the key the kernel uses.
   */
  process(pid: number, comm?: string, tgid?: number): number {
    return this.processById(pid, comm ? this.stringId(comm) : -1, tgid);
  }

  private processById(pid: number, comm: number, tgid: number | undefined): number {
    let id = this.find(K_PROCESS, pid, -1);
    if (id < 0) {
      id = this.row(K_PROCESS);
      this.num[id] = pid;
      this.indexNew(id);
    }
    if (comm >= 0 || tgid !== undefined) this.fill(id, comm, tgid);
    return id;
  }

  /**
   * Give process `id` the comm (string id, -1 none) and tgid it lacks. An object lists the comm before
   * the tgid unless the tgid came first (the JSON output keeps the order owners got their fields in).
   */
  private fill(id: number, comm: number, tgid: number | undefined): void {
    if (comm >= 0 && !(this.flags[id] & HAS_COMM)) {
      this.str[id] = comm;
      this.flags[id] |= HAS_COMM;
    }
    if (tgid !== undefined && !(this.flags[id] & HAS_TGID)) {
      this.num2[id] = tgid;
      this.flags[id] |= this.flags[id] & HAS_COMM ? HAS_TGID : HAS_TGID | TGID_FIRST;
    }
  }

  /**
   * Fill in what a later sighting elsewhere learnt of owner `id`: a process's comm and tgid, a snapshot's
   * pid. True when it got a comm or pid (its label changed).
   */
  patch(id: number, comm: string | undefined, tgid: number | undefined, pid: number | undefined): boolean {
    const had = this.flags[id] & (HAS_COMM | HAS_PID);
    const k = this.kinds[id];
    if (k === K_PROCESS) this.fill(id, comm ? this.stringId(comm) : -1, tgid);
    else if (k === K_SNAPSHOT && pid !== undefined && !(this.flags[id] & HAS_PID)) {
      this.num2[id] = pid;
      this.flags[id] |= HAS_PID;
    }
    return (this.flags[id] & (HAS_COMM | HAS_PID)) !== had;
  }

  file(dev: string, ino: number): number {
    return this.fileById(this.stringId(dev), ino);
  }

  private fileById(dev: number, ino: number): number {
    let id = this.find(K_FILE, ino, dev);
    if (id >= 0) return id;
    id = this.row(K_FILE);
    this.num[id] = ino;
    this.str[id] = dev;
    this.indexNew(id);
    return id;
  }

  snapshot(snap: number, pid?: number): number {
    let id = this.find(K_SNAPSHOT, snap, -1);
    if (id < 0) {
      id = this.row(K_SNAPSHOT);
      this.num[id] = snap;
      this.indexNew(id);
    }
    if (pid !== undefined && !(this.flags[id] & HAS_PID)) {
      this.num2[id] = pid;
      this.flags[id] |= HAS_PID;
    }
    return id;
  }

  agent(name: string): number {
    return this.agentById(this.stringId(name));
  }

  private agentById(name: number): number {
    let id = this.find(K_AGENT, 0, name);
    if (id >= 0) return id;
    id = this.row(K_AGENT);
    this.str[id] = name;
    this.indexNew(id);
    return id;
  }

  /** Find an existing process owner without creating one. */
  findProcess(pid: number): number | undefined {
    const id = this.find(K_PROCESS, pid, -1);
    return id < 0 ? undefined : id;
  }

  /** Whether process `pid` is known with a comm (so callers can skip decoding one). */
  hasComm(pid: number): boolean {
    const id = this.find(K_PROCESS, pid, -1);
    return id >= 0 && (this.flags[id] & HAS_COMM) !== 0;
  }

  /** Find an existing snapshot owner without creating one. */
  findSnapshot(snap: number): number | undefined {
    const id = this.find(K_SNAPSHOT, snap, -1);
    return id < 0 ? undefined : id;
  }
}

/** A short human label: `pid 123 (bash)`, `file 259:1/42`, `snapshot 3 of pid 10`, `kernel`. */
export function ownerLabel(o: Pick<Owner, 'kind' | 'pid' | 'comm' | 'dev' | 'ino' | 'snap' | 'name'>): string {
  switch (o.kind) {
    case 'process':
      return `pid ${o.pid}${o.comm ? ` (${o.comm})` : ''}`;
    case 'file':
      return `file ${o.dev}/${o.ino}`;
    case 'snapshot':
      return `snapshot ${o.snap}${o.pid !== undefined ? ` of pid ${o.pid}` : ''}`;
    case 'agent':
      return `agent ${o.name}`;
    default:
      return o.kind;
  }
}
