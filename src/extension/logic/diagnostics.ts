import { RULES, type AnomalyKind, type Severity } from '../../core/analysis/anomalies';
import type { AnomalySummary } from '../../core/trace';

/** A Problems-panel entry in plain data: the adapter turns it into a vscode.Diagnostic. */
export interface DiagnosticSpec {
  /** 0-based line. */
  line: number;
  severity: Severity;
  message: string;
  /** The rule, shown as the diagnostic's code and linked to its explanation. */
  code: AnomalyKind;
  related: { file: string; line: number; message: string }[];
}

/** Diagnostics of one file, and how many anomalies were left out beyond the limit. */
export interface FileDiagnostics {
  file: string;
  diagnostics: DiagnosticSpec[];
  omitted: number;
}

/** One anomaly as a diagnostic: its exact line, its severity, the lines that explain it. */
export function anomalyToDiagnostic(a: AnomalySummary): DiagnosticSpec {
  const locations = a.relatedLocations.length ? a.relatedLocations : a.related.map((line) => ({ file: a.file, line }));
  return {
    line: Math.max(0, a.line - 1),
    severity: a.severity,
    message: a.message,
    code: a.kind,
    related: locations.map((l) => ({ file: l.file, line: Math.max(0, l.line - 1), message: `${RULES[a.kind].title}: related event at line ${l.line}` })),
  };
}

/**
 * The diagnostics of one file from its first anomalies (the worker sends at most `maxPerFile`) and how
 * many it has in all: the Problems panel slows to a crawl beyond a few thousand entries, and the tree
 * still lists every anomaly.
 */
export function fileDiagnostics(file: string, first: readonly AnomalySummary[], total: number, maxPerFile: number): FileDiagnostics {
  const diagnostics = first.slice(0, maxPerFile).map(anomalyToDiagnostic);
  return { file, diagnostics, omitted: Math.max(0, total - diagnostics.length) };
}

/** The markdown explanation of a rule (the target of a diagnostic's code link, and part of hovers). */
export function ruleMarkdown(kind: AnomalyKind): string {
  const r = RULES[kind];
  return `# ${r.title} (\`${r.kind}\`)\n\nDefault severity: ${r.severity}.\n\n${r.explanation}\n`;
}
