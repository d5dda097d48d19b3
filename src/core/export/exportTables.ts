import { EVENT_NAMES, EventKind, newEventRecord } from '../model/events';
import type { TraceModel } from '../trace';
import { ownershipIndexOf } from '../view/viewRequests';

/**
 * The four tables `pageledger export` writes (events, intervals, owners, anomalies), built as typed column
 * batches of at most `batchRows` rows straight from the model's columns: a 10-million-event trace is never
 * held as row objects, only one batch at a time. docs/export.md documents every column; the writers (CSV and
 * Parquet, src/node/export*.ts) only translate batches.
 */

/** Physical type of an exported column: 64- or 32-bit signed integers, UTF-8 text, or a flag. */
export type ExportType = 'INT64' | 'INT32' | 'UTF8' | 'BOOLEAN';

/** One column of an exported table. */
export interface ExportColumn {
  name: string;
  type: ExportType;
  /** Whether the column holds nulls (where the value does not apply or is unknown). */
  nullable: boolean;
}

/** The names of the exported tables, in the order they are written. */
export const EXPORT_TABLES = ['events', 'intervals', 'owners', 'anomalies'] as const;
/** One of EXPORT_TABLES. */
export type ExportTableName = (typeof EXPORT_TABLES)[number];

/** The values of one column over a batch: numbers (NaN = null) for the integer types, 0/1 for flags, strings or null for text. */
export type ColumnValues = { type: 'INT64' | 'INT32'; values: Float64Array } | { type: 'BOOLEAN'; values: Uint8Array } | { type: 'UTF8'; values: (string | null)[] };

/** Up to batchRows rows of one table, one entry per column in schema order. */
export interface ExportBatch {
  rows: number;
  columns: ColumnValues[];
}

/** Rows per batch by default: one Parquet row group, and about 15 MB of column arrays for the events table. */
export const DEFAULT_BATCH_ROWS = 128 * 1024;

const col = (name: string, type: ExportType, nullable = true): ExportColumn => ({ name, type, nullable });

/** Every table's columns, in the order they are written. */
export const EXPORT_SCHEMAS: Record<ExportTableName, readonly ExportColumn[]> = {
  events: [
    col('event_id', 'INT64', false),
    col('file', 'UTF8', false),
    col('line', 'INT32', false),
    col('time_ns', 'INT64'),
    col('kind', 'UTF8', false),
    col('pfn', 'INT64'),
    col('order', 'INT32'),
    col('pages', 'INT64'),
    col('owner_id', 'INT32'),
    col('pid', 'INT32'),
    col('node', 'INT32'),
    col('vaddr', 'INT64'),
    col('new_pfn', 'INT64'),
    col('snapshot_id', 'INT32'),
    col('child_pid', 'INT32'),
    col('block_id', 'INT32'),
    col('offset', 'INT64'),
    col('agent_id', 'INT32'),
  ],
  intervals: [
    col('pfn', 'INT64', false),
    col('owner_id', 'INT32', false),
    col('start_ns', 'INT64'),
    col('end_ns', 'INT64'),
    col('start_line', 'INT32', false),
    col('end_line', 'INT32'),
    col('shared', 'BOOLEAN', false),
    col('start_event_id', 'INT64', false),
    col('end_event_id', 'INT64'),
  ],
  owners: [
    col('owner_id', 'INT32', false),
    col('kind', 'UTF8', false),
    col('pid', 'INT32'),
    col('tgid', 'INT32'),
    col('comm', 'UTF8'),
    col('dev', 'UTF8'),
    col('ino', 'INT64'),
    col('snap', 'INT32'),
    col('name', 'UTF8'),
    col('live_pages', 'INT64', false),
    col('peak_pages', 'INT64', false),
  ],
  anomalies: [
    col('kind', 'UTF8', false),
    col('severity', 'UTF8', false),
    col('file', 'UTF8', false),
    col('line', 'INT32', false),
    col('pfn', 'INT64'),
    col('time_ns', 'INT64'),
    col('message', 'UTF8', false),
  ],
};

/** Empty column arrays for `rows` rows of a table. */
function allocate(table: ExportTableName, rows: number): ColumnValues[] {
  return EXPORT_SCHEMAS[table].map((c): ColumnValues => {
    if (c.type === 'UTF8') return { type: 'UTF8', values: new Array<string | null>(rows).fill(null) };
    if (c.type === 'BOOLEAN') return { type: 'BOOLEAN', values: new Uint8Array(rows) };
    return { type: c.type, values: new Float64Array(rows).fill(NaN) };
  });
}

const nums = (c: ColumnValues): Float64Array => c.values as Float64Array;
const strs = (c: ColumnValues): (string | null)[] => c.values as (string | null)[];

// What each event kind's fields mean (src/core/model/events.ts and the parsers): a bit per exported
// column that applies, so a field a kind leaves at its reset value (pfn 0, ref 0) exports as null, not 0.
const PFN = 1;
const ORDER = 2;
const VADDR = 4; // in arg
const VADDR2 = 8; // in arg2 (cow)
const NEW_PFN = 16; // in arg
const SNAP = 32; // in ref
const CHILD = 64; // in ref
const BLOCK = 128; // in ref
const OFFSET = 256; // in arg2
const AGENT = 512; // in ref

const FIELDS: Partial<Record<EventKind, number>> = {
  [EventKind.Alloc]: PFN | ORDER,
  [EventKind.Free]: PFN | ORDER,
  [EventKind.AllocFailed]: ORDER,
  [EventKind.Map]: PFN | ORDER | VADDR,
  [EventKind.Unmap]: PFN | ORDER | VADDR,
  [EventKind.Write]: PFN | ORDER | VADDR,
  [EventKind.Fault]: PFN | ORDER | VADDR | OFFSET | AGENT,
  [EventKind.FsAlloc]: PFN | ORDER | OFFSET,
  [EventKind.FsFree]: PFN | ORDER | OFFSET,
  [EventKind.SnapBegin]: SNAP,
  [EventKind.SnapRef]: PFN | ORDER | VADDR | SNAP,
  [EventKind.SnapEnd]: SNAP,
  [EventKind.Cow]: PFN | ORDER | NEW_PFN | VADDR2 | SNAP,
  [EventKind.Restore]: SNAP,
  [EventKind.SnapDrop]: SNAP,
  [EventKind.Migrate]: PFN | ORDER | NEW_PFN,
  [EventKind.Fork]: CHILD,
  [EventKind.Online]: BLOCK,
  [EventKind.Offline]: BLOCK,
  [EventKind.CacheAdd]: PFN | ORDER | OFFSET,
  [EventKind.CacheDelete]: PFN | ORDER | OFFSET,
  // A dump record's ref is its dump's snapshot (0: none); its arg and arg2 are format-specific keys.
  [EventKind.Record]: PFN | ORDER | SNAP,
};

const TWO_64 = 2 ** 64;
const TWO_63 = 2 ** 63;

/** An unsigned 64-bit value as the signed INT64 it is stored as (C's `(int64_t)` cast): kernel addresses above 2^63 come out negative. */
function int64(v: number): number {
  // Exact: v and 2^64 are within a factor of two of each other (Sterbenz).
  return v >= TWO_63 ? v - TWO_64 : v;
}

/** The events table: one row per event in file and line order; event_id is the event's index in that order. */
export function* eventBatches(model: TraceModel, batchRows = DEFAULT_BATCH_ROWS): Generator<ExportBatch> {
  const b = model.builder;
  const ev = b.events;
  const n = ev.length;
  const paths = b.files.map((f) => f.path);
  const e = newEventRecord();
  for (let start = 0; start < n; start += batchRows) {
    const rows = Math.min(batchRows, n - start);
    const columns = allocate('events', rows);
    const [id, file, line, time, kind, pfn, order, pages, owner, pid, node, vaddr, newPfn, snap, child, block, offset, agent] = columns;
    const idV = nums(id);
    const fileV = strs(file);
    const lineV = nums(line);
    const timeV = nums(time);
    const kindV = strs(kind);
    const pfnV = nums(pfn);
    const orderV = nums(order);
    const pagesV = nums(pages);
    const ownerV = nums(owner);
    const pidV = nums(pid);
    const nodeV = nums(node);
    const vaddrV = nums(vaddr);
    const newPfnV = nums(newPfn);
    const snapV = nums(snap);
    const childV = nums(child);
    const blockV = nums(block);
    const offsetV = nums(offset);
    const agentV = nums(agent);
    for (let k = 0; k < rows; k++) {
      const i = start + k;
      ev.read(i, e);
      idV[k] = i;
      fileV[k] = paths[ev.file.get(i)] ?? '?';
      lineV[k] = e.line;
      timeV[k] = e.time;
      kindV[k] = EVENT_NAMES[e.kind] ?? 'other';
      if (e.owner !== 0) ownerV[k] = e.owner;
      if (e.pid !== 0) pidV[k] = e.pid;
      if (e.node >= 0) nodeV[k] = e.node;
      const f = FIELDS[e.kind] ?? 0;
      if (f & PFN) pfnV[k] = e.pfn;
      if (f & ORDER && (e.pfn === e.pfn || e.kind === EventKind.AllocFailed)) {
        orderV[k] = e.order;
        pagesV[k] = 2 ** e.order;
      } else if (e.kind === EventKind.Record) {
        // A summary line without a pfn (page_owner_sort) counts its pages in arg.
        pagesV[k] = e.arg;
      }
      if (f & VADDR) vaddrV[k] = int64(e.arg);
      else if (f & VADDR2) vaddrV[k] = int64(e.arg2);
      if (f & NEW_PFN) newPfnV[k] = e.arg;
      if (f & SNAP && (e.ref !== 0 || e.kind !== EventKind.Record)) snapV[k] = e.ref;
      if (f & CHILD) childV[k] = e.ref;
      if (f & BLOCK) blockV[k] = e.ref;
      if (f & OFFSET) offsetV[k] = int64(e.arg2);
      if (f & AGENT && e.ref !== 0) agentV[k] = e.ref;
    }
    yield { rows, columns };
  }
}

/**
 * The intervals table: for every page, each maximal run of time it spent with one owner and one shared
 * state, in pfn order and then time order. Free stretches (owner 0) are not rows. Built from the ownership
 * index (its per-page change lists), so the analysis replay's recording is reused when the model kept one.
 */
export function* intervalBatches(model: TraceModel, batchRows = DEFAULT_BATCH_ROWS): Generator<ExportBatch> {
  const ix = ownershipIndexOf(model);
  const ev = model.builder.events;
  const { pfns, pageStart, permState, permTime, permPos } = ix;
  let columns = allocate('intervals', batchRows);
  let rows = 0;
  const time = (j: number): number => (permTime[j] === -Infinity ? NaN : permTime[j]);
  // Writes the interval that change `from` opened and change `to` (-1: none) closed into row `rows`.
  const emit = (pfn: number, from: number, to: number): void => {
    const st = permState[from];
    const [pfnC, ownerC, startC, endC, startLineC, endLineC, sharedC, startEvC, endEvC] = columns;
    const startEvent = ix.eventAt(permPos[from]);
    nums(pfnC)[rows] = pfn;
    nums(ownerC)[rows] = st >> 1;
    nums(startC)[rows] = time(from);
    nums(startLineC)[rows] = ev.line.get(startEvent);
    (sharedC.values as Uint8Array)[rows] = st & 1;
    nums(startEvC)[rows] = startEvent;
    if (to >= 0) {
      const endEvent = ix.eventAt(permPos[to]);
      nums(endC)[rows] = time(to);
      nums(endLineC)[rows] = ev.line.get(endEvent);
      nums(endEvC)[rows] = endEvent;
    }
    rows++;
  };
  for (let p = 0; p < pfns.length; p++) {
    const pfn = pfns[p];
    const end = pageStart[p + 1];
    let open = -1;
    for (let j = pageStart[p]; j < end; j++) {
      // A change to the same owner and shared state (a second alloc by the same owner, a snapshot reference
      // to a kernel page) continues the interval.
      if (open >= 0 && permState[j] === permState[open]) continue;
      if (open >= 0 && permState[open] >> 1 !== 0) {
        emit(pfn, open, j);
        if (rows === batchRows) {
          yield { rows, columns };
          columns = allocate('intervals', batchRows);
          rows = 0;
        }
      }
      open = j;
    }
    if (open >= 0 && permState[open] >> 1 !== 0) {
      emit(pfn, open, -1);
      if (rows === batchRows) {
        yield { rows, columns };
        columns = allocate('intervals', batchRows);
        rows = 0;
      }
    }
  }
  if (rows > 0) yield { rows, columns: shrink(columns, rows) };
}

/** The first `rows` rows of a batch's columns (the last batch of a table built in a full-size buffer). */
function shrink(columns: ColumnValues[], rows: number): ColumnValues[] {
  return columns.map((c): ColumnValues => {
    if (c.type === 'UTF8') return { type: 'UTF8', values: c.values.slice(0, rows) };
    if (c.type === 'BOOLEAN') return { type: 'BOOLEAN', values: c.values.slice(0, rows) };
    return { type: c.type, values: c.values.slice(0, rows) };
  });
}

/** The owners table: every owner the trace named (id 0, "no owner", is not a row), with pages held at the end and at the peak. */
export function* ownerBatches(model: TraceModel, batchRows = DEFAULT_BATCH_ROWS): Generator<ExportBatch> {
  const owners = model.builder.owners;
  const r = model.result;
  for (let start = 1; start < owners.size; start += batchRows) {
    const rows = Math.min(batchRows, owners.size - start);
    const columns = allocate('owners', rows);
    const [id, kind, pid, tgid, comm, dev, ino, snap, name, live, peak] = columns;
    for (let k = 0; k < rows; k++) {
      const o = owners.get(start + k);
      nums(id)[k] = o.id;
      strs(kind)[k] = o.kind;
      if (o.pid !== undefined) nums(pid)[k] = o.pid;
      if (o.tgid !== undefined) nums(tgid)[k] = o.tgid;
      if (o.comm !== undefined) strs(comm)[k] = o.comm;
      if (o.dev !== undefined) strs(dev)[k] = o.dev;
      if (o.ino !== undefined) nums(ino)[k] = o.ino;
      if (o.snap !== undefined) nums(snap)[k] = o.snap;
      if (o.name !== undefined) strs(name)[k] = o.name;
      nums(live)[k] = r.ownerLive[o.id] ?? 0;
      nums(peak)[k] = r.ownerPeak[o.id] ?? 0;
    }
    yield { rows, columns };
  }
}

/** The anomalies table: every anomaly of the analysis, in file and line order (as `analyze` lists them). */
export function* anomalyBatches(model: TraceModel, batchRows = DEFAULT_BATCH_ROWS): Generator<ExportBatch> {
  const list = model.result.anomalies;
  const paths = model.builder.files.map((f) => f.path);
  for (let start = 0; start < list.length; start += batchRows) {
    const rows = Math.min(batchRows, list.length - start);
    const columns = allocate('anomalies', rows);
    const [kind, severity, file, line, pfn, time, message] = columns;
    for (let k = 0; k < rows; k++) {
      const a = list[start + k];
      strs(kind)[k] = a.kind;
      strs(severity)[k] = a.severity;
      strs(file)[k] = paths[a.file] ?? '?';
      nums(line)[k] = a.line;
      nums(pfn)[k] = a.pfn;
      nums(time)[k] = a.time;
      strs(message)[k] = a.message;
    }
    yield { rows, columns };
  }
}

/** The batches of one table of a model. */
export function tableBatches(model: TraceModel, table: ExportTableName, batchRows = DEFAULT_BATCH_ROWS): Generator<ExportBatch> {
  switch (table) {
    case 'events':
      return eventBatches(model, batchRows);
    case 'intervals':
      return intervalBatches(model, batchRows);
    case 'owners':
      return ownerBatches(model, batchRows);
    case 'anomalies':
      return anomalyBatches(model, batchRows);
  }
}
