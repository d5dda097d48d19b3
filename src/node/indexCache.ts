import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, statSync, writeSync, fstatSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Anomaly, RuleConfig } from '../core/analysis/anomalies';
import { PageTable } from '../core/analysis/pageTable';
import type { ReplayResult } from '../core/analysis/replay';
import { SnapshotResults, type SnapshotStatsColumns } from '../core/analysis/snapStates';
import { OwnershipRecorder } from '../core/analysis/ownershipIndex';
import { COMPACT_COLUMNS, EventStore, type CompactChunk, type CompactColumnName } from '../core/model/eventStore';
import { OwnerTable } from '../core/model/owners';
import type { MemoryBlock, NumaNode, Region } from '../core/model/addressSpace';
import { TraceBuilder, type ParseError, type SourceFile } from '../core/model/traceBuilder';
import type { SnapshotColumns } from '../core/model/snapshotTable';
import type { TraceModel } from '../core/trace';

/**
 * Version of the index file layout and of everything it stores (event columns, owner and replay
 * semantics). Bump it whenever a parser or the replay changes what they produce: old indexes are then
 * ignored, never misread.
 */
export const INDEX_FORMAT_VERSION = 9;

const MAGIC = 'PLIDX';
const PAGE_CHUNK = 4096;

/** What an index is keyed by, besides the files: the options that change the model. */
export interface IndexKeyOptions {
  rules?: RuleConfig;
  format?: string;
}

/** A typed array stored after the JSON head. */
interface BlobRef {
  type: 'u8' | 'u16' | 'u32' | 'i32' | 'f64';
  length: number;
}

/** The JSON head of an index file (numbers that are NaN or infinite are written as {"$n": "NaN"}). */
interface IndexHead {
  version: number;
  key: string;
  inputs: { path: string; size: number; mtimeMs: number }[];
  format: string;
  stats: TraceModel['stats'];
  files: SourceFile[];
  events: { length: number; sorted: boolean; lastTime: number; kind: number[]; order: number[]; columns: Record<CompactColumnName, { rep: number; base: number; blob: number; ex: number }[]> };
  /** The owner table's own columns (OwnerColumns), each a blob. */
  owners: { kind: number; flags: number; num: number; num2: number; str: number; strings: string[] };
  /** The snapshot table's own columns (SnapshotColumns), each a blob. */
  snapshots: Record<(typeof SNAPSHOT_BLOBS)[number], number> & { strings: string[] };
  errors: ParseError[];
  droppedErrors: number;
  counters: [string, number][];
  layout: { nodes: NumaNode[]; regions: Region[]; blocks: MemoryBlock[]; placements: { name: string; pid?: number; vmas: number; pagesByNode: [number, number][]; anonPages: number; dirtyPages: number; mappedPages: number; file?: number; line?: number }[] };
  result: {
    anomalies: Anomaly[];
    counts: Record<string, number>;
    livePages: number;
    ownerLive: number;
    ownerPeak: number;
    /** SnapshotStats as columns (SnapshotStatsColumns), in the order of `snapshotPages.ids`. */
    snapshots: Record<(typeof STATS_BLOBS)[number], number>;
    timeStart: number;
    timeEnd: number;
    order: number;
    pages: { bases: number; owner: number; state: number; since: number; headOrder: number };
    snapshotPages: { ids: number[]; lengths: number; pfns: number };
  };
  /**
   * Page changes the analysis recorded for the views (TraceModel.ownershipRecording), as blob numbers;
   * null when it recorded none. Without them a reopen rebuilt the ownership index by one more replay:
   * 1.4-1.6 s CPU on a 103 MB trace, against 0.5-0.6 s from a recording.
   */
  ownership: { eventTimes: number; pos: number; pageCol: number; owner: number; prev: number; flags: number; pagePfns: number; toggles: [number, number[]][] } | null;
  blobs: BlobRef[];
  /** Sections ("owners", "result.anomalies", ...) holding {"$n": ...} numbers to turn back. */
  revived: string[];
}

type Blob = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array;

/** The stat of each input as the key sees it, or null when one is not a regular file (no caching then). */
function inputsOf(paths: string[]): IndexHead['inputs'] | null {
  const out: IndexHead['inputs'] = [];
  for (const p of paths) {
    try {
      const st = statSync(p);
      if (!st.isFile()) return null;
      out.push({ path: resolve(p), size: st.size, mtimeMs: st.mtimeMs });
    } catch {
      return null;
    }
  }
  return out;
}

/** The cache key of a set of files: their absolute paths, sizes and mtimes, the options and the format version. */
export function indexKey(paths: string[], opts: IndexKeyOptions = {}): string | null {
  const inputs = inputsOf(paths);
  if (!inputs) return null;
  return createHash('sha256').update(JSON.stringify([INDEX_FORMAT_VERSION, inputs, opts.rules ?? {}, opts.format ?? null])).digest('hex').slice(0, 32);
}

/** The index file for a key in a cache directory. */
export function indexPath(dir: string, key: string): string {
  return join(dir, `${key}.plidx`);
}

/**
 * The head as JSON, each section (and each part of `result`) written on its own so that `revived` can
 * list the ones holding a non-finite number: only those are walked at load (the walk over all of it took
 * 70 ms of a 300 ms load on the native bench trace).
 */
function headJson(head: IndexHead): string {
  let fired = false;
  const replacer = (_k: string, v: unknown): unknown => {
    if (typeof v === 'number' && !Number.isFinite(v)) {
      fired = true;
      return { $n: String(v) };
    }
    return v;
  };
  const revived: string[] = [];
  const part = (name: string, v: unknown): string => {
    fired = false;
    const t = JSON.stringify(v, replacer) ?? 'null';
    if (fired) revived.push(name);
    return t;
  };
  const fields: string[] = [];
  for (const [k, v] of Object.entries(head)) {
    if (k === 'result' || k === 'revived') continue;
    fields.push(`${JSON.stringify(k)}:${part(k, v)}`);
  }
  const result = Object.entries(head.result).map(([k, v]) => `${JSON.stringify(k)}:${part('result.' + k, v)}`);
  fields.push(`"result":{${result.join(',')}}`);
  fields.push(`"revived":${JSON.stringify(revived)}`);
  return `{${fields.join(',')}}`;
}

/** Turn {"$n": "NaN"} back into numbers in place (a JSON.parse reviver made the load 3x slower). */
function revive(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (x !== null && typeof x === 'object') v[i] = revive(x);
    }
    return v;
  }
  const o = v as Record<string, unknown>;
  if (typeof o.$n === 'string') return Number(o.$n);
  for (const k in o) {
    const x = o[k];
    if (x !== null && typeof x === 'object') o[k] = revive(x);
  }
  return o;
}

/**
 * Write a model's index (columns, owners, layout, snapshots, errors and replay result) for `paths`
 * into `dir`. Returns the file written, or null when the inputs cannot be keyed (not regular files).
 * Written to a temporary name then renamed, so a reader never sees half an index.
 */
export function saveIndex(dir: string, paths: string[], opts: IndexKeyOptions, m: TraceModel): string | null {
  const inputs = inputsOf(paths);
  const key = indexKey(paths, opts);
  if (!inputs || !key) return null;
  const blobs: Blob[] = [];
  const add = (a: Blob): number => {
    blobs.push(a);
    return blobs.length - 1;
  };
  const b = m.builder;
  const r = m.result;
  const data = b.events.exportData();
  const columns = {} as IndexHead['events']['columns'];
  for (const name of COMPACT_COLUMNS) {
    columns[name] = data.columns[name].map((ch) => ({ rep: ch.rep, base: ch.base, blob: ch.data ? add(ch.data) : -1, ex: ch.ex ? add(ch.ex) : -1 }));
  }
  const pageChunks = [...r.pages.all()].sort((x, y) => x.base - y.base);
  const n = pageChunks.length;
  const bases = new Float64Array(n);
  const owner = new Int32Array(n * PAGE_CHUNK);
  const state = new Uint8Array(n * PAGE_CHUNK);
  const since = new Int32Array(n * PAGE_CHUNK);
  const headOrder = new Uint8Array(n * PAGE_CHUNK);
  pageChunks.forEach((c, k) => {
    bases[k] = c.base;
    const cols = c.columns();
    owner.set(cols.owner, k * PAGE_CHUNK);
    state.set(cols.state, k * PAGE_CHUNK);
    since.set(cols.since, k * PAGE_CHUNK);
    headOrder.set(cols.headOrder, k * PAGE_CHUNK);
  });
  const snapIds = [...r.snapshotPages.keys()];
  const lengths = new Uint32Array(snapIds.map((id) => r.snapshotPages.get(id)!.length));
  const pfns = new Float64Array(lengths.reduce((s, x) => s + x, 0));
  let at = 0;
  for (const id of snapIds) for (const p of r.snapshotPages.get(id)!) pfns[at++] = p;
  const rec = m.ownershipRecording?.saved();
  const head: IndexHead = {
    version: INDEX_FORMAT_VERSION,
    key,
    inputs,
    format: m.format,
    stats: m.stats,
    files: b.files,
    events: { length: data.length, sorted: data.sorted, lastTime: data.lastTime, kind: data.kind.map(add), order: data.order.map(add), columns },
    owners: ((c) => ({ kind: add(c.kind), flags: add(c.flags), num: add(c.num), num2: add(c.num2), str: add(c.str), strings: c.strings }))(b.owners.columns()),
    snapshots: ((c) => ({ ...blobsOf(c, SNAPSHOT_BLOBS, add), strings: c.strings }))(b.snapshots.columns()),
    errors: b.errors,
    droppedErrors: b.droppedErrors,
    counters: [...b.counters],
    layout: {
      nodes: [...b.layout.nodes.values()],
      regions: b.layout.regions,
      blocks: b.layout.blocks,
      placements: b.layout.placements.map((p) => ({ ...p, pagesByNode: [...p.pagesByNode] })),
    },
    result: {
      anomalies: r.anomalies,
      counts: r.counts,
      livePages: r.livePages,
      ownerLive: add(r.ownerLive),
      ownerPeak: add(r.ownerPeak),
      snapshots: blobsOf(statsColumns(r, snapIds), STATS_BLOBS, add),
      timeStart: r.timeStart,
      timeEnd: r.timeEnd,
      order: r.order ? add(r.order) : -1,
      pages: { bases: add(bases), owner: add(owner), state: add(state), since: add(since), headOrder: add(headOrder) },
      snapshotPages: { ids: snapIds, lengths: add(lengths), pfns: add(pfns) },
    },
    ownership: rec
      ? { eventTimes: add(rec.eventTimes), pos: add(rec.pos), pageCol: add(rec.pageCol), owner: add(rec.owner), prev: add(rec.prev), flags: add(rec.flags), pagePfns: add(rec.pagePfns), toggles: rec.toggles }
      : null,
    blobs: [],
    revived: [],
  };
  head.blobs = blobs.map((a) => ({ type: typeOf(a), length: a.length }));
  mkdirSync(dir, { recursive: true });
  const out = indexPath(dir, key);
  const tmp = `${out}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    const json = Buffer.from(headJson(head), 'utf8');
    const pre = Buffer.alloc(16);
    pre.write(MAGIC, 0, 'latin1');
    pre.writeUInt32LE(INDEX_FORMAT_VERSION, 8);
    pre.writeUInt32LE(json.length, 12);
    writeSync(fd, pre);
    writeSync(fd, json);
    let pos = 16 + json.length;
    const pad = Buffer.alloc(8);
    for (const a of blobs) {
      if (pos % 8) {
        writeSync(fd, pad, 0, 8 - (pos % 8));
        pos += 8 - (pos % 8);
      }
      writeSync(fd, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
      pos += a.byteLength;
    }
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, out);
  return out;
}

/**
 * Owners, snapshots and snapshot figures are stored as the columns their tables hold (numbers as typed
 * blobs, strings as indices into a table of distinct strings). The 10 M-event native trace's 430 k owners
 * and 150 k snapshots were 55 MB of the index's JSON head, and JSON.parse of it 0.41 s of a 0.96 s reopen.
 */
const SNAPSHOT_BLOBS = ['id', 'source', 'flags', 'name', 'comm', 'pid', 'time', 'file', 'line', 'parent'] as const;
const STATS_BLOBS = ['id', 'pages', 'shared', 'cows', 'dropped', 'begin', 'end'] as const;

function blobsOf<K extends string>(c: Record<K, Blob>, keys: readonly K[], add: (a: Blob) => number): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, add(c[k])])) as Record<K, number>;
}

/** A replay result's snapshot figures as columns, in the order of `ids`. */
function statsColumns(r: ReplayResult, ids: number[]): SnapshotStatsColumns {
  const n = ids.length;
  const c: SnapshotStatsColumns = { id: Float64Array.from(ids), pages: new Float64Array(n), shared: new Float64Array(n), cows: new Float64Array(n), dropped: new Uint8Array(n), begin: new Float64Array(n), end: new Float64Array(n) };
  ids.forEach((id, k) => {
    const st = r.snapshots.get(id);
    if (!st) return;
    c.pages[k] = st.pages;
    c.shared[k] = st.shared;
    c.cows[k] = st.cows;
    c.dropped[k] = st.dropped ? 1 : 0;
    c.begin[k] = st.begin;
    c.end[k] = st.end;
  });
  return c;
}

function typeOf(a: Blob): BlobRef['type'] {
  if (a instanceof Uint8Array) return 'u8';
  if (a instanceof Uint16Array) return 'u16';
  if (a instanceof Uint32Array) return 'u32';
  if (a instanceof Int32Array) return 'i32';
  return 'f64';
}

/**
 * The model indexed for `paths` in `dir`, or null when there is none for their current size and mtime
 * (or the options, or the format version, differ). The typed arrays are views on one read of the file.
 */
export function loadIndex(dir: string, paths: string[], opts: IndexKeyOptions = {}): TraceModel | null {
  const key = indexKey(paths, opts);
  if (!key) return null;
  const file = indexPath(dir, key);
  if (!existsSync(file)) return null;
  let bytes: Uint8Array;
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    // A fresh ArrayBuffer (not Node's pooled Buffer): blob offsets are 8-aligned within it.
    bytes = new Uint8Array(size);
    let got = 0;
    while (got < size) {
      const k = readSync(fd, bytes, got, size - got, got);
      if (k <= 0) break;
      got += k;
    }
    if (got !== size) return null;
  } finally {
    closeSync(fd);
  }
  const dv = new DataView(bytes.buffer);
  if (bytes.length < 16 || new TextDecoder('latin1').decode(bytes.subarray(0, 5)) !== MAGIC || dv.getUint32(8, true) !== INDEX_FORMAT_VERSION) return null;
  const jsonLen = dv.getUint32(12, true);
  const head = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + jsonLen))) as IndexHead;
  for (const name of head.revived) {
    const [a, b] = name.split('.') as [keyof IndexHead, string | undefined];
    if (b === undefined) (head as unknown as Record<string, unknown>)[a] = revive(head[a]);
    else (head.result as unknown as Record<string, unknown>)[b] = revive((head.result as unknown as Record<string, unknown>)[b]);
  }
  if (head.key !== key || head.version !== INDEX_FORMAT_VERSION) return null;
  const blobs: Blob[] = [];
  let pos = 16 + jsonLen;
  for (const ref of head.blobs) {
    if (pos % 8) pos += 8 - (pos % 8);
    const a = view(bytes.buffer as ArrayBuffer, pos, ref);
    blobs.push(a);
    pos += a.byteLength;
  }
  if (pos > bytes.length) return null;
  return rebuild(head, blobs);
}

function view(buf: ArrayBuffer, pos: number, ref: BlobRef): Blob {
  switch (ref.type) {
    case 'u8':
      return new Uint8Array(buf, pos, ref.length);
    case 'u16':
      return new Uint16Array(buf, pos, ref.length);
    case 'u32':
      return new Uint32Array(buf, pos, ref.length);
    case 'i32':
      return new Int32Array(buf, pos, ref.length);
    default:
      return new Float64Array(buf, pos, ref.length);
  }
}

function rebuild(h: IndexHead, blobs: Blob[]): TraceModel {
  const b = new TraceBuilder();
  for (const f of h.files) b.files.push(f);
  b.currentFile = Math.max(0, h.files.length - 1);
  const columns = {} as Record<CompactColumnName, CompactChunk[]>;
  for (const name of COMPACT_COLUMNS) {
    columns[name] = h.events.columns[name].map((c) => ({ rep: c.rep, base: c.base, data: c.blob >= 0 ? (blobs[c.blob] as CompactChunk['data']) : null, ex: c.ex >= 0 ? (blobs[c.ex] as Float64Array) : null }));
  }
  const events = EventStore.fromData({
    length: h.events.length,
    sorted: h.events.sorted,
    lastTime: h.events.lastTime,
    kind: h.events.kind.map((k) => blobs[k] as Uint8Array),
    order: h.events.order.map((k) => blobs[k] as Uint8Array),
    columns,
  });
  b.useEvents(events);
  // TraceBuilder.owners is readonly too: the loaded table (ids as saved) takes its place.
  const oc = h.owners;
  (b as { owners: OwnerTable }).owners = OwnerTable.fromColumns({
    first: 0,
    kind: blobs[oc.kind] as Uint8Array,
    flags: blobs[oc.flags] as Uint8Array,
    num: blobs[oc.num] as Float64Array,
    num2: blobs[oc.num2] as Float64Array,
    str: blobs[oc.str] as Int32Array,
    strings: oc.strings,
    stringsFirst: 0,
  });
  const sc = h.snapshots;
  b.loadSnapshots({ ...(Object.fromEntries(SNAPSHOT_BLOBS.map((k) => [k, blobs[sc[k]]])) as Pick<SnapshotColumns, (typeof SNAPSHOT_BLOBS)[number]>), first: 0, strings: sc.strings, stringsFirst: 0 });
  b.errors.push(...h.errors);
  b.droppedErrors = h.droppedErrors;
  for (const [k, v] of h.counters) b.counters.set(k, v);
  for (const nd of h.layout.nodes) Object.assign(b.layout.addNode(nd.id, nd.name), nd);
  for (const r of h.layout.regions) b.layout.addRegion(r);
  for (const k of h.layout.blocks) b.layout.addBlock(k);
  for (const p of h.layout.placements) b.layout.placements.push({ ...p, pagesByNode: new Map(p.pagesByNode) });
  const R = h.result;
  const pages = new PageTable();
  const bases = blobs[R.pages.bases] as Float64Array;
  const own = blobs[R.pages.owner] as Int32Array;
  const st = blobs[R.pages.state] as Uint8Array;
  const since = blobs[R.pages.since] as Int32Array;
  const ho = blobs[R.pages.headOrder] as Uint8Array;
  for (let k = 0; k < bases.length; k++) {
    const c = pages.chunk(bases[k]);
    const from = k * PAGE_CHUNK;
    const to = from + PAGE_CHUNK;
    c.load({ owner: own.subarray(from, to), state: st.subarray(from, to), since: since.subarray(from, to), headOrder: ho.subarray(from, to) });
  }
  const lengths = blobs[R.snapshotPages.lengths] as Uint32Array;
  const start = new Uint32Array(lengths.length + 1);
  for (let k = 0; k < lengths.length; k++) start[k + 1] = start[k] + lengths[k];
  const snaps = new SnapshotResults(Object.fromEntries(STATS_BLOBS.map((k) => [k, blobs[R.snapshots[k]]])) as unknown as SnapshotStatsColumns, start, blobs[R.snapshotPages.pfns] as Float64Array);
  const result: ReplayResult = {
    anomalies: R.anomalies,
    counts: R.counts,
    livePages: R.livePages,
    ownerLive: blobs[R.ownerLive] as Float64Array,
    ownerPeak: blobs[R.ownerPeak] as Float64Array,
    snapshots: snaps.stats,
    timeStart: R.timeStart,
    timeEnd: R.timeEnd,
    order: R.order >= 0 ? (blobs[R.order] as Uint32Array) : null,
    pages,
    snapshotPages: snaps.pages,
  };
  const o = h.ownership;
  const ownershipRecording = o
    ? OwnershipRecorder.restore({
        eventTimes: blobs[o.eventTimes] as Float64Array,
        pos: blobs[o.pos] as Uint32Array,
        pageCol: blobs[o.pageCol] as Uint32Array,
        owner: blobs[o.owner] as Int32Array,
        prev: blobs[o.prev] as Int32Array,
        flags: blobs[o.flags] as Uint8Array,
        pagePfns: blobs[o.pagePfns] as Float64Array,
        toggles: o.toggles,
      })
    : undefined;
  return { builder: b, result, format: h.format, stats: h.stats, ...(ownershipRecording ? { ownershipRecording } : {}) };
}
