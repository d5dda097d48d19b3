import { ANOMALY_KINDS, type AnomalyKind, type RuleConfig, type Severity } from '../../core/analysis/anomalies';
import type { SettingsMessage } from '../../protocol/view';

/** The settings the extension reads, already validated. */
export interface ExtensionSettings {
  rules: RuleConfig;
  /** Files above this size (bytes) open as excerpts when revealing a line. */
  textEditorMaxBytes: number;
  /** Diagnostics per file at most. */
  maxProblemsPerFile: number;
  /** Buckets across the ownership chart. */
  chartResolution: number;
  /** Colour per owner kind (CSS colours) the user set; kinds not listed follow the colour theme. */
  ownerColors: Record<string, string>;
  /** Threads that read a trace file: `pageledger.analysis.threads` (analysisThreads resolves `auto`). */
  analysisThreads: ThreadsSetting;
}

/** The values of `pageledger.analysis.threads`. */
export const THREADS_SETTINGS = ['auto', 'one', 'two'] as const;
/** One of THREADS_SETTINGS. */
export type ThreadsSetting = (typeof THREADS_SETTINGS)[number];

/** Defaults, the same as the `contributes.configuration` defaults in package.json. */
export const DEFAULT_SETTINGS: ExtensionSettings = {
  rules: {},
  textEditorMaxBytes: 50 * 1024 * 1024,
  maxProblemsPerFile: 5000,
  chartResolution: 800,
  // Empty: the view takes each kind's colour from the theme (charts.blue, ...) so light and dark both read.
  ownerColors: {},
  analysisThreads: 'auto',
};

/** Owner kinds the colour setting may name (the webview's OWNER_KINDS). */
export const COLOUR_KINDS = ['kernel', 'process', 'file', 'snapshot', 'agent', 'free'] as const;

/**
 * The owner colour setting, checked: known kinds with `#rgb`, `#rrggbb` or `#rrggbbaa` values. Anything
 * else is left out and listed in `problems`, so a typo falls back to the theme colour instead of black.
 */
export function ownerColorsFromSettings(raw: unknown): { ownerColors: Record<string, string>; problems: string[] } {
  const ownerColors: Record<string, string> = {};
  const problems: string[] = [];
  if (raw === undefined || raw === null) return { ownerColors, problems };
  if (typeof raw !== 'object' || Array.isArray(raw)) return { ownerColors, problems: ['pageledger.ownerColors: expected an object of owner kind to colour'] };
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (!(COLOUR_KINDS as readonly string[]).includes(k)) problems.push(`pageledger.ownerColors: unknown owner kind "${k}" (expected ${COLOUR_KINDS.join(', ')})`);
    else if (typeof v !== 'string' || !/^#([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i.test(v.trim())) problems.push(`pageledger.ownerColors.${k}: expected a colour like #3794ff`);
    else ownerColors[k] = v.trim();
  }
  return { ownerColors, problems };
}

/** The chart resolution setting clamped to its declared range (50..10000), the default when not a number. */
export function chartResolutionFromSettings(raw: unknown): number {
  return typeof raw === 'number' && Number.isFinite(raw) ? Math.max(50, Math.min(10_000, Math.round(raw))) : DEFAULT_SETTINGS.chartResolution;
}

/** The threads setting, `auto` when it is not one of its values. */
export function threadsFromSettings(raw: unknown): ThreadsSetting {
  return (THREADS_SETTINGS as readonly unknown[]).includes(raw) ? (raw as ThreadsSetting) : 'auto';
}

/**
 * Threads the analysis worker reads a trace with (a second one only parses; the worker analyses beside
 * it), given the setting and the cores the extension host may use (`os.availableParallelism()`). On two
 * cores a first open shares them with the webview's start in code-server and Chromium, and the second
 * thread's 0.5 s more CPU made it no sooner: first chart of the 103 MB trace of bench/vscode.mjs, seven
 * first opens each, interleaved, load 1-9: two threads 2.77-6.46 s (median 4.28 s), 3.2 s CPU in the
 * extension host; one thread 2.81-6.33 s (median 3.79 s), 2.7 s CPU.
 */
export function analysisThreads(setting: ThreadsSetting, cores: number): 1 | 2 {
  if (setting === 'one') return 1;
  if (setting === 'two') return 2;
  return cores > 2 ? 2 : 1;
}

/** The ownership webview's `settings` message. */
export function viewSettingsMessage(s: ExtensionSettings): SettingsMessage {
  return { type: 'settings', ownerColors: { ...s.ownerColors }, chartResolution: s.chartResolution };
}

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
