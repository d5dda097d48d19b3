import { RULES } from '../../core/analysis/anomalies';
import type { AnomalySummary } from '../../core/trace';
import type { PageHistory } from '../../protocol/worker';

/** A page frame number found in a line of trace text, with the columns of the token. */
export interface PfnToken {
  pfn: number;
  start: number;
  end: number;
}

// pfn=0x1a2b / pfn=6699 (ftrace kmem, native), PFN 0x1a2b / PFN 6699 (page_owner), and the native fields
// that also name frames: cow old=/new=, migrate to=.
const PFN_PATTERN = /\b(?:pfn[=:]\s*|PFN\s+|(?:old|new|to)=)(0x[0-9a-fA-F]+|\d+)\b/g;

/** The pfn token under column `col` of `line`, or null. */
export function findPfnAt(line: string, col: number): PfnToken | null {
  PFN_PATTERN.lastIndex = 0;
  for (let m = PFN_PATTERN.exec(line); m; m = PFN_PATTERN.exec(line)) {
    const start = m.index;
    const end = start + m[0].length;
    if (col >= start && col <= end) {
      const v = m[1];
      const pfn = v.startsWith('0x') || v.startsWith('0X') ? parseInt(v.slice(2), 16) : parseInt(v, 10);
      if (Number.isSafeInteger(pfn)) return { pfn, start, end };
    }
  }
  return null;
}

/** Trace time in ns, as people read it: `812 ns`, `3.250 µs`, `1.001 ms`, `2.500000 s`. */
export function formatTime(ns: number | null): string {
  if (ns === null) return '—';
  const a = Math.abs(ns);
  if (a < 1e3) return `${ns} ns`;
  if (a < 1e6) return `${(ns / 1e3).toFixed(3)} µs`;
  if (a < 1e9) return `${(ns / 1e6).toFixed(3)} ms`;
  return `${(ns / 1e9).toFixed(6)} s`;
}

/** A markdown link that runs `pageledger.reveal` on a file and 1-based line. */
export function revealLink(text: string, file: string, line: number): string {
  const args = encodeURIComponent(JSON.stringify([{ file, line }]));
  return `[${text}](command:pageledger.reveal?${args})`;
}

/** Most ownership spans a hover lists; the rest are counted. */
export const HOVER_MAX_SPANS = 20;

/**
 * The hover for a page: one row per ownership span (owner, from, to, the line that started it, as a link
 * that reveals it). `files` maps the history's file indices to paths.
 */
export function pageHistoryMarkdown(h: PageHistory, files: readonly string[]): string {
  const hexPfn = '0x' + h.pfn.toString(16);
  if (h.spans.length === 0) {
    return `**pfn ${hexPfn}**: no allocation, free or mapping of this page in the trace.\n`;
  }
  const multiFile = new Set(h.spans.map((s) => s.file)).size > 1;
  const rows = h.spans.slice(-HOVER_MAX_SPANS).map((s) => {
    const path = files[s.file] ?? '?';
    const where = multiFile ? `${basename(path)}:${s.line}` : `line ${s.line}`;
    return `| ${escapeCell(s.owner)} | ${formatTime(s.from)} | ${s.to === null ? 'end' : formatTime(s.to)} | ${s.cause} | ${revealLink(where, path, s.line)} |`;
  });
  const hidden = h.spans.length - rows.length;
  const out = [
    `**pfn ${hexPfn}**: ${h.spans.length} ownership span${h.spans.length === 1 ? '' : 's'}, now ${escapeCell(h.spans[h.spans.length - 1].owner)}`,
    '',
    '| owner | from | to | by | at |',
    '|---|---|---|---|---|',
    ...rows,
  ];
  if (hidden > 0) out.push('', `${hidden} earlier span${hidden === 1 ? '' : 's'} not shown.`);
  return out.join('\n') + '\n';
}

/** The hover section for anomalies on a line: what each rule means. */
export function anomalyHoverMarkdown(anomalies: readonly AnomalySummary[]): string {
  return anomalies
    .map((a) => {
      const r = RULES[a.kind];
      const rel = a.relatedLocations.map((l) => revealLink(`line ${l.line}`, l.file, l.line)).join(', ');
      return `**${r.title}** (\`${a.kind}\`, ${a.severity})${rel ? `, see ${rel}` : ''}\n\n${r.explanation}`;
    })
    .join('\n\n---\n\n');
}

function basename(p: string): string {
  const k = Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\'));
  return k < 0 ? p : p.slice(k + 1);
}

function escapeCell(s: string): string {
  return s.replace(/\|/g, '\\|');
}
