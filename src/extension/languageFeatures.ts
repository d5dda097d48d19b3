import * as vscode from 'vscode';
import { anomalyHoverMarkdown, findPfnAt, pageHistoryMarkdown } from './logic/hoverText';
import { DETECT_HEAD_BYTES, TRACE_LANGUAGES, detectTraceLanguage, wantsContentDetection } from './logic/languages';
import { outlineSymbols } from './logic/symbols';
import type { TraceStore } from './traceStore';
import type { WorkerClient } from './workerClient';

const SELECTOR: vscode.DocumentSelector = TRACE_LANGUAGES.map((language) => ({ language, scheme: 'file' }));

/** Hover, outline, CodeLens and content detection for trace text. */
export class TraceLanguageFeatures implements vscode.HoverProvider, vscode.DocumentSymbolProvider, vscode.CodeLensProvider {
  private readonly lensesChanged = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.lensesChanged.event;

  constructor(private readonly worker: WorkerClient, private readonly store: TraceStore, private readonly detectContent: () => boolean) {}

  register(): vscode.Disposable[] {
    const open = (doc: vscode.TextDocument): void => void this.onOpen(doc);
    for (const doc of vscode.workspace.textDocuments) open(doc);
    return [
      vscode.languages.registerHoverProvider(SELECTOR, this),
      vscode.languages.registerDocumentSymbolProvider(SELECTOR, this, { label: 'Page Ledger' }),
      vscode.languages.registerCodeLensProvider(SELECTOR, this),
      vscode.workspace.onDidOpenTextDocument(open),
      this.store.onDidChange(() => this.lensesChanged.fire()),
      this.lensesChanged,
    ];
  }

  /** Give .txt/.log/.dat traces their language, and load trace text so Problems fills in. */
  private async onOpen(doc: vscode.TextDocument): Promise<void> {
    if (doc.uri.scheme !== 'file') return;
    if (this.detectContent() && wantsContentDetection(doc.fileName, doc.languageId)) {
      const head = doc.getText(new vscode.Range(0, 0, Math.min(doc.lineCount, 2000), 0)).slice(0, DETECT_HEAD_BYTES);
      const lang = detectTraceLanguage(head);
      // Setting the language closes and reopens the document, which comes back here with the new id.
      if (lang) await vscode.languages.setTextDocumentLanguage(doc, lang);
      return;
    }
    if ((TRACE_LANGUAGES as readonly string[]).includes(doc.languageId) && !this.store.forFile(doc.uri.fsPath)) {
      await this.store.ensure([doc.uri.fsPath], 'window').catch(() => undefined);
    }
  }

  async provideHover(doc: vscode.TextDocument, pos: vscode.Position, token: vscode.CancellationToken): Promise<vscode.Hover | undefined> {
    const line = doc.lineAt(pos.line).text;
    const tok = findPfnAt(line, pos.character);
    const file = doc.uri.fsPath;
    const trace = this.store.forFile(file) ?? (await this.store.ensure([file], 'window').then(() => this.store.forFile(file), () => undefined));
    const s = trace?.summary;
    if (!trace || !s || token.isCancellationRequested) return undefined;
    const parts: string[] = [];
    const here = s.anomalyCount ? (await this.worker.call('anomalies', { traceId: trace.traceId, file, line: pos.line + 1, offset: 0, limit: 20 }).catch(() => undefined))?.items ?? [] : [];
    // The anomaly goes first: a long page history would push it out of the hover's visible height.
    if (here.length) parts.push(anomalyHoverMarkdown(here));
    if (tok) {
      const h = await this.worker.call('pageHistory', { traceId: trace.traceId, pfn: tok.pfn, maxTouches: 0 });
      parts.push(pageHistoryMarkdown(h, s.files.map((f) => f.path)));
    }
    if (!parts.length) return undefined;
    const md = new vscode.MarkdownString(parts.join('\n\n---\n\n'));
    md.isTrusted = { enabledCommands: ['pageledger.reveal'] };
    return new vscode.Hover(md, tok ? new vscode.Range(pos.line, tok.start, pos.line, tok.end) : undefined);
  }

  provideDocumentSymbols(doc: vscode.TextDocument): vscode.DocumentSymbol[] {
    const lines: string[] = [];
    for (let k = 0; k < doc.lineCount; k++) lines.push(doc.lineAt(k).text);
    return outlineSymbols(lines, doc.languageId).map((s) => {
      const range = new vscode.Range(s.line, 0, s.endLine, doc.lineAt(s.endLine).text.length);
      return new vscode.DocumentSymbol(s.name, s.detail, s.kind === 'snapshot' ? vscode.SymbolKind.Event : vscode.SymbolKind.Namespace, range, new vscode.Range(s.line, 0, s.line, doc.lineAt(s.line).text.length));
    });
  }

  async provideCodeLenses(doc: vscode.TextDocument, token: vscode.CancellationToken): Promise<vscode.CodeLens[]> {
    const trace = this.store.forFile(doc.uri.fsPath);
    const s = trace?.summary;
    if (!trace || !s || s.snapshotCount === 0) return [];
    // This file's snapshots only: the worker holds them all (4.9 MB of JSON for a 103 MB trace).
    const page = await this.worker.call('snapshots', { traceId: trace.traceId, file: doc.uri.fsPath, offset: 0, limit: Number.MAX_SAFE_INTEGER }).catch(() => undefined);
    if (!page || token.isCancellationRequested) return [];
    const lenses: vscode.CodeLens[] = [];
    for (const x of page.items) {
      if (x.line < 1 || x.line > doc.lineCount) continue;
      const range = new vscode.Range(x.line - 1, 0, x.line - 1, 0);
      lenses.push(
        new vscode.CodeLens(range, {
          title: `${x.pages} pages · ${x.shared} shared · ${x.cows} CoW'd since${x.dropped ? ' · dropped' : ''}`,
          command: 'pageledger.selectForCompare',
          arguments: [{ traceId: trace.traceId, snapshot: x.id }],
          tooltip: `Select ${x.name} for compare`,
        }),
      );
    }
    return lenses;
  }
}
