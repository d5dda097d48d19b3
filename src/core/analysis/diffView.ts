import { DIFF_CELL_EMPTY, DIFF_CLASS_NAMES, type DiffChangeRow, type DiffReply, type DiffRequest, type DiffViewInit } from '../../protocol/diffData';
import { countHeld, describeRun, changeRuns, DIFF_CLASSES, type ChangeRun, type ClassCounts, type SnapshotDiff } from './snapshotDiff';
import { PAGE_BYTES } from './pageSet';

// The protocol repeats the class list so the webview needs no core import; a reorder here would
// recolour every map silently.
if (DIFF_CLASS_NAMES.join() !== DIFF_CLASSES.join()) throw new Error('diffData.DIFF_CLASS_NAMES and snapshotDiff.DIFF_CLASSES differ');

/** Map requests are capped at this many cells: a 4K screen of 2x2-pixel cells. */
const MAX_CELLS = 1 << 21;

const runsCache = new WeakMap<SnapshotDiff, ChangeRun[]>();

function runsOf(d: SnapshotDiff): ChangeRun[] {
  let r = runsCache.get(d);
  if (!r) runsCache.set(d, (r = changeRuns(d)));
  return r;
}

function counts(c: ClassCounts): number[] {
  return DIFF_CLASSES.map((k) => c[k]);
}

/** The diff webview's first-paint summary of a diff. */
export function diffViewInit(d: SnapshotDiff, title = `${d.a.name} ↔ ${d.b.name}`): DiffViewInit {
  return {
    title,
    key: d.a.keyKind,
    a: { name: d.a.name, files: d.a.files, pages: countHeld(d.a) },
    b: { name: d.b.name, files: d.b.files, pages: countHeld(d.b) },
    rows: d.rows.length,
    pages: counts(d.classes),
    pageBytes: PAGE_BYTES,
    byOwner: [...d.byOwner].map(([owner, c]) => ({ owner, pages: counts(c) })),
    byNode: [...d.byNode].map(([node, c]) => ({ node, pages: counts(c) })),
    changes: runsOf(d).length,
  };
}

/** Answer one request of the diff webview from the diff (pure; the host or the worker calls it). */
export function answerDiffRequest(d: SnapshotDiff, req: DiffRequest): DiffReply {
  switch (req.kind) {
    case 'diffMap':
      return diffMap(d, req.start, req.end, req.cells);
    case 'diffChanges': {
      const all = runsOf(d);
      const list = req.cls === undefined ? all : all.filter((r) => r.cls === req.cls);
      const offset = Math.max(0, Math.floor(req.offset));
      const limit = Math.max(0, Math.min(1000, Math.floor(req.limit)));
      return { kind: 'diffChanges', offset, total: list.length, changes: list.slice(offset, offset + limit).map((r) => changeRow(d, r)) };
    }
    case 'diffAt': {
      const all = runsOf(d);
      // First run ending after the row: binary search, runs are in row order.
      let lo = 0;
      let hi = all.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (all[mid].end <= req.row) lo = mid + 1;
        else hi = mid;
      }
      return { kind: 'diffAt', change: lo < all.length ? changeRow(d, all[lo]) : null };
    }
    default:
      return { kind: 'error', message: `unknown diff request ${JSON.stringify(req)}` };
  }
}

function changeRow(d: SnapshotDiff, r: ChangeRun): DiffChangeRow {
  const c = describeRun(d, r);
  const ia = d.rows.a[r.start];
  const ib = d.rows.b[r.start];
  return {
    cls: r.cls,
    rowStart: r.start,
    rowEnd: r.end,
    start: c.start,
    end: c.end,
    startAfter: c.startAfter,
    pages: c.pages,
    ownerBefore: c.ownerBefore,
    ownerAfter: c.ownerAfter,
    a: ia >= 0 ? { file: d.a.file[ia], line: d.a.line[ia] } : null,
    b: ib >= 0 ? { file: d.b.file[ib], line: d.b.line[ib] } : null,
  };
}

function diffMap(d: SnapshotDiff, start: number, end: number, cells: number): DiffReply {
  const rows = d.rows;
  start = Math.max(0, Math.floor(start));
  end = Math.min(rows.length, Math.floor(end));
  cells = Math.max(1, Math.min(MAX_CELLS, Math.floor(cells)));
  const k = DIFF_CLASSES.length;
  const ca = new Uint32Array(cells * k);
  const cb = new Uint32Array(cells * k);
  const span = end - start;
  for (let r = start; r < end; r++) {
    const cell = Math.floor(((r - start) * cells) / span);
    const c = rows.cls[r];
    if (rows.a[r] >= 0) ca[cell * k + c]++;
    if (rows.b[r] >= 0) cb[cell * k + c]++;
  }
  return { kind: 'diffMap', start, end, cells, a: dominant(ca, cells, k), b: dominant(cb, cells, k) };
}

/** Per cell: the changed class with most pages, else unchanged, else empty. A lone change stays visible. */
function dominant(counts: Uint32Array, cells: number, k: number): Uint8Array {
  const out = new Uint8Array(cells).fill(DIFF_CELL_EMPTY);
  for (let c = 0; c < cells; c++) {
    let best = -1;
    let bestN = 0;
    for (let x = 1; x < k; x++) {
      const n = counts[c * k + x];
      if (n > bestN) {
        bestN = n;
        best = x;
      }
    }
    if (best >= 0) out[c] = best;
    else if (counts[c * k] > 0) out[c] = 0;
  }
  return out;
}
