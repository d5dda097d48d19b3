import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { OwnershipRecorder } from '../core/analysis/ownershipIndex';
import { Replay, type ReplayResult } from '../core/analysis/replay';
import { recordedPrefix } from '../core/analysis/prefixReplay';
import { NATIVE_HEADER } from '../core/formats/native';
import { detectFormat, formatByName } from '../core/formats/registry';
import { TraceBuilder } from '../core/model/traceBuilder';
import { CHUNK, type EventStoreData } from '../core/model/eventStore';
import { eventBuffers, PartAppender, PartCutter, type StreamPart } from '../core/model/partStream';
import { LineReader } from '../core/formats/lineReader';
import type { LineParser, RangeSplit, TraceFormat } from '../core/formats/format';
import type { OwnerColumns } from '../core/model/owners';
import { fileChunks } from './fileChunks';
import { detachEarly, releaseBuffers } from './releaseBuffers';
import { CancelledError, openTrace, type InputSource, type OpenOptions, type TraceModel } from '../core/trace';

export { releaseBuffers };

/** What the main thread asks a parse worker to do. */
export interface PartRequest {
  path: string;
  /** Byte range [start, end) of the file, starting at a line start (a record start: TraceFormat.rangeSplit). */
  start: number;
  end: number;
  format: string;
  /** Lines fed to the parser before the range, as line 0 (header state, e.g. the native header). */
  prime: Uint8Array[];
  /** Send a part whenever this many events are parsed. */
  partEvents: number;
  /**
   * Keep the events of the last chunk when it is not full, and append the main thread's range to them
   * (TailRequest): set when the main thread parses the range right after this one.
   */
  holdTail?: boolean;
}

/**
 * A parse worker's messages: parts in order, the last with `end` set; after it, with `holdTail`, the
 * answers to TailRequests, whole chunks but the last (the last a `chunks` with `last` set after a flush,
 * or a `rest` after a rest request); or why it failed.
 */
export type PartMessage =
  | { ok: true; part: StreamPart }
  | { ok: true; chunks: EventStoreData; last: boolean }
  /** The end of the rest (TailRequest `rest`): its last events, and its owners, snapshots, errors and lines. */
  | { ok: true; rest: StreamPart }
  | { ok: false; message: string };

/**
 * The part of the main thread's range it did not parse, for the worker to parse after the events it
 * holds: the main thread stops when the worker is done with its own range.
 */
export interface RestRequest {
  /** Byte range [start, end) of the file; start is a line start. */
  start: number;
  end: number;
  /** Lines of the file before `start`. */
  lineOffset: number;
  /** Lines fed to the parser before the range, as line 0 (PartRequest.prime: the worker's own range had none). */
  prime: Uint8Array[];
  /** The main thread's owner table as it stands (every range before the rest): the rest's owners come after. */
  owners: OwnerColumns;
}

/** What the main thread asks of a worker that kept its last partial chunk (PartRequest.holdTail). */
export type TailRequest =
  /**
   * Append these events (of the range right after the worker's) with their owner ids mapped through
   * `owners` and their lines shifted by `lineOffset`, and send back the chunks that are full.
   */
  | { events: EventStoreData; owners: Int32Array; lineOffset: number }
  /** Send back every event still held. */
  | { flush: true }
  /** Parse the rest of the main thread's range after the events held, sending whole chunks as they fill, then a `rest` message. */
  | { rest: RestRequest };

/**
 * Event chunks (of 65536 events) in a part of the main thread's own range as it is copied after the
 * workers'. page_owner-1 (1.25 M events in that range): copied whole, the range's 19 MB of columns stayed
 * beside their copy until a full collection that came only during the replay: 175-177 MB peak RSS on two
 * threads; copied in parts of 4 chunks, each part's columns released before the next, 157-164 MB (parts
 * of 1 chunk: 157-163 MB).
 */
const LOCAL_PART_CHUNKS = 4;

/**
 * Event chunks in the first part of the main thread's own range sent to the worker (tailThroughWorker):
 * the main thread has nothing to replay until the worker sends back the first chunks it copied, unless
 * parts of the worker's range were left for later. kmem-1, two threads: the first answer came 50-68 ms
 * after a first part of LOCAL_PART_CHUNKS chunks, with the main thread idle.
 */
const TAIL_FIRST_CHUNKS = 1;

/** A multi-line format is read on two threads from this size on (see openTraceParallel). */
export const MIN_RECORD_SPLIT_BYTES = 256 * 2 ** 20;

/** Options for parallel opening. */
export interface ParallelOptions extends OpenOptions {
  /** The bundled worker (default: parseWorker.js next to this bundle). */
  workerScript?: string;
  /**
   * Files smaller than this are read on one thread (default 16 MiB: below it the worker's start-up eats the
   * gain; 256 MiB for a multi-line format such as page_owner).
   */
  minBytes?: number;
  /**
   * Parse workers: 1 (default) parses the whole file while the main thread analyses what it sent; 2
   * split the file in two line-aligned halves, the main thread analysing the first half's parts as they
   * come and the second's after them.
   */
  parseWorkers?: 1 | 2;
  /**
   * With one parse worker, the share of the file (its end) the main thread parses itself while it
   * waits for parts (default: 0.45 from 256 MiB, else 0; 0 for the native trace form; 0.5 for a
   * multi-line format). ftrace kmem 1 GB (warm page cache, idle 2 cores): 5.2 s on one thread, 4.4 s
   * with the worker alone, 3.7 s with a quarter parsed here; once the replay read pages ahead (less
   * analysis for the main thread), 3.16-3.71 s (median 3.45 s) with a quarter and 3.03-3.31 s (median
   * 3.25 s) with 0.35, eight runs each, 0.3 and 0.4 in between, 0.45 slower. Since the worker parses
   * whatever the main thread has not when it is done with its own range, a larger share no longer risks
   * leaving the worker idle: 0.45 against 0.35, 17 interleaved pairs on kmem-1 at load 2-3, medians 2.32
   * against 2.41-2.44 s wall, 4.0-4.4 s CPU both. At 100 MB the main thread's own parse costs
   * more (its parser code compiled a second time, the copy of its events) than it saves. The native form
   * gains less (611 MB: 6.58 s with the worker alone, 6.30 s with a quarter here) and pays more memory
   * for it: its range's owner table, and its events held twice while they are copied after the worker's,
   * took the peak RSS of native-1.pltrace (10 M events) from 438-441 MB to 492-504 MB. A page_owner
   * dump's records are in pfn order, not time order, so its replay cannot run beside the parse: the main
   * thread parses half of the file.
   */
  mainShare?: number;
  /**
   * Split at the first line start (of a multi-line format: record start, TraceFormat.rangeSplit) at or
   * after this byte: between the two parse workers (default: the middle), or before the range the main
   * thread parses (default: `mainShare` from the end).
   */
  splitAt?: number;
  /**
   * Tests: of a line-local file, the main thread parses at most this many bytes of its range (default:
   * as much as it reaches before the worker is done with its own); the worker parses the rest.
   */
  handOverAfter?: number;
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
  /** The last part of the worker's range has come (it may wait behind others). */
  ended = false;
  readonly worker: Worker;

  constructor(script: string, req: PartRequest) {
    this.worker = new Worker(script, { workerData: req, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB } });
    this.worker.on('message', (m: PartMessage) => {
      this.parts.push(m);
      if (m.ok && 'part' in m && m.part.end) this.ended = true;
      // A worker that holds its tail is done after its last answer, not at the end of its range.
      if (m.ok && ('part' in m ? m.part.end && !req.holdTail : 'chunks' in m ? m.last : true)) this.done = true;
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

  /** Whether next() would answer at once. */
  ready(): boolean {
    return this.parts.length > 0 || this.failed !== null;
  }

  /** The next part; throws when the worker failed before sending it. */
  async next(): Promise<StreamPart> {
    const m = await this.nextMessage();
    if (!('part' in m)) throw new WorkerFailed('chunks sent before the end of the range');
    return m.part;
  }

  /** The next answer to a TailRequest; throws when the worker failed before sending it. */
  async nextChunks(): Promise<{ chunks: EventStoreData; last: boolean } | { rest: StreamPart }> {
    const m = await this.nextMessage();
    if ('part' in m) throw new WorkerFailed('a part sent after the end of the range');
    return m;
  }

  private async nextMessage(): Promise<Exclude<PartMessage, { ok: false }>> {
    for (;;) {
      const m = this.parts.shift();
      if (m) {
        if (!m.ok) throw new WorkerFailed(m.message);
        return m;
      }
      if (this.failed !== null) throw new WorkerFailed(this.failed);
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
  }
}

class WorkerFailed extends Error {}

/** The main thread's range declares layout, which the ranges before it would have needed: one thread. */
class LayoutAfterSplit extends Error {}

/**
 * Young generation of a parse worker, in MB. The worker's young objects (line strings, owner fields) die
 * within a part; Node's default lets its semi-spaces grow to 16 MB each. native-1.pltrace (611 MB, 10 M
 * events), two threads: peak RSS 468 MB with the default, 438-441 MB with 4 (CPU within noise).
 */
const WORKER_YOUNG_MB = 4;

/**
 * The last byte range of the file, parsed by the main thread itself a chunk at a time whenever no part
 * from the worker is waiting: the worker's parse is the longer half of the work (ftrace 1 GB: 3.7 s of
 * parse against 1.6 s of analysis), so the main thread would otherwise wait for parts half of the time.
 */
class LocalRange {
  private readonly b = new TraceBuilder();
  private readonly reader: LineReader;
  private readonly parser: LineParser;
  private readonly chunks: AsyncIterator<Uint8Array>;
  private readonly cutter: PartCutter;
  read = 0;
  finished = false;
  /** Read up to `readEnd` (before the range's end), the range waits for the worker to parse the rest (stop). */
  paused = false;

  /** Bytes [start, end) of the file, of which this thread reads [start, readEnd) at most. */
  constructor(
    path: string,
    private readonly start: number,
    private readonly end: number,
    private readonly format: TraceFormat,
    prime: Uint8Array[],
    private readonly readEnd = end,
  ) {
    this.b.beginFile(path, format.name, end - start);
    const p = (this.parser = format.create({ builder: this.b, path }));
    for (const l of prime) p.line(l, 0, l.length, 0);
    this.reader = new LineReader((bytes, s, e, n) => p.line(bytes, s, e, n), {
      onLongLine: (n, len) => this.b.error(n, `line of ${len} bytes skipped: longer than 65536 bytes, expected one record per line`),
    });
    this.chunks = fileChunks(path, start, readEnd)[Symbol.asyncIterator]();
    this.cutter = new PartCutter(this.b);
    this.paused = readEnd < end && readEnd <= start;
  }

  /** Whether step() would parse more. */
  get reading(): boolean {
    return !this.finished && !this.paused;
  }

  /** Parse the next chunk of the range (or finish it). */
  async step(): Promise<void> {
    const r = await this.chunks.next();
    if (r.done && this.readEnd < this.end) {
      this.paused = true;
      return;
    }
    if (r.done) {
      this.reader.end();
      this.parser.end(this.reader.lines);
      this.finished = true;
      return;
    }
    this.reader.feed(r.value);
    this.read += r.value.length;
  }

  /** Stop reading (the file is closed). */
  close(): void {
    void this.chunks.return?.();
  }

  /**
   * Everything the range gave (after it is finished or stopped), as parts of at most
   * LOCAL_PART_CHUNKS event chunks but the last: each is copied after the workers' ranges and its columns
   * released before the next (releaseBuffers), so the copies take the memory the range's own columns leave.
   * The first part has at most `firstChunks` chunks (the last part, the rest).
   */
  *parts(firstChunks = LOCAL_PART_CHUNKS): Generator<StreamPart> {
    let max = firstChunks;
    while (this.b.events.length >= (max + LOCAL_PART_CHUNKS) * CHUNK) {
      yield this.cutter.cut(this.read, false, max);
      max = LOCAL_PART_CHUNKS;
    }
    yield this.cutter.end(this.read, this.reader.lines, this.format.rangeSplit?.rangeState(this.b));
  }

  /**
   * Stop parsing where the range stands (at a chunk read, perhaps inside a line): what it parsed, as
   * parts() gives it, the last with the lines read, and where the rest begins (the start of the line
   * it was in), for the worker to parse.
   */
  stop(firstChunks = LOCAL_PART_CHUNKS): { parts: Generator<StreamPart>; restStart: number } {
    this.close();
    this.parser.end(this.reader.lines);
    this.finished = true;
    this.read -= this.reader.pending;
    return { parts: this.parts(firstChunks), restStart: this.start + this.read };
  }

}

/**
 * Open one trace file with its parsing on worker threads while the main thread analyses: each worker
 * parses a line-aligned byte range and sends what it parsed every `partEvents` events (the columns
 * transferred, not copied); the main thread appends each part in file order and advances the ownership
 * replay over it at once, so parsing and the analysis overlap. A format whose records span several
 * lines (page_owner) is cut at a record start past the middle (TraceFormat.rangeSplit): the worker parses
 * the first half, the main thread the second, and what each parser keeps beside its builder is merged
 * after each range. Anything else (several files, gzip, a small file, a multi-line file with no record
 * start past the middle, a snapshot log, a failed worker) is read by `openTrace` on one thread. The model
 * is the one a single thread makes (test/perf/parallelParse.test.ts). When the events turn out not to be
 * in time order, or layout lines come after events, the replay runs again over the whole trace in time
 * order at the end, as on one thread. The main thread's own range of a line-local format (after the
 * worker's) is copied after the worker's last chunk by the worker itself, so that the main thread takes
 * whole chunks and replays one part while the next is copied (PartRequest.holdTail); what the main
 * thread has not parsed of its range when the worker is done with its own, the worker parses.
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
  // A multi-line format is cut at a record start, each range read by a parser of its own from there.
  const linePrime = primeLines(format.name, headText);
  const recordSplit = linePrime ? undefined : format.rangeSplit;
  const prime = linePrime ?? (recordSplit ? [] : null);
  if (!prime) return single(`${format.name} is not line-local`);
  // A dump cut in two is replayed only after both halves are in, so the halves save only parse time:
  // page_owner 1 GB 6.2-6.3 s on one thread, 4.9-5.1 s on two; 100 MB 0.70-0.78 s against 0.70-0.81 s
  // for a third more CPU (idle 2 cores).
  if (recordSplit && size < (opts.minBytes ?? MIN_RECORD_SPLIT_BYTES)) return single(`${format.name} below ${MIN_RECORD_SPLIT_BYTES >> 20} MiB`);
  const ranges: [number, number][] = [[0, size]];
  let local: LocalRange | null = null;
  const splitNear = (at: number): number => {
    const from = Math.max(1, Math.min(size - 1, Math.floor(at)));
    return recordSplit ? recordStartAfter(path, from, size, recordSplit) : lineStartAfter(path, from, size);
  };
  const noRecordStart = (at: number): Promise<ParallelResult> =>
    single(`no ${format.name} record starts after a blank line within ${RECORD_SCAN >> 20} MiB from byte ${Math.floor(at)}`);
  if ((opts.parseWorkers ?? 1) === 2) {
    const at = opts.splitAt ?? size / 2;
    const split = splitNear(at);
    if (split > 0 && split < size) ranges.splice(0, 1, [0, split], [split, size]);
    else if (recordSplit) return noRecordStart(at);
  } else {
    const share = opts.mainShare ?? (recordSplit ? 0.5 : defaultMainShare(format.name, size));
    const at = opts.splitAt ?? size * (1 - share);
    const split = share > 0 ? splitNear(at) : size;
    if (split > 0 && split < size) {
      ranges[0] = [0, split];
      const readEnd = opts.handOverAfter === undefined || recordSplit ? size : Math.min(size, split + opts.handOverAfter);
      local = new LocalRange(path, split, size, format, prime, readEnd);
    } else if (recordSplit && share > 0) return noRecordStart(at);
  }

  const t0 = performance.now();
  const partEvents = opts.partEvents ?? 131072;
  // A line-local range of the main thread's own, after the worker's: the worker copies it after its last
  // chunk (see below). A multi-line format's range is merged with the parser's state (mergeRange) on
  // this thread instead.
  const holdTail = local !== null && !recordSplit && ranges.length === 1;
  // The main thread's range is transferred to the worker at the hand-over, with the replay running hot:
  // the replay and the parser are compiled knowing that buffers get detached (detachEarly). (A page_owner
  // range's copied parts are released only after its parse, before the replay begins.)
  if (holdTail) detachEarly();
  const queues = ranges.map(
    ([start, end], k) => new PartQueue(script, { path, start, end, format: format.name, prime: k === 0 ? [] : prime, partEvents, ...(holdTail ? { holdTail } : {}) }),
  );
  const stopWorkers = (): void => {
    for (const q of queues) void q.worker.terminate();
  };
  const stopAll = (): void => {
    stopWorkers();
    local?.close();
  };
  const builder = new TraceBuilder();
  builder.beginFile(path, format.name, size);
  let recording = opts.recordOwnership ? new OwnershipRecorder(0) : undefined;
  let replay: Replay | null = null;
  // The replay advances while every event so far is in time order and the layout it read is complete.
  let streaming = true;
  /** A prefix was shown (OpenOptions.onPrefix): an event back in time withdraws it. */
  let shown = false;
  /** The part read so far, for OpenOptions.onPrefix, while the replay streams (a format in time order). */
  const showPrefix = (): void => {
    const rec = recording;
    if (!opts.onPrefix || !rec || !format.timeOrdered) return;
    if (streaming) {
      shown = true;
      opts.onPrefix(recordedPrefix(builder, () => rec, done + (local?.read ?? 0), size));
    } else if (shown && !builder.events.sorted) {
      shown = false;
      opts.onPrefix(null);
    }
  };
  let patched = false;
  /** The last release of a copied part's buffers (see take). */
  let released: Promise<void> = Promise.resolve();
  let lines = 0;
  let done = 0;
  /**
   * Append a part of range k (its lines after `lines`, its events from `first` on) and replay it unless
   * `later`; false when the trace must be read on one thread.
   */
  const take = (part: StreamPart, k: number, app: PartAppender, first: number, later = false): boolean => {
    // A later range that declares layout would have needed it while parsing the ranges before: one thread.
    if (k > 0 && part.layout) return false;
    const effect = app.append(part);
    // A copied part's columns are dead now (the main thread's own range is always copied: its owner ids
    // and lines are its own), but as old objects they would wait for a full collection, which did not
    // come before the replay's page table grew (LOCAL_PART_CHUNKS). Freed at once instead.
    if (effect.copied) released = releaseBuffers(eventBuffers(part.events));
    if (recordSplit && part.end) recordSplit.mergeRange(builder, part.end.state, first);
    if (effect.layout && replay) streaming = false;
    if (effect.patched) patched = true;
    if (streaming && !builder.events.sorted) streaming = false;
    if (streaming && !later) {
      replay ??= new Replay(builder, opts.rules, recording);
      replay.advance(builder.events.length);
    }
    // A part taken for later is shown with the replay that catches up (tailThroughWorker).
    if (!later) showPrefix();
    return true;
  };
  const progress = (): void => opts.onProgress?.(done + (local?.read ?? 0), size);
  /**
   * The main thread's own range, after the worker's (holdTail), once the worker is done with its own:
   * the main thread stops parsing it there (at the end of the last chunk read, perhaps inside a line).
   * What it parsed goes on as before: its owners, snapshots and errors are appended here, its events
   * sent to the worker in parts of LOCAL_PART_CHUNKS chunks, which the worker copies after the last
   * chunk of its own range that was not full, sending back whole chunks, taken here as they are and
   * replayed while the worker copies the next part. The worker then parses the rest of the range into
   * the same event store, with a copy of this thread's owner table (so the owners it adds get the ids
   * one pass gives them) and the file's line numbers, sending whole chunks as they fill, and at its end
   * the rest's owners, snapshots and errors. Before, the main thread parsed its range to the end: in
   * about half of the runs of kmem-1 it had about 100 MB left when the worker was done, and the worker
   * waited.
   */
  const tailThroughWorker = async (range: LocalRange, q: PartQueue): Promise<void> => {
    // The worker holds events with its own owner ids only when the builder did not take its range as it came.
    if (!adopted) throw new WorkerFailed('owner ids of the first range are not the builder\'s');
    const app = new PartAppender(builder, lines);
    const lineOffset = lines;
    const send = (part: StreamPart): void => {
      if (part.layout) throw new LayoutAfterSplit();
      const effect = app.append(part, false);
      if (effect.patched) patched = true;
      const request: TailRequest = { events: part.events, owners: app.ownerMap(), lineOffset };
      q.worker.postMessage(request, eventBuffers(part.events));
    };
    const replayTo = (): void => {
      if (streaming && !builder.events.sorted) streaming = false;
      if (streaming) {
        replay ??= new Replay(builder, opts.rules, recording);
        replay.advance(builder.events.length);
      }
      showPrefix();
    };
    const stop = range.finished ? null : range.stop(TAIL_FIRST_CHUNKS);
    // Every part the range was cut into, so that the replay of each overlaps the worker's copy of the next.
    // (Its bytes are counted as read by the range.)
    for (const part of stop ? stop.parts : range.parts(TAIL_FIRST_CHUNKS)) {
      send(part);
      if (part.end) lines += part.end.lines;
    }
    let restApp: PartAppender | null = null;
    if (stop) {
      const rest: RestRequest = { start: stop.restStart, end: size, lineOffset: lines, prime, owners: builder.owners.columns() };
      q.worker.postMessage({ rest } satisfies TailRequest);
      restApp = new PartAppender(builder, 0);
      restApp.sameOwners(builder.owners.size, builder.owners.stringCount);
    } else q.worker.postMessage({ flush: true } satisfies TailRequest);
    // The worker's parts taken but not replayed yet (take's `later`), while the worker copies and parses.
    replayTo();
    for (;;) {
      const m = await q.nextChunks();
      if (opts.isCancelled?.()) throw new CancelledError();
      if ('rest' in m) {
        const part = m.rest;
        if (!restApp) throw new WorkerFailed('a rest sent after a flush');
        if (part.layout) throw new LayoutAfterSplit();
        // Owners first: the replay of the rest's events may name them.
        const effect = restApp.append(part, false);
        if (effect.patched) patched = true;
        // The rest's owner ids are the builder's when the worker's copy of the table grew as the builder's did.
        if (!restApp.adopts) throw new WorkerFailed('owner ids of the rest are not the builder\'s');
        if (!builder.events.adoptData(part.events)) throw new WorkerFailed('chunks off a chunk boundary');
        replayTo();
        lines += part.end?.lines ?? 0;
        done += part.bytes;
        break;
      }
      // Every answer but the last is whole chunks, and the one before it left the store on a chunk boundary.
      if (!builder.events.adoptData(m.chunks)) throw new WorkerFailed('chunks off a chunk boundary');
      replayTo();
      if (m.last) break;
    }
    progress();
  };
  /** Whether the worker's range was taken as it came (its owner ids the builder's). */
  let adopted = true;
  try {
    for (let k = 0; k < queues.length; k++) {
      const app = new PartAppender(builder, lines);
      const first = builder.events.length;
      let read = 0;
      for (;;) {
        // While the worker has nothing ready, the main thread parses its own range a chunk at a time.
        while (local && local.reading && !queues[k].ready()) {
          await local.step();
          if (opts.isCancelled?.()) throw new CancelledError();
        }
        const part = await queues[k].next();
        if (opts.isCancelled?.()) throw new CancelledError();
        // Once the worker is done with its range, the parts still waiting are taken without their replay,
        // so that the worker gets the main thread's range (tailThroughWorker) before the replay catches up:
        // at load 6.5 the main thread, behind, took the worker's last part 417 ms after it was sent.
        if (!take(part, k, app, first, holdTail && queues[k].ended)) {
          stopAll();
          return single('layout lines after the split');
        }
        done += part.bytes - read;
        read = part.bytes;
        progress();
        if (part.end) {
          lines += part.end.lines;
          adopted = app.adopts;
          break;
        }
      }
    }
    if (holdTail && local) {
      await tailThroughWorker(local, queues[0]);
      done += local.read;
      local = null;
    }
    // The workers have sent everything: their heaps go before the last range is copied and the replay ends.
    // (With holdTail the worker has copied the last range already.)
    await Promise.all(queues.map((q) => q.worker.terminate()));
    if (local) {
      while (!local.finished) {
        await local.step();
        if (opts.isCancelled?.()) throw new CancelledError();
      }
      const app = new PartAppender(builder, lines);
      const first = builder.events.length;
      for (const part of local.parts()) {
        if (!take(part, queues.length, app, first)) return single('layout lines after the split');
        // The part's columns, copied, are freed before the next part is copied (releaseBuffers).
        await released;
        if (part.end) {
          lines += part.end.lines;
          done += part.bytes;
        }
      }
      local = null;
      progress();
    }
  } catch (e) {
    stopAll();
    if (e instanceof WorkerFailed) return single(`worker failed: ${e.message}`);
    if (e instanceof LayoutAfterSplit) return single('layout lines after the split');
    throw e;
  }
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

/**
 * The share of a file the main thread parses itself by default (ParallelOptions.mainShare): 0.45 of a
 * line-local file from 256 MiB, none of a smaller one or of the native trace form (`pageledger`).
 */
export function defaultMainShare(format: string, size: number): number {
  return size >= 256 * 2 ** 20 && format !== 'pageledger' ? 0.45 : 0;
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

/** How far past the point asked for a record start of a multi-line format is looked for (records are about 400 bytes). */
const RECORD_SCAN = 2 ** 20;

/**
 * The offset of the first record start (RangeSplit.findStart) at or after `from`, looked for in windows of
 * HEAD bytes up to RECORD_SCAN bytes past `from`; size when there is none. Each window begins 4 KiB
 * before the point it searches from, so the line before a record start is in view.
 */
function recordStartAfter(path: string, from: number, size: number, split: RangeSplit): number {
  const back = 4096;
  let at = from;
  while (at < size && at - from < RECORD_SCAN) {
    const w0 = Math.max(0, at - back);
    const b = readRange(path, w0, Math.min(HEAD, size - w0));
    const k = split.findStart(b, at - w0);
    if (k >= 0) return w0 + k;
    const w1 = w0 + b.length;
    if (w1 >= size) break;
    // A line cut off by the window's end is looked at again in the next window.
    at = w1 - 256;
  }
  return size;
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
