import { EventKind, newEventRecord, resetEventRecord, type EventRecord } from '../model/events';
import type { RegionType } from '../model/addressSpace';
import type { SnapshotInfo, TraceBuilder } from '../model/traceBuilder';
import { ByteKeyTable, indexOfByte, NameCache, parseInt10, parseUint, ShortKeyTable, skipSpaces, skipToken, text, UintScanner } from './bytes';
import { headLines, type LineParser, type ParseContext, type TraceFormat } from './format';

/** First line of a Page Ledger trace (docs/trace-format.md). */
export const NATIVE_HEADER = 'pageledger-trace 1';
/** First line of a Page Ledger snapshot log. */
export const SNAPSHOT_LOG_HEADER = 'pageledger-snapshot 1';

const EVENT_BY_NAME: Record<string, EventKind> = {
  alloc: EventKind.Alloc,
  free: EventKind.Free,
  'alloc-failed': EventKind.AllocFailed,
  map: EventKind.Map,
  unmap: EventKind.Unmap,
  write: EventKind.Write,
  fault: EventKind.Fault,
  fsalloc: EventKind.FsAlloc,
  fsfree: EventKind.FsFree,
  'snapshot-begin': EventKind.SnapBegin,
  snapref: EventKind.SnapRef,
  'snapshot-end': EventKind.SnapEnd,
  cow: EventKind.Cow,
  restore: EventKind.Restore,
  'snapshot-drop': EventKind.SnapDrop,
  migrate: EventKind.Migrate,
  fork: EventKind.Fork,
  exit: EventKind.Exit,
  online: EventKind.Online,
  offline: EventKind.Offline,
  membind: EventKind.Bind,
};

/** Fields each event must carry, for the error message when one is missing. */
const REQUIRED: Partial<Record<EventKind, readonly string[]>> = {
  [EventKind.Alloc]: ['pfn'],
  [EventKind.Free]: ['pfn'],
  [EventKind.Map]: ['pid', 'vaddr', 'pfn'],
  [EventKind.Unmap]: ['pid', 'vaddr', 'pfn'],
  [EventKind.Write]: ['pid', 'vaddr', 'pfn'],
  [EventKind.Fault]: ['pid', 'vaddr', 'pfn'],
  [EventKind.FsAlloc]: ['dev', 'ino', 'pfn'],
  [EventKind.FsFree]: ['dev', 'ino', 'pfn'],
  [EventKind.SnapBegin]: ['snap', 'pid'],
  [EventKind.SnapRef]: ['snap', 'pfn'],
  [EventKind.SnapEnd]: ['snap'],
  [EventKind.Cow]: ['snap', 'pid', 'old', 'new'],
  [EventKind.Restore]: ['snap', 'pid'],
  [EventKind.SnapDrop]: ['snap'],
  [EventKind.Migrate]: ['pfn', 'to'],
  [EventKind.Fork]: ['pid', 'child'],
  [EventKind.Exit]: ['pid'],
  [EventKind.Online]: ['block'],
  [EventKind.Offline]: ['block'],
  [EventKind.Bind]: ['pid', 'node'],
};

// Key ids: a field seen on the line sets bit (1 << id) in `seen`.
const K = {
  pfn: 0, order: 1, owner: 2, pid: 3, comm: 4, tgid: 5, node: 6, gfp: 7, vaddr: 8, dev: 9, devoff: 10, ino: 11,
  off: 12, snap: 13, old: 14, new: 15, to: 16, block: 17, child: 18, agent: 19, id: 20, name: 21, start: 22,
  pages: 23, type: 24, state: 25, reserved: 26, time: 27,
} as const;
const KEY_IDS = new Map<string, number>(Object.entries(K));
const KEY_NAMES = Object.keys(K);
const KEY_TABLE = new ShortKeyTable(KEY_NAMES);
const EVENT_NAMES_LIST = Object.keys(EVENT_BY_NAME);
const EVENT_TABLE = new ByteKeyTable(EVENT_NAMES_LIST);
const EVENT_KINDS = EVENT_NAMES_LIST.map((n) => EVENT_BY_NAME[n]);
/**
 * The event names of at most 8 bytes (all but alloc-failed and the snapshot-* names, 97% of the events
 * of the bench trace), found by their packed bytes as field keys are; the others through EVENT_TABLE.
 */
const SHORT_EVENT_NAMES = EVENT_NAMES_LIST.filter((n) => n.length <= 8);
const SHORT_EVENT_TABLE = new ShortKeyTable(SHORT_EVENT_NAMES);
const SHORT_EVENT_KINDS = SHORT_EVENT_NAMES.map((n) => EVENT_BY_NAME[n]);
/** Keys whose values are text, kept as byte ranges and decoded only when used. */
const STRING_KEY_LIST = [K.comm, K.dev, K.name, K.type, K.state, K.owner, K.agent, K.gfp];
const STRING_KEY_MASK = STRING_KEY_LIST.reduce((m, k) => m | (1 << k), 0);
const STRING_KEYS = { has: (id: number): boolean => (STRING_KEY_MASK & (1 << id)) !== 0 };
/** REQUIRED as bit masks over key ids, indexed by EventKind: one AND per event instead of a Map lookup per field. */
const REQUIRED_MASK: number[] = [];
for (const [kind, keys] of Object.entries(REQUIRED)) REQUIRED_MASK[Number(kind)] = keys.reduce((m, k) => m | (1 << KEY_IDS.get(k)!), 0);

/**
 * Field keys of 3 to 5 bytes by the word of their first 4 bytes with the `=` (DataView.getInt32(at, true)),
 * and the 0 to 2 bytes after it, in a table of 64 slots without collisions: one read and one compare
 * instead of a loop over the key's bytes (most keys of a line: pfn, pid, order, vaddr, comm, node, gfp,
 * snap). Other keys go through the byte loop and KEY_TABLE. Parse of a 20 MB head of the VS Code bench's
 * trace under callgrind: 3.50 G to 3.38 G instructions, about 330 a line. Hex values two digits a read
 * (ftrace's HEX_PAIR) did not help here: 20 M instructions more.
 */
const WORD_SLOTS = 64;
const WORD_KEY = new Int32Array(WORD_SLOTS);
const WORD_TAIL = new Int32Array(WORD_SLOTS);
/** The key's length with its `=` (4 to 6), 0 for an empty slot. */
const WORD_LEN = new Uint8Array(WORD_SLOTS);
const WORD_ID = new Int8Array(WORD_SLOTS).fill(-1);
const WORD_MUL = wordKeyTable();

function wordKeyTable(): number {
  const keys = KEY_NAMES.filter((k) => k.length >= 3 && k.length <= 5);
  const word = (t: string, k: number): number => t.charCodeAt(k) | (t.charCodeAt(k + 1) << 8) | (t.charCodeAt(k + 2) << 16) | (t.charCodeAt(k + 3) << 24);
  for (let mul = 0x9e3779b1 | 0; ; mul = (mul + 2) | 0) {
    WORD_LEN.fill(0);
    WORD_ID.fill(-1);
    let ok = true;
    for (const k of keys) {
      const t = k + '=';
      const w = word(t, 0);
      const s = Math.imul(w, mul) >>> 26;
      if (WORD_LEN[s] !== 0) {
        ok = false;
        break;
      }
      WORD_KEY[s] = w;
      WORD_LEN[s] = t.length;
      WORD_TAIL[s] = t.length === 5 ? t.charCodeAt(4) : t.length === 6 ? t.charCodeAt(4) | (t.charCodeAt(5) << 8) : 0;
      WORD_ID[s] = KEY_IDS.get(k)!;
    }
    if (ok) return mul;
  }
}

/** Slots of the parser's pid cache (a power of two). */
const PID_CACHE = 1024;

const REGION_TYPES: readonly RegionType[] = ['ram', 'kmem', 'devdax', 'fsdax', 'other'];
/** The values of owner=, looked up without decoding them (every alloc line names its owner). */
const OWNER_KINDS = ['kernel', 'process', 'agent', 'file'] as const;
const OWNER_TABLE = new ByteKeyTable(OWNER_KINDS);

/**
 * Parser for the native format and the snapshot log form. Byte-level: the only strings it makes are
 * event and key names (short, cached) and the values of comm/dev/name fields.
 */
class NativeParser implements LineParser {
  private readonly b: TraceBuilder;
  private readonly e: EventRecord = newEventRecord();
  private sawHeader = false;
  private snapshotLog = false;
  private logSnap = -1;
  private logTime = NaN;
  private logPid = 0;
  // Field values of the current line.
  seen = 0;
  private readonly num = new Float64Array(KEY_NAMES.length);
  private readonly strStart = new Int32Array(KEY_NAMES.length);
  private readonly strEnd = new Int32Array(KEY_NAMES.length);
  private bytes: Uint8Array = new Uint8Array(0);
  /** A DataView of `bytes`' buffer, made when a line comes from another array: keys are read a word at a time. */
  private dvBytes: Uint8Array | null = null;
  private dv: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private readonly str = {
    parser: this as NativeParser,
    /** The text value of key `id` on the current line, decoded on demand. */
    get(id: number): string | undefined {
      const p = this.parser;
      return (p.seen & (1 << id)) !== 0 && STRING_KEYS.has(id) ? text(p.bytes, p.strStart[id], p.strEnd[id]) : undefined;
    },
  };
  private readonly names = new NameCache(256);
  private readonly scanner = new UintScanner();
  /** comm=, agent= and dev= values: they repeat, and one string each is shared by every owner naming it. */
  private readonly values = new NameCache(4096);
  /**
   * Process owners with a comm by pid, direct-mapped: most lines name a process, and the owner table's
   * hash lookup (a cache miss in a table of 10^5 owners) and its comm check were a fifth of `event`.
   */
  private readonly pidKey = new Float64Array(PID_CACHE).fill(-1);
  private readonly pidOwner = new Int32Array(PID_CACHE);
  /** The snapshot last named by snapref, snapshot-end or snapshot-drop, and its owner. */
  private lastSnap = NaN;
  private lastSnapOwner = 0;

  constructor(ctx: ParseContext) {
    this.b = ctx.builder;
  }

  line(b: Uint8Array, start: number, end: number, lineNo: number): void {
    let i = skipSpaces(b, start, end);
    if (i >= end || b[i] === 0x23 /* # */) return;
    if (!this.sawHeader) {
      const t = text(b, i, end).trim();
      if (t === NATIVE_HEADER || t === SNAPSHOT_LOG_HEADER) {
        this.sawHeader = true;
        this.snapshotLog = t === SNAPSHOT_LOG_HEADER;
        return;
      }
      const m = /^pageledger-(trace|snapshot) (\d+)$/.exec(t);
      this.b.error(lineNo, m ? `unsupported version ${m[2]}: expected "${m[1] === 'trace' ? NATIVE_HEADER : SNAPSHOT_LOG_HEADER}"` : `expected the header "${NATIVE_HEADER}" on the first line`);
      this.sawHeader = true;
      if (m) this.snapshotLog = m[1] === 'snapshot';
      if (!m) this.line(b, start, end, lineNo);
      return;
    }
    const c = b[i];
    const e = this.e;
    resetEventRecord(e);
    e.line = lineNo;
    if (c >= 0x30 && c <= 0x39) {
      // Time, then the event name packed as it is scanned (as field keys are): one pass over each.
      e.time = this.scanner.scan(b, i, end);
      const tokEnd = this.scanner.end;
      if (e.time !== e.time) return this.b.error(lineNo, `expected a time in nanoseconds, found "${text(b, i, tokEnd)}"`);
      i = skipSpaces(b, tokEnd, end);
      let nameEnd = i;
      let lo = 0;
      let hi = 0;
      for (let ch = 0; nameEnd < end && (ch = b[nameEnd]) !== 0x20 && ch !== 0x09; nameEnd++) {
        hi = (hi << 8) | (lo >>> 24);
        lo = (lo << 8) | ch;
      }
      let kind: EventKind;
      const short = SHORT_EVENT_TABLE.get(lo, hi, nameEnd - i);
      if (short >= 0) kind = SHORT_EVENT_KINDS[short];
      else {
        const ev = EVENT_TABLE.get(b, i, nameEnd);
        if (ev < 0) return this.b.error(lineNo, `unknown event "${text(b, i, nameEnd)}": expected one of ${EVENT_NAMES_LIST.join(', ')}`);
        kind = EVENT_KINDS[ev];
      }
      if (!this.fields(b, nameEnd, end, lineNo)) return;
      this.event(kind, lineNo);
      return;
    }
    const tokEnd = skipToken(b, i, end);
    const name = this.word(b, i, tokEnd);
    if (!this.fields(b, tokEnd, end, lineNo)) return;
    switch (name) {
      case 'node':
        return this.nodeLine(lineNo);
      case 'region':
        return this.regionLine(lineNo);
      case 'block':
        return this.blockLine(lineNo);
      case 'snapshot':
        if (this.snapshotLog) return this.snapshotHead(lineNo);
        break;
      case 'page':
        if (this.snapshotLog) return this.snapshotPage(lineNo);
        break;
    }
    this.b.error(lineNo, `expected "<time> <event> key=value..." or a layout line (node, region, block), found "${name}"`);
  }

  end(lines: number): void {
    if (this.snapshotLog && this.logSnap >= 0) this.closeLogSnapshot(lines);
  }

  /**
   * Read `key=value` tokens into num/str. False (error reported) on a malformed token. One pass per
   * token: the key is hashed while it is scanned and numbers are parsed in place (this loop is most of
   * the parser's time).
   */
  private fields(b: Uint8Array, i: number, end: number, lineNo: number): boolean {
    let seen = 0;
    const num = this.num;
    const scanner = this.scanner;
    this.bytes = b;
    if (b !== this.dvBytes) {
      this.dvBytes = b;
      this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    }
    const dv = this.dv;
    for (;;) {
      while (i < end && (b[i] === 0x20 || b[i] === 0x09)) i++;
      if (i >= end) {
        this.seen = seen;
        return true;
      }
      const ks = i;
      let id = -1;
      let eq = -1;
      if (i + 6 <= end) {
        const w = dv.getInt32(i, true);
        const slot = Math.imul(w, WORD_MUL) >>> 26;
        const n = WORD_LEN[slot];
        if (WORD_KEY[slot] === w && (n === 4 || (n === 5 ? b[i + 4] === WORD_TAIL[slot] : n === 6 && dv.getUint16(i + 4, true) === WORD_TAIL[slot]))) {
          id = WORD_ID[slot];
          eq = i + n - 1;
        }
      }
      if (id < 0) {
        // The key's last 8 bytes, packed for KEY_TABLE as they are scanned.
        let lo = 0;
        let hi = 0;
        let c = 0;
        while (i < end && (c = b[i]) !== 0x3d && c !== 0x20 && c !== 0x09) {
          hi = (hi << 8) | (lo >>> 24);
          lo = (lo << 8) | c;
          i++;
        }
        if (i >= end || c !== 0x3d || i === ks) {
          const tEnd = skipToken(b, ks, end);
          this.b.error(lineNo, `expected key=value, found "${text(b, ks, tEnd)}"`);
          return false;
        }
        eq = i;
        id = KEY_TABLE.get(lo, hi, eq - ks);
      }
      let vStart = eq + 1;
      let vEnd: number;
      if (b[vStart] === 0x22 /* " */) {
        // A quoted value may hold spaces: comm="nginx: worker".
        const close = indexOfByte(b, 0x22, vStart + 1, end);
        if (close < 0) {
          this.b.error(lineNo, `unterminated quoted value for ${text(b, ks, eq)}=`);
          return false;
        }
        vStart++;
        vEnd = close;
        i = close + 1;
      } else if (id >= 0 && (STRING_KEY_MASK & (1 << id)) === 0) {
        // A number, parsed as it is scanned (parseInt10 / parseUint over the token, in one pass).
        const v = id === K.node && vStart < end && b[vStart] === 0x2d ? -scanner.scan(b, vStart + 1, end) : scanner.scan(b, vStart, end);
        vEnd = scanner.end;
        i = vEnd;
        if (v !== v) {
          this.b.error(lineNo, `expected a number for ${KEY_NAMES[id]}=, found "${text(b, vStart, vEnd)}"`);
          return false;
        }
        seen |= 1 << id;
        num[id] = v;
        continue;
      } else {
        vEnd = skipToken(b, vStart, end);
        i = vEnd;
      }
      if (id < 0) continue;
      seen |= 1 << id;
      if (STRING_KEYS.has(id)) {
        this.strStart[id] = vStart;
        this.strEnd[id] = vEnd;
        continue;
      }
      const v = id === K.node ? parseInt10(b, vStart, vEnd) : parseUint(b, vStart, vEnd);
      if (v !== v) {
        this.b.error(lineNo, `expected a number for ${KEY_NAMES[id]}=, found "${text(b, vStart, vEnd)}"`);
        return false;
      }
      num[id] = v;
    }
  }

  private has(id: number): boolean {
    return (this.seen & (1 << id)) !== 0;
  }

  private word(b: Uint8Array, s: number, e: number): string {
    return this.names.get(b, s, e);
  }

  /** The text value of key `id` through the value cache (comm, agent, dev), or undefined when absent. */
  private value(id: number): string | undefined {
    return this.has(id) ? this.values.get(this.bytes, this.strStart[id], this.strEnd[id]) : undefined;
  }

  private ownerOf(lineNo: number): number | undefined {
    const k = this.has(K.owner) ? OWNER_TABLE.get(this.bytes, this.strStart[K.owner], this.strEnd[K.owner]) : this.has(K.pid) ? 1 : 0;
    const kind = k >= 0 ? OWNER_KINDS[k] : this.str.get(K.owner);
    const owners = this.b.owners;
    switch (kind) {
      case 'kernel':
        return owners.kernel();
      case 'process':
        if (!this.has(K.pid)) {
          this.b.error(lineNo, 'owner=process needs pid=');
          return undefined;
        }
        if (!this.has(K.tgid)) return this.proc(this.num[K.pid]);
        return owners.process(this.num[K.pid], this.value(K.comm), this.num[K.tgid]);
      case 'agent':
        return owners.agent(this.has(K.agent) ? this.value(K.agent)! : 'agent');
      case 'file':
        if (!this.has(K.dev) || !this.has(K.ino)) {
          this.b.error(lineNo, 'owner=file needs dev= and ino=');
          return undefined;
        }
        return owners.file(this.value(K.dev)!, this.num[K.ino]);
      default:
        this.b.error(lineNo, `unknown owner "${kind}": expected kernel, process, agent or file`);
        return undefined;
    }
  }

  /** The process owner for pid, decoding comm= only when the process has none yet. */
  private proc(pid: number): number {
    const h = pid & (PID_CACHE - 1);
    if (this.pidKey[h] === pid) return this.pidOwner[h];
    const owners = this.b.owners;
    let id = owners.findProcess(pid);
    if (id === undefined || owners.commOf(id) === undefined) id = owners.process(pid, this.value(K.comm));
    // Once a process has its comm, its owner is what every later line of that pid gets.
    if (owners.commOf(id) !== undefined) {
      this.pidKey[h] = pid;
      this.pidOwner[h] = id;
    }
    return id;
  }

  private event(kind: EventKind, lineNo: number): void {
    const needMask = REQUIRED_MASK[kind] ?? 0;
    if ((this.seen & needMask) !== needMask) {
      for (const k of REQUIRED[kind]!) {
        if (!this.has(KEY_IDS.get(k)!)) return this.b.error(lineNo, `${nameOf(kind)}: missing ${k}=`);
      }
    }
    const e = this.e;
    const n = this.num;
    e.kind = kind;
    if (this.has(K.pfn)) e.pfn = n[K.pfn];
    if (this.has(K.order)) e.order = n[K.order];
    // Order 18 is a 1 GiB gigantic page, the largest any architecture allocates; a larger order is a typo that
    // would make the replay walk millions of pages for one line.
    if (e.order > 18) return this.b.error(lineNo, `order=${e.order} is out of range: expected 0..18 (18 = a 1 GiB page)`);
    if (this.has(K.node)) e.node = n[K.node];
    if (this.has(K.pid)) e.pid = n[K.pid];
    const owners = this.b.owners;
    switch (kind) {
      case EventKind.Alloc: {
        const o = this.ownerOf(lineNo);
        if (o === undefined) return;
        e.owner = o;
        break;
      }
      case EventKind.Map:
      case EventKind.Unmap:
      case EventKind.Write:
        e.arg = n[K.vaddr];
        e.owner = this.proc(e.pid);
        break;
      case EventKind.Fault:
        e.arg = n[K.vaddr];
        e.arg2 = this.has(K.devoff) ? n[K.devoff] : NaN;
        e.owner = this.proc(e.pid);
        e.ref = owners.agent(this.has(K.agent) ? this.value(K.agent)! : 'agent');
        break;
      case EventKind.FsAlloc:
      case EventKind.FsFree:
        e.owner = owners.file(this.value(K.dev)!, n[K.ino]);
        e.arg2 = this.has(K.off) ? n[K.off] : NaN;
        break;
      case EventKind.SnapBegin: {
        e.ref = n[K.snap];
        e.owner = owners.snapshot(e.ref, e.pid);
        this.proc(e.pid);
        if (!this.b.snapshot(e.ref)) {
          // With file given here too (addSnapshot sets it again, to the same value) the copy addSnapshot
          // makes keeps a fixed shape: a field added to the copy left it 320 bytes larger (148 k snapshots
          // at 10 M events: 47 MB).
          const snap: Omit<SnapshotInfo, 'id'> & { id: number } = { id: e.ref, source: 'native', name: `snapshot ${e.ref}`, pid: e.pid, comm: this.value(K.comm), time: e.time, line: lineNo, file: this.b.currentFile };
          this.b.addSnapshot(snap);
        }
        break;
      }
      case EventKind.SnapRef:
      case EventKind.SnapEnd:
      case EventKind.SnapDrop:
        e.ref = n[K.snap];
        // A snapshot's references come in a run of lines: its owner is looked up once a run.
        if (e.ref !== this.lastSnap) {
          this.lastSnapOwner = owners.snapshot(e.ref);
          this.lastSnap = e.ref;
        }
        e.owner = this.lastSnapOwner;
        e.arg = this.has(K.vaddr) ? n[K.vaddr] : NaN;
        break;
      case EventKind.Cow:
        e.ref = n[K.snap];
        e.pfn = n[K.old];
        e.arg = n[K.new];
        e.arg2 = this.has(K.vaddr) ? n[K.vaddr] : NaN;
        e.owner = this.proc(e.pid);
        break;
      case EventKind.Restore:
        e.ref = n[K.snap];
        e.owner = this.proc(e.pid);
        break;
      case EventKind.Migrate:
        e.arg = n[K.to];
        break;
      case EventKind.Fork:
        e.ref = n[K.child];
        e.owner = owners.process(e.ref, this.value(K.comm) ?? owners.commOf(owners.process(e.pid)));
        break;
      case EventKind.Exit:
      case EventKind.Bind:
        e.owner = this.proc(e.pid);
        break;
      case EventKind.Online:
      case EventKind.Offline:
        e.ref = n[K.block];
        break;
    }
    this.b.push(e);
  }

  private nodeLine(lineNo: number): void {
    if (!this.has(K.id)) return this.b.error(lineNo, 'node: missing id=');
    this.b.layout.addNode(this.num[K.id], this.str.get(K.name));
  }

  private regionLine(lineNo: number): void {
    for (const k of ['name', 'node', 'start', 'pages'] as const) {
      if (!this.has(K[k])) return this.b.error(lineNo, `region: missing ${k}=`);
    }
    const type = (this.str.get(K.type) ?? 'ram') as RegionType;
    if (!REGION_TYPES.includes(type)) return this.b.error(lineNo, `region: type=${type} is not one of ${REGION_TYPES.join(', ')}`);
    this.b.layout.addRegion({
      name: this.str.get(K.name)!,
      type,
      node: this.num[K.node],
      start: this.num[K.start],
      pages: this.num[K.pages],
      device: this.str.get(K.dev),
      reserved: this.has(K.reserved) ? this.num[K.reserved] : undefined,
      file: this.b.currentFile,
      line: lineNo,
    });
  }

  private blockLine(lineNo: number): void {
    for (const k of ['id', 'start', 'pages'] as const) {
      if (!this.has(K[k])) return this.b.error(lineNo, `block: missing ${k}=`);
    }
    const state = this.str.get(K.state) ?? 'online';
    if (state !== 'online' && state !== 'offline') return this.b.error(lineNo, `block: state=${state} is not online or offline`);
    this.b.layout.addBlock({
      id: this.num[K.id],
      start: this.num[K.start],
      pages: this.num[K.pages],
      state,
      node: this.has(K.node) ? this.num[K.node] : undefined,
      file: this.b.currentFile,
      line: lineNo,
    });
  }

  private snapshotHead(lineNo: number): void {
    if (this.logSnap >= 0) this.closeLogSnapshot(lineNo);
    if (!this.has(K.id)) return this.b.error(lineNo, 'snapshot: missing id=');
    const pid = this.has(K.pid) ? this.num[K.pid] : 0;
    const time = this.has(K.time) ? this.num[K.time] : 0;
    const info = this.b.addSnapshot({ id: this.num[K.id], source: 'snapshot-log', name: this.str.get(K.name) ?? `snapshot ${this.num[K.id]}`, pid: pid || undefined, comm: this.str.get(K.comm), time, line: lineNo });
    this.logSnap = info.id;
    this.logTime = time;
    this.logPid = pid;
    const e = this.e;
    e.kind = EventKind.SnapBegin;
    e.time = time;
    e.ref = info.id;
    e.pid = pid;
    if (pid) this.b.owners.process(pid, this.str.get(K.comm));
    e.owner = this.b.owners.snapshot(info.id, pid || undefined);
    this.b.push(e);
  }

  private snapshotPage(lineNo: number): void {
    if (this.logSnap < 0) return this.b.error(lineNo, 'page: expected a "snapshot id=..." line before the first page');
    if (!this.has(K.pfn)) return this.b.error(lineNo, 'page: missing pfn=');
    const e = this.e;
    e.kind = EventKind.SnapRef;
    e.time = this.logTime;
    e.ref = this.logSnap;
    e.pid = this.has(K.pid) ? this.num[K.pid] : this.logPid;
    e.pfn = this.num[K.pfn];
    e.order = this.has(K.order) ? this.num[K.order] : 0;
    e.arg = this.has(K.vaddr) ? this.num[K.vaddr] : NaN;
    e.node = this.has(K.node) ? this.num[K.node] : -1;
    e.owner = this.b.owners.snapshot(this.logSnap);
    this.b.push(e);
  }

  private closeLogSnapshot(lineNo: number): void {
    const e = this.e;
    resetEventRecord(e);
    e.kind = EventKind.SnapEnd;
    e.time = this.logTime;
    e.line = lineNo;
    e.ref = this.logSnap;
    e.owner = this.b.owners.snapshot(this.logSnap);
    this.b.push(e);
    this.logSnap = -1;
  }
}

function nameOf(kind: EventKind): string {
  for (const [k, v] of Object.entries(EVENT_BY_NAME)) if (v === kind) return k;
  return String(kind);
}

/** The Page Ledger trace format and its snapshot-log form (docs/trace-format.md). */
export const nativeFormat: TraceFormat = {
  name: 'pageledger',
  description: 'Page Ledger trace (pageledger-trace 1) or snapshot log (pageledger-snapshot 1)',
  detect(head) {
    const first = headLines(head, 20).find((l) => !l.startsWith('#'));
    if (!first) return 0;
    if (/^pageledger-(trace|snapshot) \d+\s*$/.test(first)) return 1;
    return 0;
  },
  create: (ctx) => new NativeParser(ctx),
  timeOrdered: true,
};
