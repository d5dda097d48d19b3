import { snapshotSideName } from '../../core/analysis/pageSet';
import type { SnapshotSummary, TraceSummary } from '../../core/trace';
import { DIFF_CLASS_NAMES, type DiffViewInit } from '../../protocol/diffData';
import type { DiffPair, DiffSideRef } from '../../protocol/worker';

/** A stable text key of a diff side (Infinity, which JSON turns into null, is written `end`). */
export function diffSideKey(s: DiffSideRef): string {
  if ('snapshot' in s) return `${s.traceId}#s${s.snapshot}`;
  return `${s.traceId}#t${s.time === Infinity ? 'end' : s.time}${s.pid === undefined ? '' : `p${s.pid}`}`;
}

/** A stable text key of a pair of sides. */
export function diffPairKey(p: DiffPair): string {
  return `${diffSideKey(p.a)}\n${diffSideKey(p.b)}`;
}

/** A loaded trace as the diff commands see it: its snapshots, the owners naming their processes, its time span. */
export interface DiffTrace {
  traceId: string;
  title: string;
  summary: Pick<TraceSummary, 'snapshots' | 'owners' | 'time'> | null;
}

/** How a side reads in titles: the snapshot's name and process, as the core names it, or `ownership at T` / `at end`. */
export function diffSideName(traces: readonly DiffTrace[], s: DiffSideRef): string {
  const t = traces.find((x) => x.traceId === s.traceId);
  if ('snapshot' in s) {
    const summary = t?.summary;
    const snap = summary?.snapshots.find((x) => x.id === s.snapshot);
    if (!snap) return `snapshot ${s.snapshot}`;
    // As snapshotPageSet does: the snapshot's own comm, else the one the trace knows for its pid.
    const comm = snap.comm ?? (snap.pid === undefined ? undefined : summary?.owners.find((o) => o.kind === 'process' && o.pid === snap.pid && o.comm)?.comm);
    return snapshotSideName({ name: snap.name, pid: snap.pid, comm });
  }
  const at = s.time === Infinity ? 'ownership at end' : `ownership at ${s.time} ns`;
  return s.pid === undefined ? at : `pid ${s.pid} ${at}`;
}

/** The title of a diff: `A ↔ B`, with the trace names when the sides come from different traces. */
export function diffTitle(traces: readonly DiffTrace[], p: DiffPair): string {
  const name = (s: DiffSideRef): string => {
    const n = diffSideName(traces, s);
    if (p.a.traceId === p.b.traceId) return n;
    return `${n} (${traces.find((x) => x.traceId === s.traceId)?.title ?? s.traceId})`;
  };
  return `${name(p.a)} ↔ ${name(p.b)}`;
}

// ------------------------------------------------------------------------------------- URIs

/** The query of a diff side's text document URI: `trace`, `snapshot` or `time` (`end`), `pid`, `side`. */
export function diffQuery(p: DiffPair, side: 'a' | 'b'): string {
  const q = new URLSearchParams();
  for (const [k, s] of [['a', p.a], ['b', p.b]] as const) {
    q.set(`${k}.trace`, s.traceId);
    if ('snapshot' in s) q.set(`${k}.snapshot`, String(s.snapshot));
    else {
      q.set(`${k}.time`, s.time === Infinity ? 'end' : String(s.time));
      if (s.pid !== undefined) q.set(`${k}.pid`, String(s.pid));
    }
  }
  q.set('side', side);
  return q.toString();
}

/** The pair and side a text document URI's query names; null when it names none (a stale or hand-made URI). */
export function parseDiffQuery(query: string): { pair: DiffPair; side: 'a' | 'b' } | null {
  const q = new URLSearchParams(query);
  const side = q.get('side');
  const one = (k: string): DiffSideRef | null => {
    const traceId = q.get(`${k}.trace`);
    if (!traceId) return null;
    const snap = q.get(`${k}.snapshot`);
    if (snap !== null) return /^\d+$/.test(snap) ? { traceId, snapshot: Number(snap) } : null;
    const time = q.get(`${k}.time`);
    const pid = q.get(`${k}.pid`);
    if (time === null || (time !== 'end' && !/^\d+$/.test(time)) || (pid !== null && !/^\d+$/.test(pid))) return null;
    return pid === null ? { traceId, time: time === 'end' ? Infinity : Number(time) } : { traceId, time: time === 'end' ? Infinity : Number(time), pid: Number(pid) };
  };
  const a = one('a');
  const b = one('b');
  return a && b && (side === 'a' || side === 'b') ? { pair: { a, b }, side } : null;
}

/** The files of a trace id (the inverse of traceIdFor: a path, or `merged:` and paths joined by `|`). */
export function pathsOfTraceId(traceId: string): string[] {
  return traceId.startsWith('merged:') ? traceId.slice('merged:'.length).split('|') : [traceId];
}

// ------------------------------------------------------------------------------- quick pick

/** One entry of the "Compare Snapshots..." quick pick: a side, or "ask for a time" in a trace. */
export interface DiffPickItem {
  label: string;
  description: string;
  detail?: string;
  /** The side it stands for; `askTime` when the user types the time next. */
  side: DiffSideRef | { traceId: string; askTime: true };
}

function snapshotItem(t: DiffTrace, s: SnapshotSummary): DiffPickItem {
  const who = s.pid !== undefined ? ` · pid ${s.pid}${s.comm ? ` (${s.comm})` : ''}` : '';
  return {
    label: `$(device-camera) ${s.name}`,
    description: t.title,
    detail: `${s.pages.toLocaleString('en-US')} page${s.pages === 1 ? '' : 's'} · ${s.source}${who} · line ${s.line}${s.dropped ? ' · dropped' : ''}`,
    side: { traceId: t.traceId, snapshot: s.id },
  };
}

/**
 * The quick pick entries across loaded traces: every snapshot, then the ownership at the end of the trace
 * and "at a time..." (traces with no snapshot, like ftrace, can still be compared at two times). `exclude`
 * leaves out the side already picked.
 */
export function diffPickItems(traces: readonly DiffTrace[], exclude?: DiffSideRef): DiffPickItem[] {
  const out: DiffPickItem[] = [];
  const skip = exclude ? diffSideKey(exclude) : '';
  for (const t of traces) {
    const s = t.summary;
    if (!s) continue;
    for (const x of s.snapshots) {
      const item = snapshotItem(t, x);
      if (diffSideKey(item.side as DiffSideRef) !== skip) out.push(item);
    }
    const end: DiffSideRef = { traceId: t.traceId, time: Infinity };
    if (diffSideKey(end) !== skip) out.push({ label: '$(clock) Ownership at the end', description: t.title, detail: `every page as it stands after the last event (${s.time.end} ns)`, side: end });
    out.push({ label: '$(clock) Ownership at a time...', description: t.title, detail: `type a time between ${s.time.start} and ${s.time.end} ns`, side: { traceId: t.traceId, askTime: true } });
  }
  return out;
}

/** Parse a typed time: an integer in ns, or `end`. Returns the time, or the reason it is not one. */
export function parseDiffTime(text: string): number | string {
  const t = text.trim().toLowerCase();
  if (t === 'end') return Infinity;
  if (/^\d+$/.test(t)) return Number(t);
  return 'a time in ns (an integer), or "end"';
}

/**
 * The pair for two files selected in the Explorer, read as one timeline (so a CRIU pagemap finds its
 * parent and two page_owner dumps see each other): the last snapshot of each file, as `pageledger diff A B`
 * does. Returns the reason when a file has none.
 */
export function pairFromFiles(traceId: string, s: Pick<TraceSummary, 'snapshots'>, pathA: string, pathB: string): DiffPair | string {
  const last = (p: string): SnapshotSummary | undefined => s.snapshots.filter((x) => x.file === p).at(-1);
  const a = last(pathA);
  const b = last(pathB);
  const none = (p: string): string => `${p} has no snapshot to compare; use "Compare Snapshots..." to compare ownership at a time`;
  if (!a) return none(pathA);
  if (!b) return none(pathB);
  return { a: { traceId, snapshot: a.id }, b: { traceId, snapshot: b.id } };
}

/** Pages per class that has any, in class order: `unchanged 12, added 3` (the status bar after a compare). */
export function diffTotalsText(init: DiffViewInit): string {
  const parts = DIFF_CLASS_NAMES.map((c, i) => [c, init.pages[i] ?? 0] as const).filter(([, n]) => n > 0);
  return parts.length ? parts.map(([c, n]) => `${c} ${n}`).join(', ') : 'no pages';
}
