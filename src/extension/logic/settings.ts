import { ANOMALY_KINDS, type AnomalyKind, type RuleConfig, type Severity } from '../../core/analysis/anomalies';

/** The settings the extension reads, already validated. */
export interface ExtensionSettings {
  rules: RuleConfig;
  /** Files above this size (bytes) open as excerpts when revealing a line. */
  textEditorMaxBytes: number;
  /** Diagnostics per file at most. */
  maxProblemsPerFile: number;
  /** Buckets across the ownership chart. */
  chartResolution: number;
  /** Colour per owner kind (CSS colours). */
  ownerColors: Record<string, string>;
}

/** Defaults, the same as the `contributes.configuration` defaults in package.json. */
export const DEFAULT_SETTINGS: ExtensionSettings = {
  rules: {},
  textEditorMaxBytes: 50 * 1024 * 1024,
  maxProblemsPerFile: 5000,
  chartResolution: 800,
  ownerColors: { kernel: '#8c8c8c', process: '#3794ff', file: '#89d185', snapshot: '#c586c0', agent: '#d18616', free: '#3c3c3c' },
};

const SEVERITIES: readonly Severity[] = ['error', 'warning', 'info'];

function isKind(k: unknown): k is AnomalyKind {
  return typeof k === 'string' && (ANOMALY_KINDS as readonly string[]).includes(k);
}

/**
 * Rule settings as the core takes them. `enabled` maps a rule to false to switch it off; `severity` maps a
 * rule to error, warning or info. Unknown rules and values are ignored (listed in `problems`), so a typo in
 * settings.json never stops a trace from loading.
 */
export function ruleConfigFromSettings(enabled: unknown, severity: unknown): { rules: RuleConfig; problems: string[] } {
  const problems: string[] = [];
  const rules: RuleConfig = {};
  if (enabled && typeof enabled === 'object') {
    for (const [k, v] of Object.entries(enabled as Record<string, unknown>)) {
      if (!isKind(k)) problems.push(`pageledger.rules.enabled: unknown rule "${k}"`);
      else if (v === false) (rules.disabled ??= []).push(k);
    }
  }
  if (severity && typeof severity === 'object') {
    for (const [k, v] of Object.entries(severity as Record<string, unknown>)) {
      if (!isKind(k)) problems.push(`pageledger.rules.severity: unknown rule "${k}"`);
      else if (typeof v !== 'string' || !SEVERITIES.includes(v as Severity)) problems.push(`pageledger.rules.severity.${k}: expected error, warning or info`);
      else (rules.severity ??= {})[k] = v as Severity;
    }
  }
  return { rules, problems };
}
