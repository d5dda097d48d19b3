import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { OwnershipRecorder } from '../core/analysis/ownershipIndex';
import { Replay } from '../core/analysis/replay';
import { NATIVE_HEADER } from '../core/formats/native';
import { detectFormat, formatByName } from '../core/formats/registry';
import { TraceBuilder } from '../core/model/traceBuilder';
import { appendPart, type BuilderPart } from '../core/model/traceMerge';
import { fileChunks } from './fileChunks';
import { openTrace, parseSource, type InputSource, type OpenOptions, type TraceModel } from '../core/trace';

/** What the main thread asks a parse worker to do. */
export interface PartRequest {
  path: string;
  /** Byte range [start, end) of the file, starting at a line start. */
  start: number;
  end: number;
  format: string;
  /** Lines fed to the parser before the range, as line 0 (header state, e.g. the native header). */
  prime: Uint8Array[];
}

/** A parse worker's answer. */
export type PartReply = { ok: true; part: BuilderPart } | { ok: false; message: string };

/** Options for parallel opening. */
export interface ParallelOptions extends OpenOptions {
  /** The bundled worker (default: parseWorker.js next to this bundle). */
  workerScript?: string;
  /** Files smaller than this are read on one thread (default 64 MiB: below it the worker's start-up and the merge eat the gain). */
  minBytes?: number;
  /** Split at the first line start at or after this byte (default: the middle); tests pick awkward places. */
  splitAt?: number;
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

/**
 * Open one trace file on two threads when it is big and its format is line-local: the main thread
 * parses the first half while a worker parses the second (line-aligned), then the worker's columns are
 * transferred and appended in order. Anything else (several files, gzip, a small file, page_owner's
 * multi-line records, a snapshot log, a failed worker) is read by `openTrace` on one thread. The model
 * is the same either way (test/perf/parallelParse.test.ts).
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
  if (size < (opts.minBytes ?? 64 * 2 ** 20)) return single('small file');
  const script = opts.workerScript ?? defaultWorkerScript();
  if (!existsSync(script)) return single(`no worker bundle at ${script}`);
  const head = readRange(path, 0, Math.min(size, HEAD));
  if (head[0] === 0x1f && head[1] === 0x8b) return single('gzip');
  const headText = new TextDecoder('utf-8').decode(head);
  const format = opts.format ? formatByName(opts.format) : detectFormat(headText);
  if (!format) return single('format not detected');
  const prime = primeLines(format.name, headText);
  if (!prime) return single(`${format.name} is not line-local`);
  const split = lineStartAfter(path, Math.max(1, Math.min(size - 1, opts.splitAt ?? Math.floor(size / 2))), size);
  if (split <= 0 || split >= size) return single('no line break to split at');

  const t0 = performance.now();
  const worker = new Worker(script, { workerData: { path, start: split, end: size, format: format.name, prime } satisfies PartRequest });
  const reply = new Promise<PartReply>((resolve) => {
    worker.once('message', (m: PartReply) => resolve(m));
    worker.once('error', (e) => resolve({ ok: false, message: e.message }));
    worker.once('exit', (code) => resolve({ ok: false, message: `worker exited with ${code}` }));
  });
  const builder = new TraceBuilder();
  const head0: InputSource = { path, size: split, chunks: () => fileChunks(path, 0, split) };
  let linesA: number;
  try {
    linesA = await parseSource(builder, head0, { ...opts, format: format.name }, (n) => opts.onProgress?.(n, size));
  } catch (e) {
    await worker.terminate();
    throw e;
  }
  const r = await reply;
  void worker.terminate();
  if (!r.ok) return single(`worker failed: ${r.message}`);
  if (r.part.hasLayout) return single('layout lines after the split');
  appendPart(builder, r.part, linesA);
  builder.endFile(linesA + r.part.lines);
  builder.files[0].bytes = size;
  opts.onProgress?.(size, size);
  const t1 = performance.now();
  const recording = opts.recordOwnership ? new OwnershipRecorder(builder.events.length) : undefined;
  const result = new Replay(builder, opts.rules, recording).run();
  const t2 = performance.now();
  return {
    model: { builder, result, format: format.name, stats: { bytes: size, lines: linesA + r.part.lines, parseMs: Math.round(t1 - t0), analyzeMs: Math.round(t2 - t1) }, ...(recording ? { ownershipRecording: recording } : {}) },
    threads: 2,
  };
}

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
