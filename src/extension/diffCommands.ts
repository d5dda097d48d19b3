import * as vscode from 'vscode';
import type { SnapshotRef } from '../protocol/worker';
import type { TreeKey } from './logic/treeModel';
import type { TraceStore } from './traceStore';
import type { WorkerClient } from './workerClient';

/** Scheme of the canonical snapshot renderings shown in the diff editor. */
export const SNAPSHOT_SCHEME = 'pageledger-snapshot';

/** "Select for Compare" / "Compare with Selected" over snapshots, shown in VS Code's diff editor. */
export class DiffCommands implements vscode.TextDocumentContentProvider {
  private selected: SnapshotRef | undefined;

  constructor(private readonly worker: WorkerClient, private readonly store: TraceStore) {}

  register(): vscode.Disposable[] {
    return [
      vscode.workspace.registerTextDocumentContentProvider(SNAPSHOT_SCHEME, this),
      vscode.commands.registerCommand('pageledger.selectForCompare', (k: TreeKey | SnapshotRef) => this.select(k)),
      vscode.commands.registerCommand('pageledger.compareWithSelected', (k: TreeKey | SnapshotRef) => this.compare(k)),
    ];
  }

  provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const q = new URLSearchParams(uri.query);
    return this.worker.call('renderSnapshot', { traceId: q.get('trace') ?? '', snapshot: Number(q.get('snapshot')) });
  }

  private refOf(k: TreeKey | SnapshotRef): SnapshotRef | undefined {
    if ('snapshot' in k) return k;
    if (k.type !== 'snapshot') return undefined;
    const x = this.store.get(k.traceId)?.summary?.snapshots[k.index];
    return x ? { traceId: k.traceId, snapshot: x.id } : undefined;
  }

  private nameOf(r: SnapshotRef): string {
    return this.store.get(r.traceId)?.summary?.snapshots.find((x) => x.id === r.snapshot)?.name ?? `snapshot ${r.snapshot}`;
  }

  private select(k: TreeKey | SnapshotRef): void {
    const r = this.refOf(k);
    if (!r) return;
    this.selected = r;
    void vscode.commands.executeCommand('setContext', 'pageledger.snapshotSelected', true);
    vscode.window.setStatusBarMessage(`Page Ledger: ${this.nameOf(r)} selected for compare`, 4000);
  }

  private async compare(k: TreeKey | SnapshotRef): Promise<void> {
    const b = this.refOf(k);
    const a = this.selected;
    if (!b) return;
    if (!a) {
      void vscode.window.showInformationMessage('Page Ledger: first use "Select for Compare" on another snapshot.');
      return;
    }
    const d = await this.worker.call('diff', { a, b });
    const uriOf = (r: SnapshotRef): vscode.Uri => vscode.Uri.from({ scheme: SNAPSHOT_SCHEME, path: `/${this.nameOf(r).replace(/[\\/]/g, '_')}.txt`, query: new URLSearchParams({ trace: r.traceId, snapshot: String(r.snapshot) }).toString() });
    const totals = Object.entries(d.classes).filter(([, v]) => v).map(([c, v]) => `${c} ${v}`).join(', ');
    await vscode.commands.executeCommand('vscode.diff', uriOf(a), uriOf(b), `${this.nameOf(a)} ↔ ${this.nameOf(b)}`);
    vscode.window.setStatusBarMessage(`Page Ledger diff: ${totals || 'no pages'}`, 10000);
  }
}
