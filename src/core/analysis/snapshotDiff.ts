import { EventKind } from '../model/events';
import { ownerLabel } from '../model/owners';
import type { SnapshotInfo } from '../model/traceBuilder';
import type { TraceModel } from '../trace';
import { hex } from './replay';

/** Classes of per-page change between two snapshots. */
export const DIFF_CLASSES = ['unchanged', 'added', 'removed', 'ownerChanged'] as const;
/** One of DIFF_CLASSES. */
export type DiffClass = (typeof DIFF_CLASSES)[number];

/** One page of a snapshot, as compared. */
export interface SnapshotPage {
  /** The key pages are matched by: pfn, or vaddr when the source has no pfns (CRIU). */
  key: number;
  pfn: number;
  vaddr: number;
  owner: string;
  /** Allocation identity for page_owner (order, mask, timestamp); empty when the source has none. */
  alloc: string;
  file: number;
  line: number;
}

/** A run of consecutive pages with the same change. */
export interface DiffChange {
  class: DiffClass;
  /** First and last key (pfn or vaddr page) of the run, hex. */
  start: string;
  end: string;
  pages: number;
  ownerBefore: string | null;
  ownerAfter: string | null;
  lineA: number | null;
  lineB: number | null;
}

/** The result of `pageledger diff`. */
export interface DiffResult {
  a: { name: string; file: string; id: number };
  b: { name: string; file: string; id: number };
  /** Matched by `pfn` or by `vaddr`. */
  key: 'pfn' | 'vaddr';
  classes: Record<DiffClass, number>;
  changes: DiffChange[];
}

/** Snapshots of a model that can be compared. */
export function listComparable(m: TraceModel): SnapshotInfo[] {
  return m.builder.snapshots;
}

/** Pages of snapshot `id`, sorted by key. */
export function snapshotPages(m: TraceModel, id: number): SnapshotPage[] {
  const b = m.builder;
  const ev = b.events;
  const info = b.snapshot(id);
  const procOwner = info?.pid !== undefined ? b.owners.findProcess(info.pid) : undefined;
  const out: SnapshotPage[] = [];
  let byVaddr = false;
  for (let i = 0; i < ev.length; i++) {
    const k = ev.kind.get(i);
    if ((k !== EventKind.SnapRef && k !== EventKind.Record) || ev.ref.get(i) !== id) continue;
    const pfn = ev.pfn.get(i);
    const vaddr = ev.arg.get(i);
    const n = 2 ** ev.orderCol.get(i);
    const ownerId = k === EventKind.Record ? ev.owner.get(i) : procOwner;
    const owner = ownerId !== undefined ? ownerLabel(b.owners.get(ownerId)) : info?.pid !== undefined ? `pid ${info.pid}` : 'snapshot';
    const alloc = k === EventKind.Record ? `order ${ev.orderCol.get(i)} at ${ev.time.get(i)} site ${ev.arg2.get(i)}` : '';
    if (pfn !== pfn) byVaddr = true;
    for (let p = 0; p < n; p++) {
      out.push({ key: 0, pfn: pfn + p, vaddr: vaddr + p * 4096, owner, alloc, file: ev.file.get(i), line: ev.line.get(i) });
    }
  }
  for (const pg of out) pg.key = byVaddr ? Math.floor(pg.vaddr / 4096) : pg.pfn;
  out.sort((x, y) => x.key - y.key);
  return out;
}

/** Compare snapshot `ida` of model `ma` with snapshot `idb` of model `mb`, page by page. */
export function diffSnapshots(ma: TraceModel, ida: number, mb: TraceModel, idb: number): DiffResult {
  const A = snapshotPages(ma, ida);
  const B = snapshotPages(mb, idb);
  const byVaddr = A.some((p) => p.pfn !== p.pfn) || B.some((p) => p.pfn !== p.pfn);
  if (byVaddr) {
    for (const p of A) p.key = Math.floor(p.vaddr / 4096);
    for (const p of B) p.key = Math.floor(p.vaddr / 4096);
    A.sort((x, y) => x.key - y.key);
    B.sort((x, y) => x.key - y.key);
  }
  const classes: Record<DiffClass, number> = { unchanged: 0, added: 0, removed: 0, ownerChanged: 0 };
  const changes: DiffChange[] = [];
  let run: DiffChange | null = null;
  let runKey = -2;
  const emit = (cls: DiffClass, key: number, pa: SnapshotPage | null, pb: SnapshotPage | null): void => {
    classes[cls]++;
    if (cls === 'unchanged') return;
    const before = pa?.owner ?? null;
    const after = pb?.owner ?? null;
    if (run && run.class === cls && key === runKey + 1 && run.ownerBefore === before && run.ownerAfter === after) {
      run.pages++;
      run.end = hex(byVaddr ? key * 4096 : key);
    } else {
      run = { class: cls, start: hex(byVaddr ? key * 4096 : key), end: hex(byVaddr ? key * 4096 : key), pages: 1, ownerBefore: before, ownerAfter: after, lineA: pa?.line ?? null, lineB: pb?.line ?? null };
      changes.push(run);
    }
    runKey = key;
  };
  let i = 0;
  let j = 0;
  while (i < A.length || j < B.length) {
    const ka = i < A.length ? A[i].key : Infinity;
    const kb = j < B.length ? B[j].key : Infinity;
    if (ka < kb) emit('removed', ka, A[i++], null);
    else if (kb < ka) emit('added', kb, null, B[j++]);
    else {
      const pa = A[i++];
      const pb = B[j++];
      emit(pa.owner === pb.owner && pa.alloc === pb.alloc ? 'unchanged' : pa.owner === pb.owner ? 'ownerChanged' : 'ownerChanged', ka, pa, pb);
    }
  }
  const ia = ma.builder.snapshot(ida)!;
  const ib = mb.builder.snapshot(idb)!;
  return {
    a: { name: ia.name, file: ma.builder.files[ia.file]?.path ?? '', id: ida },
    b: { name: ib.name, file: mb.builder.files[ib.file]?.path ?? '', id: idb },
    key: byVaddr ? 'vaddr' : 'pfn',
    classes,
    changes,
  };
}
