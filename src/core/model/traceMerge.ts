import { EventStore, type EventStoreData } from './eventStore';
import type { Owner } from './owners';
import type { ParseError, SnapshotInfo, TraceBuilder } from './traceBuilder';

/**
 * What parsing one byte range of a file left in a TraceBuilder, as plain data: it crosses from a worker
 * thread with its column chunks transferred (no copy), then `appendPart` merges it in file order.
 */
export interface BuilderPart {
  events: EventStoreData;
  owners: Owner[];
  snapshots: SnapshotInfo[];
  errors: ParseError[];
  droppedErrors: number;
  counters: [string, number][];
  /** Whether the part declared any layout (nodes, regions, blocks, placements): merging layout is not supported. */
  hasLayout: boolean;
  /** Lines in the part. */
  lines: number;
}

/** The part a builder holds for one byte range (its only file). */
export function builderPart(b: TraceBuilder, lines: number): BuilderPart {
  return {
    events: b.events.exportData(),
    owners: b.owners.list,
    snapshots: b.snapshots,
    errors: b.errors,
    droppedErrors: b.droppedErrors,
    counters: [...b.counters],
    hasLayout: !b.layout.empty,
    lines,
  };
}

/** Every ArrayBuffer a part holds, for a worker's transfer list. */
export function partBuffers(p: BuilderPart): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const c of p.events.kind) out.push(c.buffer as ArrayBuffer);
  for (const c of p.events.order) out.push(c.buffer as ArrayBuffer);
  for (const chunks of Object.values(p.events.columns)) {
    for (const ch of chunks) {
      if (ch.data) out.push(ch.data.buffer as ArrayBuffer);
      if (ch.ex) out.push(ch.ex.buffer as ArrayBuffer);
    }
  }
  return out;
}

/**
 * Append a part parsed from the bytes after what `target` has read of its current file, as if one
 * parser had read on: owners are re-interned in the part's first-sighting order (so ids come out as a
 * single pass makes them), a snapshot id the target already has is not added twice, and lines are
 * shifted by `lineOffset`, the number of lines before the part.
 */
export function appendPart(target: TraceBuilder, part: BuilderPart, lineOffset: number): void {
  const owners = target.owners;
  const map = new Int32Array(part.owners.length);
  for (const o of part.owners) {
    switch (o.kind) {
      case 'free':
        map[o.id] = 0;
        break;
      case 'kernel':
        map[o.id] = owners.kernel();
        break;
      case 'process':
        map[o.id] = owners.process(o.pid!, o.comm, o.tgid);
        break;
      case 'file':
        map[o.id] = owners.file(o.dev!, o.ino!);
        break;
      case 'snapshot':
        map[o.id] = owners.snapshot(o.snap!, o.pid);
        break;
      case 'agent':
        map[o.id] = owners.agent(o.name!);
        break;
    }
  }
  // A fault's ref is the agent that serviced it, an owner id too: appendStore maps it with the owners.
  target.events.appendStore(EventStore.fromData(part.events), target.currentFile, lineOffset, map);
  for (const s of part.snapshots) {
    if (target.snapshot(s.id)) continue;
    const { file: _file, ...rest } = s;
    target.addSnapshot({ ...rest, line: s.line + lineOffset });
  }
  for (const err of part.errors) target.error(err.line + lineOffset, err.message);
  target.droppedErrors += part.droppedErrors;
  for (const [name, v] of part.counters) target.count(name, v);
}
