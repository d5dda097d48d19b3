import { diffSides, type DiffSideSpec, type SnapshotDiff } from '../../core/analysis/snapshotDiff';
import { renderDiffText, type SnapshotText } from '../../core/analysis/snapshotText';
import type { TraceModel } from '../../core/trace';
import type { DiffPair, DiffSideRef } from '../../protocol/worker';
import { diffPairKey } from './diffPair';

interface Kept {
  models: [TraceModel, TraceModel];
  diff: SnapshotDiff;
  text?: { a: SnapshotText; b: SnapshotText };
}

/**
 * The diffs the worker keeps, most recent first. A diff of two 1-million-page snapshots holds tens of MB
 * of columns, so only a few stay; one whose trace was reloaded (another model) is computed again.
 */
export class DiffCache {
  private readonly kept = new Map<string, Kept>();

  constructor(private readonly modelOf: (traceId: string) => TraceModel, private readonly max = 4) {}

  /** The diff of a pair, computed when not kept or when a side's trace was reloaded. */
  diff(p: DiffPair): SnapshotDiff {
    return this.entry(p).diff;
  }

  /** Both sides as aligned canonical text (rendered once per diff). */
  text(p: DiffPair): { a: SnapshotText; b: SnapshotText } {
    const e = this.entry(p);
    return (e.text ??= renderDiffText(e.diff));
  }

  /** How many diffs are kept. */
  get size(): number {
    return this.kept.size;
  }

  private entry(p: DiffPair): Kept {
    const key = diffPairKey(p);
    const ma = this.modelOf(p.a.traceId);
    const mb = this.modelOf(p.b.traceId);
    let e = this.kept.get(key);
    if (!e || e.models[0] !== ma || e.models[1] !== mb) e = { models: [ma, mb], diff: diffSides(spec(ma, p.a), spec(mb, p.b)) };
    // Re-insert so the map's order is least recently used first.
    this.kept.delete(key);
    this.kept.set(key, e);
    while (this.kept.size > this.max) this.kept.delete(this.kept.keys().next().value as string);
    return e;
  }
}

function spec(model: TraceModel, s: DiffSideRef): DiffSideSpec {
  return 'snapshot' in s ? { model, snapshot: s.snapshot } : { model, time: s.time, pid: s.pid };
}
