/**
 * Event kinds shared by every format. The numeric values are stored in a Uint8Array column, so they are
 * part of the persisted index format: append new kinds, never renumber.
 */
export const EventKind = {
  /** Pages given to an owner (kernel allocation, process page, agent pool). */
  Alloc: 1,
  /** Pages returned to the allocator. */
  Free: 2,
  /** An allocation attempt that returned no page (kept for counts only). */
  AllocFailed: 3,
  /** A process maps a page at a virtual address. */
  Map: 4,
  /** A process unmaps a page. */
  Unmap: 5,
  /** A process writes to a page (needed to see missed copy-on-write breaks). */
  Write: 6,
  /** The fault-servicing agent maps a DAX page into a process. */
  Fault: 7,
  /** A filesystem block placed on a page frame. */
  FsAlloc: 8,
  /** A filesystem block released. */
  FsFree: 9,
  /** A snapshot starts. */
  SnapBegin: 10,
  /** A snapshot references one page of its process. */
  SnapRef: 11,
  /** A snapshot is complete. */
  SnapEnd: 12,
  /** Copy-on-write break: the snapshot keeps the old page, the process gets a new one. */
  Cow: 13,
  /** The snapshot's pages are mapped back into the process, zero-copy. */
  Restore: 14,
  /** The snapshot is deleted and drops its page references. */
  SnapDrop: 15,
  /** Page contents move to another frame (and possibly another node). */
  Migrate: 16,
  /** A process forks. */
  Fork: 17,
  /** A process exits. */
  Exit: 18,
  /** A memory block goes online. */
  Online: 19,
  /** A memory block goes offline. */
  Offline: 20,
  /** A page enters the page cache of a file. */
  CacheAdd: 21,
  /** A page leaves the page cache. */
  CacheDelete: 22,
  /** A record of a page_owner-style dump: the page is held by an owner at dump time. */
  Record: 23,
  /** Any other event of a known trace that Page Ledger does not model (counted, skipped). */
  Other: 24,
  /** A process is bound to a NUMA node (`numactl --membind`); `node` is the node. */
  Bind: 25,
} as const;

/** One of the EventKind values. */
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

/** Names used in `counts` output and in the native format, indexed by EventKind. */
export const EVENT_NAMES: readonly string[] = (() => {
  const names: string[] = [];
  names[EventKind.Alloc] = 'alloc';
  names[EventKind.Free] = 'free';
  names[EventKind.AllocFailed] = 'allocFailed';
  names[EventKind.Map] = 'map';
  names[EventKind.Unmap] = 'unmap';
  names[EventKind.Write] = 'write';
  names[EventKind.Fault] = 'fault';
  names[EventKind.FsAlloc] = 'fsAlloc';
  names[EventKind.FsFree] = 'fsFree';
  names[EventKind.SnapBegin] = 'snapshotBegin';
  names[EventKind.SnapRef] = 'snapshotRef';
  names[EventKind.SnapEnd] = 'snapshotEnd';
  names[EventKind.Cow] = 'cow';
  names[EventKind.Restore] = 'restore';
  names[EventKind.SnapDrop] = 'snapshotDrop';
  names[EventKind.Migrate] = 'migrate';
  names[EventKind.Fork] = 'fork';
  names[EventKind.Exit] = 'exit';
  names[EventKind.Online] = 'online';
  names[EventKind.Offline] = 'offline';
  names[EventKind.CacheAdd] = 'cacheAdd';
  names[EventKind.CacheDelete] = 'cacheDelete';
  names[EventKind.Record] = 'records';
  names[EventKind.Other] = 'other';
  names[EventKind.Bind] = 'membind';
  return names;
})();

/**
 * The scratch record a parser fills and hands to `TraceBuilder.push`. Parsers reuse one instance per
 * file: no object is allocated per event. Fields an event does not use are left at their reset values.
 */
export interface EventRecord {
  kind: EventKind;
  /** Nanoseconds on the trace's clock (ftrace seconds are converted). NaN when the line has no time. */
  time: number;
  /** 1-based line in the source file. */
  line: number;
  /** First page frame number. */
  pfn: number;
  /** 2^order pages from pfn. */
  order: number;
  /** Interned owner id (OwnerTable), 0 when the event names none. */
  owner: number;
  /** Second address: vaddr for map/unmap/write/fault/snapref/cow, the new pfn for cow and migrate. */
  arg: number;
  /** Third value: DAX device offset for fault, vaddr for cow, file offset for fs and cache events. */
  arg2: number;
  /** NUMA node, -1 when unknown. */
  node: number;
  /** Snapshot id for snapshot events, block id for online/offline, child pid for fork. */
  ref: number;
  /** The process (pid) the event is about, for map/unmap/write/fault/cow/restore/exit. 0 when none. */
  pid: number;
}

/** A fresh scratch record. */
export function newEventRecord(): EventRecord {
  return { kind: EventKind.Other, time: NaN, line: 0, pfn: 0, order: 0, owner: 0, arg: 0, arg2: 0, node: -1, ref: 0, pid: 0 };
}

/** Reset a scratch record between events. */
export function resetEventRecord(e: EventRecord): void {
  e.kind = EventKind.Other;
  e.time = NaN;
  e.line = 0;
  e.pfn = 0;
  e.order = 0;
  e.owner = 0;
  e.arg = 0;
  e.arg2 = 0;
  e.node = -1;
  e.ref = 0;
  e.pid = 0;
}
