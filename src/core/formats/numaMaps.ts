import type { Placement } from '../model/addressSpace';
import type { TraceBuilder } from '../model/traceBuilder';
import { text } from './bytes';
import { headLines, type LineParser, type ParseContext, type TraceFormat } from './format';
import { PAGE_BYTES } from './layoutValues';

// `<start address> <policy> ...`; policies as mempolicy.c prints them (`prefer:1`, `bind:0-3`, `interleave=...`).
const VMA_LINE = /^([0-9a-f]+)\s+(default|prefer|bind|interleave|local|weighted|preferred)\S*(?:\s|$)/;
// Where several processes are concatenated: `==> /proc/1234/numa_maps <==` (head/tail) or a `# /proc/1234/numa_maps` note.
const PROCESS_HEADER = /\/proc\/(\d+|self)\/numa_maps/;

/**
 * Reads `/proc/PID/numa_maps` into a placement snapshot: pages per node, anonymous/dirty/mapped pages and
 * VMAs, per process. numa_maps has no pfns, so it creates no events; it adds the nodes it names to the
 * layout. Counts are turned into 4 KiB pages with each line's `kernelpagesize_kB` (a hugetlb line `N3=1
 * kernelpagesize_kB=2048` is 512 pages). The pid comes from a `/proc/PID/numa_maps` header line, else from
 * the file's path; a new header starts a new snapshot.
 */
class NumaMapsParser implements LineParser {
  private readonly b: TraceBuilder;
  private current: Placement | null = null;
  private readonly pathPid: number | undefined;

  constructor(ctx: ParseContext) {
    this.b = ctx.builder;
    const m = PROCESS_HEADER.exec(ctx.path);
    this.pathPid = m && m[1] !== 'self' ? Number(m[1]) : undefined;
  }

  line(bytes: Uint8Array, start: number, end: number, lineNo: number): void {
    const t = text(bytes, start, end).trim();
    if (t === '') return;
    const vma = VMA_LINE.exec(t);
    if (!vma) {
      const h = PROCESS_HEADER.exec(t);
      if (h && (t[0] === '#' || t.startsWith('==>'))) {
        this.begin(h[1] === 'self' ? undefined : Number(h[1]), lineNo);
        return;
      }
      if (t[0] === '#') return;
      return this.b.error(lineNo, `expected a numa_maps line "<address> <policy> [key=value...]", found "${t.length > 80 ? t.slice(0, 80) + '...' : t}"`);
    }
    const fields = t.slice(vma[0].length).split(/\s+/);
    let pageKiB = PAGE_BYTES / 1024;
    const perNode: [number, number][] = [];
    let anon = 0;
    let dirty = 0;
    let mapped = 0;
    for (const f of fields) {
      const eq = f.indexOf('=');
      if (eq < 0) continue; // heap, stack, huge: flags without a count
      const key = f.slice(0, eq);
      const value = f.slice(eq + 1);
      if (key === 'file' || key === 'policy') continue;
      const n = /^\d+$/.test(value) ? Number(value) : NaN;
      if (key === 'kernelpagesize_kB' || key === 'anon' || key === 'dirty' || key === 'mapped' || /^N\d+$/.test(key)) {
        if (n !== n) return this.b.error(lineNo, `expected a number for ${key}=, found "${value}"`);
      }
      if (key === 'kernelpagesize_kB') pageKiB = n;
      else if (key === 'anon') anon = n;
      else if (key === 'dirty') dirty = n;
      else if (key === 'mapped') mapped = n;
      else if (key[0] === 'N' && /^N\d+$/.test(key)) perNode.push([Number(key.slice(1)), n]);
    }
    const p = this.current ?? this.begin(this.pathPid, lineNo);
    p.vmas++;
    this.b.count('vmas');
    const scale = (pageKiB * 1024) / PAGE_BYTES;
    for (const [node, n] of perNode) {
      p.pagesByNode.set(node, (p.pagesByNode.get(node) ?? 0) + n * scale);
      this.b.layout.addNode(node);
    }
    p.anonPages += anon * scale;
    p.dirtyPages += dirty * scale;
    p.mappedPages += mapped * scale;
    this.b.count('anonPages', anon * scale);
    this.b.count('mappedPages', mapped * scale);
  }

  end(): void {}

  private begin(pid: number | undefined, lineNo: number): Placement {
    const p: Placement = {
      name: pid === undefined ? 'numa_maps' : `numa_maps of pid ${pid}`,
      pid,
      vmas: 0,
      pagesByNode: new Map(),
      anonPages: 0,
      dirtyPages: 0,
      mappedPages: 0,
      file: this.b.currentFile,
      line: lineNo,
    };
    this.current = p;
    this.b.layout.placements.push(p);
    return p;
  }
}

/** `/proc/PID/numa_maps`: per-node placement of one process's pages. */
export const numaMapsFormat: TraceFormat = {
  name: 'numa_maps',
  description: '/proc/PID/numa_maps (pages per NUMA node of a process)',
  detect(head: string): number {
    const lines = headLines(head, 20).filter((l) => !l.startsWith('#') && !l.startsWith('==>'));
    if (lines.length === 0) return 0;
    const hits = lines.filter((l) => VMA_LINE.test(l)).length;
    return hits === lines.length || (hits >= 3 && hits >= lines.length * 0.7) ? 0.9 : 0;
  },
  create: (ctx) => new NumaMapsParser(ctx),
};
