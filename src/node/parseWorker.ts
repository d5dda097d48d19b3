/**
 * Worker-thread entry (bundled as dist/parseWorker.js): parses one line-aligned byte range of a file
 * with a given format and posts the result back as a BuilderPart, its column chunks transferred.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LineReader } from '../core/formats/lineReader';
import { formatByName } from '../core/formats/registry';
import { TraceBuilder } from '../core/model/traceBuilder';
import { builderPart, partBuffers } from '../core/model/traceMerge';
import { fileChunks } from './fileChunks';
import type { PartRequest, PartReply } from './parallelParse';

async function run(req: PartRequest): Promise<PartReply> {
  const format = formatByName(req.format);
  if (!format) return { ok: false, message: `unknown format ${req.format}` };
  const b = new TraceBuilder();
  b.beginFile(req.path, format.name, req.end - req.start);
  const p = format.create({ builder: b, path: req.path });
  // Header state: the lines that set it up (e.g. the native header) are replayed as line 0, then dropped.
  for (const l of req.prime) p.line(l, 0, l.length, 0);
  const reader = new LineReader((bytes, s, e, n) => p.line(bytes, s, e, n), {
    onLongLine: (n, len) => b.error(n, `line of ${len} bytes skipped: longer than 65536 bytes, expected one record per line`),
  });
  for await (const chunk of fileChunks(req.path, req.start, req.end)) reader.feed(chunk);
  reader.end();
  p.end(reader.lines);
  return { ok: true, part: builderPart(b, reader.lines) };
}

const port = parentPort;
if (port) {
  run(workerData as PartRequest).then(
    (r) => port.postMessage(r, r.ok ? partBuffers(r.part) : []),
    (e: unknown) => port.postMessage({ ok: false, message: e instanceof Error ? e.message : String(e) } satisfies PartReply),
  );
}
