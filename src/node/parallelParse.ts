import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { OwnershipRecorder } from '../core/analysis/ownershipIndex';
import { Replay, type ReplayResult } from '../core/analysis/replay';
import { NATIVE_HEADER } from '../core/formats/native';
import { detectFormat, formatByName } from '../core/formats/registry';
import { TraceBuilder } from '../core/model/traceBuilder';
import { PartAppender, type StreamPart } from '../core/model/partStream';
import { CancelledError, openTrace, type InputSource, type OpenOptions, type TraceModel } from '../core/trace';

/** What the main thread asks a parse worker to do. */
export interface PartRequest {
  path: string;
  /** Byte range [start, end) of the file, starting at a line start. */
  start: number;
  end: number;
  format: string;
  /** Lines fed to the parser before the range, as line 0 (header state, e.g. the native header). */
  prime: Uint8Array[];
  /** Send a part whenever this many events are parsed. */
  partEvents: number;
}

/** A parse worker's messages: parts in order, the last with `end` set; or why it failed. */
export type PartMessage = { ok: true; part: StreamPart } | { ok: false; message: string };

/** Options for parallel opening. */
export interface ParallelOptions extends OpenOptions {
  /** The bundled worker (default: parseWorker.js next to this bundle). */
  workerScript?: string;
  /** Files smaller than this are read on one thread (default 16 MiB: below it the worker's start-up eats the gain). */
  minBytes?: number;
  /**
   * Parse workers: 1 (default) parses the whole file while the main thread analyses what it sent; 2
   * split the file in two line-aligned halves, the main thread analysing the first half's parts as they
   * come and the second's after them.
   */
  parseWorkers?: 1 | 2;
  /** With two parse workers, split at the first line start at or after this byte (default: the middle). */
  splitAt?: number;
  /** Events per part a worker sends (default 131072). */
  partEvents?: number;
}

/** An opened trace and how many threads parsed it (with why it was one, when it was). */
export interface ParallelResult {
  model: TraceModel;
  threads: number;
  why?: string;
}

const HEAD = 64 * 1024;

/** Default worker bundle: dist/parseWorker.js beside dist/cli.js and dist/worker.js. */
export function defaultWorkerScript(): string {
  return typeof __dirname === 'string' ? join(__dirname, 'parseWorker.js') : 'parseWorker.js';
}

/** A parse worker's parts, one at a time and in order. */
class PartQueue {
  private readonly parts: PartMessage[] = [];
  private wake: (() => void) | null = null;
  private failed: string | null = null;
  private done = false;
  readonly worker: Worker;

  constructor(script: string, req: PartRequest) {
    this.worker = new Worker(script, { workerData: req });
    this.worker.on('message', (m: PartMessage) => {
      this.parts.push(m);
      if (m.ok && m.part.end) this.done = true;
      this.wake?.();
    });
    this.worker.once('error', (e) => this.fail(e.message));
    this.worker.once('exit', (code) => {
      if (!this.done) this.fail(`worker exited with ${code}`);
    });
  }

  private fail(message: string): void {
    this.failed ??= message;
    this.wake?.();
  }

  /** The next part; throws when the worker failed before sending it. */
  async next(): Promise<StreamPart> {
    for (;;) {
      const m = this.parts.shift();
      if (m) {
        if (!m.ok) throw new WorkerFailed(m.message);
        return m.part;
      }
      if (this.failed !== null) throw new WorkerFailed(this.failed);
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
  }
}

class WorkerFailed extends Error {}

/**
 * Open one trace file with its parsing on worker threads while the main thread analyses: each worker
 * parses a line-aligned byte range and sends what it parsed every `partEvents` events (the columns
 * transferred, not copied); the main thread appends each part in file order and advances the ownership
 * replay over it at once, so parsing and the analysis overlap. Anything else (several files, gzip, a
 * small file, page_owner's multi-line records, a snapshot log, a failed worker) is read by `openTrace`
 * on one thread. The model is the one a single thread makes (test/perf/parallelParse.test.ts). When the
 * events turn out not to be in time order, or layout lines come after events, the replay runs again
 * over the whole trace in time order at the end, as on one thread.
 */
export async function openTraceParallel(sources: InputSource[], opts: ParallelOptions = {}): Promise<ParallelResult> {
  const single = async (why: string): Promise<ParallelResult> => ({ model: await openTrace(sources, opts), threads: 1, why });
  if (sources.length !== 1) return single('several files');
  const path = sources[0].path;
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) return single('not a regular file');
    size = st.size;
  } catch {
    return single('not a file on disk');
  }
  if (size < (opts.minBytes ?? 16 * 2 ** 20)) return single('small file');
  const script = opts.workerScript ?? defaultWorkerScript();
  if (!existsSync(script)) return single(`no worker bundle at ${script}`);
  const head = readRange(path, 0, Math.min(size, HEAD));
  if (head[0] === 0x1f && head[1] === 0x8b) return single('gzip');
  const headText = new TextDecoder('utf-8').decode(head);
  const format = opts.format ? formatByName(opts.format) : detectFormat(headText);
  if (!format) return single('format not detected');
  const prime = primeLines(format.name, headText);
  if (!prime) return single(`${format.name} is not line-local`);
  const ranges: [number, number][] = [[0, size]];
  if ((opts.parseWorkers ?? 1) === 2) {
    const split = lineStartAfter(path, Math.max(1, Math.min(size - 1, opts.splitAt ?? Math.floor(size / 2))), size);
    if (split > 0 && split < size) ranges.splice(0, 1, [0, split], [split, size]);
  }

  const t0 = performance.now();
  const partEvents = opts.partEvents ?? 131072;
  const queues = ranges.map(([start, end], k) => new PartQueue(script, { path, start, end, format: format.name, prime: k === 0 ? [] : prime, partEvents }));
  const stopAll = (): void => {
    for (const q of queues) void q.worker.terminate();
  };
  const builder = new TraceBuilder();
  builder.beginFile(path, format.name, size);
  let recording = opts.recordOwnership ? new OwnershipRecorder(0) : undefined;
  let replay: Replay | null = null;
  // The replay advances while every event so far is in time order and the layout it read is complete.
  let streaming = true;
  let patched = false;
  let lines = 0;
  let done = 0;
  try {
    for (let k = 0; k < queues.length; k++) {
      const app = new PartAppender(builder, lines);
      let read = 0;
      for (;;) {
        const part = await queues[k].next();
        if (opts.isCancelled?.()) throw new CancelledError();
        // A second range that declares layout would have needed it while parsing the first: one thread.
        if (k > 0 && part.layout) {
          stopAll();
          return single('layout lines after the split');
        }
        const effect = app.append(part);
        if (effect.layout && replay) streaming = false;
        if (effect.patched) patched = true;
        if (streaming && !builder.events.sorted) streaming = false;
        if (streaming) {
          replay ??= new Replay(builder, opts.rules, recording);
          replay.advance(builder.events.length);
        }
        done += part.bytes - read;
        read = part.bytes;
        opts.onProgress?.(done, size);
        if (part.end) {
          lines += part.end.lines;
          break;
        }
      }
    }
  } catch (e) {
    stopAll();
    if (e instanceof WorkerFailed) return single(`worker failed: ${e.message}`);
    throw e;
  }
  stopAll();
  builder.endFile(lines);
  builder.files[0].bytes = size;
  const t1 = performance.now();
  let result: ReplayResult | null = null;
  if (streaming) {
    result = (replay ?? new Replay(builder, opts.rules, recording)).finish();
    // A label that changed after the replay quoted it (a comm learnt late) would differ from one pass.
    if (patched && result.anomalies.some((a) => OWNER_TEXT_KINDS.has(a.kind))) result = null;
  }
  if (!result) {
    recording = opts.recordOwnership ? new OwnershipRecorder(builder.events.length) : undefined;
    result = new Replay(builder, opts.rules, recording).run();
  }
  recording?.seal();
  const t2 = performance.now();
  return {
    model: { builder, result, format: format.name, stats: { bytes: size, lines, parseMs: Math.round(t1 - t0), analyzeMs: Math.round(t2 - t1) }, ...(recording ? { ownershipRecording: recording } : {}) },
    threads: queues.length + 1,
  };
}

/** Rules whose messages quote an owner's label (with its comm). */
const OWNER_TEXT_KINDS: ReadonlySet<string> = new Set(['owner-conflict', 'use-after-free']);

/**
 * Lines a second parser must see before its range to be in the state the first leaves it in, or null
 * when the format carries state from line to line (then the file is read on one thread).
 */
export function primeLines(format: string, head: string): Uint8Array[] | null {
  switch (format) {
    case 'pageledger': {
      // The trace form needs only its header; the snapshot-log form groups page lines under a snapshot line.
      for (const raw of head.split('\n')) {
        const l = raw.replace(/\r$/, '');
        if (l.trim() === '' || l.trimStart().startsWith('#')) continue;
        return l.trim() === NATIVE_HEADER ? [new TextEncoder().encode(l)] : null;
      }
      return null;
    }
    case 'ftrace':
    case 'trace-cmd':
    case 'perf-script':
      return [];
    default:
      return null;
  }
}

function readRange(path: string, start: number, n: number): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const buf = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const k = readSync(fd, buf, got, n - got, start + got);
      if (k <= 0) break;
      got += k;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** The offset just after the first `\n` at or after `from` (size when there is none). */
function lineStartAfter(path: string, from: number, size: number): number {
  for (let at = from; at < size; at += HEAD) {
    const b = readRange(path, at, Math.min(HEAD, size - at));
    const nl = b.indexOf(0x0a);
    if (nl >= 0) return at + nl + 1;
  }
  return size;
}
