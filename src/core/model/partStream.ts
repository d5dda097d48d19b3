import { EventStore, type EventStoreData } from './eventStore';
import type { MemoryBlock, NumaNode, Placement, Region } from './addressSpace';
import { HAS_COMM, HAS_PID, HAS_TGID, type OwnerColumns } from './owners';
import type { ParseError, TraceBuilder } from './traceBuilder';
import { snapshotColumnBuffers, type SnapshotColumns } from './snapshotTable';

/** A builder's layout as plain data (it crosses threads by structured clone). */
export interface LayoutData {
  nodes: NumaNode[];
  regions: Region[];
  blocks: MemoryBlock[];
  placements: Placement[];
}

/** Fields of an owner that a later sighting may fill in (OwnerTable keeps the first value it gets). */
export interface OwnerPatch {
  id: number;
  comm?: string;
  tgid?: number;
  pid?: number;
}

/**
 * One piece of a parse that streams from a worker thread: what the parser added to its builder since
 * the piece before. Owner ids in `events` are the worker's; the main thread maps them as it appends.
 */
export interface StreamPart {
  events: EventStoreData;
  /**
   * Owners interned since the part before, in id order (the first part starts at id 0), as columns
   * (transferred) with the strings added since the part before.
   */
  owners: OwnerColumns;
  /** Snapshots added since the part before, as columns (transferred) with their new strings. */
  snapshots: SnapshotColumns;
  errors: ParseError[];
  /** The whole layout, when it changed since the part before. */
  layout?: LayoutData;
  /** Bytes of the range read so far. */
  bytes: number;
  /** On the last part only. */
  end?: {
    lines: number;
    droppedErrors: number;
    counters: [string, number][];
    /** Owners sent earlier that got a comm, tgid or pid afterwards. */
    patches: OwnerPatch[];
    /** What the range's parser keeps beside the builder's tables, for a format read in ranges (TraceFormat.rangeSplit). */
    state?: unknown;
  };
}

/**
 * The worker's side: cuts what its builder gained into StreamParts. A cut hands over the store's full
 * column chunks as they are (the last cut, everything), so they can be transferred: the worker keeps no
 * second copy, and the main thread can take whole chunks without copying them (`PartAppender`).
 */
export class PartCutter {
  private owners = 0;
  private strings = 0;
  private snapshots = 0;
  private snapshotStrings = 0;
  private errors = 0;
  private layoutKey = '';
  /** For each owner sent: which of comm, tgid and pid it had then. */
  private sent = new Uint8Array(1024);

  constructor(private readonly b: TraceBuilder) {}

  /**
   * Count the owners the builder has now as sent, with the fields they have: its table is a copy of the
   * receiver's (TraceBuilder.useOwners), so the parts carry only the owners added after them, and patches
   * of these (PartAppender.sameOwners on the receiving side).
   */
  ownersSent(): void {
    const table = this.b.owners;
    const n = table.size;
    if (n > this.sent.length) this.sent = new Uint8Array(n);
    for (let id = 0; id < n; id++) this.sent[id] = table.fieldsOf(id);
    this.owners = n;
    this.strings = table.stringCount;
  }

  /**
   * What was added since the last cut (events: whole chunks only, at most `maxChunks` of them, unless
   * `all`); `bytes` is how much of the range was read.
   */
  cut(bytes: number, all = false, maxChunks = Infinity): StreamPart {
    const b = this.b;
    const events = all ? b.takeEvents().exportData() : b.events.takeFullChunks(maxChunks);
    const table = b.owners;
    const n = table.size;
    if (n > this.sent.length) {
      const next = new Uint8Array(Math.max(n, this.sent.length * 2));
      next.set(this.sent);
      this.sent = next;
    }
    for (let id = this.owners; id < n; id++) this.sent[id] = table.fieldsOf(id);
    const owners = table.columns(this.owners, this.strings);
    this.owners = n;
    this.strings = table.stringCount;
    const snapshots = b.snapshots.columns(this.snapshots, this.snapshotStrings);
    this.snapshots = b.snapshots.length;
    this.snapshotStrings = b.snapshots.stringCount;
    const errors = b.errors.slice(this.errors);
    this.errors = b.errors.length;
    const part: StreamPart = { events, owners, snapshots, errors, bytes };
    const l = b.layout;
    // Layout lines are few and normally come first: a cheap key tells whether anything changed.
    const key = `${l.nodes.size}/${l.regions.length}/${l.blocks.length}/${l.placements.length}`;
    if (key !== this.layoutKey && !l.empty) {
      this.layoutKey = key;
      part.layout = { nodes: [...l.nodes.values()], regions: l.regions, blocks: l.blocks, placements: l.placements };
    }
    return part;
  }

  /**
   * The last part: the rest, plus the counters, the dropped errors, the owner fields filled in late and
   * the parser's own `state` when the format has any (RangeSplit.rangeState). With `holdTail`, the events
   * of a last chunk that is not full stay in the builder (the range after this one is appended to them
   * on this thread: see parseWorker).
   */
  end(bytes: number, lines: number, state?: unknown, holdTail = false): StreamPart {
    const part = this.cut(bytes, !holdTail);
    const patches: OwnerPatch[] = [];
    const table = this.b.owners;
    for (let id = 0; id < table.size; id++) {
      const now = table.fieldsOf(id);
      const had = this.sent[id];
      if (now === had) continue;
      const p: OwnerPatch = { id };
      if (!(had & HAS_COMM) && now & HAS_COMM) p.comm = table.commOf(id);
      if (!(had & HAS_TGID) && now & HAS_TGID) p.tgid = table.tgidOf(id);
      if (!(had & HAS_PID) && now & HAS_PID) p.pid = table.pidOf(id);
      patches.push(p);
    }
    part.end = { lines, droppedErrors: this.b.droppedErrors, counters: [...this.b.counters], patches };
    if (state !== undefined) part.end.state = state;
    return part;
  }
}

/** Every ArrayBuffer a part's events hold, for a worker's transfer list. */
export function streamPartBuffers(p: StreamPart): ArrayBuffer[] {
  const o = p.owners;
  const out: ArrayBuffer[] = [o.kind.buffer, o.flags.buffer, o.num.buffer, o.num2.buffer, o.str.buffer] as ArrayBuffer[];
  out.push(...snapshotColumnBuffers(p.snapshots));
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
 * The ArrayBuffers of a store's columns, each once (a buffer that backs two chunks is listed once, as a
 * transfer list needs).
 */
export function eventBuffers(d: EventStoreData): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  const add = (a: ArrayBufferView | null | undefined): void => {
    if (a) seen.add(a.buffer as ArrayBuffer);
  };
  for (const c of d.kind) add(c);
  for (const c of d.order) add(c);
  for (const chunks of Object.values(d.columns)) {
    for (const ch of chunks) {
      add(ch.data);
      add(ch.ex);
    }
  }
  return [...seen];
}

/** What appending a part changed beyond events. */
export interface AppendEffect {
  /** The part's events were copied (not adopted): its event columns are not the builder's. */
  copied: boolean;
  /** The part brought layout the builder did not have. */
  layout: boolean;
  /** An owner the builder already had got a comm, tgid or pid (so its label changed). */
  patched: boolean;
}

/**
 * The main thread's side: appends the parts of one byte range, in order, to the builder, as if one
 * parser had read on from where the builder's current file stands. Owners are interned in the part's
 * first-sighting order, so ids come out as one pass makes them; lines are shifted by `lineOffset`, the
 * lines before the range.
 */
export class PartAppender {
  private map = new Int32Array(1024);
  private mapped = 0;
  /** The worker's string ids to the builder's owner table's, and to its snapshot table's. */
  private readonly strMap: number[] = [];
  private readonly snapStrMap: number[] = [];
  /** Every owner so far has the same id here as in the part (true for the first range of a file). */
  private identity = true;

  constructor(private readonly b: TraceBuilder, private readonly lineOffset: number) {}

  /**
   * Whether this range's owner ids, lines and file are the builder's, so that its events are taken as
   * they are (the first range of a file).
   */
  get adopts(): boolean {
    return this.identity && this.lineOffset === 0 && this.b.currentFile === 0;
  }

  /**
   * Take the parts' first `owners` owners and `strings` owner strings as the builder's own, id for id:
   * they come from a copy of the builder's table (PartCutter.ownersSent).
   */
  sameOwners(owners: number, strings: number): void {
    if (this.mapped > 0 || this.strMap.length > 0) throw new Error('sameOwners after a part');
    if (owners > this.map.length) this.map = new Int32Array(owners);
    for (let id = 0; id < owners; id++) this.map[id] = id;
    this.mapped = owners;
    for (let s = 0; s < strings; s++) this.strMap[s] = s;
  }

  /** The builder's owner id of each owner id of the parts appended so far. */
  ownerMap(): Int32Array {
    return this.map.slice(0, this.mapped);
  }

  /**
   * Append part `p`; without `withEvents`, everything but its events (which the caller appends
   * elsewhere, through `ownerMap`).
   */
  append(p: StreamPart, withEvents = true): AppendEffect {
    const b = this.b;
    const effect: AppendEffect = { copied: false, layout: false, patched: false };
    if (p.layout) effect.layout = mergeLayout(b, p.layout);
    const rows = p.owners.kind.length;
    const need = this.mapped + rows;
    if (need > this.map.length) {
      const next = new Int32Array(Math.max(need, this.map.length * 2));
      next.set(this.map);
      this.map = next;
    }
    // An owner the builder has already may get its comm from this range: its label changes.
    if (b.owners.internColumns(p.owners, this.strMap, this.map, this.mapped)) effect.patched = true;
    for (let k = 0; k < rows && this.identity; k++) if (this.map[this.mapped + k] !== this.mapped + k) this.identity = false;
    this.mapped += rows;
    // Whole chunks whose ids, lines and file are already the builder's are taken as they are; else copied.
    if (withEvents && p.events.length > 0 && !(this.adopts && b.events.adoptData(p.events))) {
      b.events.appendStore(EventStore.fromData(p.events), b.currentFile, this.lineOffset, this.map);
      effect.copied = true;
    }
    b.addSnapshotColumns(p.snapshots, this.snapStrMap, this.lineOffset);
    for (const err of p.errors) b.error(err.line + this.lineOffset, err.message);
    if (p.end) {
      b.droppedErrors += p.end.droppedErrors;
      for (const [name, v] of p.end.counters) b.count(name, v);
      for (const patch of p.end.patches) {
        if (b.owners.patch(this.map[patch.id], patch.comm, patch.tgid, patch.pid)) effect.patched = true;
      }
    }
    return effect;
  }
}

/** Add what `l` has that the builder's layout lacks; true when anything was added. */
function mergeLayout(b: TraceBuilder, l: LayoutData): boolean {
  const to = b.layout;
  const before = `${to.nodes.size}/${to.regions.length}/${to.blocks.length}/${to.placements.length}`;
  for (const nd of l.nodes) Object.assign(to.addNode(nd.id, nd.name), nd);
  for (let k = to.regions.length; k < l.regions.length; k++) to.addRegion(l.regions[k]);
  for (const blk of l.blocks) to.addBlock(blk);
  for (let k = to.placements.length; k < l.placements.length; k++) to.placements.push(l.placements[k]);
  return `${to.nodes.size}/${to.regions.length}/${to.blocks.length}/${to.placements.length}` !== before;
}
