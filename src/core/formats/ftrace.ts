import { EventKind, newEventRecord, resetEventRecord, type EventRecord } from '../model/events';
import type { TraceBuilder } from '../model/traceBuilder';
import { HEX_DIGIT, HEX_END, indexOf, NameCache, parseUint, sameAscii, skipSpaces, skipToken, startsWith, text } from './bytes';
import { headLines, type LineParser, type ParseContext, type TraceFormat } from './format';

/**
 * Kernel event traces as text: ftrace (`/sys/kernel/tracing/trace` and `trace_pipe`), `trace-cmd report`
 * and `perf script`. The three print the same tracepoint fields behind different line prefixes, so one
 * byte-level parser reads all three; the formats differ only in how they are recognised. See
 * docs/formats.md for the events and the quirks handled.
 */

/** What the parser does with an event, by tracepoint name. */
const enum Ev {
  Alloc = 1,
  Free,
  FreeBatched,
  /** Allocator-internal events: counted and kept as Other, never an ownership change. */
  Internal,
  CacheAdd,
  CacheDelete,
  /** A migration summary (`mm_migrate_pages`): a count of pages moved, with no pfn to follow. */
  MigrateSummary,
  MigratePage,
  Fork,
  Exit,
}

const EVENTS = new Map<string, Ev>([
  ['mm_page_alloc', Ev.Alloc],
  ['mm_page_free', Ev.Free],
  // Kernels before 3.3 called it mm_page_free_direct.
  ['mm_page_free_direct', Ev.Free],
  ['mm_page_free_batched', Ev.FreeBatched],
  ['mm_pagevec_free', Ev.FreeBatched],
  // zone_locked fires inside the buddy allocator when pages leave a free list for a per-cpu list or an
  // allocation that mm_page_alloc reports afterwards; pcpu_drain moves already-freed pages back to the
  // buddy lists; alloc_extfrag reports a pageblock stolen across migratetypes. None of them hands a page
  // to an owner, so counting them as ownership changes would double every allocation.
  ['mm_page_alloc_zone_locked', Ev.Internal],
  ['mm_page_pcpu_drain', Ev.Internal],
  ['mm_page_alloc_extfrag', Ev.Internal],
  ['mm_filemap_add_to_page_cache', Ev.CacheAdd],
  ['mm_filemap_delete_from_page_cache', Ev.CacheDelete],
  ['mm_migrate_pages', Ev.MigrateSummary],
  ['mm_migrate_pages_start', Ev.MigrateSummary],
  // Mainline has no page-level migration tracepoint; vendor kernels and out-of-tree probes use these
  // names with src/dst pfns (docs/formats.md).
  ['mm_page_migrate', Ev.MigratePage],
  ['mm_migrate_page', Ev.MigratePage],
  ['migrate_page', Ev.MigratePage],
  ['sched_process_fork', Ev.Fork],
  ['sched_process_exit', Ev.Exit],
]);

function hashOf(name: string): number {
  let h = 0;
  for (let k = 0; k < name.length; k++) h = (h * 31 + name.charCodeAt(k)) | 0;
  return h;
}

/** The first 4 * floor(length / 4) characters of an ASCII string as little-endian int32 words. */
function wordsOf(t: string): Int32Array {
  const w = new Int32Array(t.length >>> 2);
  for (let q = 0; q < w.length; q++) {
    const k = q * 4;
    w[q] = t.charCodeAt(k) | (t.charCodeAt(k + 1) << 8) | (t.charCodeAt(k + 2) << 16) | (t.charCodeAt(k + 3) << 24);
  }
  return w;
}

/** `page`, `pfn=` and `orde` as DataView.getInt32(at, true) reads them. */
const WORD_PAGE = wordsOf('page')[0];
const WORD_PFN = wordsOf('pfn=')[0];
const WORD_ORDE = wordsOf('orde')[0];
/** Four `0` digits, a null pointer's usual words. */
const WORD_ZEROS = wordsOf('0000')[0];

/**
 * The value of two hex digits by the two bytes as DataView.getUint16(at, true) reads them (the first in
 * the low byte), -1 unless both are hex digits: a pfn's digits two at a time. Exact as two steps of
 * `v * 16 + d` below 2^53; above it the pfn is past PFN_LIMIT either way.
 */
const HEX_PAIR = new Int16Array(65536).fill(-1);
for (let first = 0; first < 256; first++) {
  const a = HEX_DIGIT[first];
  if (a < 0 || a === HEX_END) continue;
  for (let second = 0; second < 256; second++) {
    const c = HEX_DIGIT[second];
    if (c >= 0 && c !== HEX_END) HEX_PAIR[(second << 8) | first] = a * 16 + c;
  }
}

/**
 * Whether one of the four bytes of w is a blank (space or tab): the zero-byte test `(x - 0x01..) & ~x &
 * 0x80..` on w xor the blank repeated, exact as a yes or no.
 */
function hasBlank(w: number): boolean {
  const s = w ^ 0x20202020;
  const t = w ^ 0x09090909;
  return ((((s - 0x01010101) & ~s) | ((t - 0x01010101) & ~t)) & 0x80808080) !== 0;
}

/**
 * The known event names in an open-addressing table by the hash `scanName` computes: a slot holds the
 * hash, the Ev (0: empty) and the name's bytes, so a line's name is matched with byte compares and no
 * Map lookup (a Map by hash and a compare against the string took 8% of the parse of ftrace kmem).
 */
const NAME_SLOTS = 128;
const nameHash = new Int32Array(NAME_SLOTS);
const nameEv = new Uint8Array(NAME_SLOTS);
const nameBytes: Uint8Array[] = [];
/** The first 4 * floor(length / 4) bytes of each name as little-endian int32 words (guessName). */
const nameWords: Int32Array[] = [];
const nameText: string[] = [];
{
  const seen = new Set<number>();
  for (const [name, ev] of EVENTS) {
    const h = hashOf(name);
    if (seen.has(h)) throw new Error(`event name hash collision: ${name}`);
    seen.add(h);
    let slot = h & (NAME_SLOTS - 1);
    while (nameEv[slot] !== 0) slot = (slot + 1) & (NAME_SLOTS - 1);
    nameHash[slot] = h;
    nameEv[slot] = ev;
    nameBytes[slot] = Uint8Array.from(name, (c) => c.charCodeAt(0));
    nameWords[slot] = wordsOf(name);
    nameText[slot] = name;
  }
}

/** The slot of the known event named by bytes[s, e) with hash h, or -1. */
function knownEvent(h: number, b: Uint8Array, s: number, e: number): number {
  for (let slot = h & (NAME_SLOTS - 1); nameEv[slot] !== 0; slot = (slot + 1) & (NAME_SLOTS - 1)) {
    if (nameHash[slot] !== h) continue;
    const n = nameBytes[slot];
    if (n.length !== e - s) return -1;
    let k = 0;
    while (k < n.length && n[k] === b[s + k]) k++;
    return k === n.length ? slot : -1;
  }
  return -1;
}

/**
 * The byte of an event name that picks the guess (guessName): the ninth, where mm_page_alloc and
 * mm_page_free, which alternate in a kmem capture, first differ. Every known name is longer.
 */
const GUESS_AT = 8;
{
  for (const name of EVENTS.keys()) if (name.length <= GUESS_AT) throw new Error(`event name shorter than the guess byte: ${name}`);
}

/** Owner cache slots of a parser (a power of two). */
const OWNER_SLOTS = 4096;

// pfn values at or above this are the -1UL that kernels store for a failed allocation when the text is
// printed from raw fields (`[FAILED TO PARSE]` in trace-cmd and perf), never real frames.
const PFN_LIMIT = 2 ** 52;

/** The parser shared by the three formats. */
class FtraceParser implements LineParser {
  private readonly b: TraceBuilder;
  private readonly e: EventRecord = newEventRecord();
  /** Last comm string seen per pid: a line costs no string when the task's name has not changed. */
  private readonly commByPid = new Map<number, string>();
  /**
   * Owner ids by pid, direct-mapped (slot = pid & OWNER_SLOTS - 1); a pid not there is looked up. Beside
   * each, what the owner had when cached (1: its comm, 2: its tgid): owners only gain fields, so these
   * bits settle most lines without reading the owner object.
   */
  private readonly slotPid = new Int32Array(OWNER_SLOTS).fill(-1);
  private readonly slotOwner = new Int32Array(OWNER_SLOTS);
  private readonly slotHas = new Uint8Array(OWNER_SLOTS);
  private readonly names = new NameCache(1024);
  /** The slot of the known event last found by the byte at GUESS_AT of its name (-1 none): guessName. */
  private readonly guess = new Int16Array(256).fill(-1);
  /**
   * A DataView of the bytes the current line is in (dvBytes), made when a line comes from another array:
   * fixed strings are compared 4 bytes a read. A Uint8Array read costs about 20 instructions a byte in
   * V8's optimized loops (the array's map, base and length reloaded each time).
   */
  private dvBytes: Uint8Array | null = null;
  private dv: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  // Fields of the current line's prefix.
  private pid = 0;
  private tgid = -1;
  private commStart = 0;
  private commEnd = 0;
  private nameHash = 0;
  private nameFrom = 0;
  private stampEnd = 0;
  private numberEnd = 0;
  // Fields of the current event body.
  private pfn = NaN;
  private order = 0;
  private pageNull = false;
  private ofs = NaN;
  private ino = NaN;
  private devStart = -1;
  private devEnd = -1;
  private dstPfn = NaN;

  constructor(ctx: ParseContext) {
    this.b = ctx.builder;
  }

  line(b: Uint8Array, start: number, end: number, lineNo: number): void {
    if (b !== this.dvBytes) {
      this.dvBytes = b;
      this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    }
    // perf script call chains are tab-indented under their event; event lines are space-padded.
    if (start < end && b[start] === 0x09) return;
    const i = skipSpaces(b, start, end);
    if (i >= end) return;
    const c = b[i];
    if (c === 0x23 /* # */) return;
    if (c === 0x3d /* = */ && startsWith(b, i, end, '=>')) return; // ftrace stacktrace option
    if (this.headerLine(b, i, end)) return;
    this.eventLine(b, i, end, lineNo);
  }

  end(_lines: number): void {}

  /** Non-event lines the tools print: trace-cmd's header, lost-event markers, ftrace stack markers. */
  private headerLine(b: Uint8Array, i: number, end: number): boolean {
    const c = b[i];
    if (c === 0x76 /* v */ && startsWith(b, i, end, 'version = ')) return true;
    if (c === 0x63 /* c */ && startsWith(b, i, end, 'cpus=')) return true;
    if (c === 0x43 /* C */ && startsWith(b, i, end, 'CPU')) {
      // `CPU 2 is empty` (trace-cmd); `CPU:3 [LOST 1234 EVENTS]` (ftrace, when the ring buffer overran).
      if (indexOf(b, ' is empty', i, end) > 0) return true;
      const lost = indexOf(b, '[LOST ', i, end);
      if (lost > 0) {
        const n = parseUint(b, lost + 6, skipToken(b, lost + 6, end));
        this.b.count('lostEvents', n === n ? n : 0);
        return true;
      }
    }
    if (c === 0x3c /* < */ && (startsWith(b, i, end, '<stack trace>') || startsWith(b, i, end, '<user stack trace>'))) return true;
    return false;
  }

  private eventLine(b: Uint8Array, i: number, end: number, lineNo: number): void {
    // The CPU column `[003]` anchors the line: the task is to its left (comm may hold spaces, `-`, `/`
    // and `<...>`, so it cannot be tokenised from the front), the time and event to its right.
    // A comm may itself hold `[0]`: a candidate column must stand between blanks and have a task before it.
    let cpuClose = -1;
    let firstCandidate = -1;
    const dv = this.dv;
    for (let k = i + 1; k < end; k++) {
      // 4 bytes a read while none of them is a `[` (the zero-byte test on the word xor `[[[[`).
      for (; k + 4 <= end; k += 4) {
        const x = dv.getInt32(k, true) ^ 0x5b5b5b5b;
        if (((x - 0x01010101) & ~x & 0x80808080) !== 0) break;
      }
      if (k >= end) break;
      if (b[k] !== 0x5b /* [ */ || (b[k - 1] !== 0x20 && b[k - 1] !== 0x09)) continue;
      let m = k + 1;
      while (m < end && b[m] >= 0x30 && b[m] <= 0x39) m++;
      if (m === k + 1 || m + 1 >= end || b[m] !== 0x5d /* ] */ || (b[m + 1] !== 0x20 && b[m + 1] !== 0x09)) continue;
      if (firstCandidate < 0) firstCandidate = k;
      if (this.task(b, i, k)) {
        cpuClose = m;
        break;
      }
    }
    let rest: number;
    if (cpuClose >= 0) rest = skipSpaces(b, cpuClose + 1, end);
    else if (firstCandidate >= 0) {
      return this.b.error(lineNo, `expected the task as COMM-PID or "COMM PID" before the CPU column, found "${clip(b, i, firstCandidate)}"`);
    } else {
      // perf script without a cpu field: `comm pid ts: event: ...`.
      const ts = this.findTimestamp(b, i, end);
      if (ts < 0 || !this.task(b, i, ts)) {
        return this.b.error(lineNo, `expected "TASK-PID [CPU] FLAGS TIMESTAMP: EVENT: fields" (ftrace, trace-cmd) or "COMM PID [CPU] TIMESTAMP: EVENT: fields" (perf script), found "${clip(b, i, end)}"`);
      }
      rest = ts;
    }
    // Time: the first token ending in `:`; a token before it is the irq-flags column (`d..1.`, `....`).
    // A well-formed `seconds.fraction:` is read in the pass that finds its end.
    let time = this.stamp(b, rest, end);
    let tEnd = this.stampEnd;
    if (time !== time) {
      tEnd = skipToken(b, rest, end);
      if (tEnd > rest && b[tEnd - 1] !== 0x3a /* : */) {
        rest = skipSpaces(b, tEnd, end);
        time = this.stamp(b, rest, end);
        tEnd = time === time ? this.stampEnd : skipToken(b, rest, end);
      }
      if (time !== time) {
        if (tEnd <= rest || b[tEnd - 1] !== 0x3a) {
          return this.b.error(lineNo, `expected a timestamp in seconds followed by ":" after the CPU column, found "${clip(b, rest, end)}"`);
        }
        time = parseSeconds(b, rest, tEnd - 1);
        if (time !== time) return this.b.error(lineNo, `expected a timestamp in seconds (e.g. 1234.567890:), found "${text(b, rest, tEnd)}"`);
      }
    }
    const nameStart = skipSpaces(b, tEnd, end);
    let slot = this.guessName(b, nameStart, end);
    const nameEnd = slot >= 0 ? nameStart + nameBytes[slot].length + 1 : this.name(b, nameStart, end, lineNo);
    if (slot < 0) {
      if (nameEnd < 0) return;
      slot = knownEvent(this.nameHash, b, this.nameFrom, nameEnd - 1);
      if (slot < 0) {
        this.b.count('unknownEvents');
        return;
      }
      if (this.nameFrom === nameStart) this.guess[b[nameStart + GUESS_AT]] = slot;
    }
    const bodyStart = nameEnd;
    const name = nameText[slot];
    const ev = nameEv[slot] as Ev;
    const e = this.e;
    resetEventRecord(e);
    e.line = lineNo;
    e.time = time;
    this.event(ev, name, b, bodyStart, end, lineNo);
  }

  /**
   * The known event named at s when it is the one last found with the same byte at s + GUESS_AT and the
   * token is exactly its name and a colon (the slot scanName and knownEvent would find), else -1. One
   * compare loop where those are two passes over the name, a multiply per byte and a table probe.
   */
  private guessName(b: Uint8Array, s: number, end: number): number {
    if (s + GUESS_AT >= end) return -1;
    const slot = this.guess[b[s + GUESS_AT]];
    if (slot < 0) return -1;
    const n = nameBytes[slot];
    const colon = s + n.length;
    if (colon >= end || b[colon] !== 0x3a || (colon + 1 < end && b[colon + 1] !== 0x20 && b[colon + 1] !== 0x09)) return -1;
    // 4 bytes a read (the words end before the colon, so within the line), then the last 0-3 bytes.
    const w = nameWords[slot];
    const dv = this.dv;
    let k = 0;
    for (let q = 0; q < w.length; q++, k += 4) if (dv.getInt32(s + k, true) !== w[q]) return -1;
    for (; k < n.length; k++) if (n[k] !== b[s + k]) return -1;
    return slot;
  }

  /**
   * The event-name token at s scanned and hashed (scanName), past a sample period perf may print before
   * it; the end of the token (just past its colon), or -1 when the line has no event name ending in a
   * colon (reported or counted here).
   */
  private name(b: Uint8Array, s: number, end: number, lineNo: number): number {
    let nameStart = s;
    let nameEnd = this.scanName(b, nameStart, end);
    // perf script may print a sample period between the time and the event.
    if (nameEnd < end && b[nameEnd - 1] !== 0x3a && isDigits(b, nameStart, nameEnd)) {
      nameStart = skipSpaces(b, nameEnd, end);
      nameEnd = this.scanName(b, nameStart, end);
    }
    if (nameEnd <= nameStart) {
      this.b.error(lineNo, `expected an event name followed by ":" after the timestamp, found the end of the line`);
      return -1;
    }
    if (b[nameEnd - 1] !== 0x3a) {
      // A well-formed line of another tracer (function: `do_sys_open <-sys_open`): not an event we read.
      this.b.count('unknownEvents');
      return -1;
    }
    return nameEnd;
  }

  /**
   * The token at i read as `seconds[.fraction]:` ending at a blank or the line end: its value in
   * nanoseconds as parseSeconds gives it, with stampEnd just past the colon; NaN for any other token.
   */
  private stamp(b: Uint8Array, i: number, end: number): number {
    let whole = 0;
    let digits = 0;
    let c = 0;
    for (; i < end; i++) {
      c = b[i] - 0x30;
      if (c < 0 || c > 9) break;
      whole = whole * 10 + c;
      digits++;
    }
    let frac = 0;
    let fracDigits = 0;
    if (i < end && c === -2 /* . */) {
      for (i++; i < end; i++) {
        c = b[i] - 0x30;
        if (c < 0 || c > 9) break;
        if (fracDigits < 9) {
          frac = frac * 10 + c;
          fracDigits++;
        }
        digits++;
      }
    }
    if (digits === 0 || i >= end || b[i] !== 0x3a || (i + 1 < end && b[i + 1] !== 0x20 && b[i + 1] !== 0x09)) return NaN;
    this.stampEnd = i + 1;
    return whole * 1e9 + frac * POW10[9 - fracDigits];
  }

  /** Read the task (comm, pid, tgid) from bytes[i, stop); false when it is not there. */
  private task(b: Uint8Array, i: number, stop: number): boolean {
    let j = stop - 1;
    while (j >= i && (b[j] === 0x20 || b[j] === 0x09)) j--;
    this.tgid = -1;
    if (j >= i && b[j] === 0x29 /* ) */) {
      // ftrace's record-tgid column: `(  123)`, or dashes when the tgid was not recorded.
      let open = j - 1;
      while (open >= i && b[open] !== 0x28 /* ( */) open--;
      if (open < i) return false;
      const s = skipSpaces(b, open + 1, j);
      if (s < j && b[s] !== 0x2d /* - */) {
        const t = parseUint(b, s, j);
        if (t !== t) return false;
        this.tgid = t;
      }
      j = open - 1;
      while (j >= i && (b[j] === 0x20 || b[j] === 0x09)) j--;
    }
    const numEnd = j + 1;
    // The pid read as its digits are found, right to left (exact: at most 15 digits, else parseUint).
    let pid = 0;
    let place = 1;
    for (; j >= i; j--) {
      const d = b[j] - 0x30;
      if (d < 0 || d > 9) break;
      pid += d * place;
      place *= 10;
    }
    if (j + 1 === numEnd) return false;
    if (numEnd - j - 1 > 15) pid = parseUint(b, j + 1, numEnd);
    if (j >= i && b[j] === 0x2f /* / */) {
      // perf `pid/tid`: the thread is the task, the process its thread group.
      const tidPid = pid;
      const pEnd = j;
      j--;
      while (j >= i && b[j] >= 0x30 && b[j] <= 0x39) j--;
      if (j + 1 === pEnd) return false;
      this.tgid = parseUint(b, j + 1, pEnd);
      pid = tidPid;
    }
    this.pid = pid;
    if (j < i) {
      // perf script -F without comm: the line starts with the pid.
      this.commStart = this.commEnd = i;
      return true;
    }
    const sep = b[j];
    if (sep !== 0x2d /* - */ && sep !== 0x20 && sep !== 0x09) return false;
    let cs = i;
    let ce = j;
    if (sep !== 0x2d) while (ce > cs && (b[ce - 1] === 0x20 || b[ce - 1] === 0x09)) ce--;
    cs = skipSpaces(b, cs, ce);
    this.commStart = cs;
    this.commEnd = ce;
    return true;
  }

  /** Index just past the `seconds.micros:` token of a line with no CPU column, or -1. */
  private findTimestamp(b: Uint8Array, i: number, end: number): number {
    for (let k = i; k < end; k++) {
      if (b[k] !== 0x3a || k + 1 >= end || (b[k + 1] !== 0x20 && b[k + 1] !== 0x09)) continue;
      let s = k - 1;
      let dots = 0;
      for (; s >= i; s--) {
        if (b[s] === 0x2e) dots++;
        else if (b[s] < 0x30 || b[s] > 0x39) break;
      }
      if (dots === 1 && s < k - 2 && s >= i && (b[s] === 0x20 || b[s] === 0x09)) return s + 1;
    }
    return -1;
  }

  /** The task's comm; undefined for `<...>` (ftrace lost the name) and empty names. */
  private comm(b: Uint8Array): string | undefined {
    if (this.commUnknown(b)) return undefined;
    const s = this.commStart;
    const e = this.commEnd;
    const cached = this.commByPid.get(this.pid);
    if (cached !== undefined && sameAscii(cached, b, s, e)) return cached;
    const t = text(b, s, e);
    this.commByPid.set(this.pid, t);
    return t;
  }

  /** The task on the line as an owner: pid 0 is the idle task, i.e. the kernel itself. */
  private taskOwner(b: Uint8Array): number {
    const owners = this.b.owners;
    if (this.pid === 0) return owners.kernel();
    // OwnerTable.process keys on a string built from the pid; a per-pid id cache skips that on every
    // line once the owner has all a line could add (its comm, and its tgid when the line has one).
    const pid = this.pid;
    const slot = pid & (OWNER_SLOTS - 1);
    if (this.slotPid[slot] === pid) {
      const cached = this.slotOwner[slot];
      const has = this.slotHas[slot];
      if ((has & 1 || this.commUnknown(b)) && (has & 2 || this.tgid < 0)) return cached;
      const o = owners.get(cached);
      if ((o.comm !== undefined || this.commUnknown(b)) && (o.tgid !== undefined || this.tgid < 0)) return cached;
    }
    const id = owners.process(pid, this.comm(b), this.tgid >= 0 ? this.tgid : undefined);
    if (pid < 0x80000000) {
      const o = owners.get(id);
      this.slotPid[slot] = pid;
      this.slotOwner[slot] = id;
      this.slotHas[slot] = (o.comm !== undefined ? 1 : 0) | (o.tgid !== undefined ? 2 : 0);
    }
    return id;
  }

  private commUnknown(b: Uint8Array): boolean {
    const s = this.commStart;
    const e = this.commEnd;
    return e <= s || (e - s === 5 && b[s] === 0x3c && b[s + 1] === 0x2e && b[s + 4] === 0x3e);
  }

  private event(ev: Ev, name: string, b: Uint8Array, i: number, end: number, lineNo: number): void {
    const e = this.e;
    const builder = this.b;
    if (ev === Ev.Fork || ev === Ev.Exit) return this.schedEvent(ev, b, i, end, lineNo);
    // Page events print page/pfn/order first; the gfp flags after them are the longest part of the line.
    if (ev === Ev.Alloc || ev === Ev.Free || ev === Ev.FreeBatched || ev === Ev.Internal) {
      if (!this.pageFields(b, i, end)) this.fields(b, i, end, true);
    } else this.fields(b, i, end, false);
    switch (ev) {
      case Ev.Alloc:
        if (this.pageNull || this.pfn >= PFN_LIMIT) {
          e.kind = EventKind.AllocFailed;
          e.pfn = 0;
          e.order = this.order;
          e.owner = this.taskOwner(b);
          builder.push(e);
          return;
        }
        if (!this.needPfn(name, lineNo)) return;
        e.kind = EventKind.Alloc;
        e.owner = this.taskOwner(b);
        break;
      case Ev.Free:
      case Ev.FreeBatched:
        if (!this.needPfn(name, lineNo)) return;
        e.kind = EventKind.Free;
        if (ev === Ev.FreeBatched) this.order = 0;
        break;
      case Ev.Internal:
      case Ev.MigrateSummary:
        builder.count(name);
        e.kind = EventKind.Other;
        if (this.pfn === this.pfn && this.pfn < PFN_LIMIT) e.pfn = this.pfn;
        e.order = this.order;
        builder.push(e);
        return;
      case Ev.CacheAdd:
      case Ev.CacheDelete:
        if (this.devStart < 0 || this.ino !== this.ino) {
          return builder.error(lineNo, `${name}: expected "dev MAJOR:MINOR ino HEX" before the page fields`);
        }
        if (!this.needPfn(name, lineNo)) return;
        e.kind = ev === Ev.CacheAdd ? EventKind.CacheAdd : EventKind.CacheDelete;
        e.owner = builder.owners.file(this.word(b, this.devStart, this.devEnd), this.ino);
        e.arg2 = this.ofs;
        break;
      case Ev.MigratePage:
        if (!this.needPfn(name, lineNo)) return;
        if (this.dstPfn !== this.dstPfn) return builder.error(lineNo, `${name}: expected dst_pfn= (or new_pfn=) with the destination frame`);
        e.kind = EventKind.Migrate;
        e.arg = this.dstPfn;
        break;
    }
    // As in the native format: 18 is a 1 GiB page, the largest any architecture allocates; a larger order
    // is a corrupt line that would make the replay walk millions of pages.
    if (this.order > 18) return builder.error(lineNo, `${name}: order=${this.order} is out of range: expected 0..18 (18 = a 1 GiB page)`);
    e.pfn = this.pfn;
    e.order = this.order;
    builder.push(e);
  }

  private needPfn(name: string, lineNo: number): boolean {
    if (this.pfn === this.pfn && this.pfn < PFN_LIMIT) return true;
    this.b.error(lineNo, `${name}: expected pfn= with a page frame number (decimal or 0x hex)`);
    return false;
  }

  /**
   * The body of a page event as the kernel prints it, `[page=P ]pfn=N order=N ...`, read in one pass with
   * no key tests: true when it had that shape and set pfn, order and pageNull as `fields` would (which
   * stops at order once it has the pfn). False for anything else, to be read by `fields`.
   */
  private pageFields(b: Uint8Array, i: number, end: number): boolean {
    i = skipSpaces(b, i, end);
    const dv = this.dv;
    let pageNull = false;
    if (i + 5 <= end && dv.getInt32(i, true) === WORD_PAGE && b[i + 4] === 0x3d) {
      const vs = i + 5;
      // `page= (null)`: the padded form is left to `fields`.
      if (vs >= end || b[vs] === 0x20 || b[vs] === 0x09) return false;
      let k = vs;
      if (b[k] === 0x28 /* ( */) {
        k = skipToken(b, vs, end);
        pageNull = isNullPointer(b, vs, k);
      } else {
        // isNullPointer in the pass that finds the token's end: an optional 0x, then only zeros.
        let zeros = true;
        if (b[k] === 0x30 && k + 1 < end && (b[k + 1] === 0x78 || b[k + 1] === 0x58)) {
          k += 2;
          if (k >= end || b[k] === 0x20 || b[k] === 0x09) zeros = false; // `0x` alone is no number
        }
        // 4 bytes a read while they hold no blank (the pointer is 8 or 16 digits), then byte by byte.
        for (; k + 4 <= end; k += 4) {
          const w = dv.getInt32(k, true);
          if (w === WORD_ZEROS) continue;
          if (hasBlank(w)) break;
          zeros = false;
        }
        for (; k < end; k++) {
          const c = b[k];
          if (c === 0x20 || c === 0x09) break;
          if (c !== 0x30) zeros = false;
        }
        pageNull = zeros;
      }
      i = skipSpaces(b, k, end);
    }
    if (i + 4 > end || dv.getInt32(i, true) !== WORD_PFN) return false;
    const pfn = this.number(b, i + 4, end);
    if (pfn !== pfn) return false;
    let ve = this.numberEnd;
    i = skipSpaces(b, ve, end);
    if (i + 6 > end || dv.getInt32(i, true) !== WORD_ORDE || b[i + 4] !== 0x72 || b[i + 5] !== 0x3d) return false;
    ve = skipToken(b, i + 6, end);
    const order = parseUint(b, i + 6, ve);
    this.pfn = pfn;
    this.order = order === order ? order : 0;
    this.pageNull = pageNull;
    this.ofs = NaN;
    this.ino = NaN;
    this.devStart = -1;
    this.devEnd = -1;
    this.dstPfn = NaN;
    return true;
  }

  /**
   * The token at i (up to a blank) as parsePfn reads it, computed in the pass that finds its end
   * (numberEnd); NaN when it is not a number, or starts with `-` (left to the caller's slow path).
   */
  private number(b: Uint8Array, i: number, end: number): number {
    let k = i;
    let v = 0;
    if (k < end && b[k] === 0x30 && k + 2 < end && (b[k + 1] === 0x78 || b[k + 1] === 0x58) && b[k + 2] !== 0x20 && b[k + 2] !== 0x09) {
      // Two digits a read while both are hex digits (HEX_PAIR), then the last digit, the end or a bad byte.
      const dv = this.dv;
      for (k += 2; k + 2 <= end; k += 2) {
        const p = HEX_PAIR[dv.getUint16(k, true)];
        if (p < 0) break;
        v = v * 256 + p;
      }
      for (; k < end; k++) {
        const d = HEX_DIGIT[b[k]];
        if (d === HEX_END) break;
        v = d >= 0 ? v * 16 + d : NaN;
      }
    } else {
      for (; k < end; k++) {
        const c = b[k];
        if (c === 0x20 || c === 0x09) break;
        const d = c - 0x30;
        v = d >= 0 && d <= 9 ? v * 10 + d : NaN;
      }
    }
    this.numberEnd = k;
    return k > i ? v : NaN;
  }

  /**
   * Read the `key=value` body. Only the keys Page Ledger uses are looked at; `page=` is read only to
   * recognise a failed allocation (its value is a hashed or raw pointer, never a key). The byte tests on
   * key length and first letter keep this at one pass with no string per field.
   */
  private fields(b: Uint8Array, i: number, end: number, stopAtOrder: boolean): void {
    this.pfn = NaN;
    this.order = 0;
    this.pageNull = false;
    this.ofs = NaN;
    this.ino = NaN;
    this.devStart = -1;
    this.devEnd = -1;
    this.dstPfn = NaN;
    for (;;) {
      i = skipSpaces(b, i, end);
      if (i >= end) return;
      let eq = -1;
      let tEnd = i;
      for (; tEnd < end; tEnd++) {
        const c = b[tEnd];
        if (c === 0x20 || c === 0x09) break;
        if (c === 0x3d && eq < 0) eq = tEnd;
      }
      if (eq < 0) {
        // The filemap events print `dev 253:6 ino 7580` as words, ino in hex without 0x.
        const len = tEnd - i;
        if (len === 3 && b[i] === 0x64 && b[i + 1] === 0x65 && b[i + 2] === 0x76) {
          this.devStart = skipSpaces(b, tEnd, end);
          this.devEnd = skipToken(b, this.devStart, end);
          i = this.devEnd;
          continue;
        }
        if (len === 3 && b[i] === 0x69 && b[i + 1] === 0x6e && b[i + 2] === 0x6f) {
          const vs = skipSpaces(b, tEnd, end);
          const ve = skipToken(b, vs, end);
          this.ino = parseUint(b, vs, ve, true);
          i = ve;
          continue;
        }
        i = tEnd;
        continue;
      }
      const vs = eq + 1;
      let ve = tEnd;
      const klen = eq - i;
      const k0 = b[i];
      if (klen === 3 && k0 === 0x70 && b[i + 1] === 0x66 && b[i + 2] === 0x6e) {
        this.pfn = parsePfn(b, vs, ve);
      } else if (klen === 4 && k0 === 0x70 && b[i + 1] === 0x61 && b[i + 2] === 0x67 && b[i + 3] === 0x65) {
        let s = vs;
        if (s === ve) {
          // `page= (null)` and `page=          (null)`: the pointer is right-aligned in its column.
          s = skipSpaces(b, ve, end);
          ve = skipToken(b, s, end);
          if (indexOfEq(b, s, ve)) ve = s;
        }
        this.pageNull = isNullPointer(b, s, ve);
      } else if (klen === 5 && k0 === 0x6f && b[i + 1] === 0x72 && b[i + 2] === 0x64 && b[i + 3] === 0x65 && b[i + 4] === 0x72) {
        const v = parseUint(b, vs, ve);
        if (v === v) this.order = v;
        if (stopAtOrder && this.pfn === this.pfn) return;
      } else if (klen === 3 && k0 === 0x6f && b[i + 1] === 0x66 && b[i + 2] === 0x73) {
        this.ofs = parseUint(b, vs, ve);
      } else if (k0 === 0x64 || k0 === 0x6e || k0 === 0x73 || k0 === 0x6f) {
        // Page-level migration: src_pfn/old_pfn (the frame left) and dst_pfn/new_pfn (the frame filled).
        if (klen === 7 && b[i + 3] === 0x5f && b[i + 4] === 0x70 && b[i + 5] === 0x66 && b[i + 6] === 0x6e) {
          if (startsWith(b, i, eq, 'dst') || startsWith(b, i, eq, 'new')) this.dstPfn = parsePfn(b, vs, ve);
          else if (startsWith(b, i, eq, 'src') || startsWith(b, i, eq, 'old')) this.pfn = parsePfn(b, vs, ve);
        }
      }
      i = ve > tEnd ? ve : tEnd;
    }
  }

  /**
   * `sched_process_fork: comm=%s pid=%d child_comm=%s child_pid=%d` and `sched_process_exit: comm=%s
   * pid=%d prio=%d`: comm may hold spaces, so values are cut at the next known key, not at a blank.
   */
  private schedEvent(ev: Ev, b: Uint8Array, i: number, end: number, lineNo: number): void {
    const e = this.e;
    const owners = this.b.owners;
    const pidAt = indexOf(b, ' pid=', i, end);
    if (pidAt < 0) return this.b.error(lineNo, `${ev === Ev.Fork ? 'sched_process_fork' : 'sched_process_exit'}: expected pid=`);
    const pid = parseUint(b, pidAt + 5, skipToken(b, pidAt + 5, end));
    if (pid !== pid) return this.b.error(lineNo, `expected a number after pid=, found "${clip(b, pidAt + 5, end)}"`);
    const commAt = indexOf(b, 'comm=', i, pidAt + 1);
    const comm = commAt >= 0 && pidAt > commAt + 5 ? text(b, commAt + 5, pidAt) : undefined;
    if (ev === Ev.Exit) {
      e.pid = pid;
      e.owner = owners.process(pid, comm, this.pid === pid && this.tgid >= 0 ? this.tgid : undefined);
      if (this.isThreadExit(b, pidAt, end, e.owner)) {
        // A thread leaving a live process: the pages it allocated stay mapped in its thread group, so an
        // Exit here would make the leak rule report every one of them.
        this.b.count('threadExits');
        e.kind = EventKind.Other;
      } else e.kind = EventKind.Exit;
      this.b.push(e);
      return;
    }
    const childAt = indexOf(b, ' child_pid=', pidAt, end);
    if (childAt < 0) return this.b.error(lineNo, 'sched_process_fork: expected child_pid=');
    const child = parseUint(b, childAt + 11, skipToken(b, childAt + 11, end));
    if (child !== child) return this.b.error(lineNo, `expected a number after child_pid=, found "${clip(b, childAt + 11, end)}"`);
    const ccAt = indexOf(b, 'child_comm=', pidAt, childAt + 1);
    const childComm = ccAt >= 0 && childAt > ccAt + 11 ? text(b, ccAt + 11, childAt) : comm;
    owners.process(pid, comm);
    e.kind = EventKind.Fork;
    e.pid = pid;
    e.ref = child;
    e.owner = owners.process(child, childComm);
    this.b.push(e);
  }

  /**
   * Scan the event-name token at s and return its end; hash the name on the way (one pass, no string)
   * into nameHash/nameFrom. perf prefixes the subsystem (`kmem:mm_page_alloc:`): the hash restarts after
   * each inner colon.
   */
  private scanName(b: Uint8Array, s: number, end: number): number {
    let h = 0;
    let from = s;
    let k = s;
    for (; k < end; k++) {
      const c = b[k];
      if (c === 0x20 || c === 0x09) break;
      if (c === 0x3a && k + 1 < end && b[k + 1] !== 0x20 && b[k + 1] !== 0x09) {
        h = 0;
        from = k + 1;
        continue;
      }
      if (c !== 0x3a) h = (h * 31 + c) | 0;
    }
    this.nameHash = h;
    this.nameFrom = from;
    return k;
  }

  /** `group_dead=false` (6.x), else a known tgid other than the pid: only the thread ends. */
  private isThreadExit(b: Uint8Array, from: number, end: number, owner: number): boolean {
    const gd = indexOf(b, ' group_dead=', from, end);
    if (gd >= 0) return b[gd + 12] === 0x66 /* f */ || b[gd + 12] === 0x30 /* 0 */;
    const o = this.b.owners.get(owner);
    return o.tgid !== undefined && o.tgid !== o.pid;
  }

  private word(b: Uint8Array, s: number, e: number): string {
    return this.names.get(b, s, e);
  }
}

/** Powers of ten up to 10^9, for a timestamp's fraction. */
const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/**
 * Seconds with up to 9 fraction digits (`12.000345`) as integer nanoseconds, exactly; digits beyond the
 * ninth are checked and dropped. NaN if malformed. The fraction is scaled by a power of ten instead of a
 * division and a rounding (same values: the quotient is an exact integer below 10^9).
 */
function parseSeconds(b: Uint8Array, i: number, end: number): number {
  let whole = 0;
  let digits = 0;
  for (; i < end; i++) {
    const d = b[i] - 0x30;
    if (d === -2 /* . */) break;
    if (d < 0 || d > 9) return NaN;
    whole = whole * 10 + d;
    digits++;
  }
  let frac = 0;
  let fracDigits = 0;
  if (i < end) {
    for (i++; i < end; i++) {
      const d = b[i] - 0x30;
      if (d < 0 || d > 9) return NaN;
      if (fracDigits < 9) {
        frac = frac * 10 + d;
        fracDigits++;
      }
      digits++;
    }
  }
  if (digits === 0) return NaN;
  return whole * 1e9 + frac * POW10[9 - fracDigits];
}

/** A pfn in decimal (kernels before ~5.14) or 0x hex; `-1` (failed, printed raw) becomes +Infinity. */
function parsePfn(b: Uint8Array, s: number, e: number): number {
  if (s < e && b[s] === 0x2d) return Infinity;
  return parseUint(b, s, e);
}

/** `(null)`, `(nil)`, `0`, `0x0`, `0000000000000000`: the NULL page of a failed allocation. */
function isNullPointer(b: Uint8Array, s: number, e: number): boolean {
  if (e <= s) return false;
  if (b[s] === 0x28 /* ( */) return startsWith(b, s, e, '(null)') || startsWith(b, s, e, '(nil)');
  if (e - s > 2 && b[s] === 0x30 && (b[s + 1] === 0x78 || b[s + 1] === 0x58)) s += 2;
  for (let k = s; k < e; k++) if (b[k] !== 0x30) return false;
  return true;
}

function indexOfEq(b: Uint8Array, s: number, e: number): boolean {
  for (let k = s; k < e; k++) if (b[k] === 0x3d) return true;
  return false;
}

function isDigits(b: Uint8Array, s: number, e: number): boolean {
  if (e <= s) return false;
  for (let k = s; k < e; k++) if (b[k] < 0x30 || b[k] > 0x39) return false;
  return true;
}

/** A short quote of bytes for an error message. */
function clip(b: Uint8Array, s: number, e: number): string {
  const t = text(b, s, Math.min(e, s + 60));
  return e - s > 60 ? t + '...' : t;
}

// ---------------------------------------------------------------- detection

// Detection runs once per file on its first lines, so regular expressions are fine here.
const FTRACE_LINE = /^\s*\S.*-\d+\s+(\(\s*[\d-]+\)\s+)?\[\d+\]\s+(\S+\s+)?\d+(\.\d+)?:\s+\w+:/;
const PERF_LINE = /^\s*\S.*\s\d+(\/\d+)?\s+(\[\d+\]\s+)?\d+\.\d+:\s+(\d+\s+)?\w+:\w+:/;
const PADDED_EVENT = /\d:\s+\w+:\s{2,}\S/;

interface HeadShape {
  lines: string[];
  ftrace: number;
  perf: number;
  padded: number;
  tracer: boolean;
  traceCmdHeader: boolean;
}

function shape(head: string): HeadShape {
  const lines = headLines(head, 60);
  const s: HeadShape = { lines, ftrace: 0, perf: 0, padded: 0, tracer: false, traceCmdHeader: false };
  for (const l of lines) {
    if (l.startsWith('# tracer:')) s.tracer = true;
    if (/^(version = \d+|cpus=\d+|CPU \d+ is empty)\s*$/.test(l)) s.traceCmdHeader = true;
    if (FTRACE_LINE.test(l)) {
      s.ftrace++;
      if (PADDED_EVENT.test(l)) s.padded++;
    } else if (PERF_LINE.test(l)) s.perf++;
  }
  return s;
}

/** How many of the head's non-comment lines are events of this shape, as a fraction. */
function share(s: HeadShape, n: number): number {
  const body = s.lines.filter((l) => !l.startsWith('#') && !l.startsWith('\t')).length;
  return body === 0 ? 0 : n / body;
}

/** ftrace text: `/sys/kernel/tracing/trace` (with or without its `# tracer:` header) and `trace_pipe`. */
export const ftraceFormat: TraceFormat = {
  name: 'ftrace',
  description: 'ftrace text (/sys/kernel/tracing/trace or trace_pipe) with kmem, filemap, migrate and sched events',
  detect(head) {
    const s = shape(head);
    if (s.traceCmdHeader) return 0;
    if (s.tracer) return s.ftrace > 0 || s.lines.every((l) => l.startsWith('#')) ? 0.95 : 0.6;
    if (s.ftrace === 0 || s.padded > s.ftrace / 2) return 0;
    return 0.5 + 0.4 * share(s, s.ftrace);
  },
  create: (ctx) => new FtraceParser(ctx),
  timeOrdered: true,
};

/** `trace-cmd report` output: its `version = 6` / `cpus=8` header and padded event names. */
export const traceCmdFormat: TraceFormat = {
  name: 'trace-cmd',
  description: 'trace-cmd report output (kmem, filemap, migrate and sched events)',
  detect(head) {
    const s = shape(head);
    if (s.traceCmdHeader && s.ftrace + s.perf > 0) return 0.95;
    if (s.traceCmdHeader) return 0.7;
    if (s.tracer || s.ftrace === 0 || s.padded <= s.ftrace / 2) return 0;
    return 0.5 + 0.4 * share(s, s.ftrace);
  },
  create: (ctx) => new FtraceParser(ctx),
  timeOrdered: true,
};

/** `perf script` output of tracepoint events: `comm pid [cpu] time: kmem:mm_page_alloc: ...`. */
export const perfScriptFormat: TraceFormat = {
  name: 'perf-script',
  description: 'perf script output of kmem/filemap/migrate/sched tracepoints (call chains skipped)',
  detect(head) {
    const s = shape(head);
    if (s.perf === 0 || s.perf < s.ftrace) return 0;
    return 0.5 + 0.4 * share(s, s.perf);
  },
  create: (ctx) => new FtraceParser(ctx),
  timeOrdered: true,
};
