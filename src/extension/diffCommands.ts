import * as vscode from 'vscode';
import type { SnapshotSummary } from '../core/trace';
import type { DiffViewInit } from '../protocol/diffData';
import type { HostToWebview } from '../protocol/view';
import type { DiffPair, DiffSideRef, TraceDigest } from '../protocol/worker';
import { routeDiffMessage } from './logic/diffMessages';
import { diffPairKey, diffPickItems, diffQuery, diffSideName, diffTitle, diffTotalsText, pairFromFiles, parseDiffQuery, parseDiffTime, pathsOfTraceId, type DiffPickItem, type DiffTrace } from './logic/diffPair';
import type { TreeKey } from './logic/treeModel';
import { traceIdFor, type TraceStore } from './traceStore';
import { webviewHtml, webviewOptions } from './webviewHtml';
import type { WorkerClient } from './workerClient';

/** Scheme of the canonical snapshot renderings shown in VS Code's diff editor. */
export const SNAPSHOT_SCHEME = 'pageledger-snapshot';

/** View type of the diff webview panel (the `activeWebviewPanelId` of its editor title button). */
export const DIFF_VIEW_TYPE = 'pageledger.diff';

/** One open diff webview. */
interface DiffPanel {
  panel: vscode.WebviewPanel;
  pair: DiffPair;
  title: string;
  /** The init last sent: reveal messages index its files. */
  init: DiffViewInit | null;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Snapshot diffs, shown two ways over one diff the worker keeps: VS Code's diff editor over aligned text
 * renderings (`pageledger-snapshot:` documents) and the diff webview (page maps and class tables). Opened
 * by "Compare Snapshots..." (quick pick, or two files in the Explorer) and by the tree's "Select for
 * Compare" / "Compare with Selected"; each view has an editor title button to the other.
 */
export class DiffCommands implements vscode.TextDocumentContentProvider {
  private selected: DiffSideRef | undefined;
  private readonly panels = new Map<string, DiffPanel>();
  private activePanel: DiffPanel | undefined;
  /** The digest each trace had when its diffs were last refreshed: progress ticks change nothing. */
  private readonly seen = new Map<string, TraceDigest>();
  /** Every snapshot of a trace, asked of the worker when a compare needs them, for the digest they came with. */
  private readonly snapshotLists = new Map<string, { digest: TraceDigest; snapshots: SnapshotSummary[] }>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  /** Fires for the text documents of a diff whose trace was reloaded. */
  readonly onDidChange = this.changed.event;

  constructor(private readonly extensionUri: vscode.Uri, private readonly worker: WorkerClient, private readonly store: TraceStore) {}

  register(): vscode.Disposable[] {
    return [
      vscode.workspace.registerTextDocumentContentProvider(SNAPSHOT_SCHEME, this),
      this.changed,
      this.store.onDidChange((id) => this.traceChanged(id)),
      vscode.commands.registerCommand('pageledger.selectForCompare', (k: TreeKey | DiffSideRef) => this.select(k)),
      vscode.commands.registerCommand('pageledger.compareWithSelected', (k: TreeKey | DiffSideRef) => this.compareWithSelected(k)),
      vscode.commands.registerCommand('pageledger.compareSnapshots', (uri?: vscode.Uri, uris?: vscode.Uri[]) => this.compareSnapshots(uri, uris)),
      vscode.commands.registerCommand('pageledger.showDiffMap', (uri?: vscode.Uri) => this.showDiffMapOf(uri)),
      vscode.commands.registerCommand('pageledger.openTextDiff', () => this.activePanel && this.showText(this.activePanel.pair, this.activePanel.title)),
    ];
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const q = parseDiffQuery(uri.query);
    if (!q) return `# ${uri.toString()} names no diff side\n`;
    try {
      // A diff editor restored after a restart names traces no longer loaded: load them first.
      await this.ensureTraces(q.pair);
      return await this.worker.call('diffText', { ...q.pair, side: q.side });
    } catch (e) {
      return `# Page Ledger could not render this side: ${errorText(e)}\n`;
    }
  }

  /** The loaded traces with the snapshots known so far (every one after loadTraces, else the digest's first). */
  private traces(): DiffTrace[] {
    return this.store.list().map((t) => {
      const d = t.summary;
      if (!d) return { traceId: t.traceId, title: t.title, summary: null };
      const full = this.snapshotLists.get(t.traceId);
      return { traceId: t.traceId, title: t.title, summary: { snapshots: full?.digest === d ? full.snapshots : d.firstSnapshots, owners: d.topOwners, time: d.time } };
    });
  }

  /** The loaded traces with every snapshot (the quick pick lists them all; names need the one compared). */
  private async loadTraces(): Promise<DiffTrace[]> {
    await Promise.all(
      this.store.list().map(async (t) => {
        const d = t.summary;
        if (!d || this.snapshotLists.get(t.traceId)?.digest === d) return;
        const page = await this.worker.call('snapshots', { traceId: t.traceId, offset: 0, limit: Number.MAX_SAFE_INTEGER }).catch(() => undefined);
        if (page && this.store.get(t.traceId)?.summary === d) this.snapshotLists.set(t.traceId, { digest: d, snapshots: page.items });
      }),
    );
    return this.traces();
  }

  private async ensureTraces(p: DiffPair): Promise<void> {
    for (const id of new Set([p.a.traceId, p.b.traceId])) if (!this.store.get(id)?.summary) await this.store.ensure(this.store.get(id)?.paths ?? pathsOfTraceId(id), 'notification');
  }

  private refOf(k: TreeKey | DiffSideRef): DiffSideRef | undefined {
    if (!('type' in k)) return k;
    return k.type === 'snapshot' ? { traceId: k.traceId, snapshot: k.snapshot.id } : undefined;
  }

  private async select(k: TreeKey | DiffSideRef): Promise<void> {
    const r = this.refOf(k);
    if (!r) return;
    this.selected = r;
    void vscode.commands.executeCommand('setContext', 'pageledger.snapshotSelected', true);
    vscode.window.setStatusBarMessage(`Page Ledger: ${diffSideName(await this.loadTraces(), r)} selected for compare`, 4000);
  }

  private async compareWithSelected(k: TreeKey | DiffSideRef): Promise<void> {
    const b = this.refOf(k);
    if (!b) return;
    if (!this.selected) {
      void vscode.window.showInformationMessage('Page Ledger: first use "Select for Compare" on another snapshot.');
      return;
    }
    await this.open({ a: this.selected, b });
  }

  /** "Compare Snapshots...": two files from the Explorer, else a quick pick of two sides. */
  private async compareSnapshots(uri?: vscode.Uri, uris?: vscode.Uri[]): Promise<void> {
    const files = (uris && uris.length > 0 ? uris : uri ? [uri] : []).filter((u) => u.scheme === 'file').map((u) => u.fsPath);
    if (files.length > 2) return void vscode.window.showInformationMessage('Page Ledger: select two files to compare.');
    try {
      if (files.length === 2) {
        await this.store.ensure(files, 'notification');
        const id = traceIdFor(files);
        const s = (await this.loadTraces()).find((t) => t.traceId === id)?.summary;
        if (!s) return;
        const pair = pairFromFiles(id, s, files[0], files[1]);
        if (typeof pair === 'string') return void vscode.window.showErrorMessage(`Page Ledger: ${pair}`);
        return await this.open(pair);
      }
      if (files.length === 1) await this.store.ensure(files, 'notification');
    } catch (e) {
      return void vscode.window.showErrorMessage(`Page Ledger: ${errorText(e)}`);
    }
    const a = await this.pickSide('Compare: the first side (A)');
    if (!a) return;
    const b = await this.pickSide(`Compare ${diffSideName(this.traces(), a)} with (B)`, a);
    if (b) await this.open({ a, b });
  }

  private async pickSide(title: string, exclude?: DiffSideRef): Promise<DiffSideRef | undefined> {
    const items = diffPickItems(await this.loadTraces(), exclude);
    if (!items.length) {
      const open = 'Open Trace...';
      if ((await vscode.window.showInformationMessage('Page Ledger: open a trace first; its snapshots are listed here.', open)) === open) await vscode.commands.executeCommand('pageledger.openTrace');
      return undefined;
    }
    const pick = await vscode.window.showQuickPick<vscode.QuickPickItem & DiffPickItem>(items, { title, matchOnDescription: true, matchOnDetail: true });
    if (!pick) return undefined;
    if (!('askTime' in pick.side)) return pick.side;
    const traceId = pick.side.traceId;
    const text = await vscode.window.showInputBox({ title, prompt: `Ownership of ${pick.description} at this time (ns), or "end"`, validateInput: (v) => (typeof parseDiffTime(v) === 'string' ? `Expected ${parseDiffTime(v)}` : undefined) });
    const time = text === undefined ? undefined : parseDiffTime(text);
    return typeof time === 'number' ? { traceId, time } : undefined;
  }

  /** Compute the diff (errors surface here, once), then open the map and the text diff on top of it. */
  private async open(pair: DiffPair): Promise<void> {
    const title = diffTitle(await this.loadTraces(), pair);
    let init: DiffViewInit;
    try {
      await this.ensureTraces(pair);
      init = await this.worker.call('diffInit', { ...pair, title });
    } catch (e) {
      return void vscode.window.showErrorMessage(`Page Ledger: cannot compare ${title}: ${errorText(e)}`);
    }
    // Both in the active group: the text diff on top (what a reviewer reads first), the map one tab away;
    // a third editor group beside the trace and its ownership view leaves each too narrow.
    this.showMap(pair, title, true);
    await this.showText(pair, title);
    vscode.window.setStatusBarMessage(`Page Ledger diff: ${diffTotalsText(init)}`, 10000);
  }

  private async showText(pair: DiffPair, title: string): Promise<void> {
    await this.loadTraces();
    const uriOf = (side: 'a' | 'b'): vscode.Uri =>
      vscode.Uri.from({ scheme: SNAPSHOT_SCHEME, path: `/${diffSideName(this.traces(), pair[side]).replace(/[\\/]/g, '_')}.txt`, query: diffQuery(pair, side) });
    await vscode.commands.executeCommand('vscode.diff', uriOf('a'), uriOf('b'), title, { preview: false });
  }

  /** "Show Diff Map" from the text diff editor's title: the URI names the pair. */
  private async showDiffMapOf(uri?: vscode.Uri): Promise<void> {
    const target = uri ?? vscode.window.activeTextEditor?.document.uri;
    const q = target?.scheme === SNAPSHOT_SCHEME ? parseDiffQuery(target.query) : null;
    if (q) this.showMap(q.pair, diffTitle(await this.loadTraces(), q.pair), false);
  }

  private showMap(pair: DiffPair, title: string, preserveFocus: boolean): void {
    const key = diffPairKey(pair);
    const open = this.panels.get(key);
    if (open) return open.panel.reveal(undefined, preserveFocus);
    const panel = vscode.window.createWebviewPanel(DIFF_VIEW_TYPE, `Diff Map: ${title}`, { viewColumn: vscode.ViewColumn.Active, preserveFocus }, webviewOptions(this.extensionUri));
    panel.webview.html = webviewHtml(panel.webview, this.extensionUri, 'diff', title);
    const entry: DiffPanel = { panel, pair, title, init: null };
    this.panels.set(key, entry);
    if (panel.active) this.activePanel = entry;
    const subs = [
      panel.webview.onDidReceiveMessage((m: unknown) => void this.receive(entry, m)),
      panel.onDidChangeViewState((e) => {
        if (e.webviewPanel.active) this.activePanel = entry;
        else if (this.activePanel === entry) this.activePanel = undefined;
      }),
    ];
    panel.onDidDispose(() => {
      for (const s of subs) s.dispose();
      this.panels.delete(key);
      if (this.activePanel === entry) this.activePanel = undefined;
    });
  }

  private post(entry: DiffPanel, m: HostToWebview): void {
    void entry.panel.webview.postMessage(m);
  }

  private async receive(entry: DiffPanel, m: unknown): Promise<void> {
    const action = routeDiffMessage(m, entry.init);
    try {
      switch (action.kind) {
        case 'init':
          await this.sendInit(entry);
          return;
        case 'request':
          this.post(entry, { type: 'diffReply', requestId: action.requestId, reply: await this.worker.call('diffRequest', { ...entry.pair, request: action.request }) });
          return;
        case 'reveal':
          await vscode.commands.executeCommand('pageledger.reveal', { file: action.file, line: action.line });
          return;
        case 'ignore':
          return;
      }
    } catch (e) {
      this.post(entry, { type: 'status', error: errorText(e) });
    }
  }

  private async sendInit(entry: DiffPanel): Promise<void> {
    await this.ensureTraces(entry.pair);
    entry.init = await this.worker.call('diffInit', { ...entry.pair, title: entry.title });
    this.post(entry, { type: 'diffInit', init: entry.init });
  }

  /** A trace reloaded (file changed, rules changed): its diffs show the new state; closed: say so. */
  private traceChanged(traceId: string): void {
    const t = this.store.get(traceId);
    if (t?.summary && this.seen.get(traceId) === t.summary) return;
    if (t?.summary) this.seen.set(traceId, t.summary);
    else if (!t) {
      this.seen.delete(traceId);
      this.snapshotLists.delete(traceId);
    }
    for (const entry of this.panels.values()) {
      if (entry.pair.a.traceId !== traceId && entry.pair.b.traceId !== traceId) continue;
      if (!t) this.post(entry, { type: 'status', error: `${traceId} was closed` });
      else if (t.summary) void this.sendInit(entry).catch((e: unknown) => this.post(entry, { type: 'status', error: errorText(e) }));
    }
    if (!t?.summary) return;
    for (const d of vscode.workspace.textDocuments) {
      if (d.uri.scheme !== SNAPSHOT_SCHEME) continue;
      const q = parseDiffQuery(d.uri.query);
      if (q && (q.pair.a.traceId === traceId || q.pair.b.traceId === traceId)) this.changed.fire(d.uri);
    }
  }
}
