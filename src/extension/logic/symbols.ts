/** An outline entry in plain data (the adapter turns it into a vscode.DocumentSymbol). */
export interface OutlineSymbol {
  name: string;
  detail: string;
  kind: 'section' | 'snapshot';
  /** 0-based first and last line of the range the symbol spans. */
  line: number;
  endLine: number;
  children: OutlineSymbol[];
}

/** Most snapshots listed in an outline: beyond this the outline stops being a map of the file. */
export const MAX_OUTLINE_SNAPSHOTS = 5000;

const SNAP_BEGIN = /^\S+\s+snapshot-begin\b.*?\bsnap=(\d+)(?:.*?\bpid=(\d+))?/;
const SNAP_END = /^\S+\s+snapshot-end\b.*?\bsnap=(\d+)/;
const LOG_SNAPSHOT = /^snapshot\b.*?\bid=(\d+)(?:.*?\bname=(\S+))?/;
const LAYOUT = /^(node|region|block)\s/;

/**
 * The outline of a trace's text: the header and layout sections, and one entry per snapshot spanning its
 * lines (snapshot-begin to snapshot-end in a trace, `snapshot` to the next one in a snapshot log).
 */
export function outlineSymbols(lines: readonly string[], languageId: string): OutlineSymbol[] {
  const out: OutlineSymbol[] = [];
  if (languageId === 'pageledger') {
    let layoutStart = -1;
    let layoutEnd = -1;
    const open = new Map<string, OutlineSymbol>();
    let lastLog: OutlineSymbol | null = null;
    let snapshots = 0;
    for (let k = 0; k < lines.length; k++) {
      const l = lines[k];
      if (LAYOUT.test(l)) {
        if (layoutStart < 0) layoutStart = k;
        layoutEnd = k;
        continue;
      }
      const b = SNAP_BEGIN.exec(l);
      if (b && snapshots < MAX_OUTLINE_SNAPSHOTS) {
        const s: OutlineSymbol = { name: `snapshot ${b[1]}`, detail: b[2] ? `pid ${b[2]}` : '', kind: 'snapshot', line: k, endLine: k, children: [] };
        open.set(b[1], s);
        out.push(s);
        snapshots++;
        continue;
      }
      const e = SNAP_END.exec(l);
      if (e) {
        const s = open.get(e[1]);
        if (s) {
          s.endLine = k;
          open.delete(e[1]);
        }
        continue;
      }
      const g = LOG_SNAPSHOT.exec(l);
      if (g && snapshots < MAX_OUTLINE_SNAPSHOTS) {
        if (lastLog) lastLog.endLine = k - 1;
        lastLog = { name: g[2] ?? `snapshot ${g[1]}`, detail: `id ${g[1]}`, kind: 'snapshot', line: k, endLine: k, children: [] };
        out.push(lastLog);
        snapshots++;
      }
    }
    if (lastLog) lastLog.endLine = Math.max(lastLog.line, lines.length - 1);
    if (layoutStart >= 0) out.unshift({ name: 'Layout', detail: `${layoutEnd - layoutStart + 1} lines`, kind: 'section', line: layoutStart, endLine: layoutEnd, children: [] });
    return out;
  }
  // Kernel traces: the `#` header block that ftrace and trace-cmd print before the events.
  let k = 0;
  while (k < lines.length && (lines[k].startsWith('#') || /^cpus=\d+/.test(lines[k]) || lines[k].trim() === '')) k++;
  if (k > 0 && lines.slice(0, k).some((l) => l.trim() !== '')) out.push({ name: 'Header', detail: `${k} lines`, kind: 'section', line: 0, endLine: k - 1, children: [] });
  if (k < lines.length) out.push({ name: languageId === 'page-owner' ? 'Records' : 'Events', detail: `${lines.length - k} lines`, kind: 'section', line: k, endLine: lines.length - 1, children: [] });
  return out;
}
