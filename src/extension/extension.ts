import { mkdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DiffCommands } from './diffCommands';
import { TraceDiagnostics } from './diagnostics';
import { TraceLanguageFeatures } from './languageFeatures';
import { chartResolutionFromSettings, DEFAULT_SETTINGS, ownerColorsFromSettings, ruleConfigFromSettings, threadsFromSettings, type ExtensionSettings } from './logic/settings';
import { TRACE_FILES_GLOB, TRACE_LANGUAGES } from './logic/languages';
import { EXCERPT_SCHEME, Navigator } from './navigation';
import { TraceEditorProvider } from './traceEditorProvider';
import { TraceStore } from './traceStore';
import { TraceTreeProvider } from './treeProvider';
import { WorkerClient } from './workerClient';

function readSettings(log: vscode.LogOutputChannel): ExtensionSettings {
  const c = vscode.workspace.getConfiguration('pageledger');
  const { rules, problems } = ruleConfigFromSettings(c.get('rules.enabled'), c.get('rules.severity'));
  for (const p of problems) log.appendLine(`settings: ${p}`);
  const colors = ownerColorsFromSettings(c.get('ownerColors'));
  for (const p of colors.problems) log.appendLine(`settings: ${p}`);
  const mb = c.get<number>('limits.textEditorMaxMB', 50);
  return {
    rules,
    textEditorMaxBytes: Math.max(1, mb) * 1024 * 1024,
    maxProblemsPerFile: Math.max(1, c.get<number>('limits.maxProblemsPerFile', DEFAULT_SETTINGS.maxProblemsPerFile)),
    chartResolution: chartResolutionFromSettings(c.get('chart.resolution')),
    ownerColors: colors.ownerColors,
    analysisThreads: threadsFromSettings(c.get('analysis.threads')),
  };
}

/** Activate: one worker, one store of traces, and the views and commands over them. */
export function activate(context: vscode.ExtensionContext): void {
  const activateStart = performance.now();
  // A log channel: its lines carry a timestamp, so the steps of an open (activation, worker, webview,
  // first chart) can be read back against the user's action (bench/vscode.mjs does).
  const log = vscode.window.createOutputChannel('Page Ledger', { log: true });
  let settings = readSettings(log);
  const settingsChanged = new vscode.EventEmitter<ExtensionSettings>();
  const worker = new WorkerClient(context.asAbsolutePath(path.join('dist', 'worker.js')));
  stopWorker = () => worker.stop();
  const store = new TraceStore(worker, () => settings, path.join(context.globalStorageUri.fsPath, 'index'), log);
  worker.onLog = (message) => log.appendLine(message);
  const navigator = new Navigator(worker, store, () => settings);
  const tree = new TraceTreeProvider(store, worker);
  const features = new TraceLanguageFeatures(worker, store, () => vscode.workspace.getConfiguration('pageledger').get<boolean>('detectContent', true));
  const status = vscode.window.createStatusBarItem('pageledger.status', vscode.StatusBarAlignment.Left, 10);
  status.name = 'Page Ledger';
  status.command = 'pageledger.traces.focus';

  const updateStatus = (): void => {
    const t = navigator.activeTrace();
    const onTrace = t !== undefined && isTraceEditorActive();
    void vscode.commands.executeCommand('setContext', 'pageledger.traceActive', onTrace);
    if (!t || !onTrace) {
      status.hide();
      return;
    }
    const s = t.summary;
    if (t.error) status.text = `$(error) Page Ledger: ${t.error}`;
    else if (!s) status.text = `$(loading~spin) Page Ledger: reading ${Math.round((t.progress ?? 0) * 100)}%`;
    else status.text = `$(graph) ${s.stats.events.toLocaleString('en-US')} event${s.stats.events === 1 ? '' : 's'} · ${s.livePages.toLocaleString('en-US')} pages · ${s.anomalyCount} anomal${s.anomalyCount === 1 ? 'y' : 'ies'}`;
    status.tooltip = s ? `${t.title}: ${s.format}, ${s.stats.lines} lines read in ${s.stats.parseMs} ms, analysed in ${s.stats.analyzeMs} ms` : t.title;
    status.show();
  };

  context.subscriptions.push(
    log,
    status,
    { dispose: () => worker.dispose() },
    store,
    settingsChanged,
    // First to hear that a trace loaded, so the views' init is the first call the worker answers after the
    // load, before the pages Problems, the tree and CodeLens ask for.
    ...TraceEditorProvider.register(context, store, worker, () => settings, settingsChanged.event, log),
    new TraceDiagnostics(store, worker, () => settings),
    ...navigator.register(),
    ...tree.register(),
    ...features.register(),
    ...new DiffCommands(context.extensionUri, worker, store).register(),
    store.onDidChange(updateStatus),
    vscode.window.onDidChangeActiveTextEditor(updateStatus),
    vscode.window.tabGroups.onDidChangeTabs(updateStatus),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('pageledger')) return;
      settings = readSettings(log);
      if (e.affectsConfiguration('pageledger.rules')) store.reloadAll();
      if (e.affectsConfiguration('pageledger.ownerColors') || e.affectsConfiguration('pageledger.chart')) settingsChanged.fire(settings);
    }),
    vscode.commands.registerCommand('pageledger.openTrace', async () => {
      const uris = await vscode.window.showOpenDialog({ canSelectMany: false, title: 'Open a trace', openLabel: 'Open Trace', filters: { 'Traces': ['pltrace', 'plsnap', 'txt', 'log', 'dat', 'gz', 'json', 'trace'], 'All files': ['*'] } });
      if (uris?.[0]) await openTraceFile(uris[0], settings);
    }),
    vscode.commands.registerCommand('pageledger.showOwnershipView', async (uri?: vscode.Uri) => {
      const target = uri ?? activeFileUri();
      if (!target) return void vscode.window.showInformationMessage('Page Ledger: open a trace file first.');
      await vscode.commands.executeCommand('vscode.openWith', target, TraceEditorProvider.viewType, vscode.window.activeTextEditor ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active);
    }),
    vscode.commands.registerCommand('pageledger.openAsText', async (uri?: vscode.Uri) => {
      const target = uri ?? activeFileUri();
      if (!target) return;
      await navigator.reveal({ uri: target.toString(), line: 1 });
    }),
    vscode.commands.registerCommand('pageledger.generateSample', async () => {
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? context.globalStorageUri.fsPath;
      mkdirSync(folder, { recursive: true });
      const file = path.join(folder, 'cow-snapshots-sample.pltrace');
      const r = await worker.call('synth', { scenario: 'cow-snapshots', seed: 1, events: 20000, path: file });
      log.appendLine(`wrote ${file}: ${r.events} events, ${r.anomalies} injected anomalies`);
      await openTraceFile(vscode.Uri.file(file), settings);
    }),
  );
  updateStatus();
  // A workspace that holds traces will likely open one: start the worker now, off the activation's path,
  // so the first open does not wait for its start (0.1-0.5 s in bench/vscode.mjs at load 10; an idle
  // worker costs 13 MB and 45 ms of CPU on its own thread). Other workspaces start it on their first trace.
  void vscode.workspace.findFiles(TRACE_FILES_GLOB, undefined, 1).then((found) => {
    if (found.length) worker.warm();
  }, () => undefined);
  log.info(`activated in ${Math.round(performance.now() - activateStart)} ms`);
}

/**
 * Open a trace for reading: its text (the ownership view then opens beside it), or only the ownership
 * view when the text editor cannot take the file (too large, or gzipped).
 */
async function openTraceFile(uri: vscode.Uri, settings: ExtensionSettings): Promise<void> {
  let size = 0;
  try {
    size = statSync(uri.fsPath).size;
  } catch {
    return void vscode.window.showErrorMessage(`Page Ledger: cannot read ${uri.fsPath}`);
  }
  if (size > settings.textEditorMaxBytes || /\.gz$/i.test(uri.fsPath)) {
    await vscode.commands.executeCommand('vscode.openWith', uri, TraceEditorProvider.viewType);
    return;
  }
  await vscode.window.showTextDocument(uri, { preview: false });
}

/** Whether the active editor shows a trace (text in a trace language, an excerpt, or the ownership view). */
function isTraceEditorActive(): boolean {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputCustom) return input.viewType === TraceEditorProvider.viewType;
  const ed = vscode.window.activeTextEditor;
  return !!ed && (ed.document.uri.scheme === EXCERPT_SCHEME || (TRACE_LANGUAGES as readonly string[]).includes(ed.document.languageId));
}

/** The file of the active editor, text or custom. */
function activeFileUri(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText) return input.uri;
  return vscode.window.activeTextEditor?.document.uri;
}

/** Stops the worker of the active extension, once it has written the indexes it put off. */
let stopWorker: (() => Promise<void>) | undefined;

/** The views are disposed with the subscriptions; the worker is given time to write its pending indexes. */
export function deactivate(): Promise<void> | undefined {
  return stopWorker?.();
}
