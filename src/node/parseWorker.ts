/**
 * Worker-thread entry (bundled as dist/parseWorker.js): parses one line-aligned byte range of a file (of
 * a multi-line format, one that starts at a record: TraceFormat.rangeSplit) with a given format and posts
 * what it parsed as it goes, in StreamParts of about `partEvents` events with their column chunks
 * transferred, so the main thread analyses while this thread still parses. The last part carries the
 * parser's own state when the format has any.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LineReader } from '../core/formats/lineReader';
import { formatByName } from '../core/formats/registry';
import { TraceBuilder } from '../core/model/traceBuilder';
import { PartCutter, streamPartBuffers, type StreamPart } from '../core/model/partStream';
import { fileChunks } from './fileChunks';
import type { PartMessage, PartRequest } from './parallelParse';

async function run(req: PartRequest, post: (m: PartMessage, transfer: ArrayBuffer[]) => void): Promise<void> {
  const format = formatByName(req.format);
  if (!format) throw new Error(`unknown format ${req.format}`);
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
  send(cutter.end(read, reader.lines, format.rangeSplit?.rangeState(b)));
}

const port = parentPort;
if (port) {
  run(workerData as PartRequest, (m, transfer) => port.postMessage(m, transfer)).catch((e: unknown) =>
    port.postMessage({ ok: false, message: e instanceof Error ? e.message : String(e) } satisfies PartMessage),
  );
}
