import { statSync } from 'node:fs';
import * as vscode from 'vscode';
import { ANOMALY_KINDS, type AnomalyKind } from '../core/analysis/anomalies';
import type { LineExcerpt } from '../protocol/worker';
import { ruleMarkdown } from './logic/diagnostics';
import { EXCERPT_CONTEXT, excerptDocumentLine, excerptTextColumn, renderExcerpt } from './logic/excerpt';
import type { TraceLocation } from './logic/navigation';
import type { ExtensionSettings } from './logic/settings';
import type { StoredTrace, TraceStore } from './traceStore';
import type { WorkerClient } from './workerClient';

/** Scheme of the read-only excerpts of files too large for the text editor. */
export const EXCERPT_SCHEME = 'pageledger-excerpt';
/** Scheme of the rule explanations a diagnostic's code links to. */
export const RULE_SCHEME = 'pageledger-rule';

/** What `pageledger.reveal` accepts: a path or a URI string, and a 1-based line. */
export interface RevealTarget {
  file?: string;
  uri?: string;
  line: number;
}

/** The URI a diagnostic's code links to for a rule's explanation. */
export function ruleUri(kind: AnomalyKind): vscode.Uri {
  return vscode.Uri.from({ scheme: RULE_SCHEME, path: `/${kind}.md` });
}

/**
 * The one "reveal location" command behind the tree, Problems, hovers, the webview and Next/Previous
 * Anomaly: opens the file at the line and selects it, or a read-only excerpt around the line when the file
 * is too large for the text editor.
 */
export class Navigator implements vscode.TextDocumentContentProvider {
  private readonly excerpts = new Map<string, LineExcerpt>();
  /** Where the last anomaly shown per trace is: Next continues from it when no text editor shows the trace. */
  private readonly lastAnomaly = new Map<string, TraceLocation>();

  constructor(private readonly worker: WorkerClient, private readonly store: TraceStore, private readonly settings: () => ExtensionSettings) {}

  register(): vscode.Disposable[] {
    return [
      vscode.workspace.registerTextDocumentContentProvider(EXCERPT_SCHEME, this),
      vscode.workspace.registerTextDocumentContentProvider(RULE_SCHEME, {
        provideTextDocumentContent: (uri) => {
          const kind = uri.path.replace(/^\//, '').replace(/\.md$/, '');
          return (ANOMALY_KINDS as readonly string[]).includes(kind) ? ruleMarkdown(kind as AnomalyKind) : `No rule named ${kind}.\n`;
        },
      }),
      vscode.commands.registerCommand('pageledger.reveal', (t: RevealTarget) => this.reveal(t)),
      vscode.commands.registerCommand('pageledger.nextAnomaly', () => this.step(1)),
      vscode.commands.registerCommand('pageledger.previousAnomaly', () => this.step(-1)),
    ];
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const file = uri.path;
    const line = Number(new URLSearchParams(uri.query).get('line') ?? '1');
    const x = await this.worker.call('excerpt', { path: file, line, before: EXCERPT_CONTEXT, after: EXCERPT_CONTEXT });
    this.excerpts.set(uri.toString(), x);
    return renderExcerpt(file, x);
  }

  /** Open `target` and select its line. */
  async reveal(target: RevealTarget): Promise<void> {
    const uri = target.uri ? vscode.Uri.parse(target.uri) : vscode.Uri.file(target.file ?? '');
    const line = Math.max(1, Math.floor(target.line || 1));
    let size = 0;
    try {
      size = uri.scheme === 'file' ? statSync(uri.fsPath).size : 0;
    } catch {
      void vscode.window.showErrorMessage(`Page Ledger: cannot open ${uri.fsPath}: the file is gone`);
      return;
    }
    const column = this.columnFor(uri);
    if (size > this.settings().textEditorMaxBytes || /\.gz$/i.test(uri.path)) {
      const xuri = vscode.Uri.from({ scheme: EXCERPT_SCHEME, path: uri.fsPath, query: `line=${line}` });
      const doc = await vscode.workspace.openTextDocument(xuri);
      const x = this.excerpts.get(xuri.toString());
      const l = x ? excerptDocumentLine(x, line) : 0;
      const col = x ? excerptTextColumn(x) : 0;
      const range = new vscode.Range(l, col, l, doc.lineAt(Math.min(l, doc.lineCount - 1)).range.end.character);
      await vscode.window.showTextDocument(doc, { selection: range, viewColumn: column, preview: true });
      return;
    }
    const doc = await vscode.workspace.openTextDocument(uri);
    const l = Math.min(line - 1, doc.lineCount - 1);
    const range = doc.lineAt(l).range;
    const editor = await vscode.window.showTextDocument(doc, { selection: range, viewColumn: column, preserveFocus: false });
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  /** Keep a file where it is already shown; beside the ownership view when that is what is active. */
  private columnFor(uri: vscode.Uri): vscode.ViewColumn | undefined {
    const shown = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
    if (shown) return shown.viewColumn;
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
    return tab?.input instanceof vscode.TabInputCustom ? vscode.ViewColumn.Beside : undefined;
  }

  /** The trace the user is looking at: the active text editor's file, the active custom editor's, or the only one. */
  activeTrace(): StoredTrace | undefined {
    const ed = vscode.window.activeTextEditor;
    if (ed) {
      const file = ed.document.uri.scheme === EXCERPT_SCHEME ? ed.document.uri.path : ed.document.uri.fsPath;
      const t = this.store.forFile(file);
      if (t) return t;
    }
    const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    if (input instanceof vscode.TabInputCustom) {
      const t = this.store.forFile(input.uri.fsPath);
      if (t) return t;
    }
    const loaded = this.store.list().filter((t) => t.summary);
    return loaded.length ? loaded[loaded.length - 1] : undefined;
  }

  private cursorIn(trace: StoredTrace): TraceLocation | null {
    const ed = vscode.window.activeTextEditor;
    if (ed) {
      const u = ed.document.uri;
      if (u.scheme === 'file' && trace.paths.includes(u.fsPath)) return { file: u.fsPath, line: ed.selection.active.line + 1 };
      if (u.scheme === EXCERPT_SCHEME && trace.paths.includes(u.path)) {
        const m = /^\s*(\d+) \| /.exec(ed.document.lineAt(ed.selection.active.line).text);
        if (m) return { file: u.path, line: Number(m[1]) };
      }
    }
    return this.lastAnomaly.get(trace.traceId) ?? null;
  }

  /** Go to the next (1) or previous (-1) anomaly of the active trace. */
  async step(direction: 1 | -1): Promise<void> {
    const trace = this.activeTrace();
    const s = trace?.summary;
    if (!trace || !s) {
      void vscode.window.showInformationMessage('Page Ledger: open a trace first (Page Ledger: Open Trace...).');
      return;
    }
    // The worker walks the whole list (the host holds only the digest's first anomalies).
    const next = s.anomalyCount ? await this.worker.call('stepAnomaly', { traceId: trace.traceId, from: this.cursorIn(trace), direction }) : null;
    if (!next) {
      void vscode.window.showInformationMessage(`Page Ledger: no anomalies in ${trace.title}.`);
      return;
    }
    const a = next.anomaly;
    this.lastAnomaly.set(trace.traceId, { file: a.file, line: a.line });
    await this.reveal({ file: a.file, line: a.line });
    vscode.window.setStatusBarMessage(`Page Ledger: anomaly ${next.index + 1} of ${next.total}: ${a.kind}`, 4000);
  }
}
