/**
 * Worker-thread entry (bundled as dist/parseWorker.js): parses one line-aligned byte range of a file (of
 * a multi-line format, one that starts at a record: TraceFormat.rangeSplit) with a given format and posts
 * what it parsed as it goes, in StreamParts of about `partEvents` events with their column chunks
 * transferred, so the main thread analyses while this thread still parses. The last part carries the
 * parser's own state when the format has any. With `holdTail` the worker keeps its last partial chunk and
 * then appends the events the main thread sends it (TailRequest) after it, and parses the rest of the
 * main thread's range when asked.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LineReader } from '../core/formats/lineReader';
import { formatByName } from '../core/formats/registry';
import { CHUNK, EventStore } from '../core/model/eventStore';
import { OwnerTable } from '../core/model/owners';
import { TraceBuilder } from '../core/model/traceBuilder';
import { eventBuffers, PartCutter, streamPartBuffers, type StreamPart } from '../core/model/partStream';
import { fileChunks } from './fileChunks';
import { detachEarly, releaseBuffers } from './releaseBuffers';
import type { PartMessage, PartRequest, RestRequest, TailRequest } from './parallelParse';


async function run(
  req: PartRequest,
  post: (m: PartMessage, transfer: ArrayBuffer[]) => void,
  listen: (handle: (m: TailRequest) => void) => void,
): Promise<void> {
  const format = formatByName(req.format);
  if (!format) throw new Error(`unknown format ${req.format}`);
  // Every part is transferred: the parser is compiled knowing that buffers get detached (detachEarly).
  detachEarly();
  const b = new TraceBuilder();
  b.beginFile(req.path, format.name, req.end - req.start);
  const p = format.create({ builder: b, path: req.path });
  // Header state: the lines that set it up (e.g. the native header) are replayed as line 0, then dropped.
  for (const l of req.prime) p.line(l, 0, l.length, 0);
  const reader = new LineReader((bytes, s, e, n) => p.line(bytes, s, e, n), {
    onLongLine: (n, len) => b.error(n, `line of ${len} bytes skipped: longer than 65536 bytes, expected one record per line`),
  });
  const cutter = new PartCutter(b);
  const send = (part: StreamPart): void => post({ ok: true, part }, streamPartBuffers(part));
  let read = 0;
  for await (const chunk of fileChunks(req.path, req.start, req.end)) {
    reader.feed(chunk);
    read += chunk.length;
    if (b.events.length >= req.partEvents) send(cutter.cut(read));
  }
  reader.end();
  p.end(reader.lines);
  send(cutter.end(read, reader.lines, format.rangeSplit?.rangeState(b), req.holdTail));
  if (!req.holdTail) return;
  /**
   * The rest of the main thread's range, parsed on into the store that holds the copies of what the
   * main thread parsed (a builder of its own for owners, snapshots, errors and counters, its owner table
   * a copy of the main thread's): whole chunks are sent as they fill, the rest of it at the end.
   */
  const parseRest = async (r: RestRequest): Promise<void> => {
    const rb = new TraceBuilder();
    rb.beginFile(req.path, format.name, r.end - r.start);
    rb.useOwners(OwnerTable.fromColumns(r.owners));
    rb.useEvents(b.takeEvents());
    const rp = format.create({ builder: rb, path: req.path });
    for (const l of r.prime) rp.line(l, 0, l.length, 0);
    const rr = new LineReader((bytes, s, e, n) => rp.line(bytes, s, e, n), {
      onLongLine: (n, len) => rb.error(n, `line of ${len} bytes skipped: longer than 65536 bytes, expected one record per line`),
      startLine: r.lineOffset,
    });
    const rc = new PartCutter(rb);
    rc.ownersSent();
    let got = 0;
    for await (const chunk of fileChunks(req.path, r.start, r.end)) {
      rr.feed(chunk);
      got += chunk.length;
      // Whole chunks only: the main thread takes them as they are.
      if (rb.events.length - (rb.events.length & (CHUNK - 1)) >= req.partEvents) {
        const full = rb.events.takeFullChunks();
        post({ ok: true, chunks: full, last: false }, eventBuffers(full));
      }
    }
    rr.end();
    rp.end(rr.lines);
    const rest = rc.end(got, rr.lines);
    post({ ok: true, rest }, streamPartBuffers(rest));
  };
  // The main thread's range, appended here after this range's last partial chunk (a copy this thread
  // makes while the main thread replays what it got before), comes back as whole chunks the main
  // thread takes as they are (EventStore.adoptData).
  await new Promise<void>((resolve, reject) =>
    listen((m) => {
      try {
        if ('flush' in m) {
          const rest = b.takeEvents().exportData();
          post({ ok: true, chunks: rest, last: true }, eventBuffers(rest));
          resolve();
          return;
        }
        if ('rest' in m) {
          parseRest(m.rest).then(resolve, reject);
          return;
        }
        b.events.appendStore(EventStore.fromData(m.events), b.currentFile, m.lineOffset, m.owners);
        // The range's own columns are dead once copied: freed now rather than at a full collection.
        void releaseBuffers(eventBuffers(m.events));
        const full = b.events.takeFullChunks();
        post({ ok: true, chunks: full, last: false }, eventBuffers(full));
      } catch (e) {
        reject(e);
      }
    }),
  );
}

const port = parentPort;
if (port) {
  run(
    workerData as PartRequest,
    (m, transfer) => port.postMessage(m, transfer),
    (handle) => port.on('message', handle),
  ).then(
    () => port.removeAllListeners('message'),
    (e: unknown) => port.postMessage({ ok: false, message: e instanceof Error ? e.message : String(e) } satisfies PartMessage),
  );
}
