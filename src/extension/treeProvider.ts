import * as vscode from 'vscode';
import { formatTime } from './logic/hoverText';
import { ANOMALY_KINDS, type AnomalyKind } from '../core/analysis/anomalies';
import type { OwnerKind } from '../core/model/owners';
import { anomalyKindKeys, MAX_CHILDREN, OWNER_KINDS, ownerGroupKeys, treeChildren, treeItem, treeKeyId, treeKeysOfPage, treeListQuery, type TreeKey } from './logic/treeModel';
import type { TraceStore } from './traceStore';
import type { WorkerClient } from './workerClient';

/**
 * The Page Ledger tree: traces → layout, owners, snapshots, anomalies. The top levels come from the
 * digest `open` answered; owners, snapshots and anomalies come from the worker a page (MAX_CHILDREN) at a
 * time, as their nodes are expanded, and so do the counts of a filtered tree.
 */
export class TraceTreeProvider implements vscode.TreeDataProvider<TreeKey> {
  private readonly changed = new vscode.EventEmitter<TreeKey | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private filter = '';
  private view: vscode.TreeView<TreeKey> | undefined;

  constructor(private readonly store: TraceStore, private readonly worker: WorkerClient) {}

  register(): vscode.Disposable[] {
    this.view = vscode.window.createTreeView('pageledger.traces', { treeDataProvider: this, showCollapseAll: true });
    return [
      this.view,
      this.changed,
      this.store.onDidChange(() => this.changed.fire(undefined)),
      vscode.commands.registerCommand('pageledger.filterTree', () => this.askFilter()),
      vscode.commands.registerCommand('pageledger.clearTreeFilter', () => this.setFilter('')),
      vscode.commands.registerCommand('pageledger.revealItem', (k: TreeKey) => this.revealItem(k)),
      vscode.commands.registerCommand('pageledger.showPageHistory', (k: TreeKey | { traceId: string; pfn: string }) => this.showPageHistory(k)),
      vscode.commands.registerCommand('pageledger.refresh', (k?: TreeKey) => this.refresh(k)),
      vscode.commands.registerCommand('pageledger.closeTrace', (k?: TreeKey) => k && this.store.close(k.traceId)),
    ];
  }

  async getChildren(key?: TreeKey): Promise<TreeKey[]> {
    const filter = this.filter;
    const t = key ? this.store.get(key.traceId) : undefined;
    try {
      const query = treeListQuery(key);
      if (key && t?.summary && query) {
        const q = { traceId: key.traceId, filter, offset: 0, limit: MAX_CHILDREN };
        const page = query.list === 'owners' ? await this.worker.call('owners', { ...q, kind: query.kind }) : query.list === 'snapshots' ? await this.worker.call('snapshots', q) : await this.worker.call('anomalies', { ...q, kind: query.kind });
        return treeKeysOfPage(key.traceId, query, page);
      }
      if (key?.type === 'section' && t?.summary && filter && key.section !== 'layout' && key.section !== 'snapshots') {
        // A filtered group shows how many of its items match: one count per kind from the worker.
        const count = { traceId: key.traceId, filter, offset: 0, limit: 0 };
        if (key.section === 'owners') {
          const counts: Partial<Record<OwnerKind, number>> = {};
          await Promise.all(OWNER_KINDS.map(async (kind) => void (counts[kind] = (await this.worker.call('owners', { ...count, kind })).total)));
          return ownerGroupKeys(key.traceId, counts);
        }
        const counts: Partial<Record<AnomalyKind, number>> = {};
        const kinds = ANOMALY_KINDS.filter((kind) => (t.summary?.anomalyCounts[kind] ?? 0) > 0);
        await Promise.all(kinds.map(async (kind) => void (counts[kind] = (await this.worker.call('anomalies', { ...count, kind })).total)));
        return anomalyKindKeys(key.traceId, counts);
      }
    } catch {
      // The trace was reloaded or closed meanwhile: the change that caused it refreshes the tree.
      return [];
    }
    return treeChildren(this.store.list(), key, filter);
  }

  getTreeItem(key: TreeKey): vscode.TreeItem {
    const d = treeItem(this.store.list(), key);
    // The trace and its anomalies open expanded: they are what a user came for; long lists stay folded.
    const item = new vscode.TreeItem(d.label, d.expandable ? (key.type === 'trace' || (key.type === 'section' && key.section === 'anomalies') ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed) : vscode.TreeItemCollapsibleState.None);
    item.id = treeKeyId(key);
    item.description = d.description;
    item.tooltip = d.tooltip;
    item.iconPath = new vscode.ThemeIcon(d.icon);
    item.contextValue = d.contextValue;
    if (d.location && key.type !== 'trace') item.command = { title: 'Reveal in File', command: 'pageledger.reveal', arguments: [{ file: d.location.file, line: d.location.line }] };
    return item;
  }

  private async askFilter(): Promise<void> {
    const v = await vscode.window.showInputBox({ title: 'Filter the Page Ledger tree', prompt: 'Owners, snapshots and anomalies whose text contains this', value: this.filter });
    if (v !== undefined) this.setFilter(v.trim());
  }

  private setFilter(f: string): void {
    this.filter = f;
    void vscode.commands.executeCommand('setContext', 'pageledger.treeFiltered', f !== '');
    if (this.view) this.view.description = f ? `filter: ${f}` : undefined;
    this.changed.fire(undefined);
  }

  private revealItem(k: TreeKey): void {
    const d = treeItem(this.store.list(), k);
    if (d.location) void vscode.commands.executeCommand('pageledger.reveal', { file: d.location.file, line: d.location.line });
  }

  private refresh(k?: TreeKey): void {
    const t = k ? this.store.get(k.traceId) : undefined;
    if (t) void this.store.load(t.paths, 'notification').catch(() => undefined);
    else this.store.reloadAll();
  }

  /** A quick pick of the page's ownership spans; picking one reveals the line that started it. */
  private async showPageHistory(k: TreeKey | { traceId: string; pfn: string }): Promise<void> {
    const pfnText = 'type' in k ? treeItem(this.store.list(), k).pfn : k.pfn;
    const trace = this.store.get(k.traceId);
    const s = trace?.summary;
    if (!pfnText || !trace || !s) return;
    const pfn = parseInt(pfnText.replace(/^0x/i, ''), 16);
    const h = await this.worker.call('pageHistory', { traceId: trace.traceId, pfn, maxTouches: 0 });
    type Pick = vscode.QuickPickItem & { file?: string; line?: number };
    const items: Pick[] = h.spans.map((sp) => ({
      label: sp.owner,
      description: `${formatTime(sp.from)} → ${sp.to === null ? 'end' : formatTime(sp.to)}`,
      detail: `${sp.cause} at ${s.files[sp.file]?.path ?? '?'}:${sp.line}`,
      file: s.files[sp.file]?.path,
      line: sp.line,
    }));
    if (!items.length) items.push({ label: `pfn ${pfnText}: no ownership change in the trace` });
    const pick = await vscode.window.showQuickPick(items, { title: `Ownership history of pfn ${pfnText}`, matchOnDescription: true, matchOnDetail: true });
    if (pick?.file && pick.line) await vscode.commands.executeCommand('pageledger.reveal', { file: pick.file, line: pick.line });
  }
}
