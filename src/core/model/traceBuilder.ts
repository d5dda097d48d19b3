import { AddressSpace } from './addressSpace';
import { EventStore } from './eventStore';
import type { EventRecord } from './events';
import { OwnerTable } from './owners';
import { SnapshotTable, type SnapshotColumns } from './snapshotTable';

/** A line that could not be read, with what was expected there. */
export interface ParseError {
  file: number;
  line: number;
  message: string;
}

/** Where a snapshot comes from. */
export type SnapshotSource = 'native' | 'snapshot-log' | 'page_owner' | 'criu';

/** A snapshot: a set of pages held at one moment (a native snapshot, a page_owner dump, a CRIU dump). */
export interface SnapshotInfo {
  /** Snapshot id, unique in the trace (native ids; generated ids for dumps). */
  id: number;
  source: SnapshotSource;
  /** Display name, e.g. `snapshot 3`, `page_owner dump 2`, `pagemap-1234 (dump 2)`. */
  name: string;
  pid?: number;
  comm?: string;
  /** Time it was taken (ns), NaN if unknown. */
  time: number;
  file: number;
  line: number;
  /** The parent snapshot in an incremental chain (CRIU `parent`). */
  parent?: number;
}

/** One input file of a trace. */
export interface SourceFile {
  index: number;
  path: string;
  format: string;
  bytes: number;
  lines: number;
}

/**
 * What parsers write into: the event columns, the owner table, the address-space layout, snapshots,
 * parse errors and per-format counters. One builder may take several files (a merged timeline).
 */
export class TraceBuilder {
  private store = new EventStore();
  readonly owners = new OwnerTable();
  readonly layout = new AddressSpace();
  readonly errors: ParseError[] = [];
  readonly files: SourceFile[] = [];
  readonly snapshots = new SnapshotTable();
  private maxSnapshotId = 0;
  /** Extra counters a format reports (`records`, `unknownEvents`, ...), summed over files. */
  readonly counters = new Map<string, number>();
  /** Index of the file being parsed. */
  currentFile = 0;
  /** Parse errors beyond this many per file are counted but not stored. */
  maxErrorsPerFile = 1000;
  private errorsInFile = 0;
  droppedErrors = 0;

  /** The event columns. */
  get events(): EventStore {
    return this.store;
  }

  /**
   * Go on with `table` as the owner table (before anything was interned): a worker that parses on after
   * another thread's range takes a copy of that thread's table, so the owners it adds get the ids one pass gives.
   */
  useOwners(table: OwnerTable): void {
    (this as { owners: OwnerTable }).owners = table;
  }

  /**
   * Hand the events pushed so far to the caller and go on with an empty store: a parse worker sends its
   * events off in pieces as it reads, and keeps none of them.
   */
  takeEvents(): EventStore {
    const taken = this.store;
    this.store = new EventStore();
    return taken;
  }

  /** Put a store read back elsewhere (the index cache) in place of this builder's events. */
  useEvents(store: EventStore): void {
    this.store = store;
  }

  beginFile(path: string, format: string, bytes: number): number {
    const index = this.files.length;
    this.files.push({ index, path, format, bytes, lines: 0 });
    this.currentFile = index;
    this.errorsInFile = 0;
    return index;
  }

  endFile(lines: number): void {
    this.files[this.currentFile].lines = lines;
  }

  push(e: EventRecord): number {
    return this.store.push(e, this.currentFile);
  }

  error(line: number, message: string): void {
    if (this.errorsInFile++ >= this.maxErrorsPerFile) {
      this.droppedErrors++;
      return;
    }
    this.errors.push({ file: this.currentFile, line, message });
  }

  count(name: string, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  /**
   * Register a snapshot (with `id` when given and free, else the next free id; in the current file unless
   * given) and return it. Setting `time` on the object returned changes the snapshot's time.
   */
  addSnapshot(s: Omit<SnapshotInfo, 'id' | 'file'> & { id?: number; file?: number }): SnapshotInfo {
    let id = s.id;
    if (id === undefined || this.snapshots.indexOf(id) >= 0) id = this.maxSnapshotId + 1;
    const info: SnapshotInfo = { ...s, id, file: s.file ?? this.currentFile };
    const k = this.snapshots.add(info);
    if (id > this.maxSnapshotId) this.maxSnapshotId = id;
    const table = this.snapshots;
    let time = info.time;
    Object.defineProperty(info, 'time', {
      enumerable: true,
      get: () => time,
      set: (t: number) => {
        time = t;
        table.setTime(k, t);
      },
    });
    return info;
  }

  /** Take the snapshots of a table read back (the index cache), files and lines as they were. */
  loadSnapshots(c: SnapshotColumns): void {
    for (const id of this.snapshots.load(c)) if (id > this.maxSnapshotId) this.maxSnapshotId = id;
  }

  /**
   * Append snapshots another builder (a parse worker's) sent as columns, in the current file, their lines
   * shifted by `lineOffset`; those whose id is taken already are left out. `strMap` maps the other
   * table's string ids to this one's and is extended with the new strings.
   */
  addSnapshotColumns(c: SnapshotColumns, strMap: number[], lineOffset: number): void {
    for (const id of this.snapshots.addColumns(c, strMap, this.currentFile, lineOffset)) if (id > this.maxSnapshotId) this.maxSnapshotId = id;
  }

  snapshot(id: number): SnapshotInfo | undefined {
    const k = this.snapshots.indexOf(id);
    return k < 0 ? undefined : this.snapshots.get(k);
  }
}
