/**
 * Payloads of the diff webview: its init summary, its requests and the core's replies (answerDiffRequest in
 * src/core/analysis/diffView.ts). They travel in the envelope of view.ts as `diffInit`, `diffRequest` and
 * `diffReply` messages. The maps' axis is the diff's row space: every compared page in key order, holes
 * of the address space left out; bulk figures are typed arrays.
 */

/** Change classes in a fixed order: counts and map cells index into it (same order as the core's DIFF_CLASSES). */
export const DIFF_CLASS_NAMES = ['unchanged', 'added', 'removed', 'ownerChanged', 'cowSplit', 'newlyShared', 'migrated', 'movedToSnapshot', 'freed', 'leaked'] as const;

/** A map cell with no page on that side. */
export const DIFF_CELL_EMPTY = 255;

/** One side of the diff as the view shows it. */
export interface DiffSideInfo {
  name: string;
  /** Paths of the side's files; reveal messages index into it. */
  files: string[];
  /** Pages the side holds. */
  pages: number;
}

/** The data the diff webview needs for its first paint. */
export interface DiffViewInit {
  title: string;
  /** What pages are matched by. */
  key: 'pfn' | 'vaddr';
  a: DiffSideInfo;
  b: DiffSideInfo;
  /** Rows of the row space (compared pages). */
  rows: number;
  /** Pages per class, indexed like DIFF_CLASS_NAMES. */
  pages: number[];
  /** Bytes per page, for the byte columns. */
  pageBytes: number;
  /** Pages per class for each owner (a page counts under its owner in A, or in B when A lacks it). */
  byOwner: { owner: string; pages: number[] }[];
  /** Pages per class for each NUMA node (-1 unknown). */
  byNode: { node: number; pages: number[] }[];
  /** Number of change runs (consecutive changed pages). */
  changes: number;
}

/** A source location on one side: file indexes DiffSideInfo.files, line is 1-based. */
export interface DiffLocation {
  file: number;
  line: number;
}

/** One run of changed pages. */
export interface DiffChangeRow {
  /** Index in DIFF_CLASS_NAMES. */
  cls: number;
  /** Rows it covers: [rowStart, rowEnd). */
  rowStart: number;
  rowEnd: number;
  /** First and last key (hex pfn or vaddr), and where B has it when elsewhere (CoW split, migration). */
  start: string;
  end: string;
  startAfter: string | null;
  pages: number;
  ownerBefore: string | null;
  ownerAfter: string | null;
  a: DiffLocation | null;
  b: DiffLocation | null;
}

/** Class per map cell for rows [start, end) in `cells` cells, on both sides. */
export interface DiffMapRequest {
  kind: 'diffMap';
  start: number;
  end: number;
  cells: number;
}

/** The cells: per side, the most frequent changed class of the cell's pages, else unchanged, else DIFF_CELL_EMPTY. */
export interface DiffMapReply {
  kind: 'diffMap';
  start: number;
  end: number;
  cells: number;
  a: Uint8Array;
  b: Uint8Array;
}

/** A page of the change list, optionally of one class only. */
export interface DiffChangesRequest {
  kind: 'diffChanges';
  offset: number;
  limit: number;
  cls?: number;
}

/** Change runs from `offset`, and how many there are in all (of that class). */
export interface DiffChangesReply {
  kind: 'diffChanges';
  offset: number;
  total: number;
  changes: DiffChangeRow[];
}

/** The change run at a row, or the first one after it. */
export interface DiffAtRequest {
  kind: 'diffAt';
  row: number;
}

/** The run found, null when no change is at or after the row. */
export interface DiffAtReply {
  kind: 'diffAt';
  change: DiffChangeRow | null;
}

/** A request the core could not answer. */
export interface DiffErrorReply {
  kind: 'error';
  message: string;
}

/** Every request of the diff webview. */
export type DiffRequest = DiffMapRequest | DiffChangesRequest | DiffAtRequest;

/** Every reply to a DiffRequest. */
export type DiffReply = DiffMapReply | DiffChangesReply | DiffAtReply | DiffErrorReply;
