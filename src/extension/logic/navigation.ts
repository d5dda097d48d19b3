import type { AnomalySummary } from '../../core/trace';

/** A place to go: a file path and a 1-based line. */
export interface TraceLocation {
  file: string;
  line: number;
}

/**
 * The anomaly after (or before) the cursor. Anomalies are ordered by their file's position in the trace
 * and then by line; the cursor is a file and 1-based line, or null when no text editor shows the trace
 * (then Next starts at the first anomaly and Previous at the last). Wraps around at either end.
 */
export function stepAnomaly(anomalies: readonly AnomalySummary[], files: readonly string[], cursor: TraceLocation | null, direction: 1 | -1): number {
  if (anomalies.length === 0) return -1;
  if (!cursor) return direction === 1 ? 0 : anomalies.length - 1;
  const rank = (file: string): number => {
    const k = files.indexOf(file);
    return k < 0 ? files.length : k;
  };
  const cf = rank(cursor.file);
  const cmp = (a: AnomalySummary): number => rank(a.file) - cf || a.line - cursor.line;
  if (direction === 1) {
    const k = anomalies.findIndex((a) => cmp(a) > 0);
    return k < 0 ? 0 : k;
  }
  for (let k = anomalies.length - 1; k >= 0; k--) if (cmp(anomalies[k]) < 0) return k;
  return anomalies.length - 1;
}
