import type { SnapshotInfo } from '../model/traceBuilder';
import type { TraceModel } from '../trace';
import { ownershipAt } from './ownershipAt';
import { FREED, PAGE_BYTES, snapshotPageSet, type PageSet } from './pageSet';
import { hex } from './replay';
import { jsonPieces, LazyList } from '../export/jsonPieces';

/**
 * Classes of per-page change, in the order of the `classes` object. Their numeric index is stored per
 * row (DiffRows.cls) and sent to the diff webview, so append, never reorder.
 */
export const DIFF_CLASSES = ['unchanged', 'added', 'removed', 'ownerChanged', 'cowSplit', 'newlyShared', 'migrated', 'movedToSnapshot', 'freed', 'leaked'] as const;
/** One of DIFF_CLASSES. */
export type DiffClass = (typeof DIFF_CLASSES)[number];

const UNCHANGED = 0;
const ADDED = 1;
const REMOVED = 2;
const OWNER_CHANGED = 3;
const COW_SPLIT = 4;
const NEWLY_SHARED = 5;
const MIGRATED = 6;
const MOVED_TO_SNAPSHOT = 7;
const FREED_CLASS = 8;
const LEAKED = 9;

/** Pages (and bytes) per class. */
export type ClassCounts = Record<DiffClass, number>;

/**
 * Every compared page as one row, columnar, in key order: `a`/`b` index the page on each side (-1 when
 * the side has none). A CoW split or a migration pairs the process's page in A with its new frame in B,
 * so that row's two pages sit at different keys.
 */
export interface DiffRows {
  length: number;
  cls: Uint8Array;
  a: Int32Array;
  b: Int32Array;
}

/** Two page sets and how every page changed between them. */
export interface SnapshotDiff {
  a: PageSet;
  b: PageSet;
  rows: DiffRows;
  classes: ClassCounts;
  /** Owner labels of both sides (one list); `byOwner` rows index it. */
  ownerLabels: string[];
  /** Pages per class for each owner label (a page counts under its owner in A, or in B when A lacks it). */
  byOwner: Map<string, ClassCounts>;
  /** Pages per class for each NUMA node (-1 unknown), counted like byOwner. */
  byNode: Map<number, ClassCounts>;
}

/** A run of consecutive pages with the same change, as printed by `pageledger diff --json`. */
export interface DiffChange {
  class: DiffClass;
  /** First and last key of the run on the side that has it (A first), hex pfn or vaddr. */
  start: string;
  end: string;
  pages: number;
  /** Where the run is in B when B has it at another key (CoW split, migration). */
  startAfter: string | null;
  ownerBefore: string | null;
  ownerAfter: string | null;
  nodeBefore: number | null;
  nodeAfter: number | null;
  /** Source file and 1-based line of the run's first page on each side. */
  fileA: string | null;
  lineA: number | null;
  fileB: string | null;
  lineB: number | null;
}

/** Pages and bytes per class for one owner or node. */
export interface DiffTotals {
  pages: ClassCounts;
  bytes: ClassCounts;
}

/** The result of `pageledger diff --json`. */
export interface DiffResult {
  a: { name: string; file: string; id: number | null; time: number | null; pages: number };
  b: { name: string; file: string; id: number | null; time: number | null; pages: number };
  /** Matched by `pfn` or by virtual page (`vaddr`, CRIU). */
  key: 'pfn' | 'vaddr';
  /** Pages per class. */
  classes: ClassCounts;
  /** Bytes per class (4 KiB pages). */
  bytes: ClassCounts;
  byOwner: ({ owner: string } & DiffTotals)[];
  byNode: ({ node: number } & DiffTotals)[];
  changes: DiffChange[];
}

/** Zero counts for every class. */
export function emptyCounts(): ClassCounts {
  const c = {} as ClassCounts;
  for (const k of DIFF_CLASSES) c[k] = 0;
  return c;
}

/** Snapshots of a model that can be compared. */
export function listComparable(m: TraceModel): SnapshotInfo[] {
  return m.builder.snapshots.objects();
}

/**
 * Compare two page sets page by page. Pages are matched by key; then a process page of A whose key B
 * does not hold for that process any more is paired with B's page of the same process at the same
 * virtual address: on another node it *migrated*; otherwise, if B is a snapshot or B's snapshot now holds
 * the old frame, it is a *CoW split*. Rows with a page in B of an exited process are *leaked* unless A
 * already had them leaked. Linear in the pages after the sort of each side.
 */
export function diffPageSets(a: PageSet, b: PageSet): SnapshotDiff {
  if (a.keyKind !== b.keyKind) throw new Error(`cannot compare ${a.name} (keyed by ${a.keyKind}) with ${b.name} (keyed by ${b.keyKind})`);
  // Owners of both sides in one label list, so equality is an integer compare.
  const labels: string[] = [];
  const labelIndex = new Map<string, number>();
  const mapOwners = (s: PageSet): Int32Array => {
    const out = new Int32Array(s.owners.length);
    s.owners.forEach((o, i) => {
      let g = labelIndex.get(o.label);
      if (g === undefined) {
        g = labels.length;
        labels.push(o.label);
        labelIndex.set(o.label, g);
      }
      out[i] = g;
    });
    return out;
  };
  const ga = mapOwners(a);
  const gb = mapOwners(b);

  // 1. Merge by key. Free pages in B only matter when A has the page there.
  const cap = a.length + b.length;
  let ra = new Int32Array(cap);
  let rb = new Int32Array(cap);
  let n = 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const ka = i < a.length ? a.key[i] : Infinity;
    const kb = j < b.length ? b.key[j] : Infinity;
    if (ka < kb) {
      if (a.state[i] !== FREED) {
        ra[n] = i;
        rb[n++] = -1;
      }
      i++;
    } else if (kb < ka) {
      if (b.state[j] !== FREED) {
        ra[n] = -1;
        rb[n++] = j;
      }
      j++;
    } else {
      if (a.state[i] !== FREED || b.state[j] !== FREED) {
        ra[n] = a.state[i] === FREED ? -1 : i;
        rb[n++] = j;
      }
      i++;
      j++;
    }
  }

  // 2. Pair a process page of A that lost its frame with the same process's page at the same vaddr in B.
  const sameOwnerAt = (r: number): boolean => ra[r] >= 0 && rb[r] >= 0 && b.state[rb[r]] !== FREED && ga[a.owner[ra[r]]] === gb[b.owner[rb[r]]];
  let candidates = 0;
  for (let r = 0; r < n; r++) if (rb[r] >= 0 && ra[r] < 0) candidates++;
  const bOnly = new PidVaddrIndex(candidates);
  for (let r = 0; r < n; r++) {
    const jb = rb[r];
    if (jb < 0 || ra[r] >= 0 || b.state[jb] === FREED) continue;
    const pid = b.owners[b.owner[jb]].pid;
    const va = b.vaddr[jb];
    if (pid < 0 || va !== va || b.owners[b.owner[jb]].kind !== 'process') continue;
    bOnly.set(pid, va, r);
  }
  const pairedCls = new Uint8Array(n);
  const dropped = new Uint8Array(n);
  if (bOnly.size() > 0) {
    for (let r = 0; r < n; r++) {
      const ia = ra[r];
      if (ia < 0 || sameOwnerAt(r)) continue;
      const ao = a.owners[a.owner[ia]];
      if (ao.kind !== 'process' || ao.pid < 0) continue;
      const va = a.vaddr[ia];
      const target = va === va ? bOnly.get(ao.pid, va) : -1;
      if (target < 0 || dropped[target]) continue;
      const jb = rb[target];
      const na = a.node[ia];
      const nb = b.node[jb];
      let cls = -1;
      if (na >= 0 && nb >= 0 && na !== nb) cls = MIGRATED;
      else if (!b.live) cls = COW_SPLIT;
      else {
        const old = rb[r];
        if (old >= 0 && b.state[old] !== FREED && b.owners[b.owner[old]].kind === 'snapshot') cls = COW_SPLIT;
      }
      if (cls < 0) continue;
      rb[r] = jb;
      pairedCls[r] = cls + 1;
      dropped[target] = 1;
    }
  }

  // 3. Classify, compact the rows, count.
  const cls = new Uint8Array(n);
  const classes = new Float64Array(DIFF_CLASSES.length);
  const ownerCounts = new Map<number, Float64Array>();
  const nodeCounts = new Map<number, Float64Array>();
  let m = 0;
  let lastOwner = -1;
  let lastOwnerRow: Float64Array | null = null;
  let lastNode = -2;
  let lastNodeRow: Float64Array | null = null;
  for (let r = 0; r < n; r++) {
    if (dropped[r]) continue;
    const ia = ra[r];
    let jb = rb[r];
    if (jb >= 0 && b.state[jb] === FREED && !pairedCls[r]) jb = -1;
    let c: number;
    if (pairedCls[r]) c = pairedCls[r] - 1;
    else if (ia >= 0 && jb < 0) c = rb[r] >= 0 ? FREED_CLASS : REMOVED;
    else if (ia < 0) c = ADDED;
    else {
      const oa = ga[a.owner[ia]];
      const ob = gb[b.owner[jb]];
      if (oa === ob) {
        const sameAlloc = (a.allocId[ia] === b.allocId[jb] || (a.allocId[ia] !== a.allocId[ia] && b.allocId[jb] !== b.allocId[jb])) && a.allocOrder[ia] === b.allocOrder[jb];
        if (!sameAlloc) c = OWNER_CHANGED;
        else if (a.node[ia] >= 0 && b.node[jb] >= 0 && a.node[ia] !== b.node[jb]) c = MIGRATED;
        else if (b.shared[jb] && !a.shared[ia]) c = NEWLY_SHARED;
        else c = UNCHANGED;
      } else {
        const ao = a.owners[a.owner[ia]];
        const bo = b.owners[b.owner[jb]];
        c = bo.kind === 'snapshot' && ao.kind === 'process' && bo.pid === ao.pid ? MOVED_TO_SNAPSHOT : OWNER_CHANGED;
      }
    }
    if (jb >= 0 && b.exited[jb] && !(ia >= 0 && a.exited[ia])) c = LEAKED;
    ra[m] = ia;
    rb[m] = rb[r] >= 0 && (jb >= 0 || c === FREED_CLASS) ? rb[r] : -1;
    cls[m++] = c;
    classes[c]++;
    const owner = ia >= 0 ? ga[a.owner[ia]] : gb[b.owner[jb]];
    if (owner !== lastOwner) {
      lastOwner = owner;
      lastOwnerRow = ownerCounts.get(owner) ?? null;
      if (!lastOwnerRow) ownerCounts.set(owner, (lastOwnerRow = new Float64Array(DIFF_CLASSES.length)));
    }
    lastOwnerRow![c]++;
    const node = ia >= 0 ? a.node[ia] : b.node[jb];
    if (node !== lastNode) {
      lastNode = node;
      lastNodeRow = nodeCounts.get(node) ?? null;
      if (!lastNodeRow) nodeCounts.set(node, (lastNodeRow = new Float64Array(DIFF_CLASSES.length)));
    }
    lastNodeRow![c]++;
  }
  ra = ra.subarray(0, m);
  rb = rb.subarray(0, m);
  const toCounts = (v: Float64Array): ClassCounts => {
    const o = emptyCounts();
    DIFF_CLASSES.forEach((k, x) => (o[k] = v[x]));
    return o;
  };
  const byOwner = new Map<string, ClassCounts>();
  for (const [o, v] of [...ownerCounts].sort((x, y) => x[0] - y[0])) byOwner.set(labels[o], toCounts(v));
  const byNode = new Map<number, ClassCounts>();
  for (const [o, v] of [...nodeCounts].sort((x, y) => x[0] - y[0])) byNode.set(o, toCounts(v));
  return { a, b, rows: { length: m, cls: cls.subarray(0, m), a: ra, b: rb }, classes: toCounts(classes), ownerLabels: labels, byOwner, byNode };
}

/**
 * Row of B's page of process `pid` at virtual address `va`, by open addressing over typed arrays: a
 * Map per pid keyed by addresses above 2^31 (heap numbers, not small integers) was a third of the
 * classification of two 1 M-page snapshots (75 k pages that moved).
 */
class PidVaddrIndex {
  private readonly mask: number;
  private readonly pid: Float64Array;
  private readonly va: Float64Array;
  /** Row + 1; 0 is an empty slot. */
  private readonly row: Int32Array;
  private count = 0;

  constructor(capacity: number) {
    let slots = 16;
    while (slots < capacity * 2) slots *= 2;
    this.mask = slots - 1;
    this.pid = new Float64Array(slots);
    this.va = new Float64Array(slots);
    this.row = new Int32Array(slots);
  }

  size(): number {
    return this.count;
  }

  private slot(pid: number, va: number): number {
    const lo = va % 4294967296 | 0;
    const hi = (va / 4294967296) | 0;
    let h = Math.imul(pid ^ Math.imul(hi, 0x27d4eb2d), 0x9e3779b1) ^ Math.imul(lo ^ (lo >>> 15), 0x85ebca6b);
    h ^= h >>> 13;
    let s = h & this.mask;
    while (this.row[s] !== 0 && (this.pid[s] !== pid || this.va[s] !== va)) s = (s + 1) & this.mask;
    return s;
  }

  /** Remember row r for (pid, va); a later row for the same pair replaces it. */
  set(pid: number, va: number, r: number): void {
    const s = this.slot(pid, va);
    if (this.row[s] === 0) {
      this.count++;
      this.pid[s] = pid;
      this.va[s] = va;
    }
    this.row[s] = r + 1;
  }

  /** The row set for (pid, va), or -1. */
  get(pid: number, va: number): number {
    return this.row[this.slot(pid, va)] - 1;
  }
}

/** How a diff side is chosen: a snapshot of a model, or the model's ownership at a time. */
export type DiffSideSpec = { model: TraceModel; snapshot: number } | { model: TraceModel; time: number; pid?: number };

/**
 * Build the page sets of two sides and compare them. A time side compared with a snapshot of process P
 * is limited to P's pages and the snapshot's frames, so the rest of the machine does not show as added;
 * two times with a pid are limited to that pid's pages plus the frames it had on the other side, so a page
 * it freed shows as freed and one it took from another owner as ownerChanged.
 */
export function diffSides(sa: DiffSideSpec, sb: DiffSideSpec): SnapshotDiff {
  const snapA = 'snapshot' in sa ? snapshotPageSet(sa.model, sa.snapshot) : null;
  const snapB = 'snapshot' in sb ? snapshotPageSet(sb.model, sb.snapshot) : null;
  if (snapA && snapB) return diffPageSets(snapA, snapB);
  const live = (s: DiffSideSpec, snap: PageSet, snapPid: number | undefined): PageSet => {
    const t = s as { model: TraceModel; time: number; pid?: number };
    const state = ownershipAt(t.model, t.time);
    const pid = t.pid ?? snapPid;
    // A snapshot of no process in particular (a page_owner dump) is compared with the whole machine.
    return pid === undefined ? state.toPageSet() : state.toPageSet({ pid, pfns: snap.pfn });
  };
  const pidOf = (s: DiffSideSpec): number | undefined => ('snapshot' in s ? s.model.builder.snapshot(s.snapshot)?.pid : undefined);
  if (snapA) return diffPageSets(snapA, live(sb, snapA, pidOf(sa)));
  if (snapB) return diffPageSets(live(sa, snapB, pidOf(sb)), snapB);
  const ta = sa as { model: TraceModel; time: number; pid?: number };
  const tb = sb as { model: TraceModel; time: number; pid?: number };
  const stA = ownershipAt(ta.model, ta.time);
  const stB = tb.model === ta.model && tb.time === ta.time ? stA : ownershipAt(tb.model, tb.time);
  const pid = ta.pid ?? tb.pid;
  if (pid === undefined) return diffPageSets(stA.toPageSet(), stB.toPageSet());
  const a0 = stA.toPageSet({ pid });
  const b0 = stB.toPageSet({ pid });
  return diffPageSets(stA.toPageSet({ pid, pfns: b0.pfn }), stB.toPageSet({ pid, pfns: a0.pfn }));
}

/** Compare snapshot `ida` of model `ma` with snapshot `idb` of model `mb`, as printed by the CLI. */
export function diffSnapshots(ma: TraceModel, ida: number, mb: TraceModel, idb: number): DiffResult {
  return toDiffResult(diffSides({ model: ma, snapshot: ida }, { model: mb, snapshot: idb }));
}

/** Counts times the page size. */
function bytesOf(c: ClassCounts): ClassCounts {
  const o = emptyCounts();
  for (const k of DIFF_CLASSES) o[k] = c[k] * PAGE_BYTES;
  return o;
}

/** Where the rows of one run of changed pages start and how far they go. */
export interface ChangeRun {
  cls: number;
  /** First and one-past-last row. */
  start: number;
  end: number;
}

/**
 * Runs of changed rows: consecutive rows of one class, with the same owners, whose keys follow each
 * other on both sides. Unchanged rows are skipped.
 */
export function changeRuns(d: SnapshotDiff): ChangeRun[] {
  const { rows, a, b } = d;
  const out: ChangeRun[] = [];
  let cur: ChangeRun | null = null;
  for (let r = 0; r < rows.length; r++) {
    const c = rows.cls[r];
    if (c === UNCHANGED) {
      cur = null;
      continue;
    }
    if (cur && cur.cls === c && cur.end === r && follows(d, r - 1, r)) {
      cur.end = r + 1;
      continue;
    }
    cur = { cls: c, start: r, end: r + 1 };
    out.push(cur);
  }
  return out;

  function follows(_d: SnapshotDiff, p: number, r: number): boolean {
    const pa = rows.a[p];
    const ia = rows.a[r];
    const pb = rows.b[p];
    const ib = rows.b[r];
    if ((pa < 0) !== (ia < 0) || (pb < 0) !== (ib < 0)) return false;
    if (ia >= 0 && (a.key[ia] !== a.key[pa] + 1 || a.owners[a.owner[ia]].label !== a.owners[a.owner[pa]].label)) return false;
    if (ib >= 0 && (b.key[ib] !== b.key[pb] + 1 || b.owners[b.owner[ib]].label !== b.owners[b.owner[pb]].label || b.state[ib] !== b.state[pb])) return false;
    return true;
  }
}

/** One run as printed. */
export function describeRun(d: SnapshotDiff, run: ChangeRun): DiffChange {
  const { a, b, rows } = d;
  const ia = rows.a[run.start];
  const ib = rows.b[run.start];
  const lastA = rows.a[run.end - 1];
  const lastB = rows.b[run.end - 1];
  const keyText = (s: PageSet, k: number): string => hex(s.keyKind === 'vaddr' ? k * PAGE_BYTES : k);
  const useA = ia >= 0;
  const bHeld = ib >= 0 && b.state[ib] !== FREED;
  return {
    class: DIFF_CLASSES[run.cls],
    start: useA ? keyText(a, a.key[ia]) : keyText(b, b.key[ib]),
    end: useA ? keyText(a, a.key[lastA]) : keyText(b, b.key[lastB]),
    pages: run.end - run.start,
    startAfter: useA && ib >= 0 && b.key[ib] !== a.key[ia] ? keyText(b, b.key[ib]) : null,
    ownerBefore: useA ? a.owners[a.owner[ia]].label : null,
    ownerAfter: bHeld ? b.owners[b.owner[ib]].label : null,
    nodeBefore: useA ? a.node[ia] : null,
    nodeAfter: bHeld ? b.node[ib] : null,
    fileA: useA ? (a.files[a.file[ia]] ?? null) : null,
    lineA: useA ? a.line[ia] : null,
    fileB: ib >= 0 ? (b.files[b.file[ib]] ?? null) : null,
    lineB: ib >= 0 ? b.line[ib] : null,
  };
}

/** Which snapshot id or time each side was asked for, as printed. */
export type DiffSideIds = { a?: { id?: number; time?: number }; b?: { id?: number; time?: number } };

/** The printed form of a diff (what `pageledger diff --json` writes). */
export function toDiffResult(d: SnapshotDiff, ids: DiffSideIds = {}): DiffResult {
  return diffResultShape(d, ids, (runs) => runs.map((r) => describeRun(d, r))) as DiffResult;
}

/**
 * The text of `JSON.stringify(toDiffResult(d, ids), null, 2)` in pieces, each change run described as it
 * is written instead of all of them held as objects and then as one string.
 */
export function diffResultJson(d: SnapshotDiff, ids: DiffSideIds = {}): Generator<string> {
  return jsonPieces(diffResultShape(d, ids, (runs) => new LazyList(runs.length, (k) => describeRun(d, runs[k]))), 2);
}

/** The fields of a DiffResult in their printed order, the change runs described by `changes`. */
function diffResultShape(d: SnapshotDiff, ids: DiffSideIds, changes: (runs: ChangeRun[]) => unknown): Record<keyof DiffResult, unknown> {
  const side = (s: PageSet, id?: { id?: number; time?: number }): DiffResult['a'] => ({
    name: s.name,
    file: s.origin,
    id: id?.id ?? null,
    time: id?.time === undefined ? null : id.time === Infinity ? null : id.time,
    pages: countHeld(s),
  });
  return {
    a: side(d.a, ids.a),
    b: side(d.b, ids.b),
    key: d.a.keyKind,
    classes: d.classes,
    bytes: bytesOf(d.classes),
    byOwner: [...d.byOwner].map(([owner, pages]) => ({ owner, pages, bytes: bytesOf(pages) })),
    byNode: [...d.byNode].map(([node, pages]) => ({ node, pages, bytes: bytesOf(pages) })),
    changes: changes(changeRuns(d)),
  };
}

/** Pages a side holds (free pages of a live state left out). */
export function countHeld(s: PageSet): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.state[i] !== FREED) n++;
  return n;
}
