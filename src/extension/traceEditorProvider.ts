import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { HostToWebview, PartialView, ViewInit, WebviewToHost } from '../protocol/view';
import type { TraceDigest } from '../protocol/worker';
import { DETECT_HEAD_BYTES, TRACE_LANGUAGES } from './logic/languages';
import { isLargeTraceTab } from './logic/tabTraces';
import { viewSettingsMessage, type ExtensionSettings } from './logic/settings';
import { ViewInits } from './logic/viewInits';
import { finiteForWebview } from './logic/webviewTransport';
import { traceIdFor, type TraceStore } from './traceStore';
import { webviewHtml, webviewOptions } from './webviewHtml';
import type { WorkerClient } from './workerClient';

const CURSOR_SETTLE_MS = 150;

/** A trace file opened in the ownership view: the custom editor only needs its URI. */
class TraceDocument implements vscode.CustomDocument {
  constructor(readonly uri: vscode.Uri) {}
  dispose(): void {}
}

/** One open ownership view and where its handshake stands. */
interface OpenView {
  panel: vscode.WebviewPanel;
  post: (m: HostToWebview) => void;
  /** The webview said `ready` (its script listens); messages before that are lost. */
  ready: boolean;
  /** When it was created (performance.now()), for the log. */
  opened: number;
  /** Its first chart data was sent (logged once). */
  charted: boolean;
  /** A view of the part read so far was sent (logged once). */
  partial: boolean;
}

/**
 * The ownership view of a trace, as a read-only custom editor (and as a plain panel for merged traces).
 * The webview only ever sees what the worker computes for its requests; the HTML is a shell with a strict
 * CSP, and the webview can load nothing but its own bundle and the extension's media.
 */
export class TraceEditorProvider implements vscode.CustomReadonlyEditorProvider<TraceDocument> {
  /** The custom editor's view type (package.json contributes.customEditors). */
  static readonly viewType = 'pageledger.ownership';
  /** Open webviews per trace id: every view of one trace hears about its reloads. */
  private readonly panels = new Map<string, Set<OpenView>>();
  /** The view inits of each trace's loads, and which one each view was sent. */
  private readonly inits = new Map<string, ViewInits<OpenView, TraceDigest, ViewInit>>();

  /** Register the provider and the commands that open views. */
  static register(context: vscode.ExtensionContext, store: TraceStore, worker: WorkerClient, settings: () => ExtensionSettings, onSettings: vscode.Event<ExtensionSettings>, log?: vscode.LogOutputChannel): vscode.Disposable[] {
    const provider = new TraceEditorProvider(context, store, worker, settings, log);
    const disposables = [
      onSettings((s) => provider.settingsChanged(s)),
      vscode.window.registerCustomEditorProvider(TraceEditorProvider.viewType, provider, { webviewOptions: { retainContextWhenHidden: false }, supportsMultipleEditorsPerDocument: true }),
      store.onDidChange((id) => provider.traceChanged(id)),
      store.onDidChangePartial((id) => provider.partialChanged(id)),
      vscode.window.onDidChangeTextEditorSelection((e) => provider.cursorMoved(e.textEditor)),
      vscode.commands.registerCommand('pageledger.openMerged', (uris?: vscode.Uri[]) => provider.openMerged(uris)),
      vscode.window.onDidChangeActiveTextEditor((e) => e && provider.showBeside(e)),
      // Content detection gives a .txt trace its language after it opened: look again then.
      vscode.workspace.onDidOpenTextDocument((d) => {
        const e = vscode.window.activeTextEditor;
        if (e && e.document === d) provider.showBeside(e);
      }),
      // A trace over 50 MB never arrives as a document: its tab is the only sign that it was opened.
      vscode.window.tabGroups.onDidChangeTabs((e) => {
        for (const tab of [...e.opened, ...e.changed]) provider.noticeTab(tab);
      }),
    ];
    if (vscode.window.activeTextEditor) provider.showBeside(vscode.window.activeTextEditor);
    for (const group of vscode.window.tabGroups.all) for (const tab of group.tabs) provider.noticeTab(tab);
    return disposables;
  }

  private constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly store: TraceStore,
    private readonly worker: WorkerClient,
    private readonly settings: () => ExtensionSettings,
    private readonly log?: vscode.LogOutputChannel,
  ) {}

  openCustomDocument(uri: vscode.Uri): TraceDocument {
    return new TraceDocument(uri);
  }

  resolveCustomEditor(document: TraceDocument, panel: vscode.WebviewPanel): void {
    this.shownBeside.add(document.uri.fsPath);
    this.attach(panel, [document.uri.fsPath]);
  }

  /** "Open Several as One Timeline": one panel over a merged trace. */
  private async openMerged(given?: vscode.Uri[]): Promise<void> {
    const uris = given && given.length > 1 ? given : await vscode.window.showOpenDialog({ canSelectMany: true, title: 'Traces to merge into one timeline', openLabel: 'Open as One Timeline' });
    if (!uris || uris.length === 0) return;
    const paths = uris.map((u) => u.fsPath);
    const panel = vscode.window.createWebviewPanel(TraceEditorProvider.viewType, `Page Ledger: ${paths.length} files`, vscode.ViewColumn.Active, {});
    this.attach(panel, paths);
    await vscode.commands.executeCommand('pageledger.traces.focus');
  }

  private attach(panel: vscode.WebviewPanel, paths: string[]): void {
    const traceId = traceIdFor(paths);
    const webview = panel.webview;
    const post = (m: HostToWebview): void => void webview.postMessage(finiteForWebview(m));
    const view: OpenView = { panel, post, ready: false, opened: performance.now(), charted: false, partial: false };
    const name = paths.length === 1 ? basename(paths[0]) : `${paths.length} files`;
    this.log?.info(`${name}: ownership view opening`);
    // Load now, not when the webview says it is ready: the webview's start (its HTML and a 700 KB bundle)
    // took 1-1.5 s before the worker began to read, and the two can run side by side.
    void this.store.ensure(paths, 'notification').catch(() => undefined);
    webview.options = webviewOptions(this.context.extensionUri);
    webview.html = webviewHtml(webview, this.context.extensionUri, 'ownership', 'Page Ledger');
    let set = this.panels.get(traceId);
    if (!set) this.panels.set(traceId, (set = new Set()));
    set.add(view);
    const sub = webview.onDidReceiveMessage((m: WebviewToHost) => void this.receive(traceId, paths, name, view, m));
    panel.onDidDispose(() => {
      sub.dispose();
      this.panels.get(traceId)?.delete(view);
    });
  }

  private async receive(traceId: string, paths: string[], name: string, view: OpenView, m: WebviewToHost): Promise<void> {
    const { post } = view;
    switch (m.type) {
      case 'ready':
        if (!view.charted) this.log?.info(`${name}: ownership view ready after ${Math.round(performance.now() - view.opened)} ms`);
        // A webview shown again after it was hidden starts over: it needs its init again.
        view.ready = true;
        this.initsOf(traceId).reset(view);
        // Before init, so the first paint already has the user's colours and resolution.
        post(viewSettingsMessage(this.settings()));
        // While the trace is read, the part read so far (the init replaces it): the last one made, and a
        // fresh one from the worker's next chunk.
        if (!this.store.get(traceId)?.summary) {
          this.sendPartial(view, name, this.store.partialOf(traceId));
          this.worker.wantPartial(traceId);
        }
        try {
          await this.sendInit(view, traceId, await this.store.ensure(paths, 'notification'));
        } catch (e) {
          post({ type: 'status', error: e instanceof Error ? e.message : String(e) });
        }
        return;
      case 'request':
        try {
          const asked = performance.now();
          post({ type: 'reply', requestId: m.requestId, reply: await this.worker.call('view', { traceId, request: m.request }) });
          if (!view.charted && m.request.kind === 'series') {
            view.charted = true;
            const now = performance.now();
            this.log?.info(`${name}: first chart data sent ${Math.round(now - view.opened)} ms after the view opened, ${Math.round(now - asked)} ms after it was asked for`);
          }
        } catch (e) {
          post({ type: 'status', error: e instanceof Error ? e.message : String(e) });
        }
        return;
      case 'reveal': {
        const file = this.store.get(traceId)?.summary?.files[m.file]?.path ?? paths[m.file];
        if (file) await vscode.commands.executeCommand('pageledger.reveal', { file, line: m.line });
        return;
      }
      case 'state':
        // The webview keeps its own state with setState, which VS Code restores with the editor.
        return;
    }
  }

  /** Post a view of the part read so far to a ready view. */
  private sendPartial(view: OpenView, name: string, partial: PartialView | null): void {
    if (!view.ready || (!partial && !view.partial)) return;
    view.post({ type: 'partial', title: name, partial });
    if (partial && !view.partial) this.log?.info(`${name}: first partial view sent ${Math.round(performance.now() - view.opened)} ms after the view opened (${partial.events} events read)`);
    view.partial ||= partial !== null;
  }

  /** The worker has a newer view of the part of a trace read so far: to every ready view of it not yet initialised. */
  private partialChanged(traceId: string): void {
    const set = this.panels.get(traceId);
    const t = this.store.get(traceId);
    if (!set?.size || !t || t.summary) return;
    const partial = this.store.partialOf(traceId);
    for (const v of set) this.sendPartial(v, t.paths.length === 1 ? basename(t.paths[0]) : `${t.paths.length} files`, partial);
  }

  /** Post the init of this load to a view, once (see ViewInits). */
  private async sendInit(view: OpenView, traceId: string, summary: TraceDigest): Promise<void> {
    await this.initsOf(traceId).send(view, summary, (init) => view.post({ type: 'init', init }));
  }

  /** The init bookkeeping of one trace. */
  private initsOf(traceId: string): ViewInits<OpenView, TraceDigest, ViewInit> {
    let v = this.inits.get(traceId);
    if (!v) this.inits.set(traceId, (v = new ViewInits((_load) => this.worker.call('viewInit', { traceId }))));
    return v;
  }

  private cursorTimer: ReturnType<typeof setTimeout> | undefined;

  /** Files whose ownership view was opened beside their text this session (closing it is respected). */
  private readonly shownBeside = new Set<string>();

  /**
   * The text editor stays the default for traces, so Problems, hovers and links land on the line; the
   * ownership view opens beside the text the first time a trace shows up in a text editor.
   */
  private showBeside(editor: vscode.TextEditor): void {
    const doc = editor.document;
    if (doc.uri.scheme !== 'file' || !(TRACE_LANGUAGES as readonly string[]).includes(doc.languageId)) return;
    if (!vscode.workspace.getConfiguration('pageledger').get<boolean>('ownershipView.openBeside', true)) return;
    const file = doc.uri.fsPath;
    if (this.shownBeside.has(file) || this.hasViewOf(file)) return;
    this.shownBeside.add(file);
    void vscode.commands.executeCommand('vscode.openWith', doc.uri, TraceEditorProvider.viewType, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true });
  }

  /** Text tabs already looked at (a tab "changes" on every focus; stat and head are read once per file). */
  private readonly tabsSeen = new Set<string>();

  /**
   * A text tab over a trace too large to become a TextDocument: start loading it and show its ownership
   * view beside, as showBeside does for the text of a smaller trace.
   */
  private noticeTab(tab: vscode.Tab): void {
    const input = tab.input;
    if (!(input instanceof vscode.TabInputText) || input.uri.scheme !== 'file') return;
    const file = input.uri.fsPath;
    if (this.tabsSeen.has(file)) return;
    this.tabsSeen.add(file);
    let size = 0;
    try {
      size = statSync(file).size;
    } catch {
      return;
    }
    const detect = vscode.workspace.getConfiguration('pageledger').get<boolean>('detectContent', true);
    if (!isLargeTraceTab(file, size, detect, () => readHead(file))) return;
    void this.store.ensure([file], 'window').catch(() => undefined);
    if (!vscode.workspace.getConfiguration('pageledger').get<boolean>('ownershipView.openBeside', true)) return;
    if (this.shownBeside.has(file) || this.hasViewOf(file)) return;
    this.shownBeside.add(file);
    void vscode.commands.executeCommand('vscode.openWith', input.uri, TraceEditorProvider.viewType, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true });
  }

  /** Whether some ownership view shows the trace holding `file`. */
  hasViewOf(file: string): boolean {
    const t = this.store.forFile(file);
    return (this.panels.get(file)?.size ?? 0) > 0 || (t !== undefined && (this.panels.get(t.traceId)?.size ?? 0) > 0);
  }

  /** Follow the text cursor in the ownership views of its trace (after it rests for a moment). */
  private cursorMoved(editor: vscode.TextEditor): void {
    clearTimeout(this.cursorTimer);
    const file = editor.document.uri.fsPath;
    const line = editor.selection.active.line + 1;
    if (editor.document.uri.scheme !== 'file') return;
    const targets = [...this.panels.entries()].filter(([id, set]) => set.size > 0 && this.store.get(id)?.summary?.files.some((f) => f.path === file));
    if (!targets.length) return;
    // Arrow keys fire a selection change per line; the views only need where the cursor settles.
    this.cursorTimer = setTimeout(() => {
      for (const [traceId, set] of targets) {
        void this.worker.call('timeAtLine', { traceId, path: file, line }).then((at) => {
          if (!at) return;
          for (const v of set) v.post({ type: 'cursor', time: at.time, file: at.file, line: at.line });
        }, () => undefined);
      }
    }, CURSOR_SETTLE_MS);
  }

  /** Send changed view settings to every open ownership view. */
  private settingsChanged(s: ExtensionSettings): void {
    const m = viewSettingsMessage(s);
    for (const set of this.panels.values()) for (const v of set) v.post(m);
  }

  /** Tell every view of a trace about loading progress, and init them (again, after a reload) once loaded. */
  private traceChanged(traceId: string): void {
    const set = this.panels.get(traceId);
    const t = this.store.get(traceId);
    if (!t) this.inits.delete(traceId);
    if (!set?.size || !t) return;
    const summary = t.summary;
    // Ask for the init as soon as the trace is loaded, so a view whose webview is still starting gets it
    // the moment it says ready.
    if (summary) void this.initsOf(traceId).initOf(summary).catch(() => undefined);
    // A load that starts with a view already ready (a reload after a failure): it waits for the part read.
    else if (t.progress === 0 && !t.error && [...set].some((v) => v.ready)) this.worker.wantPartial(traceId);
    for (const v of set) {
      if (!summary) v.post({ type: 'status', progress: t.progress ?? 0, error: t.error });
      else if (v.ready) void this.sendInit(v, traceId, summary).catch(() => undefined);
    }
  }
}

/** The first DETECT_HEAD_BYTES of a file as text, or undefined when it cannot be read. */
function readHead(file: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(DETECT_HEAD_BYTES);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString('utf8');
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
