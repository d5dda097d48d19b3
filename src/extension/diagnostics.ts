import * as vscode from 'vscode';
import type { Severity } from '../core/analysis/anomalies';
import { diagnosticsByFile, type DiagnosticSpec } from './logic/diagnostics';
import type { ExtensionSettings } from './logic/settings';
import { ruleUri } from './navigation';
import type { TraceStore } from './traceStore';

const SEVERITY: Record<Severity, vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

// Diagnostics are set before the file is open, so the line length is unknown; the editor clamps a range
// to the line, and a whole-line range underlines the event without guessing columns.
const WHOLE_LINE = 100_000;

/** One Diagnostic from its plain-data spec. */
export function toDiagnostic(d: DiagnosticSpec): vscode.Diagnostic {
  const diag = new vscode.Diagnostic(new vscode.Range(d.line, 0, d.line, WHOLE_LINE), d.message, SEVERITY[d.severity]);
  diag.source = 'pageledger';
  diag.code = { value: d.code, target: ruleUri(d.code) };
  diag.relatedInformation = d.related.map((r) => new vscode.DiagnosticRelatedInformation(new vscode.Location(vscode.Uri.file(r.file), new vscode.Range(r.line, 0, r.line, WHOLE_LINE)), r.message));
  return diag;
}

/** Keeps the Problems panel in step with the loaded traces: every anomaly at its line. */
export class TraceDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('pageledger');
  /** Files each trace put diagnostics on, to clear them when it closes. */
  private readonly filesOf = new Map<string, string[]>();
  private readonly sub: vscode.Disposable;

  constructor(private readonly store: TraceStore, private readonly settings: () => ExtensionSettings) {
    this.sub = store.onDidChange((id) => this.update(id));
  }

  private update(traceId: string): void {
    const t = this.store.get(traceId);
    if (!t) {
      for (const f of this.filesOf.get(traceId) ?? []) if (!this.store.forFile(f)) this.collection.delete(vscode.Uri.file(f));
      this.filesOf.delete(traceId);
      return;
    }
    if (!t.summary) {
      if (t.error && t.error !== 'loading cancelled' && t.paths.length === 1) {
        const d = new vscode.Diagnostic(new vscode.Range(0, 0, 0, WHOLE_LINE), `Page Ledger could not read this trace: ${t.error}`, vscode.DiagnosticSeverity.Error);
        d.source = 'pageledger';
        this.collection.set(vscode.Uri.file(t.paths[0]), [d]);
      }
      return;
    }
    // A file in both its own trace and a merged one shows its own trace's findings.
    if (t.paths.length > 1 && t.paths.some((p) => this.store.get(p)?.summary)) return;
    const files: string[] = [];
    for (const fd of diagnosticsByFile(t.summary, this.settings().maxProblemsPerFile)) {
      const list = fd.diagnostics.map(toDiagnostic);
      if (fd.omitted > 0) {
        const more = new vscode.Diagnostic(new vscode.Range(0, 0, 0, WHOLE_LINE), `${fd.omitted} more anomalies not listed here (limit pageledger.limits.maxProblemsPerFile); the Page Ledger tree lists them all`, vscode.DiagnosticSeverity.Information);
        more.source = 'pageledger';
        list.push(more);
      }
      this.collection.set(vscode.Uri.file(fd.file), list);
      files.push(fd.file);
    }
    this.filesOf.set(traceId, files);
  }

  dispose(): void {
    this.sub.dispose();
    this.collection.dispose();
  }
}
