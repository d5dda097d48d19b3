import { EventKind, EVENT_NAMES } from '../../core/model/events';
import { ownerLabel } from '../../core/model/owners';
import type { TraceModel } from '../../core/trace';
import type { OwnershipSpan, PageHistory } from '../../protocol/worker';

// Migrations chain pages; following a chain further back than this is never needed to name an owner and
// keeps a pathological trace (a page bounced between two frames) from recursing without end.
const MAX_MIGRATION_DEPTH = 4;

interface Cursor {
  owner: number;
  /** Snapshots that referenced the page and have not dropped it. */
  snaps: Set<number>;
}

/**
 * The ownership history of one page frame: who held it from when to when, following the same rules as
 * the replay (alloc, free, filesystem blocks, faults, copy-on-write, restore, drop, migration). One scan of
 * the event columns in time order, so a hover on a 10-million-event trace costs one pass, no index.
 */
export function pageHistory(model: TraceModel, pfn: number, maxTouches = 50): PageHistory {
  const spans: OwnershipSpan[] = [];
  const touches: PageHistory['touches'] = [];
  let truncated = false;
  walk(model, pfn, Infinity, 0, (k, owner, cause) => {
    const ev = model.builder.events;
    const time = ev.time.get(k);
    const t = time === time ? time : null;
    if (owner !== undefined) {
      const last = spans[spans.length - 1];
      if (last) last.to = t;
      const o = model.builder.owners.get(owner);
      spans.push({ owner: owner === 0 ? 'free' : ownerLabel(o), ownerKind: owner === 0 ? 'free' : o.kind, from: t, to: null, file: ev.file.get(k), line: ev.line.get(k), cause });
    }
    if (touches.length < maxTouches) touches.push({ kind: cause, time: t, file: ev.file.get(k), line: ev.line.get(k) });
    else truncated = true;
  });
  return { pfn, spans, touches, truncated };
}

/** The owner id of `pfn` just before the event at time-order position `stop` (0: free or never seen). */
export function ownerBefore(model: TraceModel, pfn: number, stop: number, depth = 0): number {
  let owner = 0;
  walk(model, pfn, stop, depth, (_k, o) => {
    if (o !== undefined) owner = o;
  });
  return owner;
}

/**
 * Visit the events touching `pfn` in time order up to position `stop`; `visit` gets the event index, the
 * new owner when the event changes it (0 = free), and the event's name.
 */
function walk(model: TraceModel, pfn: number, stop: number, depth: number, visit: (k: number, owner: number | undefined, cause: string) => void): void {
  const b = model.builder;
  const ev = b.events;
  const order = model.result.order;
  const n = Math.min(ev.length, stop);
  const cur: Cursor = { owner: 0, snaps: new Set() };
  const within = (start: number, order2: number): boolean => pfn >= start && pfn < start + 2 ** order2;
  for (let pos = 0; pos < n; pos++) {
    const i = order ? order[pos] : pos;
    const kind = ev.kind.get(i);
    const start = ev.pfn.get(i);
    const ord = ev.orderCol.get(i);
    let owner: number | undefined;
    let touched = false;
    switch (kind) {
      case EventKind.Alloc:
      case EventKind.Record:
      case EventKind.FsAlloc:
      case EventKind.CacheAdd:
        if (within(start, ord)) owner = ev.owner.get(i);
        break;
      case EventKind.Free:
      case EventKind.FsFree:
        if (within(start, ord)) owner = 0;
        break;
      case EventKind.Fault:
        if (start === pfn) owner = ev.owner.get(i);
        break;
      case EventKind.Map:
      case EventKind.Unmap:
      case EventKind.Write:
        if (start === pfn) {
          touched = true;
          if (cur.owner === 0 && kind === EventKind.Map) owner = ev.owner.get(i);
        }
        break;
      case EventKind.SnapRef:
        if (within(start, ord)) {
          touched = true;
          cur.snaps.add(ev.ref.get(i));
        }
        break;
      case EventKind.Cow:
        if (start === pfn) {
          const snapOwner = b.owners.findSnapshot(ev.ref.get(i));
          if (snapOwner !== undefined) owner = snapOwner;
          else touched = true;
        } else if (ev.arg.get(i) === pfn) owner = ev.owner.get(i);
        break;
      case EventKind.Restore:
        if (cur.snaps.has(ev.ref.get(i)) && cur.owner === b.owners.findSnapshot(ev.ref.get(i))) owner = ev.owner.get(i);
        break;
      case EventKind.SnapDrop: {
        const snap = ev.ref.get(i);
        if (cur.snaps.delete(snap) && cur.owner === b.owners.findSnapshot(snap)) owner = 0;
        break;
      }
      case EventKind.Migrate: {
        const to = ev.arg.get(i);
        if (within(start, ord)) owner = 0;
        else if (pfn >= to && pfn < to + 2 ** ord) {
          owner = depth < MAX_MIGRATION_DEPTH ? ownerBefore(model, start + (pfn - to), pos, depth + 1) : 0;
        }
        break;
      }
    }
    if (owner !== undefined) {
      cur.owner = owner;
      visit(i, owner, EVENT_NAMES[kind] ?? 'event');
    } else if (touched) visit(i, undefined, EVENT_NAMES[kind] ?? 'event');
  }
}
