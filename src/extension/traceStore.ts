import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PartialView } from '../protocol/viewData';
import type { TraceDigest } from '../protocol/worker';
import type { TreeTrace } from './logic/treeModel';
import { analysisThreads, type ExtensionSettings } from './logic/settings';
import { WorkerCancelledError, type WorkerClient } from './workerClient';

/** A trace the extension knows: one file, or several merged into one timeline. */
export interface StoredTrace extends TreeTrace {
  paths: string[];
}

interface Entry {
  trace: StoredTrace;
  loading: Promise<TraceDigest> | null;
  /** While a first load reads: the view of the part read so far, if the worker sent one (null: withdrawn). */
  partial: PartialView | null;
  watchers: vscode.Disposable[];
  reloadTimer?: ReturnType<typeof setTimeout>;
}

/** How a load shows its progress: a cancellable notification, or quietly in the status bar. */
export type ProgressStyle = 'notification' | 'window';

/** The id of the trace made of these files (one file: its path). */
export function traceIdFor(paths: readonly string[]): string {
  return paths.length === 1 ? paths[0] : 'merged:' + paths.join('|');
}

// A trace written by a running capture changes many times a second; reloading once it settles is enough.
const RELOAD_DEBOUNCE_MS = 500;

/**
 * Every loaded trace: loads through the worker (with progress and cancel), reloads when a file changes on
 * disk or the rule settings change, and tells listeners (tree, Problems, status bar, webviews) about it.
 */
export class TraceStore implements vscode.Disposable {
  private readonly entries = new Map<string, Entry>();
  private readonly changed = new vscode.EventEmitter<string>();
  /** Fires with a traceId when that trace starts loading, progresses, loads, fails or closes. */
  readonly onDidChange = this.changed.event;
  private readonly partials = new vscode.EventEmitter<string>();
  /** Fires with a traceId when the view of the part of it read so far changed (see partialOf). */
  readonly onDidChangePartial = this.partials.event;

  constructor(
    private readonly worker: WorkerClient,
    private readonly settings: () => ExtensionSettings,
    /** Where the worker keeps persisted indexes (extension storage), so reopening an unchanged trace skips the parse. */
    private readonly cacheDir?: string,
    /** Where each load says when it started and how long it took. */
    private readonly log?: vscode.LogOutputChannel,
  ) {
    worker.onCrash = (reason) => {
      for (const e of this.entries.values()) {
        e.trace.summary = null;
        e.trace.error = `the analysis worker stopped (${reason}); use Refresh to load the trace again`;
        this.changed.fire(e.trace.traceId);
      }
    };
  }

  /** The traces, in the order they were opened. */
  list(): StoredTrace[] {
    return [...this.entries.values()].map((e) => e.trace);
  }

  get(traceId: string): StoredTrace | undefined {
    return this.entries.get(traceId)?.trace;
  }

  /** The view of the part of a trace read so far, while its first load reads; null when there is none. */
  partialOf(traceId: string): PartialView | null {
    return this.entries.get(traceId)?.partial ?? null;
  }

  /** The trace showing `file`: its own single-file trace first, else a merged one holding it. */
  forFile(file: string): StoredTrace | undefined {
    const own = this.entries.get(file);
    if (own) return own.trace;
    for (const e of this.entries.values()) if (e.trace.paths.includes(file)) return e.trace;
    return undefined;
  }

  /** The loaded summary of these files, loading them first when needed. */
  ensure(paths: string[], style: ProgressStyle): Promise<TraceDigest> {
    const id = traceIdFor(paths);
    const e = this.entries.get(id);
    if (e?.trace.summary) return Promise.resolve(e.trace.summary);
    if (e?.loading) return e.loading;
    return this.load(paths, style);
  }

  /** Load (or load again) these files. */
  load(paths: string[], style: ProgressStyle): Promise<TraceDigest> {
    const id = traceIdFor(paths);
    let e = this.entries.get(id);
    if (!e) {
      const title = paths.length === 1 ? path.basename(paths[0]) : `${paths.length} files: ${paths.map((p) => path.basename(p)).join(', ')}`;
      e = { trace: { traceId: id, title, paths, summary: null, progress: 0 }, loading: null, partial: null, watchers: this.watch(id, paths) };
      this.entries.set(id, e);
    }
    const entry = e;
    // A view of the part read so far only for a first load: on a reload the views keep the last full view.
    const first = entry.trace.summary === null;
    entry.trace.error = undefined;
    entry.trace.progress = 0;
    this.changed.fire(id);
    const run = async (report: (fraction: number) => void, token?: vscode.CancellationToken): Promise<TraceDigest> => {
      const sub = token?.onCancellationRequested(() => this.worker.cancel(id));
      this.worker.onProgress(id, (done, total) => {
        entry.trace.progress = total ? done / total : 0;
        report(entry.trace.progress);
        this.changed.fire(id);
      });
      if (first)
        this.worker.onPartial(id, (view) => {
          entry.partial = view;
          this.partials.fire(id);
        });
      const started = performance.now();
      const { rules, analysisThreads: setting, chartResolution } = this.settings();
      const threads = analysisThreads(setting, availableParallelism());
      this.log?.info(`${entry.trace.title}: loading${threads > 1 ? ' (two threads)' : ''}`);
      try {
        const summary = await this.worker.call('open', { traceId: id, paths, rules, cacheDir: this.cacheDir, threads, ...(first ? { partial: { samples: chartResolution } } : {}) });
        entry.trace.summary = summary;
        entry.trace.progress = 1;
        this.log?.info(`${entry.trace.title}: loaded in ${Math.round(performance.now() - started)} ms (read ${summary.stats.parseMs} ms, analysed ${summary.stats.analyzeMs} ms)`);
        return summary;
      } catch (err) {
        entry.trace.summary = null;
        entry.trace.error = err instanceof WorkerCancelledError ? 'loading cancelled' : err instanceof Error ? err.message : String(err);
        throw err;
      } finally {
        sub?.dispose();
        this.worker.onProgress(id, undefined);
        this.worker.onPartial(id, undefined);
        entry.partial = null;
        entry.loading = null;
        this.changed.fire(id);
      }
    };
    const title = `Page Ledger: reading ${entry.trace.title}`;
    entry.loading =
      style === 'notification'
        ? Promise.resolve(
            vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
              let shown = 0;
              return run((f) => {
                const pct = Math.floor(f * 100);
                if (pct > shown) {
                  progress.report({ increment: pct - shown, message: `${pct}%` });
                  shown = pct;
                }
              }, token);
            }),
          )
        : Promise.resolve(vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title }, () => run(() => undefined)));
    return entry.loading;
  }

  /** Load every trace again (rule settings changed). */
  reloadAll(): void {
    for (const e of this.entries.values()) if (!e.loading) void this.load(e.trace.paths, 'window').catch(() => undefined);
  }

  /** Forget a trace and its model in the worker. */
  close(traceId: string): void {
    const e = this.entries.get(traceId);
    if (!e) return;
    this.worker.cancel(traceId);
    for (const w of e.watchers) w.dispose();
    clearTimeout(e.reloadTimer);
    this.entries.delete(traceId);
    void this.worker.call('close', { traceId }).catch(() => undefined);
    this.changed.fire(traceId);
  }

  dispose(): void {
    for (const e of this.entries.values()) {
      for (const w of e.watchers) w.dispose();
      clearTimeout(e.reloadTimer);
    }
    this.entries.clear();
    this.changed.dispose();
    this.partials.dispose();
  }

  private watch(traceId: string, paths: string[]): vscode.Disposable[] {
    return paths.map((p) => {
      const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(p)), path.basename(p)), true, false, true);
      w.onDidChange(() => {
        const e = this.entries.get(traceId);
        if (!e) return;
        clearTimeout(e.reloadTimer);
        e.reloadTimer = setTimeout(() => void this.load(e.trace.paths, 'window').catch(() => undefined), RELOAD_DEBOUNCE_MS);
      });
      return w;
    });
  }
}
