import type { AnomalyKind } from '../../core/analysis/anomalies';
import { ownerLabel, type OwnerKind } from '../../core/model/owners';
import { anomalySummary, layoutSummary, ownerHeldPages, ownerRank, ownerSummary, rankedOwnerIds, snapshotSummary, topOwnerIds, type AnomalySummary, type OwnerSummary, type SnapshotSummary, type TraceModel } from '../../core/trace';
import type { ListPage, TraceDigest } from '../../protocol/worker';
import { stepAnomaly, type TraceLocation } from './navigation';

/**
 * How much of each long list `open` carries. 200 rows fill the first screens of the tree and the status
 * bar; the 103 MB trace's full lists (74 k owners, snapshots, anomalies) were 11.3 MB of JSON.
 */
export const DIGEST_HEAD = 200;

/** Whether any of `texts` contains `filter`, ignoring case (an empty filter matches everything). */
export function matchesFilter(filter: string | undefined, ...texts: string[]): boolean {
  if (!filter) return true;
  const f = filter.toLowerCase();
  return texts.some((t) => t.toLowerCase().includes(f));
}

/** The items of `list` that `keep`, from `offset`, at most `limit` of them, and how many there are in all. */
export function pageOf<T>(list: readonly T[], keep: (x: T) => boolean, offset: number, limit: number): ListPage<T> {
  const page: ListPage<T> = { items: [], indices: [], total: 0 };
  for (let k = 0; k < list.length; k++) {
    if (!keep(list[k])) continue;
    if (page.total >= offset && page.items.length < limit) {
      page.items.push(list[k]);
      page.indices.push(k);
    }
    page.total++;
  }
  return page;
}

/**
 * A model's long lists as the extension pages them: built in the worker on first need and kept with the
 * model, so `open` answers with a digest and the tree, Problems, hovers and CodeLens ask for pages.
 */
export class SummaryLists {
  private ownerIds: number[] | undefined;
  private ownerList: OwnerSummary[] | undefined;
  private snapshotList: SnapshotSummary[] | undefined;
  private anomalyList: AnomalySummary[] | undefined;
  private commOfPid: Map<number, string> | undefined;

  constructor(private readonly m: TraceModel) {}

  /** What `open` answers. */
  digest(): TraceDigest {
    const { builder: b, result: r } = this.m;
    // The owners counted by kind in one pass, and only the first ones ranked: sorting all of them was most
    // of the digest (74 k owners of a 103 MB trace). The kinds go in the order of their best-ranked
    // owner, the order a walk down the ranked list meets them.
    const rank = ownerRank(this.m);
    const kindCount = new Map<OwnerKind, number>();
    const kindBest = new Map<OwnerKind, number>();
    let ownerCount = 0;
    for (let id = 1; id < b.owners.size; id++) {
      if (!ownerHeldPages(this.m, id)) continue;
      ownerCount++;
      const kind = b.owners.kindOf(id);
      kindCount.set(kind, (kindCount.get(kind) ?? 0) + 1);
      const best = kindBest.get(kind);
      if (best === undefined || rank(id, best) < 0) kindBest.set(kind, id);
    }
    const ownerKindCounts: Partial<Record<OwnerKind, number>> = {};
    for (const [kind] of [...kindBest].sort((x, y) => rank(x[1], y[1]))) ownerKindCounts[kind] = kindCount.get(kind);
    const top = this.ownerIds ? this.ownerIds.slice(0, DIGEST_HEAD) : topOwnerIds(this.m, DIGEST_HEAD);
    let liveSnapshotCount = 0;
    for (const s of b.snapshots) if (!(r.snapshots.get(s.id)?.dropped ?? false)) liveSnapshotCount++;
    const anomalyCounts: Record<string, number> = {};
    for (const a of r.anomalies) anomalyCounts[a.kind] = (anomalyCounts[a.kind] ?? 0) + 1;
    const snapshots = Math.min(DIGEST_HEAD, b.snapshots.length);
    const anomalies = Math.min(DIGEST_HEAD, r.anomalies.length);
    return {
      format: this.m.format,
      files: b.files.map((f) => ({ path: f.path, format: f.format, bytes: f.bytes, lines: f.lines })),
      counts: r.counts,
      livePages: r.livePages,
      topOwners: top.map((id) => ownerSummary(this.m, id)),
      ownerCount,
      ownerKindCounts,
      firstSnapshots: Array.from({ length: snapshots }, (_, k) => this.snapshot(k)),
      snapshotCount: b.snapshots.length,
      liveSnapshotCount,
      layout: layoutSummary(this.m),
      firstAnomalies: Array.from({ length: anomalies }, (_, k) => anomalySummary(this.m, k)),
      anomalyCount: r.anomalies.length,
      anomalyCounts,
      time: { start: r.timeStart, end: r.timeEnd },
      stats: { ...this.m.stats, events: b.events.length, parseErrorsDropped: b.droppedErrors },
    };
  }

  /** Every owner that holds or held pages, most live pages first. */
  owners(): OwnerSummary[] {
    return (this.ownerList ??= this.rankedIds().map((id) => ownerSummary(this.m, id)));
  }

  private rankedIds(): number[] {
    return (this.ownerIds ??= rankedOwnerIds(this.m));
  }

  /** Every snapshot in trace order, with its process's comm when the snapshot names only a pid. */
  snapshots(): SnapshotSummary[] {
    return (this.snapshotList ??= this.m.builder.snapshots.map((_, k) => this.snapshot(k)));
  }

  /** Every anomaly in the order the analysis found them. */
  anomalies(): AnomalySummary[] {
    return (this.anomalyList ??= this.m.result.anomalies.map((_, k) => anomalySummary(this.m, k)));
  }

  ownerPage(q: { kind?: OwnerKind; filter?: string; offset: number; limit: number }): ListPage<OwnerSummary> {
    return pageOf(this.owners(), (o) => (q.kind === undefined || o.kind === q.kind) && matchesFilter(q.filter, ownerLabel(o)), q.offset, q.limit);
  }

  snapshotPage(q: { file?: string; id?: number; filter?: string; offset: number; limit: number }): ListPage<SnapshotSummary> {
    return pageOf(this.snapshots(), (x) => (q.file === undefined || x.file === q.file) && (q.id === undefined || x.id === q.id) && matchesFilter(q.filter, x.name, x.comm ?? ''), q.offset, q.limit);
  }

  anomalyPage(q: { kind?: AnomalyKind; file?: string; line?: number; filter?: string; offset: number; limit: number }): ListPage<AnomalySummary> {
    return pageOf(this.anomalies(), (a) => (q.kind === undefined || a.kind === q.kind) && (q.file === undefined || a.file === q.file) && (q.line === undefined || a.line === q.line) && matchesFilter(q.filter, a.message, a.kind), q.offset, q.limit);
  }

  /** Next / Previous Anomaly from a location (see stepAnomaly), or null when the trace has none. */
  step(from: TraceLocation | null, direction: 1 | -1): { index: number; total: number; anomaly: AnomalySummary } | null {
    const list = this.anomalies();
    const index = stepAnomaly(list, this.m.builder.files.map((f) => f.path), from, direction);
    return index < 0 ? null : { index, total: list.length, anomaly: list[index] };
  }

  private snapshot(k: number): SnapshotSummary {
    const s = snapshotSummary(this.m, k);
    if (s.comm !== undefined || s.pid === undefined) return s;
    // As snapshotPageSet names a side: the comm the trace knows for the pid, from its first process owner.
    // The best-ranked such owner of each pid, found in one pass without ranking them all.
    if (!this.commOfPid) {
      const owners = this.m.builder.owners;
      const rank = ownerRank(this.m);
      const best = new Map<number, number>();
      for (let id = 1; id < owners.size; id++) {
        if (owners.kindOf(id) !== 'process' || !ownerHeldPages(this.m, id)) continue;
        const pid = owners.pidOf(id);
        if (pid === undefined || !owners.commOf(id)) continue;
        const had = best.get(pid);
        if (had === undefined || rank(id, had) < 0) best.set(pid, id);
      }
      this.commOfPid = new Map();
      for (const [pid, id] of best) this.commOfPid.set(pid, owners.commOf(id)!);
    }
    const comm = this.commOfPid.get(s.pid);
    return comm === undefined ? s : { ...s, comm };
  }
}
