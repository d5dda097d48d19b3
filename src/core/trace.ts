import { Replay, hex, type ReplayResult } from './analysis/replay';
import { RULES, type Anomaly, type RuleConfig } from './analysis/anomalies';
import { LineReader } from './formats/lineReader';
import { detectFormat, formatByName, FORMATS } from './formats/registry';
import type { TraceFormat } from './formats/format';
import { TraceBuilder } from './model/traceBuilder';
import type { OwnerKind } from './model/owners';
import { OwnershipRecorder } from './analysis/ownershipIndex';
import { jsonPieces, LazyList } from './export/jsonPieces';
import { PrefixReplay, type TracePrefix } from './analysis/prefixReplay';

export type { TracePrefix } from './analysis/prefixReplay';

/** A file to read: its bytes arrive as chunks (the caller handles disk, gzip, or memory). */
export interface InputSource {
  /** Path or name shown in messages. */
  path: string;
  /** Size in bytes on disk if known (for progress). */
  size?: number;
  /** The bytes in order. A chunk may be overwritten once the next one is asked for (readers reuse a buffer). */
  chunks(): AsyncIterable<Uint8Array>;
}

/** Options for opening a trace. */
export interface OpenOptions {
  rules?: RuleConfig;
  /** Force a format instead of detecting it. */
  format?: string;
  /** Called now and then with bytes read so far over all files. */
  onProgress?: (bytesRead: number, bytesTotal: number) => void;
  /** Checked between chunks; when it returns true, reading stops with a CancelledError. */
  isCancelled?: () => boolean;
  /**
   * Record page changes during the analysis for the views' ownership index, which then needs no replay
   * of its own (3.7 of 6.5 s CPU at 10 M events); 25 bytes a change until the index takes them.
   */
  recordOwnership?: boolean;
  /**
   * Run the analysis (the replay with every rule) when `model.result` is first read instead of at open.
   * A diff of two snapshots reads only the parsed snapshots: `pageledger diff` of two 1 M-page snapshot
   * logs took 4.2-4.6 s CPU and 612 MB with a replay nothing printed, 2.1-2.3 s and 400 MB without.
   * Ignored with recordOwnership.
   */
  deferAnalysis?: boolean;
  /**
   * With recordOwnership, one file of a format that lists events in time order (TraceFormat.timeOrdered):
   * the analysis replay runs beside the parse (PrefixReplay) and this is called after each chunk with the
   * part read so far, valid during the call; with null, once, when an event went back in time (what the
   * earlier calls showed may not hold; the replay then runs after the parse as without this option). The
   * model is the same as without it. On two threads (openTraceParallel) it is called after each part the
   * replay took while it streams. The extension's worker shows the view of the part read so far.
   */
  onPrefix?: (prefix: TracePrefix | null) => void;
}

/** Thrown when OpenOptions.isCancelled asked to stop. */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
  }
}

/** A parsed and analysed trace: everything the CLI prints and the extension shows. */
export interface TraceModel {
  builder: TraceBuilder;
  result: ReplayResult;
  /** The detected format of the first file (or `mixed` when files differ). */
  format: string;
  stats: { bytes: number; lines: number; parseMs: number; analyzeMs: number };
  /** Page changes recorded during the analysis (OpenOptions.recordOwnership), until the ownership index takes them. */
  ownershipRecording?: OwnershipRecorder;
}

const HEAD_BYTES = 64 * 1024;

/** Open one or more files as one timeline: detect, parse, replay. */
export async function openTrace(sources: InputSource[], opts: OpenOptions = {}): Promise<TraceModel> {
  const builder = new TraceBuilder();
  const total = sources.reduce((n, s) => n + (s.size ?? 0), 0);
  let done = 0;
  let lines = 0;
  const t0 = performance.now();
  const prefix = opts.onPrefix && opts.recordOwnership && sources.length === 1 ? new PrefixReplay(builder, opts.rules, total, opts.onPrefix) : undefined;
  const parsed = prefix && ((): void => prefix.chunkParsed(done));
  for (const src of sources) {
    const r = await parseSource(
      builder,
      src,
      opts,
      (n) => {
        done += n;
        opts.onProgress?.(done, total);
      },
      parsed,
    );
    lines += r;
  }
  const t1 = performance.now();
  const formats = new Set(builder.files.map((f) => f.format));
  const format = formats.size === 1 ? [...formats][0] : formats.size === 0 ? 'none' : 'mixed';
  const stats = { bytes: done, lines, parseMs: Math.round(t1 - t0), analyzeMs: 0 };
  const streamed = prefix?.finish();
  if (streamed) {
    // The replay's time during the parse counts as analysis, as it does when it runs after.
    stats.parseMs = Math.round(t1 - t0 - streamed.duringParseMs);
    stats.analyzeMs = Math.round(streamed.duringParseMs + streamed.afterParseMs);
    return { builder, result: streamed.result, format, stats, ownershipRecording: streamed.recording };
  }
  if (opts.deferAnalysis && !opts.recordOwnership) return deferredModel(builder, format, stats, opts.rules);
  const recording = opts.recordOwnership ? new OwnershipRecorder(builder.events.length) : undefined;
  const result = new Replay(builder, opts.rules, recording).run();
  stats.analyzeMs = Math.round(performance.now() - t1);
  return { builder, result, format, stats, ...(recording ? { ownershipRecording: recording } : {}) };
}

/** A model whose `result` is the replay run on first read (OpenOptions.deferAnalysis); `stats.analyzeMs` counts it then. */
function deferredModel(builder: TraceBuilder, format: string, stats: TraceModel['stats'], rules: RuleConfig | undefined): TraceModel {
  let result: ReplayResult | undefined;
  const model = { builder, format, stats } as TraceModel;
  Object.defineProperty(model, 'result', {
    enumerable: true,
    configurable: true,
    get(): ReplayResult {
      if (!result) {
        const t = performance.now();
        result = new Replay(builder, rules).run();
        model.stats.analyzeMs += Math.round(performance.now() - t);
      }
      return result;
    },
    set(r: ReplayResult) {
      result = r;
    },
  });
  return model;
}

/** Parse one file into the builder; returns its line count. `parsed` is called after each chunk's lines are parsed. */
export async function parseSource(builder: TraceBuilder, src: InputSource, opts: OpenOptions, progress: (n: number) => void, parsed?: () => void): Promise<number> {
  const pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let reader: LineReader | null = null;
  let parser: ReturnType<TraceFormat['create']> | null = null;
  let rejected = false;
  let fileBytes = 0;

  const start = (): void => {
    const head = concat(pending, Math.min(pendingBytes, HEAD_BYTES));
    const headText = new TextDecoder('utf-8').decode(head);
    let format = opts.format ? formatByName(opts.format) : undefined;
    if (opts.format && !format) {
      builder.beginFile(src.path, 'unknown', 0);
      builder.error(1, `unknown format "${opts.format}": expected one of ${FORMATS.map((f) => f.name).join(', ')}`);
      rejected = true;
      return;
    }
    if (pendingBytes === 0) {
      builder.beginFile(src.path, 'empty', 0);
      builder.error(1, 'the file is empty: expected a trace');
      rejected = true;
      return;
    }
    if (looksBinary(head)) {
      builder.beginFile(src.path, 'binary', 0);
      builder.error(1, 'binary data, not a text trace: expected a Page Ledger trace, ftrace/trace-cmd/perf text, a page_owner dump, CRIU JSON or a layout listing');
      rejected = true;
      return;
    }
    format ??= detectFormat(headText);
    if (!format) {
      builder.beginFile(src.path, 'unknown', 0);
      builder.error(1, `unrecognized content: expected one of ${FORMATS.map((f) => f.description).join('; ')}`);
      rejected = true;
      return;
    }
    builder.beginFile(src.path, format.name, src.size ?? 0);
    const p = format.create({ builder, path: src.path });
    parser = p;
    reader = new LineReader((b, s, e, n) => p.line(b, s, e, n), {
      onLongLine: (n, len) => builder.error(n, `line of ${len} bytes skipped: longer than 65536 bytes, expected one record per line`),
    });
    for (const c of pending) reader.feed(c);
    pending.length = 0;
  };

  for await (const chunk of src.chunks()) {
    if (opts.isCancelled?.()) throw new CancelledError();
    fileBytes += chunk.length;
    progress(chunk.length);
    if (rejected) continue;
    if (reader) {
      (reader as LineReader).feed(chunk);
      parsed?.();
      continue;
    }
    // Kept past the next read: copied, since the source may reuse the chunk's buffer (a Node Buffer's
    // slice() would be a view, not a copy).
    pending.push(new Uint8Array(chunk));
    pendingBytes += chunk.length;
    if (pendingBytes >= HEAD_BYTES) start();
  }
  if (!reader && !rejected) start();
  const r = reader as LineReader | null;
  if (r) {
    r.end();
    (parser as unknown as ReturnType<TraceFormat['create']>).end(r.lines);
    builder.endFile(r.lines);
  }
  builder.files[builder.files.length - 1].bytes = fileBytes;
  return r ? r.lines : 0;
}

function concat(chunks: Uint8Array[], n: number): Uint8Array {
  const out = new Uint8Array(n);
  let off = 0;
  for (const c of chunks) {
    if (off >= n) break;
    const take = Math.min(c.length, n - off);
    out.set(c.subarray(0, take), off);
    off += take;
  }
  return out;
}

/** NUL bytes, or mostly non-text bytes, in the head: not a text trace. */
function looksBinary(head: Uint8Array): boolean {
  // gzip that reached us undecoded is binary too; text traces never hold NUL.
  let odd = 0;
  const n = Math.min(head.length, 8192);
  for (let i = 0; i < n; i++) {
    const c = head[i];
    if (c === 0) return true;
    if (c < 0x09 || (c > 0x0d && c < 0x20)) odd++;
  }
  return odd > n / 10;
}

// ---------------------------------------------------------------- summary (the JSON the CLI prints)

/** One owner in the summary. */
export interface OwnerSummary {
  id: number;
  kind: OwnerKind;
  pid?: number;
  tgid?: number;
  comm?: string;
  dev?: string;
  ino?: number;
  snap?: number;
  name?: string;
  livePages: number;
  peakPages: number;
}

/** An anomaly as printed: file by path, pfn as hex. */
export interface AnomalySummary {
  kind: Anomaly['kind'];
  severity: Anomaly['severity'];
  file: string;
  line: number;
  pfn: string | null;
  time: number | null;
  message: string;
  related: number[];
  relatedLocations: { file: string; line: number }[];
}

/** A snapshot as printed. */
export interface SnapshotSummary {
  id: number;
  name: string;
  source: string;
  pid?: number;
  comm?: string;
  time: number | null;
  file: string;
  line: number;
  pages: number;
  shared: number;
  cows: number;
  dropped: boolean;
}

/** The `analyze --json` object. */
export interface TraceSummary {
  format: string;
  files: { path: string; format: string; bytes: number; lines: number }[];
  counts: Record<string, number>;
  livePages: number;
  owners: OwnerSummary[];
  snapshots: SnapshotSummary[];
  layout: {
    nodes: { id: number; name?: string; pages?: number }[];
    /** `start` is absent for a region with no known physical address (daxctl JSON). */
    regions: { name: string; type: string; node: number; start?: string; pages: number; device?: string; reserved?: number; present?: number; managed?: number; onlineBlocks?: number; totalBlocks?: number; movable?: boolean }[];
    blocks: { id: number; start: string; pages: number; state: string; node?: number; zones?: string[] }[];
    /** Per-node placement snapshots of processes (numa_maps), in 4 KiB pages. */
    placements: { name: string; pid?: number; file: string; line: number; vmas: number; nodes: { node: number; pages: number }[]; anonPages: number; dirtyPages: number; mappedPages: number }[];
  };
  anomalies: AnomalySummary[];
  anomalyCounts: Record<string, number>;
  time: { start: number; end: number };
  stats: { bytes: number; lines: number; parseMs: number; analyzeMs: number; events: number; parseErrorsDropped: number };
}

/**
 * Ids of the owners that hold or held pages, most live pages first (then peak, then id): sorting ids
 * before building any object lets a caller take the top few (61 k owners of a 103 MB trace: 190 ms to
 * build and sort them all).
 */
export function rankedOwnerIds(m: TraceModel): number[] {
  const ids: number[] = [];
  for (let id = 1; id < m.builder.owners.size; id++) if (ownerHeldPages(m, id)) ids.push(id);
  ids.sort(ownerRank(m));
  return ids;
}

/** Whether owner `id` holds or held pages: the owners `rankedOwnerIds` lists. */
export function ownerHeldPages(m: TraceModel, id: number): boolean {
  return (m.result.ownerLive[id] ?? 0) !== 0 || (m.result.ownerPeak[id] ?? 0) !== 0;
}

/** The order of `rankedOwnerIds` as a comparator: most live pages first, then peak, then id. */
export function ownerRank(m: TraceModel): (a: number, c: number) => number {
  const live = m.result.ownerLive;
  const peak = m.result.ownerPeak;
  return (a, c) => (live[c] ?? 0) - (live[a] ?? 0) || (peak[c] ?? 0) - (peak[a] ?? 0) || a - c;
}

/**
 * The first k of `rankedOwnerIds(m)`, kept in order as the owners are read instead of sorting them all:
 * the worker's `open` digest wants 200 of the 74 k owners of a 103 MB trace.
 */
export function topOwnerIds(m: TraceModel, k: number): number[] {
  const rank = ownerRank(m);
  const top: number[] = [];
  if (k <= 0) return top;
  for (let id = 1; id < m.builder.owners.size; id++) {
    if (!ownerHeldPages(m, id)) continue;
    if (top.length === k && rank(id, top[k - 1]) >= 0) continue;
    let lo = 0;
    let hi = top.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (rank(top[mid], id) < 0) lo = mid + 1;
      else hi = mid;
    }
    top.splice(lo, 0, id);
    if (top.length > k) top.pop();
  }
  return top;
}

/** The owner with this id as printed. */
export function ownerSummary(m: TraceModel, id: number): OwnerSummary {
  // Object.assign, not a spread: owners come in many shapes and the spread cost 2-3 us an owner (35 k
  // owners of native-0.1: 100 ms against 40 ms, JSON text included). `get` makes a fresh object.
  return Object.assign(m.builder.owners.get(id), { livePages: m.result.ownerLive[id] ?? 0, peakPages: m.result.ownerPeak[id] ?? 0 });
}

/** The owners that hold or held pages, most live pages first (then peak, then id). */
export function ownerSummaries(m: TraceModel): OwnerSummary[] {
  return rankedOwnerIds(m).map((id) => ownerSummary(m, id));
}

/** The k-th snapshot of the model (in trace order) as printed. */
export function snapshotSummary(m: TraceModel, k: number): SnapshotSummary {
  const { builder: b, result: r } = m;
  const s = b.snapshots.get(k);
  const st = r.snapshots.get(s.id);
  return {
    id: s.id,
    name: s.name,
    source: s.source,
    pid: s.pid,
    comm: s.comm,
    time: s.time === s.time ? s.time : null,
    file: b.files[s.file]?.path ?? '?',
    line: s.line,
    pages: st?.pages ?? 0,
    shared: st?.shared ?? 0,
    cows: st?.cows ?? 0,
    dropped: st?.dropped ?? false,
  };
}

/** The k-th anomaly of the model (in the order the analysis found them) as printed. */
export function anomalySummary(m: TraceModel, k: number): AnomalySummary {
  const b = m.builder;
  const path = (f: number): string => b.files[f]?.path ?? '?';
  const a = m.result.anomalies[k];
  return {
    kind: a.kind,
    severity: a.severity,
    file: path(a.file),
    line: a.line,
    pfn: a.pfn === a.pfn ? hex(a.pfn) : null,
    time: a.time === a.time ? a.time : null,
    message: a.message,
    related: a.related.map((l) => l.line),
    relatedLocations: a.related.map((l) => ({ file: path(l.file), line: l.line })),
  };
}

/** The memory layout of the model as printed. */
export function layoutSummary(m: TraceModel): TraceSummary['layout'] {
  const b = m.builder;
  const path = (f: number): string => b.files[f]?.path ?? '?';
  return {
    nodes: [...b.layout.nodes.values()].sort((x, y) => x.id - y.id).map((n) => ({ id: n.id, name: n.name, pages: n.pages })),
    regions: b.layout.regions.map((g) => ({ name: g.name, type: g.type, node: g.node, start: g.start === g.start ? hex(g.start) : undefined, pages: g.pages, device: g.device, reserved: g.reserved, present: g.present, managed: g.managed, onlineBlocks: g.onlineBlocks, totalBlocks: g.totalBlocks, movable: g.movable })),
    blocks: b.layout.blocks.map((k) => ({ id: k.id, start: hex(k.start), pages: k.pages, state: k.state, node: k.node, zones: k.zones })),
    placements: b.layout.placements.map((p) => ({
      name: p.name,
      pid: p.pid,
      file: path(p.file ?? 0),
      line: p.line ?? 0,
      vmas: p.vmas,
      nodes: [...p.pagesByNode].sort((x, y) => x[0] - y[0]).map(([node, pages]) => ({ node, pages })),
      anonPages: p.anonPages,
      dirtyPages: p.dirtyPages,
      mappedPages: p.mappedPages,
    })),
  };
}

/** Build the printed summary of a model. */
export function summarize(m: TraceModel): TraceSummary {
  return summaryShape(m, (n, item) => Array.from({ length: n }, (_, k) => item(k))) as TraceSummary;
}

/**
 * The text of `JSON.stringify(summarize(m), null, 2)` in pieces of about 64 K characters, with owners,
 * snapshots and anomalies made one at a time as they are written: the CLI prints a 10 M-event trace's
 * summary (430 k owners, 150 k snapshots) without holding it as objects or as one string.
 */
export function summaryJson(m: TraceModel): Generator<string> {
  return jsonPieces(summaryShape(m, (n, item) => new LazyList(n, item)), 2);
}

/** The summary's fields in their printed order, its long lists made by `list` (arrays, or lists made as written). */
function summaryShape(m: TraceModel, list: (n: number, item: (k: number) => unknown) => unknown): Record<keyof TraceSummary, unknown> {
  const { builder: b, result: r } = m;
  const anomalyCounts: Record<string, number> = {};
  for (const a of r.anomalies) anomalyCounts[a.kind] = (anomalyCounts[a.kind] ?? 0) + 1;
  const owners = rankedOwnerIds(m);
  return {
    format: m.format,
    files: b.files.map((f) => ({ path: f.path, format: f.format, bytes: f.bytes, lines: f.lines })),
    counts: r.counts,
    livePages: r.livePages,
    owners: list(owners.length, (k) => ownerSummary(m, owners[k])),
    snapshots: list(b.snapshots.length, (k) => snapshotSummary(m, k)),
    layout: layoutSummary(m),
    anomalies: list(r.anomalies.length, (k) => anomalySummary(m, k)),
    anomalyCounts,
    time: { start: r.timeStart, end: r.timeEnd },
    stats: { ...m.stats, events: b.events.length, parseErrorsDropped: b.droppedErrors },
  };
}

export { RULES };
