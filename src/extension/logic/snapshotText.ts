import { EventKind } from '../../core/model/events';
import { ownerLabel } from '../../core/model/owners';
import type { TraceModel } from '../../core/trace';

/** Most pages a canonical rendering lists: the text diff editor stays usable up to about this size. */
export const MAX_RENDERED_PAGES = 200_000;

/**
 * A snapshot as canonical text for VS Code's diff editor: a header, then one page per line sorted by key
 * (`0xpfn owner`, or `vaddr 0x... owner` when the source has no frame numbers), so two renderings line
 * up page by page and the diff editor's own alignment shows what changed.
 */
export function renderSnapshotText(m: TraceModel, id: number): string {
  const b = m.builder;
  const ev = b.events;
  const info = b.snapshot(id);
  if (!info) throw new Error(`no snapshot ${id} in this trace`);
  const procOwner = info.pid !== undefined ? b.owners.findProcess(info.pid) : undefined;
  const rows: { key: number; text: string }[] = [];
  let byVaddr = false;
  for (let i = 0; i < ev.length; i++) {
    const k = ev.kind.get(i);
    if ((k !== EventKind.SnapRef && k !== EventKind.Record) || ev.ref.get(i) !== id) continue;
    const pfn = ev.pfn.get(i);
    const vaddr = ev.arg.get(i);
    const ownerId = k === EventKind.Record ? ev.owner.get(i) : procOwner;
    const owner = ownerId !== undefined && ownerId !== 0 ? ownerLabel(b.owners.get(ownerId)) : info.pid !== undefined ? `pid ${info.pid}` : 'snapshot';
    if (pfn !== pfn) byVaddr = true;
    const n = 2 ** ev.orderCol.get(i);
    for (let p = 0; p < n; p++) rows.push({ key: pfn === pfn ? pfn + p : Math.floor(vaddr / 4096) + p, text: owner });
  }
  rows.sort((x, y) => x.key - y.key);
  const shown = rows.slice(0, MAX_RENDERED_PAGES);
  const out = [`# ${info.name} (${info.source}) from ${b.files[info.file]?.path ?? '?'} line ${info.line}`, `# ${rows.length} pages by ${byVaddr ? 'virtual page' : 'pfn'}${rows.length > shown.length ? `, first ${shown.length} shown` : ''}`];
  for (const r of shown) out.push(`${byVaddr ? 'vaddr 0x' + (r.key * 4096).toString(16) : '0x' + r.key.toString(16)} ${r.text}`);
  return out.join('\n') + '\n';
}
