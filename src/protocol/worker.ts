/**
 * Messages between the extension host and the analysis worker (worker_threads). Types only. The host
 * calls methods by name with a callId; the worker answers each call with a `result` or an `error` carrying
 * the same callId, and sends `progress` while a trace loads. Traces are named by a host-chosen traceId.
 */

import type { AnomalyKind, RuleConfig } from '../core/analysis/anomalies';
import type { OwnerKind } from '../core/model/owners';
import type { AnomalySummary, OwnerSummary, SnapshotSummary, TraceSummary } from '../core/trace';
import type { DiffReply, DiffRequest, DiffViewInit } from './diffData';
import type { PartialView, ViewInit, ViewReply, ViewRequest } from './viewData';

/** One span of time during which a page had one owner (or was free). */
export interface OwnershipSpan {
  /** Owner label (`pid 12 (bash)`, `kernel`, `free`...). */
  owner: string;
  /** Owner kind, for colours; `free` when nobody held the page. */
  ownerKind: string;
  /** Trace time (ns) of the event that started the span; null when the event had no time. */
  from: number | null;
  /** Trace time (ns) of the event that ended it; null while it lasts to the end of the trace. */
  to: number | null;
  /** Where the span started. */
  file: number;
  line: number;
  /** What started it (`alloc`, `free`, `cow`, ...). */
  cause: string;
}

/** A page's ownership over the whole trace, plus the lines that touched it. */
export interface PageHistory {
  pfn: number;
  spans: OwnershipSpan[];
  /** Every event touching the page, in time order (capped; see `truncated`). */
  touches: { kind: string; time: number | null; file: number; line: number }[];
  /** True when more events touched it than were kept. */
  truncated: boolean;
}

/** Which snapshot of which loaded trace. */
export interface SnapshotRef {
  traceId: string;
  snapshot: number;
}

/** A loaded trace's ownership at a time (ns; Infinity for the end), optionally one pid's pages only. */
export interface TimeRef {
  traceId: string;
  time: number;
  pid?: number;
}

/** One side of a diff: a snapshot, or ownership at a time. */
export type DiffSideRef = SnapshotRef | TimeRef;

/**
 * Two sides to compare. The worker keeps the diff of a pair (a few recent pairs) and computes it again
 * when a trace was reloaded, so the host names a diff by its sides and never holds its data.
 */
export interface DiffPair {
  a: DiffSideRef;
  b: DiffSideRef;
}

/** A window of a file's lines (for the read-only excerpt of a file too large for the text editor). */
export interface LineExcerpt {
  /** 1-based number of lines[0]. */
  firstLine: number;
  lines: string[];
  /** Lines the file has, when the scan reached the end; null when it stopped earlier. */
  totalLines: number | null;
}

/**
 * What `open` answers: the summary without its three long lists, which it replaces by their heads and
 * totals (the full lists were 11.3 MB of JSON for a 103 MB trace, cloned before anything showed as
 * loaded). The rest comes page by page from `owners`, `snapshots` and `anomalies`.
 */
export interface TraceDigest extends Omit<TraceSummary, 'owners' | 'snapshots' | 'anomalies'> {
  /** The owners with the most live pages (then peak): the head of `owners`. */
  topOwners: OwnerSummary[];
  /** How many owners hold or held pages, in all and per kind. */
  ownerCount: number;
  ownerKindCounts: Partial<Record<OwnerKind, number>>;
  /** The first snapshots in trace order. */
  firstSnapshots: SnapshotSummary[];
  snapshotCount: number;
  /** Snapshots not dropped by the end of the trace. */
  liveSnapshotCount: number;
  /** The first anomalies, in the order Next Anomaly walks them. */
  firstAnomalies: AnomalySummary[];
  anomalyCount: number;
}

/** One page of a long list: the items from `offset`, their positions in the whole list, and how many matched. */
export interface ListPage<T> {
  items: T[];
  /** Position of each item in the unfiltered list (a stable id across filters). */
  indices: number[];
  /** Items matching the query, over all pages. */
  total: number;
}

/** Which items of a list, and which page of them. Text filters match labels, names and messages. */
export interface ListQuery {
  traceId: string;
  filter?: string;
  offset: number;
  limit: number;
}

/**
 * How an open shows the part read so far: series `samples` wide, the first when a view asks
 * (WantPartialMessage) or after `firstMs` of reading, then every `everyMs` (defaults:
 * src/extension/logic/partialViews.ts).
 */
export interface PartialTiming {
  samples: number;
  firstMs?: number;
  everyMs?: number;
}

/** Every method the worker answers: its parameters and its result. */
export interface WorkerMethods {
  /**
   * Read files from disk as one timeline and keep the model under traceId; `threads` 2 lets a second thread
   * parse a big file. With `partial`, `partial` messages show the part read so far while it is read (one
   * file of a format in time order).
   */
  open: { params: { traceId: string; paths: string[]; rules: RuleConfig; format?: string; cacheDir?: string; threads?: 1 | 2; partial?: PartialTiming }; result: TraceDigest };
  /** A page of the owners, most live pages first (the tree). */
  owners: { params: ListQuery & { kind?: OwnerKind }; result: ListPage<OwnerSummary> };
  /** A page of the snapshots in trace order (the tree, CodeLens per file, compare). */
  snapshots: { params: ListQuery & { file?: string; id?: number }; result: ListPage<SnapshotSummary> };
  /** A page of the anomalies (the tree, Problems per file, hovers per line). */
  anomalies: { params: ListQuery & { kind?: AnomalyKind; file?: string; line?: number }; result: ListPage<AnomalySummary> };
  /** The anomaly after (1) or before (-1) a location (null: from either end), wrapping; null when there is none. */
  stepAnomaly: { params: { traceId: string; from: { file: string; line: number } | null; direction: 1 | -1 }; result: { index: number; total: number; anomaly: AnomalySummary } | null };
  /** Forget a trace. */
  close: { params: { traceId: string }; result: null };
  /** Write now every index the worker put off until it was idle (the extension is shutting down). */
  flushIndexes: { params: Record<string, never>; result: null };
  /** The ownership history of one page frame. */
  pageHistory: { params: { traceId: string; pfn: number; maxTouches: number }; result: PageHistory };
  /** The ownership webview's first-paint data. */
  viewInit: { params: { traceId: string }; result: ViewInit };
  /** A webview data request, answered by the core. */
  view: { params: { traceId: string; request: ViewRequest }; result: ViewReply };
  /** Compare two sides page by page: the diff webview's first-paint summary. */
  diffInit: { params: DiffPair & { title: string }; result: DiffViewInit };
  /** A diff webview request, answered by the core from the kept diff. */
  diffRequest: { params: DiffPair & { request: DiffRequest }; result: DiffReply };
  /** One side of a diff as canonical text, aligned with the other side's (for VS Code's diff editor). */
  diffText: { params: DiffPair & { side: 'a' | 'b' }; result: string };
  /** Lines [line - before, line + after] of a file on disk. */
  excerpt: { params: { path: string; line: number; before: number; after: number }; result: LineExcerpt };
  /** The trace time at a line of one of the trace's files (for the webview's cursor), null when untimed. */
  timeAtLine: { params: { traceId: string; path: string; line: number }; result: { time: number; file: number; line: number } | null };
  /** Write a seed-scenario trace to `path` (the walkthrough's sample). */
  synth: { params: { scenario: string; seed: number; events: number; path: string }; result: { events: number; lines: number; anomalies: number } };
}

/** Name of a worker method. */
export type WorkerMethod = keyof WorkerMethods;

/** Host → worker: call a method. */
export type CallMessage<M extends WorkerMethod = WorkerMethod> = {
  [K in M]: { type: 'call'; callId: number; method: K; params: WorkerMethods[K]['params'] };
}[M];

/** Host → worker: stop loading this trace (the pending `open` fails with `cancelled`). */
export interface CancelMessage {
  type: 'cancel';
  traceId: string;
}

/** Host → worker: a view of this trace is ready to draw the part read so far (`open`'s partial): send one at the next chunk. */
export interface WantPartialMessage {
  type: 'wantPartial';
  traceId: string;
}

/** Everything the host sends the worker. */
export type HostToWorker = CallMessage | CancelMessage | WantPartialMessage;

/** Worker → host: a call succeeded. */
export interface ResultMessage<M extends WorkerMethod = WorkerMethod> {
  type: 'result';
  callId: number;
  result: WorkerMethods[M]['result'];
}

/** Worker → host: a call failed; `cancelled` when it stopped because the host asked. */
export interface ErrorMessage {
  type: 'error';
  callId: number;
  message: string;
  cancelled: boolean;
}

/** Worker → host: bytes read so far while opening a trace. */
export interface ProgressMessage {
  type: 'progress';
  traceId: string;
  bytesRead: number;
  bytesTotal: number;
}

/** Worker → host: the view of the part of a trace read so far (`open`'s partialSamples); null withdraws the last one. */
export interface PartialMessage {
  type: 'partial';
  traceId: string;
  view: PartialView | null;
}

/** Worker → host: something for the extension's log (e.g. the persisted index could not be written). */
export interface LogMessage {
  type: 'log';
  message: string;
}

/** Everything the worker sends the host. */
export type WorkerToHost = ResultMessage | ErrorMessage | ProgressMessage | PartialMessage | LogMessage;
