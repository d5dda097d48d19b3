import { EventKind, newEventRecord, resetEventRecord, type EventRecord } from '../model/events';
import type { SnapshotInfo, TraceBuilder } from '../model/traceBuilder';
import { text } from './bytes';
import { headLines, type LineParser, type ParseContext, type TraceFormat } from './format';

/** pagemap entry flags (criu/include/pagemap.h). */
export const PE_PARENT = 1 << 0;
/** The pages are served later by the lazy-pages daemon. */
export const PE_LAZY = 1 << 1;
/** The pages are in this dump's pages-N.img. */
export const PE_PRESENT = 1 << 2;

const PAGE = 4096;
const FLAG_BITS: Record<string, number> = { PE_PARENT, PE_LAZY, PE_PRESENT };
const MAGIC_RE = /"magic"\s*:\s*"([A-Z_]+)"/;

/** A pagemap already read: virtual page -> id of the snapshot whose pages-N.img holds its data. */
interface PagemapState {
  snap: SnapshotInfo;
  holder: Map<number, number>;
}

/** Pagemaps per builder, in the order they were read: the parent of a dump is the one before it. */
const PAGEMAPS = new WeakMap<TraceBuilder, PagemapState[]>();

function pagemapsOf(b: TraceBuilder): PagemapState[] {
  let l = PAGEMAPS.get(b);
  if (!l) PAGEMAPS.set(b, (l = []));
  return l;
}

/** The pid a CRIU image file name carries (`pagemap-1234.img`, `mm-1234.json`), if any. */
export function criuPidOf(path: string): number | undefined {
  const m = /(?:^|[/\\])(?:pagemap|mm)-(\d+)[^/\\]*$/.exec(path);
  return m ? Number(m[1]) : undefined;
}

/**
 * Parser for `crit decode` / `crit show` JSON of pagemap and mm images. JSON is not line-oriented, so
 * the text is buffered (images are small: a few hundred bytes per mapped range) and parsed at the end;
 * a scan of the text gives each entry the line it starts on, for jump-to-line.
 */
class CriuParser implements LineParser {
  private readonly b: TraceBuilder;
  private readonly path: string;
  private readonly lines: string[] = [];
  private readonly e: EventRecord = newEventRecord();

  constructor(ctx: ParseContext) {
    this.b = ctx.builder;
    this.path = ctx.path;
  }

  line(b: Uint8Array, start: number, end: number): void {
    this.lines.push(text(b, start, end));
  }

  end(): void {
    const src = this.lines.join('\n');
    let doc: unknown;
    try {
      doc = JSON.parse(src);
    } catch (err) {
      const msg = (err as Error).message;
      const pos = /position (\d+)/.exec(msg);
      const line = pos ? lineAt(src, Number(pos[1])) : this.lines.length;
      this.b.error(line, `expected crit decode JSON (a PAGEMAP or MM image): ${msg}`);
      return;
    }
    if (!isObject(doc) || !Array.isArray(doc.entries)) {
      this.b.error(1, 'expected a crit JSON object with "magic" and "entries"');
      return;
    }
    const lines = entryLines(src);
    const magic = typeof doc.magic === 'string' ? doc.magic : '';
    if (magic === 'PAGEMAP') this.pagemap(doc.entries, lines);
    else if (magic === 'MM') this.mm(doc.entries, lines);
    else this.b.count('criuOtherImages');
  }

  private pagemap(entries: unknown[], lines: number[]): void {
    const b = this.b;
    const pid = criuPidOf(this.path);
    const all = pagemapsOf(b);
    let parent: PagemapState | undefined;
    for (let k = all.length - 1; k >= 0; k--) {
      if (all[k].snap.pid === pid) {
        parent = all[k];
        break;
      }
    }
    const dumpNo = all.filter((p) => p.snap.pid === pid).length + 1;
    const base = pid !== undefined ? `pagemap-${pid}` : 'pagemap';
    const snap = b.addSnapshot({ source: 'criu', name: `${base} (dump ${dumpNo})`, pid, time: NaN, line: 1, parent: parent?.snap.id });
    const state: PagemapState = { snap, holder: new Map() };
    const e = this.e;
    resetEventRecord(e);
    e.kind = EventKind.SnapBegin;
    e.line = snap.line;
    e.ref = snap.id;
    e.pid = pid ?? 0;
    if (pid !== undefined) b.owners.process(pid);
    e.owner = b.owners.snapshot(snap.id, pid);
    b.push(e);
    for (let k = 0; k < entries.length; k++) {
      const en = entries[k];
      const line = lines[k] ?? snap.line;
      if (!isObject(en)) {
        b.error(line, 'expected a pagemap entry object');
        continue;
      }
      // The first entry of a pagemap names its pages-N.img; it maps no memory.
      if (k === 0 && 'pages_id' in en && !('vaddr' in en)) continue;
      const vaddr = toNumber(en.vaddr);
      const nr = toNumber(en.nr_pages);
      if (vaddr === undefined || nr === undefined || vaddr % PAGE !== 0 || nr < 0) {
        b.error(line, `expected a pagemap entry with "vaddr" (page-aligned, hex string or number) and "nr_pages", found ${JSON.stringify(en).slice(0, 80)}`);
        continue;
      }
      const flags = this.flagsOf(en, line);
      if (flags === undefined) continue;
      b.count('pagemapEntries');
      b.count('criuPages', nr);
      if (flags & PE_LAZY) b.count('criuLazyPages', nr);
      this.entry(state, parent, vaddr / PAGE, nr, flags, line);
    }
    all.push(state);
  }

  /** `"PE_PRESENT | PE_LAZY"` (pretty), an integer (raw), or the old `in_parent` boolean. */
  private flagsOf(en: Record<string, unknown>, line: number): number | undefined {
    const f = en.flags;
    if (typeof f === 'number') return f;
    if (typeof f === 'string') {
      let v = 0;
      for (const part of f.split('|')) {
        const name = part.trim();
        if (name === '' || name === '0') continue;
        const bit = FLAG_BITS[name] ?? (/^(0x[0-9a-f]+|\d+)$/i.test(name) ? Number(name) : undefined);
        if (bit === undefined) {
          this.b.error(line, `unknown pagemap flag "${name}": expected PE_PRESENT, PE_LAZY or PE_PARENT`);
          return undefined;
        }
        v |= bit;
      }
      return v;
    }
    if (f === undefined) return en.in_parent === true ? PE_PARENT : PE_PRESENT;
    this.b.error(line, `expected "flags" as a string like "PE_PRESENT | PE_LAZY" or an integer, found ${JSON.stringify(f)}`);
    return undefined;
  }

  /** Emit the entry's pages as SnapRefs, resolving PE_PARENT pages to the dump that holds their data. */
  private entry(state: PagemapState, parent: PagemapState | undefined, vpage: number, nr: number, flags: number, line: number): void {
    const own = state.snap.id;
    let missing = 0;
    let firstMissing = -1;
    let runStart = vpage;
    let runHolder = NaN;
    for (let p = vpage; p <= vpage + nr; p++) {
      let holder = NaN;
      if (p < vpage + nr) {
        if (flags & PE_PARENT) {
          const h = parent?.holder.get(p);
          if (h === undefined) {
            missing++;
            if (firstMissing < 0) firstMissing = p;
          } else holder = h;
        } else holder = own;
        if (holder === holder) state.holder.set(p, holder);
      }
      if (p === vpage) {
        runHolder = holder;
        continue;
      }
      if (p < vpage + nr && (holder === runHolder || (holder !== holder && runHolder !== runHolder))) continue;
      this.refs(runStart, p - runStart, runHolder, line, state);
      runStart = p;
      runHolder = holder;
    }
    if (flags & PE_PARENT) {
      this.b.count('criuParentPages', nr - missing);
      if (missing) {
        this.b.count('criuUnresolvedPages', missing);
        const where = parent ? `the parent dump ${parent.snap.name} does not hold page 0x${(firstMissing * PAGE).toString(16)}${missing > 1 ? ` (nor ${missing - 1} more)` : ''}` : 'no parent dump of this process was read (open the dump directory, or the parent pagemap first)';
        this.b.error(line, `PE_PARENT entry at vaddr 0x${(vpage * PAGE).toString(16)} (${nr} pages) cannot be resolved: ${where}`);
      }
    }
  }

  /** SnapRefs for `n` pages from virtual page `vpage`, in aligned power-of-two blocks. */
  private refs(vpage: number, n: number, holder: number, line: number, state: PagemapState): void {
    const e = this.e;
    const b = this.b;
    while (n > 0) {
      let order = 0;
      while (order < 30 && vpage % 2 ** (order + 1) === 0 && 2 ** (order + 1) <= n) order++;
      resetEventRecord(e);
      e.kind = EventKind.SnapRef;
      e.line = line;
      e.pfn = NaN;
      e.order = order;
      e.arg = vpage * PAGE;
      // The dump whose pages-N.img holds the data (this one, or an ancestor for PE_PARENT); NaN if unresolved.
      e.arg2 = holder;
      e.ref = state.snap.id;
      e.pid = state.snap.pid ?? 0;
      e.owner = b.owners.snapshot(state.snap.id, state.snap.pid);
      b.push(e);
      vpage += 2 ** order;
      n -= 2 ** order;
    }
  }

  private mm(entries: unknown[], lines: number[]): void {
    for (let k = 0; k < entries.length; k++) {
      const en = entries[k];
      if (!isObject(en) || !Array.isArray(en.vmas)) {
        this.b.error(lines[k] ?? 1, 'expected an mm entry with "vmas"');
        continue;
      }
      for (const v of en.vmas) {
        const start = isObject(v) ? toNumber(v.start) : undefined;
        const end = isObject(v) ? toNumber(v.end) : undefined;
        if (start === undefined || end === undefined || end < start) {
          this.b.error(lines[k] ?? 1, `expected a VMA with "start" and "end", found ${JSON.stringify(v).slice(0, 80)}`);
          continue;
        }
        this.b.count('vmas');
        this.b.count('vmaPages', Math.ceil((end - start) / PAGE));
      }
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A crit value: a number, or a `"0x..."`/decimal string. */
function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^(0x[0-9a-f]+|\d+)$/i.test(v.trim())) return Number(v.trim());
  return undefined;
}

/** 1-based line of character offset `pos`. */
function lineAt(src: string, pos: number): number {
  let n = 1;
  for (let i = 0; i < pos && i < src.length; i++) if (src.charCodeAt(i) === 0x0a) n++;
  return n;
}

/**
 * The line each element of the top-level `"entries"` array starts on, by a scan that skips strings:
 * JSON.parse keeps no positions.
 */
export function entryLines(src: string): number[] {
  const out: number[] = [];
  let line = 1;
  let depth = 0;
  let lastKey = '';
  let arrayDepth = -1;
  for (let i = 0; i < src.length; i++) {
    const c = src.charCodeAt(i);
    if (c === 0x0a) line++;
    else if (c === 0x22) {
      let j = i + 1;
      while (j < src.length && src.charCodeAt(j) !== 0x22) j += src.charCodeAt(j) === 0x5c ? 2 : 1;
      if (depth === 1) lastKey = src.slice(i + 1, j);
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      if (arrayDepth >= 0 && depth === arrayDepth) out.push(line);
      if (c === 0x5b && depth === 1 && lastKey === 'entries') arrayDepth = 2;
      depth++;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth < arrayDepth) arrayDepth = -1;
    } else if (arrayDepth >= 0 && depth === arrayDepth && c > 0x20 && c !== 0x2c) {
      // A scalar element (not expected in crit output) still takes its index.
      out.push(line);
      while (i + 1 < src.length && !',]\n'.includes(src[i + 1])) i++;
    }
  }
  return out;
}

/** `crit decode` / `crit show` JSON of CRIU pagemap and mm images. */
export const criuFormat: TraceFormat = {
  name: 'criu',
  description: 'CRIU image as JSON (crit decode / crit show of pagemap-*.img or mm-*.img)',
  detect(head: string): number {
    const first = headLines(head, 1)[0]?.trim() ?? '';
    if (!first.startsWith('{')) return 0;
    const m = MAGIC_RE.exec(head.slice(0, 4096));
    if (!m) return 0;
    return m[1] === 'PAGEMAP' || m[1] === 'MM' ? 0.95 : 0.5;
  },
  create: (ctx) => new CriuParser(ctx),
};
