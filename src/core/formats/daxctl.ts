import type { Region, RegionType } from '../model/addressSpace';
import type { TraceBuilder } from '../model/traceBuilder';
import { text } from './bytes';
import { headLines, type LineParser, type ParseContext, type TraceFormat } from './format';
import { pagesOf, parseSize } from './layoutValues';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const DAX_MODES: Record<string, RegionType> = { 'system-ram': 'kmem', devdax: 'devdax', fsdax: 'fsdax' };
// ndctl namespace modes, with the names older ndctl releases used (memory = fsdax, dax = devdax).
const NAMESPACE_MODES: Record<string, RegionType> = { fsdax: 'fsdax', memory: 'fsdax', devdax: 'devdax', dax: 'devdax', raw: 'other', sector: 'other', safe: 'other' };

/**
 * Reads `daxctl list` / `daxctl reconfigure-device` and `ndctl list` JSON into layout regions.
 *
 * JSON is not line-oriented, so each top-level value is buffered (these outputs are a few KB) and parsed
 * when its brackets balance; the line of every `{` is kept so a region and an error point at the line
 * where its object starts. Outside a value, `#` lines (the commands of a captured session) are skipped
 * and other text (`onlined memory for 1 device`) is counted as `proseLines`.
 *
 * daxctl JSON has no physical address: regions get `start: NaN` (pages and node only), and
 * `AddressSpace.regionOf` never places a pfn in them. A device listed again later in the file (after a
 * `reconfigure-device`) replaces its earlier region: the layout is the file's last word on each device.
 */
class DaxJsonParser implements LineParser {
  private readonly b: TraceBuilder;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private buf: string[] = [];
  private startLine = 0;
  private objectLines: number[] = [];
  private readonly regions = new Map<string, Region>();

  constructor(ctx: ParseContext) {
    this.b = ctx.builder;
  }

  line(bytes: Uint8Array, start: number, end: number, lineNo: number): void {
    this.scan(text(bytes, start, end), lineNo);
  }

  end(lines: number): void {
    if (this.depth > 0) this.b.error(this.startLine, `the JSON value that starts here is not closed by line ${lines}: expected a closing } or ]`);
    for (const r of this.regions.values()) this.b.layout.addRegion(r);
  }

  private scan(t: string, lineNo: number): void {
    let i = 0;
    if (this.depth === 0) {
      const s = t.trimStart();
      if (s === '' || s[0] === '#') return;
      if (s[0] !== '{' && s[0] !== '[') {
        this.b.count('proseLines');
        return;
      }
      i = t.length - s.length;
      t = t.slice(i);
      i = 0;
      this.buf = [];
      this.objectLines = [];
      this.startLine = lineNo;
    }
    for (; i < t.length; i++) {
      const c = t[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
        continue;
      }
      if (c === '"') this.inString = true;
      else if (c === '{' || c === '[') {
        if (c === '{') this.objectLines.push(lineNo);
        this.depth++;
      } else if (c === '}' || c === ']') {
        if (--this.depth === 0) {
          this.buf.push(t.slice(0, i + 1));
          this.finishValue();
          const rest = t.slice(i + 1);
          if (rest.trim() !== '') {
            if (/^\s*[[{]/.test(rest)) this.scan(rest, lineNo);
            else this.b.error(lineNo, `unexpected text after the JSON value: "${rest.trim()}", expected a new line`);
          }
          return;
        }
      }
    }
    this.buf.push(t);
  }

  private finishValue(): void {
    let value: Json;
    try {
      value = JSON.parse(this.buf.join('\n')) as Json;
    } catch (err) {
      this.b.error(this.startLine, `invalid JSON in the value that starts here (${(err as Error).message}): expected daxctl or ndctl list output`);
      return;
    }
    let k = 0;
    // JSON.parse visits objects in document order, the order in which scan() met their `{`.
    const walk = (v: Json): void => {
      if (Array.isArray(v)) {
        for (const x of v) walk(x);
        return;
      }
      if (v === null || typeof v !== 'object') return;
      const line = this.objectLines[k++] ?? this.startLine;
      if (typeof v.chardev === 'string') this.daxDevice(v, line);
      else if (typeof v.dev === 'string' && v.dev.startsWith('namespace')) this.namespace(v, line);
      for (const x of Object.values(v)) walk(x);
    };
    walk(value);
  }

  private daxDevice(o: JsonObject, line: number): void {
    const chardev = o.chardev as string;
    this.b.count('daxDevices');
    const mode = o.mode === undefined ? 'devdax' : String(o.mode);
    const type = DAX_MODES[mode];
    if (!type) return this.b.error(line, `dax device ${chardev}: mode "${mode}" is not one of ${Object.keys(DAX_MODES).join(', ')}`);
    const pages = this.pagesOf(o, `dax device ${chardev}`, line);
    if (pages === undefined) return;
    const region: Region = { name: chardev, type, node: nodeOf(o), start: NaN, pages, device: `/dev/${chardev}`, file: this.b.currentFile, line };
    if (typeof o.online_memblocks === 'number') region.onlineBlocks = o.online_memblocks;
    if (typeof o.total_memblocks === 'number') region.totalBlocks = o.total_memblocks;
    if (typeof o.movable === 'boolean') region.movable = o.movable;
    this.regions.delete(chardev);
    this.regions.set(chardev, region);
  }

  private namespace(o: JsonObject, line: number): void {
    const dev = o.dev as string;
    this.b.count('namespaces');
    const mode = String(o.mode ?? 'raw');
    const type = NAMESPACE_MODES[mode];
    if (!type) return this.b.error(line, `${dev}: mode "${mode}" is not one of ${Object.keys(NAMESPACE_MODES).join(', ')}`);
    // A devdax namespace lists its dax devices under daxregion: they become the regions, not the namespace.
    if (type === 'devdax' && hasChardev(o.daxregion ?? null)) return;
    const pages = this.pagesOf(o, dev, line);
    if (pages === undefined) return;
    const device = typeof o.blockdev === 'string' ? `/dev/${o.blockdev}` : undefined;
    this.regions.delete(dev);
    this.regions.set(dev, { name: dev, type, node: nodeOf(o), start: NaN, pages, device, file: this.b.currentFile, line });
  }

  private pagesOf(o: JsonObject, what: string, line: number): number | undefined {
    const size = o.size;
    const bytes = typeof size === 'number' ? size : typeof size === 'string' ? parseSize(size) : NaN;
    if (bytes !== bytes || bytes < 0) {
      this.b.error(line, `${what}: expected "size" in bytes or as "15.63 GiB", found ${size === undefined ? 'none' : JSON.stringify(size)}`);
      return undefined;
    }
    return pagesOf(bytes);
  }
}

function nodeOf(o: JsonObject): number {
  const n = o.target_node ?? o.numa_node;
  return typeof n === 'number' && n >= 0 ? n : -1;
}

function hasChardev(v: Json): boolean {
  if (Array.isArray(v)) return v.some(hasChardev);
  if (v === null || typeof v !== 'object') return false;
  return typeof v.chardev === 'string' || Object.values(v).some(hasChardev);
}

/** `daxctl list`, `daxctl reconfigure-device` and `ndctl list` JSON (one object or an array). */
export const daxctlFormat: TraceFormat = {
  name: 'daxctl',
  description: 'daxctl / ndctl list JSON (DAX devices and namespaces)',
  detect(head: string): number {
    if (!/"chardev"\s*:|"daxregion"\s*:|"dev"\s*:\s*"namespace/.test(head)) return 0;
    return headLines(head).some((l) => /^\s*[[{]/.test(l)) ? 0.9 : 0;
  },
  create: (ctx) => new DaxJsonParser(ctx),
};
