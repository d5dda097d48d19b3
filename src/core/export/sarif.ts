import { ANOMALY_KINDS, RULES, type Severity } from '../analysis/anomalies';
import type { TraceSummary } from '../trace';

/** A SARIF 2.1.0 log (the subset Page Ledger writes). */
export interface SarifLog {
  $schema: string;
  version: '2.1.0';
  runs: unknown[];
}

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', info: 'note' };

function uri(path: string): string {
  // Relative paths stay relative (code-scanning resolves them against the checkout); absolute become file URIs.
  if (path.startsWith('/')) return 'file://' + path.split('/').map(encodeURIComponent).join('/');
  return path.split('/').map(encodeURIComponent).join('/');
}

/** The anomalies of a summary as a SARIF 2.1.0 log, one rule per anomaly kind. */
export function toSarif(s: TraceSummary, version = '0.1.0'): SarifLog {
  const rules = ANOMALY_KINDS.map((k) => ({
    id: k,
    name: RULES[k].title.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : '')),
    shortDescription: { text: RULES[k].title },
    fullDescription: { text: RULES[k].explanation },
    help: { text: RULES[k].explanation, markdown: `**${RULES[k].title}**\n\n${RULES[k].explanation}` },
    defaultConfiguration: { level: LEVEL[RULES[k].severity] },
    properties: { tags: ['memory', 'page-ownership'] },
  }));
  const results = s.anomalies.map((a) => ({
    ruleId: a.kind,
    ruleIndex: ANOMALY_KINDS.indexOf(a.kind),
    level: LEVEL[a.severity],
    message: { text: a.message },
    locations: [{ physicalLocation: { artifactLocation: { uri: uri(a.file) }, region: { startLine: Math.max(1, a.line) } } }],
    ...(a.relatedLocations.length
      ? {
          relatedLocations: a.relatedLocations.map((r, id) => ({
            id,
            message: { text: 'related' },
            physicalLocation: { artifactLocation: { uri: uri(r.file) }, region: { startLine: Math.max(1, r.line) } },
          })),
        }
      : {}),
    ...(a.pfn ? { properties: { pfn: a.pfn, time: a.time } } : {}),
  }));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'Page Ledger', informationUri: 'https://example.invalid/pageledger', version, semanticVersion: version, rules } },
        artifacts: s.files.map((f) => ({ location: { uri: uri(f.path) }, length: f.bytes })),
        results,
        columnKind: 'utf16CodeUnits',
      },
    ],
  };
}
