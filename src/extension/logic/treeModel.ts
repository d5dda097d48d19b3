import { RULES, type AnomalyKind } from '../../core/analysis/anomalies';
import { ownerLabel, type OwnerKind } from '../../core/model/owners';
import type { AnomalySummary, OwnerSummary, SnapshotSummary } from '../../core/trace';
import type { ListPage, TraceDigest } from '../../protocol/worker';
import type { TraceLocation } from './navigation';

/** A trace as the tree sees it: loading, loaded (with its digest) or failed. */
export interface TreeTrace {
  traceId: string;
  title: string;
  summary: TraceDigest | null;
  /** 0..1 while loading. */
  progress?: number;
  error?: string;
}

/** Top-level sections under a trace. */
export type TreeSection = 'layout' | 'owners' | 'snapshots' | 'anomalies';
/** Groups under Layout. */
export type LayoutGroup = 'nodes' | 'regions' | 'blocks';

/**
 * What a tree item stands for: a key into the trace's digest, or, for the long lists the worker pages, the
 * row it sent with the row's position in the whole list (`index`, a stable id across filters). Groups carry
 * their count, which the digest or the worker gave.
 */
export type TreeKey =
  | { type: 'trace'; traceId: string }
  | { type: 'section'; traceId: string; section: TreeSection }
  | { type: 'layoutGroup'; traceId: string; group: LayoutGroup }
  | { type: 'layoutItem'; traceId: string; group: LayoutGroup; index: number }
  | { type: 'ownerGroup'; traceId: string; kind: OwnerKind; count: number }
  | { type: 'owner'; traceId: string; index: number; owner: OwnerSummary }
  | { type: 'snapshot'; traceId: string; index: number; snapshot: SnapshotSummary }
  | { type: 'anomalyKind'; traceId: string; kind: AnomalyKind; count: number }
  | { type: 'anomaly'; traceId: string; index: number; anomaly: AnomalySummary }
  | { type: 'more'; traceId: string; hidden: number };

/** A list the worker pages for a tree node: which list, and which of its items. */
export type TreeListQuery = { list: 'owners'; kind: OwnerKind } | { list: 'snapshots' } | { list: 'anomalies'; kind: AnomalyKind };

/** What the adapter needs to draw one item. */
export interface TreeItemData {
  label: string;
  description?: string;
  tooltip?: string;
  /** Codicon name. */
  icon: string;
  expandable: boolean;
  /** For `when` clauses of context menus: `trace`, `owner`, `snapshot`, `anomaly`, ... */
  contextValue: string;
  /** Where "reveal in file" goes (and what a click does). */
  location?: TraceLocation;
  /** The page a "show page history" acts on, hex. */
  pfn?: string;
}

/** Children shown under one node at most; the rest are behind a "more" item that asks for a filter. */
export const MAX_CHILDREN = 500;

const OWNER_KIND_ORDER: OwnerKind[] = ['process', 'file', 'snapshot', 'agent', 'kernel'];
const OWNER_KIND_LABEL: Record<OwnerKind, string> = { process: 'Processes', file: 'Files', snapshot: 'Snapshots', agent: 'Agents', kernel: 'Kernel', free: 'Free' };

/** `pid 12 (bash)`, `file pmem0/42`, `snapshot 3 of pid 9`, `agent numactlX`, `kernel`. */
export const ownerSummaryLabel: (o: OwnerSummary) => string = ownerLabel;

/** Owner kinds in the order the tree lists them. */
export const OWNER_KINDS: readonly OwnerKind[] = OWNER_KIND_ORDER;

/** The list behind a node whose children the worker pages, or undefined when the digest has them. */
export function treeListQuery(key: TreeKey | undefined): TreeListQuery | undefined {
  if (!key) return undefined;
  if (key.type === 'ownerGroup') return { list: 'owners', kind: key.kind };
  if (key.type === 'anomalyKind') return { list: 'anomalies', kind: key.kind };
  if (key.type === 'section' && key.section === 'snapshots') return { list: 'snapshots' };
  return undefined;
}

/** The keys of a page the worker sent for `query`, and a "more" item when it held back some (MAX_CHILDREN a page). */
export function treeKeysOfPage(traceId: string, query: TreeListQuery, page: ListPage<OwnerSummary> | ListPage<SnapshotSummary> | ListPage<AnomalySummary>): TreeKey[] {
  const keys: TreeKey[] = [];
  page.items.forEach((item, k) => {
    const index = page.indices[k];
    if (query.list === 'owners') keys.push({ type: 'owner', traceId, index, owner: item as OwnerSummary });
    else if (query.list === 'snapshots') keys.push({ type: 'snapshot', traceId, index, snapshot: item as SnapshotSummary });
    else keys.push({ type: 'anomaly', traceId, index, anomaly: item as AnomalySummary });
  });
  if (page.total > keys.length) keys.push({ type: 'more', traceId, hidden: page.total - keys.length });
  return keys;
}

/** The owner groups with owners, in tree order, from counts per kind (the digest's, or filtered ones from the worker). */
export function ownerGroupKeys(traceId: string, counts: Partial<Record<OwnerKind, number>>): TreeKey[] {
  return OWNER_KIND_ORDER.filter((kind) => (counts[kind] ?? 0) > 0).map((kind) => ({ type: 'ownerGroup', traceId, kind, count: counts[kind] ?? 0 }));
}

/** The anomaly kinds with anomalies, most frequent first, from counts per kind. */
export function anomalyKindKeys(traceId: string, counts: Partial<Record<AnomalyKind, number>>): TreeKey[] {
  const kinds = (Object.keys(counts) as AnomalyKind[]).filter((k) => (counts[k] ?? 0) > 0);
  kinds.sort((a, b) => (counts[b] ?? 0) - (counts[a] ?? 0) || a.localeCompare(b));
  return kinds.map((kind) => ({ type: 'anomalyKind', traceId, kind, count: counts[kind] ?? 0 }));
}

function capped(traceId: string, keys: TreeKey[]): TreeKey[] {
  if (keys.length <= MAX_CHILDREN) return keys;
  return [...keys.slice(0, MAX_CHILDREN), { type: 'more', traceId, hidden: keys.length - MAX_CHILDREN }];
}

/**
 * The children of `key` that the digest holds (the traces when key is undefined). Without a filter that is
 * every level but the paged lists (see treeListQuery); with one, the owner and anomaly groups need the
 * worker's counts too, and this returns [] for them.
 */
export function treeChildren(traces: readonly TreeTrace[], key: TreeKey | undefined, filter = ''): TreeKey[] {
  if (!key) return traces.map((t) => ({ type: 'trace', traceId: t.traceId }));
  const trace = traces.find((t) => t.traceId === key.traceId);
  const s = trace?.summary;
  if (!s) return [];
  const traceId = key.traceId;
  switch (key.type) {
    case 'trace':
      return (['layout', 'owners', 'snapshots', 'anomalies'] as const).map((section) => ({ type: 'section', traceId, section }));
    case 'section':
      if (key.section === 'layout') return (['nodes', 'regions', 'blocks'] as const).map((group) => ({ type: 'layoutGroup', traceId, group }));
      if (filter) return [];
      if (key.section === 'owners') return ownerGroupKeys(traceId, s.ownerKindCounts);
      if (key.section === 'anomalies') return anomalyKindKeys(traceId, s.anomalyCounts as Partial<Record<AnomalyKind, number>>);
      return [];
    case 'layoutGroup': {
      const n = key.group === 'nodes' ? s.layout.nodes.length : key.group === 'regions' ? s.layout.regions.length : s.layout.blocks.length;
      return capped(traceId, Array.from({ length: n }, (_, index) => ({ type: 'layoutItem', traceId, group: key.group, index })));
    }
    default:
      return [];
  }
}

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? '' : 's'}`;
}

/** How to draw `key`. */
export function treeItem(traces: readonly TreeTrace[], key: TreeKey): TreeItemData {
  const trace = traces.find((t) => t.traceId === key.traceId);
  const s = trace?.summary;
  if (key.type === 'trace') {
    const t = trace!;
    if (t.error) return { label: t.title, description: 'failed to load', tooltip: t.error, icon: 'error', expandable: false, contextValue: 'trace' };
    if (!s) return { label: t.title, description: `loading ${Math.round((t.progress ?? 0) * 100)}%`, icon: 'loading~spin', expandable: false, contextValue: 'trace' };
    return {
      label: t.title,
      description: `${s.format} · ${s.stats.events} event${s.stats.events === 1 ? '' : 's'} · ${s.anomalyCount} ${s.anomalyCount === 1 ? 'anomaly' : 'anomalies'}`,
      tooltip: s.files.map((f) => `${f.path} (${f.format}, ${f.lines} lines)`).join('\n'),
      icon: 'file-binary',
      expandable: true,
      contextValue: 'trace',
      location: s.files[0] ? { file: s.files[0].path, line: 1 } : undefined,
    };
  }
  if (!s) return { label: '', icon: 'blank', expandable: false, contextValue: 'none' };
  const count = (k: TreeKey): number => treeChildren(traces, k).length;
  switch (key.type) {
    case 'section':
      switch (key.section) {
        case 'layout':
          return { label: 'Layout', description: `${plural(s.layout.nodes.length, 'node')} · ${plural(s.layout.regions.length, 'region')} · ${plural(s.layout.blocks.length, 'block')}`, icon: 'server', expandable: true, contextValue: 'layout' };
        case 'owners':
          return { label: 'Owners', description: `${s.ownerCount} · ${s.livePages} pages live`, icon: 'person', expandable: s.ownerCount > 0, contextValue: 'owners' };
        case 'snapshots':
          return { label: 'Snapshots', description: `${s.snapshotCount} (${s.liveSnapshotCount} live)`, icon: 'device-camera', expandable: s.snapshotCount > 0, contextValue: 'snapshots' };
        case 'anomalies':
          return { label: 'Anomalies', description: String(s.anomalyCount), icon: s.anomalyCount ? 'warning' : 'pass', expandable: s.anomalyCount > 0, contextValue: 'anomalies' };
      }
      break;
    case 'layoutGroup': {
      const label = key.group === 'nodes' ? 'Nodes' : key.group === 'regions' ? 'Regions' : 'Memory blocks';
      const n = count(key);
      const offline = key.group === 'blocks' ? s.layout.blocks.filter((b) => b.state === 'offline').length : 0;
      return { label, description: key.group === 'blocks' ? `${s.layout.blocks.length} (${offline} offline at start)` : String(n), icon: 'list-tree', expandable: n > 0, contextValue: 'layoutGroup' };
    }
    case 'layoutItem': {
      if (key.group === 'nodes') {
        const n = s.layout.nodes[key.index];
        return { label: `node ${n.id}`, description: n.name, icon: 'circuit-board', expandable: false, contextValue: 'node' };
      }
      if (key.group === 'regions') {
        const r = s.layout.regions[key.index];
        return { label: r.name, description: `${r.type} · node ${r.node}${r.start !== undefined ? ` · pfn ${r.start}` : ''} · ${r.pages} pages${r.device ? ` · ${r.device}` : ''}`, icon: 'symbol-array', expandable: false, contextValue: 'region', pfn: r.start };
      }
      const b = s.layout.blocks[key.index];
      return { label: `block ${b.id}`, description: `${b.state} · pfn ${b.start} +${b.pages}${b.node !== undefined ? ` · node ${b.node}` : ''}`, icon: b.state === 'online' ? 'circle-filled' : 'circle-outline', expandable: false, contextValue: 'block', pfn: b.start };
    }
    case 'ownerGroup':
      return { label: OWNER_KIND_LABEL[key.kind], description: String(key.count), icon: 'organization', expandable: true, contextValue: 'ownerGroup' };
    case 'owner': {
      const o = key.owner;
      return { label: ownerSummaryLabel(o), description: `${o.livePages} live · ${o.peakPages} peak`, tooltip: `${ownerSummaryLabel(o)}: ${plural(o.livePages, 'page')} at the end of the trace, ${o.peakPages} at the peak`, icon: o.kind === 'process' ? 'terminal' : o.kind === 'file' ? 'file' : o.kind === 'snapshot' ? 'device-camera' : o.kind === 'agent' ? 'plug' : 'chip', expandable: false, contextValue: 'owner' };
    }
    case 'snapshot': {
      const x = key.snapshot;
      return {
        label: x.name,
        description: `${x.pages} pages · ${x.shared} shared · ${x.cows} CoW'd${x.dropped ? ' · dropped' : ''}`,
        tooltip: `${x.name} (${x.source})${x.pid !== undefined ? ` of pid ${x.pid}${x.comm ? ` (${x.comm})` : ''}` : ''}, line ${x.line}`,
        icon: 'device-camera',
        expandable: false,
        contextValue: 'snapshot',
        location: { file: x.file, line: x.line },
      };
    }
    case 'anomalyKind':
      return { label: key.kind, description: String(key.count), tooltip: `${RULES[key.kind].title}\n\n${RULES[key.kind].explanation}`, icon: 'warning', expandable: true, contextValue: 'anomalyKind' };
    case 'anomaly': {
      const a = key.anomaly;
      return {
        label: `line ${a.line}`,
        description: a.message,
        tooltip: `${a.severity} ${a.kind}: ${a.message}`,
        icon: a.severity === 'error' ? 'error' : a.severity === 'warning' ? 'warning' : 'info',
        expandable: false,
        contextValue: a.pfn ? 'anomaly.page' : 'anomaly',
        location: { file: a.file, line: a.line },
        pfn: a.pfn ?? undefined,
      };
    }
    case 'more':
      return { label: `… ${key.hidden} more`, description: 'use Filter to narrow the list', icon: 'ellipsis', expandable: false, contextValue: 'more' };
  }
  return { label: '', icon: 'blank', expandable: false, contextValue: 'none' };
}

/** A stable id for a key (VS Code keeps expansion state by it). */
export function treeKeyId(key: TreeKey): string {
  switch (key.type) {
    case 'trace':
      return key.traceId;
    case 'section':
      return `${key.traceId}/${key.section}`;
    case 'layoutGroup':
      return `${key.traceId}/layout/${key.group}`;
    case 'layoutItem':
      return `${key.traceId}/layout/${key.group}/${key.index}`;
    case 'ownerGroup':
      return `${key.traceId}/owners/${key.kind}`;
    case 'owner':
      return `${key.traceId}/owner/${key.index}`;
    case 'snapshot':
      return `${key.traceId}/snapshot/${key.index}`;
    case 'anomalyKind':
      return `${key.traceId}/anomalies/${key.kind}`;
    case 'anomaly':
      return `${key.traceId}/anomaly/${key.index}`;
    case 'more':
      return `${key.traceId}/more/${key.hidden}`;
  }
}
