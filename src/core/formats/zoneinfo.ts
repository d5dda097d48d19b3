import type { TraceBuilder } from '../model/traceBuilder';
import { text } from './bytes';
import { headLines, type LineParser, type ParseContext, type TraceFormat } from './format';

const ZONE_HEADER = /^Node\s+(\d+),\s*zone\s+(\S+)\s*$/;
const ZONE_SIZE = /^\s*(spanned|present|managed)\s+(\S+)\s*$/;
const START_PFN = /^\s*start_pfn:\s*(\S+)\s*$/;

interface Zone {
  node: number;
  name: string;
  line: number;
  spanned?: number;
  present?: number;
  managed?: number;
  start?: number;
}

/**
 * Reads `/proc/zoneinfo` into nodes and one `ram` region per populated zone (`node0/Normal`: start =
 * `start_pfn`, pages = `spanned`, with `present` and `managed`). A node's `pages` is the sum of its zones'
 * present pages. `start_pfn` comes last in a zone's block, so a zone becomes a region when the next zone
 * starts; a zone cut short before its `start_pfn` gets `start: NaN`. Zones that span no pages (an unused
 * Movable or Device zone) are counted as `emptyZones`, not regions. The hundreds of statistics lines are
 * ignored.
 */
class ZoneinfoParser implements LineParser {
  private readonly b: TraceBuilder;
  private zone: Zone | null = null;

  constructor(ctx: ParseContext) {
    this.b = ctx.builder;
  }

  line(bytes: Uint8Array, start: number, end: number, lineNo: number): void {
    const t = text(bytes, start, end);
    const head = ZONE_HEADER.exec(t);
    if (head) {
      this.flush();
      this.zone = { node: Number(head[1]), name: head[2], line: lineNo };
      this.b.layout.addNode(this.zone.node);
      return;
    }
    const z = this.zone;
    if (!z) {
      const s = t.trim();
      if (s !== '' && s[0] !== '#') this.b.error(lineNo, `expected a zone header "Node N, zone NAME", found "${s}"`);
      return;
    }
    let m = ZONE_SIZE.exec(t);
    if (m) {
      const v = /^\d+$/.test(m[2]) ? Number(m[2]) : NaN;
      if (v !== v) return this.b.error(lineNo, `expected a page count after "${m[1]}", found "${m[2]}"`);
      z[m[1] as 'spanned' | 'present' | 'managed'] = v;
      return;
    }
    if ((m = START_PFN.exec(t))) {
      const v = /^\d+$/.test(m[1]) ? Number(m[1]) : NaN;
      if (v !== v) return this.b.error(lineNo, `expected a pfn after "start_pfn:", found "${m[1]}"`);
      z.start = v;
    }
  }

  end(): void {
    this.flush();
  }

  private flush(): void {
    const z = this.zone;
    this.zone = null;
    if (!z) return;
    this.b.count('zones');
    if (z.spanned === undefined) return this.b.error(z.line, `zone ${z.name} of node ${z.node} has no "spanned" line: expected spanned, present and managed page counts`);
    if (z.spanned === 0) {
      this.b.count('emptyZones');
      return;
    }
    this.b.layout.addRegion({
      name: `node${z.node}/${z.name}`,
      type: 'ram',
      node: z.node,
      start: z.start ?? NaN,
      pages: z.spanned,
      present: z.present,
      managed: z.managed,
      file: this.b.currentFile,
      line: z.line,
    });
    const n = this.b.layout.addNode(z.node);
    n.pages = (n.pages ?? 0) + (z.present ?? 0);
  }
}

/** `/proc/zoneinfo`: NUMA nodes and their zones (spanned/present/managed pages, start_pfn). */
export const zoneinfoFormat: TraceFormat = {
  name: 'zoneinfo',
  description: '/proc/zoneinfo (NUMA nodes and zones)',
  detect: (head) => {
    const first = headLines(head, 5).find((l) => !l.startsWith('#'));
    return first !== undefined && ZONE_HEADER.test(first) ? 0.95 : 0;
  },
  create: (ctx) => new ZoneinfoParser(ctx),
};
