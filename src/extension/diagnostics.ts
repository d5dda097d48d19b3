import * as vscode from 'vscode';
import type { Severity } from '../core/analysis/anomalies';
import type { AnomalySummary } from '../core/trace';
import { fileDiagnostics, type DiagnosticSpec } from './logic/diagnostics';
import type { ExtensionSettings } from './logic/settings';
import { ruleUri } from './navigation';
import type { TraceStore } from './traceStore';
import type { WorkerClient } from './workerClient';

const SEVERITY: Record<Severity, vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

// Anomalies asked of the worker at a time: about 330 KB of JSON, so no single reply holds up the
// ownership view's requests queued behind it.
const CHUNK = 1000;

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
  /** The digest each trace's diagnostics were last asked for: progress ticks change nothing, a reload restarts. */
  private readonly shown = new Map<string, object | null>();

  constructor(private readonly store: TraceStore, private readonly worker: WorkerClient, private readonly settings: () => ExtensionSettings) {
    this.sub = store.onDidChange((id) => void this.update(id));
  }

  private async update(traceId: string): Promise<void> {
    const t = this.store.get(traceId);
    if (t && t.summary && this.shown.get(traceId) === t.summary) return;
    this.shown.set(traceId, t?.summary ?? null);
    if (!t) {
      this.shown.delete(traceId);
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
    const digest = t.summary;
    const max = this.settings().maxProblemsPerFile;
    const files: string[] = [];
    this.filesOf.set(traceId, files);
    for (const { path: file } of digest.files) {
      // The worker sends each file's anomalies in chunks, up to the limit; the panel fills in file by file.
      const first: AnomalySummary[] = [];
      let total = 0;
      try {
        do {
          const page = await this.worker.call('anomalies', { traceId, file, offset: first.length, limit: Math.min(CHUNK, max - first.length) });
          first.push(...page.items);
          total = page.total;
          if (page.items.length === 0) break;
        } while (first.length < Math.min(total, max));
      } catch {
        return;
      }
      // A reload or a close meanwhile: the newer update owns the panel now.
      if (this.store.get(traceId)?.summary !== digest) return;
      const fd = fileDiagnostics(file, first, total, max);
      const list = fd.diagnostics.map(toDiagnostic);
      if (fd.omitted > 0) {
        const more = new vscode.Diagnostic(new vscode.Range(0, 0, 0, WHOLE_LINE), `${fd.omitted} more anomalies not listed here (limit pageledger.limits.maxProblemsPerFile); the Page Ledger tree lists them all`, vscode.DiagnosticSeverity.Information);
        more.source = 'pageledger';
        list.push(more);
      }
      this.collection.set(vscode.Uri.file(fd.file), list);
      files.push(fd.file);
    }
  }

  dispose(): void {
    this.sub.dispose();
    this.collection.dispose();
  }
}
