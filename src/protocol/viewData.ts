/**
 * Payloads of view requests and replies, and the init summary. Owned by the webview work: extend the
 * unions here; the host only relays them. Times are trace nanoseconds; pfns are plain numbers (they fit in
 * 2^53); bulk figures are typed arrays so they cross postMessage as structured clones, not JSON.
 *
 * The page map's vertical axis is the "row space": the segments below laid end to end, so the holes of
 * the physical address space (a DAX device terabytes above RAM) take no room. Row-space index y maps to
 * pfn `segment.start + (y - segment.offset)`.
 */

/** Owner kinds in a fixed order: `ViewInit.ownerKinds` and the map's colours index into it. */
export const OWNER_KINDS = ['free', 'kernel', 'process', 'file', 'snapshot', 'agent'] as const;

/** One of OWNER_KINDS. */
export type ViewOwnerKind = (typeof OWNER_KINDS)[number];

/** Anomaly kinds in a fixed order (the rules' own order): anomaly replies index into it. */
export { ANOMALY_KINDS as VIEW_ANOMALY_KINDS } from '../core/analysis/anomalies';

/** A contiguous run of the page map's rows: a layout region, or a cluster of pages seen outside any. */
export interface ViewSegment {
  name: string;
  /** `ram`, `kmem`, `devdax`, `fsdax`, `other`, or `unlisted` for pages no layout declared. */
  type: string;
  /** NUMA node, -1 when unknown. */
  node: number;
  /** First pfn. */
  start: number;
  pages: number;
  /** First row-space index of the segment. */
  offset: number;
}

/** A hot-plug memory block with the times it was offline (for shading). */
export interface ViewBlock {
  id: number;
  start: number;
  pages: number;
  /** Offline intervals [from, to) in trace ns, flattened; -Infinity/Infinity for open ends. */
  offline: number[];
}

/**
 * Owners whose labels the init carries. The chart shows at most 16; 256 leave room for zooms and pins.
 * Every label (74 k of them, 1.9 MB of JSON on a 103 MB trace) held up the first chart.
 */
export const INIT_OWNERS = 256;

/** The data the webview needs for its first paint. */
export interface ViewInit {
  title: string;
  /** Input file paths; `reveal.file` indexes into it. */
  files: string[];
  timeStart: number;
  timeEnd: number;
  /** Bytes per page, for the bytes toggle. */
  pageSize: number;
  events: number;
  /**
   * Per owner id: index into OWNER_KINDS. Id 0 is "free". Every owner's, one byte each (74 KB for 74 k
   * owners): the map colours any cell by its owner's kind and the kind filter hides whole kinds.
   */
  ownerKinds: Uint8Array;
  /** Per OWNER_KINDS entry: owners of that kind that held pages. */
  kindCounts: number[];
  /**
   * The owners that held most pages at their peak, largest first (ties: lowest id), at most
   * INIT_OWNERS: those the chart shows first. Other owners' labels come from an `owners` request.
   */
  topOwners: Uint32Array;
  /** A short label (`pid 12 (bash)`) for each of topOwners, in the same order. */
  topLabels: string[];
  segments: ViewSegment[];
  /** Total rows of the map (sum of segment pages). */
  rows: number;
  nodes: { id: number; name?: string }[];
  blocks: ViewBlock[];
  anomalyCount: number;
  /** Lines the parsers could not read (each one is in the Problems panel); with no events, the view says so. */
  unreadLines: number;
}

/** Pages per owner over time: `n` samples from t0 to t1 (both ends included). */
export interface SeriesRequest {
  kind: 'series';
  t0: number;
  t1: number;
  n: number;
  /** Owners to show individually; the rest go to "other". */
  top: number;
  /** Owners to show first whatever their size (the owner filter); they count against `top`. */
  pinned?: number[];
  /** Owners to leave out of the window (counted in "other"). */
  hidden?: number[];
}

/** The series reply: state after every event with time ≤ times[i]. */
export interface SeriesReply {
  kind: 'series';
  times: Float64Array;
  /** The owners shown, largest peak in the window first. */
  owners: Uint32Array;
  /** owners.length rows of n values, row-major. */
  values: Float64Array;
  /** Pages of every other owner. */
  other: Float64Array;
  /** Pages seen in the trace and held by nobody at that time. */
  free: Float64Array;
  /** Pages of the layout not yet seen in the trace at that time. */
  unknown: Float64Array;
}

/** Owners a partial view's series keeps (the largest "Top owners" choice): the view folds the rest into "other". */
export const PARTIAL_TOP = 16;

/**
 * The chart of the part of a trace read so far, sent a few times while the rest is read and shown until
 * the view's init. `series` spans [times[0], times[n-1]], a range over which it is what the full view will
 * show: every event up to its end has been read, in time order (if a later event goes back in time, the
 * partial view is withdrawn). Its `unknown` is 0: which layout rows the rest of the trace will show is not
 * known yet. Only one file of a format listed in time order has one (TraceFormat.timeOrdered).
 */
export interface PartialView {
  bytesRead: number;
  /** Bytes of the file (0 when unknown). */
  bytesTotal: number;
  /** Events read so far. */
  events: number;
  /** At most PARTIAL_TOP owners. */
  series: SeriesReply;
  /** A label for each of series.owners, in the same order. */
  labels: string[];
}

/** A window of the page map: nx columns over t0..t1, ny rows over row space y0..y1. */
export interface MapRequest {
  kind: 'map';
  t0: number;
  t1: number;
  nx: number;
  y0: number;
  y1: number;
  ny: number;
}

/** Cell flag: a page of the cell is held by a process while a live snapshot shares it. */
export const CELL_SHARED = 1;
/** Cell flag: an owner-conflict or double-alloc anomaly falls in the cell. */
export const CELL_CONFLICT = 2;
/** Cell flag: another anomaly falls in the cell. */
export const CELL_ANOMALY = 4;
/** Cell flag: a page of the cell is in an offline memory block at the column's time. */
export const CELL_OFFLINE = 8;

/**
 * The map reply, row-major (cell = row * nx + col). Each column is sampled at its centre time; each row
 * covers row-space indices [floor(y0 + r*h), max(that + 1, floor(y0 + (r+1)*h))) with h = (y1-y0)/ny.
 */
export interface MapReply {
  kind: 'map';
  nx: number;
  ny: number;
  /** Owner holding most pages of the cell (ties: lowest id); 0 when only free pages; -1 nothing seen. */
  owner: Int32Array;
  /** Share of the row's pages held by any owner, 0..255. */
  fill: Uint8Array;
  /** CELL_* bits. */
  flags: Uint8Array;
  /** NUMA node of each row (its first page), -1 unknown. */
  rowNode: Int16Array;
}

/** The ownership history of one page frame. */
export interface PageRequest {
  kind: 'page';
  pfn: number;
  /** Keep at most this many changes (the latest); default 500. */
  max?: number;
}

/** Every change of a page's owner, oldest first. */
export interface PageReply {
  kind: 'page';
  pfn: number;
  /** Segment (layout region) name holding it, if any. */
  region?: string;
  node: number;
  changes: { owner: number; from: number; to: number; file: number; line: number; event: string; shared: boolean }[];
  /** Changes left out (older than the first kept). */
  dropped: number;
}

/** The event nearest a time, optionally among those touching pfns [pfn0, pfn1). */
export interface NearestRequest {
  kind: 'nearest';
  time: number;
  pfn0?: number;
  pfn1?: number;
}

/** The event found, or none. */
export interface NearestReply {
  kind: 'nearest';
  found: boolean;
  time: number;
  file: number;
  line: number;
  pfn: number;
}

/** Anomalies with a time in [t0, t1], at most `max` (spread evenly over the window when there are more). */
export interface AnomaliesRequest {
  kind: 'anomalies';
  t0: number;
  t1: number;
  max: number;
}

/** Anomaly markers as parallel arrays. */
export interface AnomaliesReply {
  kind: 'anomalies';
  time: Float64Array;
  /** Index into VIEW_ANOMALY_KINDS. */
  kinds: Uint8Array;
  /** 0 error, 1 warning, 2 info. */
  severity: Uint8Array;
  file: Uint16Array;
  line: Uint32Array;
  pfn: Float64Array;
  messages: string[];
  /** Anomalies in the window (may exceed the number returned). */
  total: number;
}

/** Owners whose label, pid or comm matches a query, or the page of a pfn (`0x1234` or decimal). */
export interface SearchRequest {
  kind: 'search';
  query: string;
  max: number;
}

/** Search hits. */
export interface SearchReply {
  kind: 'search';
  owners: number[];
  /** Row-space index of the pfn searched for, -1 when the query is not a pfn in the map. */
  row: number;
  pfn: number;
}

/** Labels of owners (ids from a series, map or page reply, or a search) the init did not carry. */
export interface OwnersRequest {
  kind: 'owners';
  /** Owner ids, at most MAX_OWNERS_ASKED. */
  ids: number[];
}

/** At most this many owners in one OwnersRequest (a reply of about 1.5 MB). */
export const MAX_OWNERS_ASKED = 65536;

/** The labels asked for, in the order asked. */
export interface OwnersReply {
  kind: 'owners';
  ids: Uint32Array;
  labels: string[];
}

/** A data request from the webview. */
export type ViewRequest = SeriesRequest | MapRequest | PageRequest | NearestRequest | AnomaliesRequest | SearchRequest | OwnersRequest;

/** A request the core could not answer (bad range, unknown kind). */
export interface ErrorReply {
  kind: 'error';
  message: string;
}

/** The core's answer to a ViewRequest. */
export type ViewReply = SeriesReply | MapReply | PageReply | NearestReply | AnomaliesReply | SearchReply | OwnersReply | ErrorReply;
