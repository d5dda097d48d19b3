import type { TraceBuilder } from '../model/traceBuilder';
import { text } from './bytes';
import { headLines, type LineParser, type ParseContext, type TraceFormat } from './format';
import { DEFAULT_BLOCK_BYTES, PAGE_BYTES, parseSize, sawBlock } from './layoutValues';

type BlockState = 'online' | 'offline';

const LSMEM_COLUMNS = new Set(['RANGE', 'START', 'END', 'SIZE', 'STATE', 'REMOVABLE', 'BLOCK', 'NODE', 'ZONES']);

/** A column of an lsmem table: its name and where its header word sits on the line. */
interface Column {
  name: string;
  from: number;
  to: number;
}

/** A row of an lsmem table, kept until the end of the file (the block size may come after it). */
interface RangeRow {
  kind: 'row';
  line: number;
  startByte: number;
  /** One past the last byte. */
  endByte: number;
  state: BlockState;
  firstBlock?: number;
  lastBlock?: number;
  node?: number;
  zones?: string[];
}

/** One `memoryN/state` line of a sysfs listing. */
interface StateLine {
  kind: 'state';
  line: number;
  id: number;
  state: BlockState;
}

// `grep . /sys/devices/system/memory/memory*/state` gives `.../memory32/state:online`; shell loops give
// `memory32: online` or `memory32 online`. going-offline is the kernel's transient state on the way out.
const STATE_LINE = /(?:^|\/)memory(\d+)(?:\/state)?\s*[:=\s]\s*(online|offline|going-offline)\s*$/;
const BLOCK_SIZE_LINE = /block_size_bytes\s*[:=\s]\s*(?:0x)?([0-9a-fA-F]+)\s*$/;
const ZONES_LINE = /(?:^|\/)memory(\d+)\/valid_zones\s*[:=\s]\s*(.+?)\s*$/;
const LSMEM_BLOCK_SIZE = /^Memory block size:\s*(\S+)\s*$/;
const LSMEM_TOTAL = /^Total (?:online|offline) memory:/;
// `lsmem -P`: RANGE="0x0000000000000000-0x000000007fffffff" SIZE="2G" STATE="online" ...
const PAIRS_LINE = /^(?:[A-Z]+="[^"]*"\s*)*STATE="/;
const LSMEM_JSON = /"memory"\s*:\s*\[[\s\S]*"range"\s*:/;

/**
 * Reads `lsmem` tables (any column order, by header) and `/sys/devices/system/memory/memoryN/state`
 * listings into memory blocks.
 *
 * Rows and state lines are kept until the end of the file, because the block size (`Memory block size:`
 * under an lsmem table, `block_size_bytes` in a sysfs listing) may come after them. The first sighting of a
 * block declares it with its state (the state at the start of the timeline); a later listing in the same
 * file, or in another layout file of the same trace, that shows another state is a hot-plug: an Online or
 * Offline event at that line. Layout lines carry no time, so in a merged timeline these events come before
 * the first timed event of any file.
 */
class MemoryBlocksParser implements LineParser {
  private readonly b: TraceBuilder;
  private columns: Column[] | null = null;
  private readonly items: (RangeRow | StateLine)[] = [];
  private readonly zonesById = new Map<number, string[] | undefined>();
  private declaredBlockBytes = NaN;
  /** Lines of an `lsmem -J` document (the whole file), and the line of each `"range"` key in it. */
  private json: string[] | null = null;
  private jsonStart = 0;
  private readonly jsonRangeLines: number[] = [];

  constructor(ctx: ParseContext) {
    this.b = ctx.builder;
  }

  line(bytes: Uint8Array, start: number, end: number, lineNo: number): void {
    // Layout listings are small (thousands of lines at most), so decoding each line costs nothing.
    const raw = text(bytes, start, end);
    const t = raw.trim();
    if (t === '') {
      this.columns = null;
      return;
    }
    if (this.json === null && t[0] === '{' && this.items.length === 0) {
      this.json = [];
      this.jsonStart = lineNo;
    }
    if (this.json !== null) {
      this.json.push(raw);
      const ranges = raw.match(/"range"\s*:/g)?.length ?? 0;
      for (let k = 0; k < ranges; k++) this.jsonRangeLines.push(lineNo);
      return;
    }
    if (this.columns) {
      if (this.row(raw, lineNo)) return;
      this.columns = null;
    }
    if (t[0] === '#') return;
    if (PAIRS_LINE.test(t)) {
      const cells = new Map<string, string>();
      for (const m of t.matchAll(/([A-Z]+)="([^"]*)"/g)) if (m[2] !== '') cells.set(m[1], m[2]);
      this.rowFromCells(cells, t, lineNo, 'lsmem -P pairs RANGE="..." STATE="..."');
      return;
    }
    const header = headerColumns(raw);
    if (header) {
      this.columns = header;
      this.b.count('lsmemTables');
      return;
    }
    let m = STATE_LINE.exec(t);
    if (m) {
      this.items.push({ kind: 'state', line: lineNo, id: Number(m[1]), state: m[2] === 'online' ? 'online' : 'offline' });
      return;
    }
    if ((m = ZONES_LINE.exec(t))) {
      this.zonesById.set(Number(m[1]), zoneList(m[2]));
      return;
    }
    if ((m = BLOCK_SIZE_LINE.exec(t))) {
      this.declaredBlockBytes = Number.parseInt(m[1], 16);
      return;
    }
    if ((m = LSMEM_BLOCK_SIZE.exec(t))) {
      const v = parseSize(m[1]);
      if (v !== v || v <= 0) this.b.error(lineNo, `expected a size like 128M or 2G after "Memory block size:", found "${m[1]}"`);
      else this.declaredBlockBytes = v;
      return;
    }
    if (LSMEM_TOTAL.test(t)) return;
    this.b.count('proseLines');
  }

  end(): void {
    if (this.json) this.readJson(this.json);
    const blockBytes = this.blockBytes();
    const blockPages = Math.round(blockBytes / PAGE_BYTES);
    let changes = 0;
    for (const it of this.items) {
      if (it.kind === 'state') {
        changes += sawBlock(this.b, { id: it.id, start: it.id * blockPages, pages: blockPages, state: it.state, zones: this.zonesById.get(it.id), file: this.b.currentFile, line: it.line }, it.line);
        continue;
      }
      const startPfn = Math.floor(it.startByte / PAGE_BYTES);
      const rowPages = Math.round((it.endByte - it.startByte) / PAGE_BYTES);
      let first: number;
      let count: number;
      if (it.firstBlock !== undefined) {
        first = it.firstBlock;
        count = it.lastBlock! - it.firstBlock + 1;
      } else {
        first = Math.floor(it.startByte / blockBytes);
        count = Math.round((it.endByte - it.startByte) / blockBytes);
      }
      if (count <= 0 || rowPages % count !== 0) {
        this.b.error(it.line, `the range holds ${rowPages} pages, not a whole number of ${count} memory blocks: expected RANGE and BLOCK to agree`);
        continue;
      }
      const pages = rowPages / count;
      for (let k = 0; k < count; k++) {
        changes += sawBlock(this.b, { id: first + k, start: startPfn + k * pages, pages, state: it.state, node: it.node, zones: it.zones, file: this.b.currentFile, line: it.line }, it.line);
      }
    }
    if (changes) this.b.count('blockStateChanges', changes);
  }

  /** Rows of an `lsmem -J` document: `{"memory": [{"range": ..., "state": ..., "block": ...}, ...]}`. */
  private readJson(lines: string[]): void {
    let doc: unknown;
    try {
      doc = JSON.parse(lines.join('\n'));
    } catch (err) {
      this.b.error(this.jsonStart, `invalid JSON (${(err as Error).message}): expected lsmem -J output {"memory": [...]}`);
      return;
    }
    const rows = (doc as { memory?: unknown }).memory;
    if (!Array.isArray(rows)) {
      this.b.error(this.jsonStart, 'expected lsmem -J output: an object with a "memory" array');
      return;
    }
    rows.forEach((o: unknown, k) => {
      const line = this.jsonRangeLines[k] ?? this.jsonStart;
      const cells = new Map<string, string>();
      if (o !== null && typeof o === 'object') {
        for (const [key, v] of Object.entries(o)) if (typeof v === 'string' || typeof v === 'number') cells.set(key.toUpperCase(), String(v));
      }
      this.rowFromCells(cells, JSON.stringify(o), line, 'lsmem -J object with "range" and "state"');
    });
  }

  /** Declared block size, else the one a row with a BLOCK range implies, else 128 MiB. */
  private blockBytes(): number {
    if (this.declaredBlockBytes > 0) return this.declaredBlockBytes;
    for (const it of this.items) {
      if (it.kind === 'row' && it.firstBlock !== undefined) return (it.endByte - it.startByte) / (it.lastBlock! - it.firstBlock + 1);
    }
    return DEFAULT_BLOCK_BYTES;
  }

  /** Read a table row; false when the line is not one (it ends the table). */
  private row(raw: string, lineNo: number): boolean {
    const cols = this.columns!;
    const tokens = tokensOf(raw);
    if (tokens.length === 0 || !looksLikeFirstCell(cols[0].name, tokens[0].text)) return false;
    const cells = new Map<string, string>();
    if (tokens.length === cols.length) tokens.forEach((tok, k) => cells.set(cols[k].name, tok.text));
    else {
      // An empty cell (REMOVABLE of an offline range) leaves fewer tokens than columns; lsmem aligns
      // cells under their header, so each token goes to the column it overlaps most, or ends nearest to.
      for (const tok of tokens) cells.set(nearestColumn(cols, tok.from, tok.to).name, tok.text);
    }
    this.rowFromCells(cells, raw, lineNo, cols.map((c) => c.name).join(' '));
    return true;
  }

  /** Keep a row given as cells by column name (a table row, `lsmem -P` pairs or an `lsmem -J` object). */
  private rowFromCells(cells: Map<string, string>, raw: string, lineNo: number, expected: string): void {
    let startByte = NaN;
    let endByte = NaN;
    const range = cells.get('RANGE');
    if (range !== undefined) {
      const m = /^0x([0-9a-f]+)-0x([0-9a-f]+)$/i.exec(range);
      if (m) {
        startByte = Number.parseInt(m[1], 16);
        endByte = Number.parseInt(m[2], 16) + 1;
      }
    } else if (cells.has('START') && cells.has('END')) {
      startByte = parseSize(cells.get('START')!);
      endByte = parseSize(cells.get('END')!) + 1;
    }
    if (startByte !== startByte || endByte !== endByte || endByte <= startByte) {
      this.b.error(lineNo, `expected an lsmem row (${expected}) with a range like 0x0000000100000000-0x000000107fffffff, found "${raw.trim()}"`);
      return;
    }
    const stateText = cells.get('STATE');
    const state: BlockState | undefined = stateText === 'online' ? 'online' : stateText === 'offline' || stateText === 'on->off' || stateText === 'going-offline' ? 'offline' : undefined;
    if (!state) {
      this.b.error(lineNo, `expected STATE online or offline, found "${stateText ?? ''}"`);
      return;
    }
    const row: RangeRow = { kind: 'row', line: lineNo, startByte, endByte, state };
    const block = cells.get('BLOCK');
    if (block !== undefined) {
      const m = /^(\d+)(?:-(\d+))?$/.exec(block);
      if (!m) {
        this.b.error(lineNo, `expected BLOCK as N or N-M, found "${block}"`);
        return;
      }
      row.firstBlock = Number(m[1]);
      row.lastBlock = m[2] === undefined ? row.firstBlock : Number(m[2]);
    }
    const node = cells.get('NODE');
    if (node !== undefined) {
      if (!/^\d+$/.test(node)) {
        this.b.error(lineNo, `expected NODE as a number, found "${node}"`);
        return;
      }
      row.node = Number(node);
    }
    const zones = cells.get('ZONES');
    if (zones !== undefined) row.zones = zoneList(zones.replace(/\//g, ' '));
    this.items.push(row);
  }
}

/** The columns of an lsmem header line, or null when the line is not one. */
function headerColumns(raw: string): Column[] | null {
  const tokens = tokensOf(raw);
  if (tokens.length < 2 || !tokens.every((t) => LSMEM_COLUMNS.has(t.text))) return null;
  const names = new Set(tokens.map((t) => t.text));
  if (!names.has('STATE') || !(names.has('RANGE') || (names.has('START') && names.has('END')))) return null;
  return tokens.map((t) => ({ name: t.text, from: t.from, to: t.to }));
}

function tokensOf(raw: string): { text: string; from: number; to: number }[] {
  const out: { text: string; from: number; to: number }[] = [];
  const re = /\S+/g;
  for (let m = re.exec(raw); m; m = re.exec(raw)) out.push({ text: m[0], from: m.index, to: m.index + m[0].length });
  return out;
}

function looksLikeFirstCell(column: string, cell: string): boolean {
  switch (column) {
    case 'RANGE':
    case 'START':
    case 'END':
      return /^0x[0-9a-f]/i.test(cell);
    case 'STATE':
      return /^(online|offline|on->off|going-offline)$/.test(cell);
    default:
      return /^[0-9]/.test(cell);
  }
}

function nearestColumn(cols: Column[], from: number, to: number): Column {
  let best = cols[0];
  let bestScore = -Infinity;
  for (const c of cols) {
    const overlap = Math.min(to, c.to) - Math.max(from, c.from);
    const score = overlap > 0 ? overlap : -Math.abs(to - c.to);
    if (score > bestScore) {
      best = c;
      bestScore = score;
    }
  }
  return best;
}

function zoneList(s: string): string[] | undefined {
  const zones = s.split(/\s+/).filter((z) => z !== '' && z !== 'None');
  return zones.length ? zones : undefined;
}

/**
 * `lsmem` tables, with any columns (`-o+ZONES,NODE`), `-P` pairs and `-J` JSON; several tables in one file
 * are successive states.
 */
export const lsmemFormat: TraceFormat = {
  name: 'lsmem',
  description: 'lsmem tables (memory blocks, online/offline)',
  detect: (head) => (LSMEM_JSON.test(head) || headLines(head).some((l) => headerColumns(l) !== null || PAIRS_LINE.test(l)) ? 0.9 : 0),
  create: (ctx: ParseContext) => new MemoryBlocksParser(ctx),
};

/** `/sys/devices/system/memory/memoryN/state` listings (grep output of the state files, shell loops). */
export const memoryStateFormat: TraceFormat = {
  name: 'memory-state',
  description: '/sys/devices/system/memory/memoryN/state listings',
  detect: (head) => (headLines(head).some((l) => STATE_LINE.test(l.trim())) ? 0.8 : 0),
  create: (ctx: ParseContext) => new MemoryBlocksParser(ctx),
};
