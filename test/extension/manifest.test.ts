import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ANOMALY_KINDS } from '../../src/core/analysis/anomalies';
import { TRACE_FILE_EXTENSIONS, TRACE_FILES_GLOB, TRACE_LANGUAGES } from '../../src/extension/logic/languages';
import { DEFAULT_SETTINGS, THREADS_SETTINGS } from '../../src/extension/logic/settings';

const ROOT = join(__dirname, '..', '..');
interface Manifest {
  main: string;
  activationEvents: string[];
  icon: string;
  engines: { vscode: string };
  capabilities: { untrustedWorkspaces: { supported: boolean }; virtualWorkspaces: { supported: boolean } };
  contributes: {
    commands: { command: string }[];
    menus: Record<string, { command: string }[]>;
    keybindings: { command: string; when: string }[];
    languages: { id: string; configuration: string; extensions?: string[] }[];
    grammars: { language: string; path: string }[];
    customEditors: { viewType: string }[];
    views: Record<string, { id: string }[]>;
    viewsContainers: { activitybar: { id: string; icon: string }[] };
    configuration: { properties: Record<string, { default: unknown; properties?: Record<string, unknown> }> };
    walkthroughs: { steps: { media: { markdown: string } }[] }[];
  };
}
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;
const extensionSource = readdirSync(join(ROOT, 'src/extension')).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(join(ROOT, 'src/extension', f), 'utf8')).join('\n');

describe('package.json contributions match the code', () => {
  it('contributes every command the extension registers, and registers every contributed command', () => {
    const registered = [...extensionSource.matchAll(/registerCommand\('([^']+)'/g)].map((m) => m[1]).sort();
    const contributed = pkg.contributes.commands.map((c) => c.command).sort();
    expect(registered).toEqual(contributed);
  });

  it('uses only contributed commands in menus and keybindings', () => {
    const known = new Set(pkg.contributes.commands.map((c) => c.command));
    const used = [...Object.values(pkg.contributes.menus).flat(), ...pkg.contributes.keybindings].map((m) => m.command);
    expect(used.filter((c) => !known.has(c))).toEqual([]);
    expect(pkg.contributes.keybindings.map((k) => [k.command, k.when])).toEqual([
      ['pageledger.nextAnomaly', 'pageledger.traceActive'],
      ['pageledger.previousAnomaly', 'pageledger.traceActive'],
    ]);
  });

  it('declares the languages the detector sets, each with an existing grammar and configuration', () => {
    expect(pkg.contributes.languages.map((l) => l.id)).toEqual([...TRACE_LANGUAGES]);
    expect(pkg.contributes.grammars.map((g) => g.language)).toEqual([...TRACE_LANGUAGES]);
    for (const g of pkg.contributes.grammars) expect(existsSync(join(ROOT, g.path))).toBe(true);
    for (const l of pkg.contributes.languages) expect(existsSync(join(ROOT, l.configuration))).toBe(true);
  });

  it('activates in a workspace holding a file whose extension names it a trace, and only for those', () => {
    // Active before the first "Show Ownership View" (a command activation took 0.2-0.5 s of the open), but
    // not for every workspace: .txt, .log and .gz traces wait for their language or a command.
    const extensions = pkg.contributes.languages.flatMap((l) => l.extensions ?? []).sort();
    const watched = pkg.activationEvents.filter((e) => e.startsWith('workspaceContains:')).map((e) => /^workspaceContains:\*\*\/\*(\.[\w]+)$/.exec(e)?.[1] ?? e).sort();
    expect(watched).toEqual(extensions);
    // The glob the extension searches to start its worker early is the same list.
    expect(TRACE_FILE_EXTENSIONS.map((e) => `.${e}`).sort()).toEqual(extensions);
    expect(TRACE_FILES_GLOB).toBe(`**/*.{${TRACE_FILE_EXTENSIONS.join(',')}}`);
    expect(pkg.activationEvents).not.toContain('*');
    expect(pkg.activationEvents).not.toContain('onStartupFinished');
  });

  it('names the custom editor and the tree view the code registers', () => {
    expect(pkg.contributes.customEditors.map((c) => c.viewType)).toEqual(['pageledger.ownership']);
    expect(extensionSource).toContain("static readonly viewType = 'pageledger.ownership'");
    expect(pkg.contributes.views.pageledger.map((v) => v.id)).toEqual(['pageledger.traces']);
    expect(extensionSource).toContain("createTreeView('pageledger.traces'");
  });

  it('offers a switch and a severity for every rule, and the same defaults as the code', () => {
    const p = pkg.contributes.configuration.properties;
    expect(Object.keys(p['pageledger.rules.enabled'].properties ?? {})).toEqual([...ANOMALY_KINDS]);
    expect(Object.keys(p['pageledger.rules.severity'].properties ?? {})).toEqual([...ANOMALY_KINDS]);
    expect(p['pageledger.ownerColors'].default).toEqual(DEFAULT_SETTINGS.ownerColors);
    expect(p['pageledger.chart.resolution'].default).toBe(DEFAULT_SETTINGS.chartResolution);
    expect(p['pageledger.analysis.threads'].default).toBe(DEFAULT_SETTINGS.analysisThreads);
    expect((p['pageledger.analysis.threads'] as { enum?: unknown }).enum).toEqual([...THREADS_SETTINGS]);
    expect(p['pageledger.limits.maxProblemsPerFile'].default).toBe(DEFAULT_SETTINGS.maxProblemsPerFile);
    expect((p['pageledger.limits.textEditorMaxMB'].default as number) * 1024 * 1024).toBe(DEFAULT_SETTINGS.textEditorMaxBytes);
  });

  it('ships its media, runs from the bundle, and declares trust honestly', () => {
    expect(pkg.main).toBe('./dist/extension.js');
    expect(pkg.engines.vscode).toBe('^1.100.0');
    expect(pkg.capabilities.untrustedWorkspaces.supported).toBe(true);
    expect(pkg.capabilities.virtualWorkspaces.supported).toBe(false);
    const media = [pkg.icon, ...pkg.contributes.viewsContainers.activitybar.map((a) => a.icon), ...pkg.contributes.walkthroughs.flatMap((w) => w.steps.map((s) => s.media.markdown))];
    for (const m of media) expect(existsSync(join(ROOT, m))).toBe(true);
    expect(readFileSync(join(ROOT, pkg.icon)).subarray(1, 4).toString()).toBe('PNG');
  });
});
