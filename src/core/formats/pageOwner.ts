import { EventKind, newEventRecord, resetEventRecord, type EventRecord } from '../model/events';
import type { EventStore } from '../model/eventStore';
import type { SnapshotInfo, TraceBuilder } from '../model/traceBuilder';
import { indexOf, isSpace, parseUint, skipSpaces, startsWith, text } from './bytes';
import { headLines, type LineParser, type ParseContext, type RangeSplit, type TraceFormat } from './format';

const HEADER = 'Page allocated via order ';
const FNV_OFFSET = 0x811c9dc5;
/** What a stack frame's text starts with in a site: a newline and a space. */
const NEWLINE_SPACE = new Uint8Array([0x0a, 0x20]);

/**
 * FNV-1a of a number's decimal digits, least significant first, continuing from `h` (numbers never
 * become strings per record). Below 2^53 the digits come from two integer halves (the low nine digits,
 * then the rest), so no step needs a floating-point remainder.
 */
function fnvNumber(h: number, v: number): number {
  if (v !== v) return Math.imul(h ^ 0x4e, 16777619) >>> 0;
  let x = Math.floor(v);
  if (x < 2 ** 53) {
    let hi = Math.floor(x / 1e9);
    let lo = x - hi * 1e9;
    if (hi > 0) {
      for (let k = 0; k < 9; k++) {
        const q = (lo / 10) | 0;
        h = Math.imul(h ^ (0x30 + lo - q * 10), 16777619) >>> 0;
        lo = q;
      }
      lo = hi;
      hi = 0;
      if (lo >= 1e9) return fnvDigits(h, lo);
    }
    do {
      const q = (lo / 10) | 0;
      h = Math.imul(h ^ (0x30 + lo - q * 10), 16777619) >>> 0;
      lo = q;
    } while (lo > 0);
    return Math.imul(h ^ 0x2c, 16777619) >>> 0;
  }
  return fnvDigits(h, x);
}

/** fnvNumber's digits of a whole number by floating-point steps (any size). */
function fnvDigits(h: number, x: number): number {
  do {
    h = Math.imul(h ^ (0x30 + (x % 10)), 16777619) >>> 0;
    x = Math.floor(x / 10);
  } while (x > 0);
  return Math.imul(h ^ 0x2c, 16777619) >>> 0;
}

/**
 * The identity of a dump record's allocation: same site (the Record's `arg`), order and timestamp means the
 * same allocation in two dumps. Computed when asked (snapshot diffs line records up by it) rather than
 * stored per record.
 */
export function pageOwnerAllocId(site: number, order: number, ts: number): number {
  return fnvNumber(fnvNumber(site, order), ts);
}

/**
 * Allocation sites seen in page_owner dumps, per builder: `site hash` (the `arg` of a Record event) ->
 * the gfp mask, migratetype and stack as printed. Sites are few (one per distinct stack and mask), so
 * this costs a string per site, not per record.
 */
const SITES = new WeakMap<TraceBuilder, Map<number, string>>();

/** The gfp mask, migratetype and stack of a page_owner allocation site (Record `arg`), if known. */
export function pageOwnerSite(builder: TraceBuilder, siteHash: number): string | undefined {
  return SITES.get(builder)?.get(siteHash);
}

// A summary block header of page_owner_sort: `12 times, 12 pages[, allocated by SLAB ][, PID 1]...[:]`.
const SUMMARY_RE = /^(\d+) times, (\d+) pages\b(.*)$/;

/**
 * Parser for `/sys/kernel/debug/page_owner` dumps (4.x to 6.x layouts) and `page_owner_sort` output.
 * A dump is one snapshot; each record becomes a Record event at its allocation timestamp.
 */
class PageOwnerParser implements LineParser {
  private readonly b: TraceBuilder;
  private readonly e: EventRecord = newEventRecord();
  private readonly snap: SnapshotInfo;
  private readonly sites: Map<number, string>;
  // The record being read.
  private inRecord = false;
  private recLine = 0;
  private order = 0;
  private pid = -1;
  private tgid = -1;
  private comm: string | undefined;
  /** The record's owner when the header line already settled it (see ownerFromCache), else -1. */
  private owner = -1;
  private ts = NaN;
  private pfn = NaN;
  private maskStart = 0;
  private maskHash = FNV_OFFSET;
  private stackLines = 0;
  // The site's bytes are copied into one reused buffer and decoded only for a site not seen yet.
  private siteBytes = new Uint8Array(1024);
  private siteLen = 0;
  private maxTs = -Infinity;
  /**
   * Owner ids by pid, direct-mapped (slot = pid & OWNER_SLOTS - 1), with what the owner already has:
   * once an owner has its comm and tgid, a record of that pid can add nothing, and its header costs no
   * comm string and no owner-table lookup.
   */
  private readonly slotPid = new Int32Array(OWNER_SLOTS).fill(-1);
  private readonly slotOwner = new Int32Array(OWNER_SLOTS);
  /** What the cached owner had when cached (1: its comm, 2: its tgid): most headers need no owner object. */
  private readonly slotHas = new Uint8Array(OWNER_SLOTS);
  /** This dump's events in the store: its records are read back from there to merge with another dump. */
  private readonly dump: DumpState;
  // page_owner_sort summary block being read.
  private inSummary = false;
  private sumLine = 0;
  private sumTimes = 0;
  private sumPages = 0;
  private sumPid = -1;
  private sumTgid = -1;
  private sumComm: string | undefined;

  constructor(ctx: ParseContext) {
    this.b = ctx.builder;
    let sites = SITES.get(this.b);
    if (!sites) SITES.set(this.b, (sites = new Map()));
    this.sites = sites;
    const n = this.b.snapshots.filter((s) => s.source === 'page_owner').length + 1;
    this.snap = this.b.addSnapshot({ source: 'page_owner', name: `page_owner dump ${n}`, time: NaN, line: 1 });
    this.dump = { snap: this.snap, first: this.b.events.length, end: this.b.events.length };
    dumpsOf(this.b).push(this.dump);
  }

  line(b: Uint8Array, start: number, end: number, lineNo: number): void {
    const i = skipSpaces(b, start, end);
    if (i >= end) {
      this.endRecord();
      this.endSummary();
      return;
    }
    // A comment line between records (a capture script's note, a copied file's source line) is no record.
    if (b[i] === 0x23 /* # */ && !this.inRecord && i === start) return;
    if (i > start) {
      // Indented: a stack frame.
      if (this.inRecord) this.stackLine(b, i, end);
      else if (!this.inSummary) this.b.error(lineNo, `stack line outside a record: expected "${HEADER}N, mask M" before it`);
      return;
    }
    if (startsWith(b, i, end, HEADER)) {
      if (this.inSummary) return this.summaryHeaderLine(b, i, end);
      this.endRecord();
      return this.header(b, i, end, lineNo);
    }
    if (this.inRecord) {
      if (startsWith(b, i, end, 'PFN ')) return this.pfnLine(b, i, end, lineNo);
      if (startsWith(b, i, end, 'Page has been migrated')) return this.b.count('migratedRecords');
      // Memcg lines (5.19+), the stack handle (6.10+): known, nothing Page Ledger models.
      if (startsWith(b, i, end, 'Charged ') || startsWith(b, i, end, 'Slab cache page') || startsWith(b, i, end, 'handle: ')) return;
      this.b.count('unknownLines');
      return;
    }
    const c = b[i];
    if (c >= 0x30 && c <= 0x39) {
      const m = SUMMARY_RE.exec(text(b, i, end));
      if (m) {
        this.endSummary();
        return this.summaryStart(m, lineNo);
      }
    }
    if (this.inSummary) return;
    this.b.error(lineNo, `expected "${HEADER}N, mask M(...)" to start a page_owner record, or "N times, M pages" of page_owner_sort, found "${text(b, i, Math.min(end, i + 60))}"`);
  }

  end(lines: number): void {
    void lines;
    this.endRecord();
    this.endSummary();
    if (this.maxTs > -Infinity) this.snap.time = this.maxTs;
    this.dump.end = this.b.events.length;
    this.freeWhatLaterDumpDropped();
  }

  // ---- dump records

  private header(b: Uint8Array, start: number, end: number, lineNo: number): void {
    let i = start + HEADER.length;
    let j = i;
    while (j < end && b[j] !== 0x2c) j++;
    const order = parseUint(b, i, j);
    if (order !== order || order > 30) {
      this.b.error(lineNo, `expected "${HEADER}N" with N a page order (0..30), found "${text(b, i, j)}"`);
      return;
    }
    this.inRecord = true;
    this.recLine = lineNo;
    this.order = order;
    this.pid = -1;
    this.tgid = -1;
    this.comm = undefined;
    this.owner = -1;
    this.ts = NaN;
    this.pfn = NaN;
    this.stackLines = 0;
    this.maskHash = FNV_OFFSET;
    this.maskStart = -1;
    this.siteLen = 0;
    let commStart = -1;
    let commEnd = -1;
    // Fields after the order, each introduced by ", ": mask, pid, tgid (comm), ts, free_ts.
    i = j;
    while (i < end) {
      i = skipSpaces(b, i + 1, end); // past ','
      if (startsWith(b, i, end, 'mask ')) {
        const s = i + 5;
        let k = s;
        // `mask 0x100cca(GFP_HIGHUSER_MOVABLE)`: the flags in parentheses may hold anything but ')'.
        while (k < end && b[k] !== 0x2c && b[k] !== 0x28) k++;
        if (k < end && b[k] === 0x28) {
          while (k < end && b[k] !== 0x29) k++;
          if (k < end) k++;
        }
        this.maskStart = s;
        this.maskHash = this.hashSite(FNV_OFFSET, b, s, k);
        i = k;
      } else if (startsWith(b, i, end, 'pid ')) {
        const k = tokenEnd(b, i + 4, end);
        this.pid = parseUint(b, i + 4, k);
        i = k;
      } else if (startsWith(b, i, end, 'tgid ')) {
        let k = tokenEnd(b, i + 5, end);
        this.tgid = parseUint(b, i + 5, k);
        k = skipSpaces(b, k, end);
        if (k < end && b[k] === 0x28) {
          // The comm may itself hold ", " or parentheses: it ends at the ")" before ", ts " (or the line end).
          let close = indexOf(b, '), ts ', k, end);
          if (close < 0) {
            close = end - 1;
            while (close > k && b[close] !== 0x29) close--;
          }
          commStart = k + 1;
          commEnd = close;
          k = close + 1;
        }
        i = k;
      } else if (startsWith(b, i, end, 'ts ')) {
        const k = tokenEnd(b, i + 3, end);
        this.ts = parseUint(b, i + 3, k);
        i = k;
      } else {
        // free_ts and anything a vendor kernel adds: not part of ownership.
        i = tokenEnd(b, i, end);
      }
      while (i < end && b[i] !== 0x2c) i++;
    }
    if (!this.ownerFromCache(commStart, commEnd) && commStart >= 0) this.comm = text(b, commStart, commEnd);
    if (this.maskStart < 0) this.b.error(lineNo, `expected ", mask M" after the order in "${text(b, start, Math.min(end, start + 60))}"`);
    if (this.pid !== this.pid) this.b.error(lineNo, 'expected a number after "pid"');
    if (this.ts !== this.ts && indexOf(b, ' ts ', start, end) >= 0) this.b.error(lineNo, 'expected a number of nanoseconds after "ts"');
  }

  private pfnLine(b: Uint8Array, start: number, end: number, lineNo: number): void {
    const s = start + 4;
    const k = tokenEnd(b, s, end);
    const pfn = parseUint(b, s, k);
    if (pfn !== pfn) {
      this.b.error(lineNo, `expected "PFN N" with N a decimal or 0x-hex frame number, found "${text(b, s, k)}"`);
      return;
    }
    this.pfn = pfn;
    // `type Movable Block 7 type Movable Flags ...`: the page's migratetype is part of its site.
    const t = indexOf(b, ' type ', k, end);
    if (t >= 0) {
      const te = tokenEnd(b, t + 6, end);
      this.appendSite(b, t, t + 6);
      this.maskHash = this.hashSite(this.maskHash, b, t + 6, te);
    }
  }

  private stackLine(b: Uint8Array, i: number, end: number): void {
    // ` [<ffffffff811b3ed6>] __alloc_pages_nodemask+0x1a6/0xb10` (4.x) hashes like the bare 5.x+ frame:
    // the symbol is what identifies a site across kernels and boots.
    if (b[i] === 0x5b && i + 1 < end && b[i + 1] === 0x3c) {
      const close = indexOf(b, '>]', i, end);
      if (close >= 0) i = skipSpaces(b, close + 2, end);
    }
    let e = end;
    while (e > i && isSpace(b[e - 1])) e--;
    this.appendSite(NEWLINE_SPACE, 0, 2);
    this.maskHash = this.hashSite(Math.imul(this.maskHash ^ 0x0a, 16777619) >>> 0, b, i, e);
    this.stackLines++;
  }

  /**
   * Append bytes[start, end) to the site text and return the FNV-1a hash `h` continued over them: one
   * loop for both, with no subarray per line (copying with `set(subarray)` and hashing apart took 15%
   * of the parse of a 100 MB dump).
   */
  private hashSite(h: number, b: Uint8Array, start: number, end: number): number {
    const out = this.siteRoom(end - start);
    let n = this.siteLen;
    for (let k = start; k < end; k++) {
      const c = b[k];
      out[n++] = c;
      h = Math.imul(h ^ c, 16777619) >>> 0;
    }
    this.siteLen = n;
    return h;
  }

  /** Append bytes[start, end) to the site text. */
  private appendSite(b: Uint8Array, start: number, end: number): void {
    const out = this.siteRoom(end - start);
    let n = this.siteLen;
    for (let k = start; k < end; k++) out[n++] = b[k];
    this.siteLen = n;
  }

  /** The site buffer, with room for `more` bytes after siteLen. */
  private siteRoom(more: number): Uint8Array {
    const need = this.siteLen + more;
    if (need > this.siteBytes.length) {
      const next = new Uint8Array(Math.max(need, this.siteBytes.length * 2));
      next.set(this.siteBytes.subarray(0, this.siteLen));
      this.siteBytes = next;
    }
    return this.siteBytes;
  }

  /**
   * Settle the record's owner from the pid cache when the owner table could learn nothing from this
   * header (it has the comm, or the header has none; the same for the tgid): then no comm string is
   * decoded. False when the owner has to be looked up in endRecord.
   */
  private ownerFromCache(commStart: number, commEnd: number): boolean {
    const pid = this.pid;
    if (!(pid > 0) || pid >= 0x80000000) return false;
    const slot = pid & (OWNER_SLOTS - 1);
    if (this.slotPid[slot] !== pid) return false;
    const id = this.slotOwner[slot];
    const has = this.slotHas[slot];
    if ((has & 1 || commEnd <= commStart) && (has & 2 || this.tgid < 0)) {
      this.owner = id;
      return true;
    }
    const o = this.b.owners.get(id);
    if (o.comm === undefined && commEnd > commStart) return false;
    if (o.tgid === undefined && this.tgid >= 0) return false;
    this.owner = id;
    return true;
  }

  private endRecord(): void {
    if (!this.inRecord) return;
    this.inRecord = false;
    const b = this.b;
    if (this.pfn !== this.pfn) {
      b.error(this.recLine, 'record has no "PFN N ..." line: expected one right after the "Page allocated via order" line');
      return;
    }
    const site = this.maskHash;
    if (!this.sites.has(site)) this.sites.set(site, text(this.siteBytes, 0, this.siteLen));
    const e = this.e;
    resetEventRecord(e);
    e.kind = EventKind.Record;
    e.line = this.recLine;
    e.time = this.ts;
    e.pfn = this.pfn;
    e.order = this.order;
    e.ref = this.snap.id;
    e.arg = site;
    // arg2 stays 0: the allocation identity (pageOwnerAllocId) follows from arg, order and time, and as
    // a column of its own it took 4.2 bytes a record (10.5 MB of a 2.5 M-record dump).
    if (this.owner >= 0) e.owner = this.owner;
    else {
      e.owner = this.ownerOf(this.pid, this.comm, this.tgid);
      const pid = this.pid;
      if (pid > 0 && pid < 0x80000000) {
        const o = b.owners.get(e.owner);
        const slot = pid & (OWNER_SLOTS - 1);
        this.slotPid[slot] = pid;
        this.slotOwner[slot] = e.owner;
        this.slotHas[slot] = (o.comm !== undefined ? 1 : 0) | (o.tgid !== undefined ? 2 : 0);
      }
    }
    if (this.pid > 0) e.pid = this.pid;
    b.push(e);
    b.count('records');
    if (this.ts > this.maxTs) this.maxTs = this.ts;
  }

  private ownerOf(pid: number, comm: string | undefined, tgid: number): number {
    // pid 0 is the idle task: pages the kernel took during early boot (before any task ran).
    if (pid <= 0) return this.b.owners.kernel();
    return this.b.owners.process(pid, comm, tgid >= 0 ? tgid : undefined);
  }

  // ---- page_owner_sort

  private summaryStart(m: RegExpExecArray, lineNo: number): void {
    this.inSummary = true;
    this.sumLine = lineNo;
    this.sumTimes = Number(m[1]);
    this.sumPages = Number(m[2]);
    const rest = m[3];
    const pid = /, PID (\d+)/.exec(rest);
    const tgid = /, TGID (\d+)/.exec(rest);
    const comm = /, task_comm_name: (.*?)(?:, allocat\w+ by .*| \((?:UN)?RELEASED\))?:?$/.exec(rest);
    this.sumPid = pid ? Number(pid[1]) : -1;
    this.sumTgid = tgid ? Number(tgid[1]) : -1;
    this.sumComm = comm ? comm[1] : undefined;
  }

  /** The record text page_owner_sort prints under a block header names the task when the cull key did not. */
  private summaryHeaderLine(b: Uint8Array, i: number, end: number): void {
    if (this.sumPid >= 0) return;
    const t = text(b, i, end);
    const pid = /, pid (\d+)/.exec(t);
    if (!pid) return;
    this.sumPid = Number(pid[1]);
    const tg = /, tgid (\d+) \((.*)\), ts /.exec(t) ?? /, tgid (\d+) \((.*)\)$/.exec(t);
    if (tg) {
      this.sumTgid = Number(tg[1]);
      this.sumComm ??= tg[2];
    }
  }

  private endSummary(): void {
    if (!this.inSummary) return;
    this.inSummary = false;
    // A summary has no pfns: one Record without a frame carries the block's pages (`arg`), so owners and
    // livePages count them while the page table stays empty.
    const e = this.e;
    resetEventRecord(e);
    e.kind = EventKind.Record;
    e.line = this.sumLine;
    e.pfn = NaN;
    e.arg = this.sumPages;
    e.owner = this.ownerOf(this.sumPid, this.sumComm, this.sumTgid);
    if (this.sumPid > 0) e.pid = this.sumPid;
    this.b.push(e);
    this.b.count('records', this.sumTimes);
    this.b.count('summaryBlocks');
  }

  // ---- merging dumps

  /**
   * Two dumps in one timeline: a block the earlier dump holds and the later one does not was freed
   * between them. An absent block is freed at the later dump's time (the latest moment it can have
   * happened); a block the later dump partly reallocated is freed whole just before the first of those
   * allocations, so the replay sees free-then-alloc instead of a half-freed block of the wrong order.
   */
  private freeWhatLaterDumpDropped(): void {
    const dumps = dumpsOf(this.b);
    if (dumps.length < 2) return;
    const cur = heldBy(this.b.events, dumps[dumps.length - 1]);
    const prev = heldBy(this.b.events, dumps[dumps.length - 2]);
    if (prev.held.size === 0 || cur.held.size === 0) return;
    const [early, late] = cur.snap.time < prev.snap.time ? [cur, prev] : [prev, cur];
    const covered = coveredPages(late);
    const e = this.e;
    for (const [pfn, order] of early.held) {
      const n = 2 ** order;
      let kept = 0;
      let firstRealloc = Infinity;
      for (let p = pfn; p < pfn + n; p++) {
        const t = covered.get(p);
        if (t === undefined) continue;
        kept++;
        if (t < firstRealloc) firstRealloc = t;
      }
      if (kept === n) continue;
      resetEventRecord(e);
      e.kind = EventKind.Free;
      e.line = late.snap.line;
      e.pfn = pfn;
      e.order = order;
      e.time = kept === 0 ? late.snap.time : firstRealloc - 1;
      // Without timestamps (4.x) firstRealloc stays Infinity (NaN < Infinity is false), and a free
      // at Infinity would come after the reallocation and free its pages too.
      if (kept > 0 && !(e.time > -Infinity && e.time < Infinity)) {
        // No timestamps (4.x): nothing orders the free before the reallocation, so only the pages
        // left over are freed, one by one, at the later dump's time as an absent block is.
        e.order = 0;
        e.time = late.snap.time;
        for (let p = pfn; p < pfn + n; p++) {
          if (covered.has(p)) continue;
          e.pfn = p;
          this.b.push(e);
        }
      } else this.b.push(e);
      this.b.count('freedBetweenDumps', n - kept);
    }
  }
}

/** Page -> timestamp of the record of `dump` that holds it. */
function coveredPages(dump: HeldBlocks): Map<number, number> {
  const m = new Map<number, number>();
  for (const [pfn, order] of dump.held) {
    const t = dump.heldTs.get(pfn) ?? NaN;
    for (let p = pfn; p < pfn + 2 ** order; p++) m.set(p, t);
  }
  return m;
}

/** Owner cache slots of a parser (a power of two). */
const OWNER_SLOTS = 4096;

/** A dump parsed into a builder: its snapshot and the range of events its parser pushed. */
interface DumpState {
  snap: SnapshotInfo;
  first: number;
  end: number;
}

/** The blocks a dump holds: head pfn -> order and head pfn -> allocation time (the last record wins). */
interface HeldBlocks {
  snap: SnapshotInfo;
  held: Map<number, number>;
  heldTs: Map<number, number>;
}

/**
 * The blocks of a dump, read back from its records in the event store. Only a merge of two dumps needs
 * them; keeping them in Maps while parsing cost about 80 bytes a record (two entries and a boxed
 * timestamp), 200 MB for a 1 GB dump that is read alone.
 */
function heldBy(events: EventStore, dump: DumpState): HeldBlocks {
  const held = new Map<number, number>();
  const heldTs = new Map<number, number>();
  const r = newEventRecord();
  for (let i = dump.first; i < dump.end; i++) {
    events.read(i, r);
    // Summary blocks of page_owner_sort are Records without a pfn: they hold no frame.
    if (r.kind !== EventKind.Record || r.pfn !== r.pfn) continue;
    held.set(r.pfn, r.order);
    heldTs.set(r.pfn, r.time);
  }
  return { snap: dump.snap, held, heldTs };
}

const DUMPS = new WeakMap<TraceBuilder, DumpState[]>();

function dumpsOf(b: TraceBuilder): DumpState[] {
  let d = DUMPS.get(b);
  if (!d) DUMPS.set(b, (d = []));
  return d;
}

/** End of a `key value` token: the next ',' or blank. */
function tokenEnd(b: Uint8Array, i: number, end: number): number {
  while (i < end && b[i] !== 0x2c && b[i] !== 0x20 && b[i] !== 0x09) i++;
  return i;
}

// ---- two ranges of one dump (TraceFormat.rangeSplit)

const HEADER_BYTES = new TextEncoder().encode(HEADER);

/**
 * Offset of the first line at or after `from` in `b` that starts a dump record (`Page allocated via
 * order` at the line start) right after a blank line, or -1. A blank line ends any record and summary
 * block, so a parser started afresh on the next line is in the state one parser has there; what it
 * keeps beyond that (sites, the dump's latest timestamp) is merged by mergePageOwnerRange. The record
 * header after it makes the cut fall between two records.
 */
export function pageOwnerRecordStart(b: Uint8Array, from: number): number {
  const n = b.length;
  const h = HEADER_BYTES;
  // The '\n' ending the line before a candidate, so that the candidate starts at or after `from`.
  let nl = b.indexOf(0x0a, Math.max(0, from - 1));
  while (nl >= 0) {
    const s = nl + 1;
    if (s + h.length > n) return -1;
    let k = 0;
    while (k < h.length && b[s + k] === h[k]) k++;
    if (k === h.length && blankLineEndingAt(b, nl)) return s;
    nl = b.indexOf(0x0a, s);
  }
  return -1;
}

/**
 * Whether the line whose '\n' is at `nl` is blank as the parser sees it: spaces and tabs only, after the
 * line reader drops one '\r' before the '\n'. False when its start is not in `b`.
 */
function blankLineEndingAt(b: Uint8Array, nl: number): boolean {
  let i = nl - 1;
  if (i >= 0 && b[i] === 0x0d) i--;
  while (i >= 0 && (b[i] === 0x20 || b[i] === 0x09)) i--;
  return i >= 0 && b[i] === 0x0a;
}

/** What the parser of one range of a dump keeps beside the builder's tables (RangeSplit.rangeState). */
interface PageOwnerRangeState {
  /** The allocation sites the range met, in the order it met them: [site hash, text]. */
  sites: [number, string][];
  /** The range's dump: its snapshot id and time (its latest record timestamp; NaN without any). */
  snap: number;
  time: number;
}

/** The sites and the dump a parser left in `b`, for mergePageOwnerRange in another builder. */
export function pageOwnerRangeState(b: TraceBuilder): PageOwnerRangeState {
  const dumps = dumpsOf(b);
  const d = dumps[dumps.length - 1];
  return { sites: [...(SITES.get(b) ?? [])], snap: d ? d.snap.id : NaN, time: d ? d.snap.time : NaN };
}

/**
 * Merge a range's sites and dump into `b`, after its events were appended at `first`. The ranges of one
 * file are one dump: each range's parser made its own snapshot with the same id (a fresh builder's first
 * snapshot), the part stream keeps the first and leaves out the others (their id is taken), so every
 * range's records already refer to the first range's snapshot. That snapshot takes the latest timestamp
 * of all ranges, as one parser sets it at the end of the dump, and the dump's event range grows to cover
 * every range, as a later dump's merge (freeWhatLaterDumpDropped) reads it.
 */
export function mergePageOwnerRange(b: TraceBuilder, state: unknown, first: number): void {
  const s = state as PageOwnerRangeState;
  let sites = SITES.get(b);
  if (!sites) SITES.set(b, (sites = new Map()));
  for (const [hash, site] of s.sites) if (!sites.has(hash)) sites.set(hash, site);
  const k = b.snapshots.indexOf(s.snap);
  if (k < 0) return;
  const dumps = dumpsOf(b);
  let d = dumps.find((x) => x.snap.id === s.snap);
  if (!d) dumps.push((d = { snap: b.snapshots.get(k), first, end: first }));
  d.end = b.events.length;
  if (s.time === s.time && !(d.snap.time >= s.time)) {
    d.snap.time = s.time;
    b.snapshots.setTime(k, s.time);
  }
}

const pageOwnerRangeSplit: RangeSplit = {
  findStart: pageOwnerRecordStart,
  rangeState: pageOwnerRangeState,
  mergeRange: mergePageOwnerRange,
};

/** `/sys/kernel/debug/page_owner` dumps and `page_owner_sort` output. */
export const pageOwnerFormat: TraceFormat = {
  name: 'page_owner',
  description: 'page_owner dump (/sys/kernel/debug/page_owner, kernels 4.x-6.x) or page_owner_sort output',
  detect(head: string): number {
    const lines = headLines(head, 20);
    if (lines.length === 0) return 0;
    if (lines[0].startsWith(HEADER)) return 0.95;
    if (SUMMARY_RE.test(lines[0])) return 0.9;
    return lines.some((l) => l.startsWith(HEADER)) && lines.some((l) => /^PFN (0x[0-9a-f]+|\d+) /.test(l)) ? 0.6 : 0;
  },
  create: (ctx) => new PageOwnerParser(ctx),
  rangeSplit: pageOwnerRangeSplit,
};
