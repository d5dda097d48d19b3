import { openTrace, type InputSource, type TraceModel } from '../core/trace';
import { loadIndex, saveIndex } from './indexCache';
import { plainFileSource } from './fileChunks';
import { openTraceParallel, type ParallelOptions } from './parallelParse';

/** Options for openTraceFiles: those of a parallel open, plus the index cache. */
export interface OpenFilesOptions extends ParallelOptions {
  /** Directory of persisted indexes; unset: no cache. */
  cacheDir?: string;
  /** 1 reads on one thread; 2 (default) lets a big single line-local file or page_owner dump use a second thread. */
  threads?: 1 | 2;
  /** Told when the index could not be written (the model is returned anyway). */
  onCacheError?: (message: string) => void;
  /**
   * With cacheDir: return before the index is written, with `saveIndex` to write it later. The analysis
   * worker answers the open first and writes the index when no call is waiting: on the 103 MB trace of
   * the VS Code bench the write took 120-250 ms between the parse and the view's first data.
   */
  saveIndexLater?: boolean;
}

/** A model and where it came from. */
export interface OpenFilesResult {
  model: TraceModel;
  /** Threads that parsed it; 0 when it came from the index cache. */
  threads: number;
  fromCache: boolean;
  /** Why one thread was used, when it was. */
  why?: string;
  /** Writes the index (OpenFilesOptions.saveIndexLater); errors go to onCacheError. Absent when there is nothing to write. */
  saveIndex?: () => void;
}

/**
 * Open trace files the fastest way available: from the persisted index when one matches their path,
 * size and mtime; else parsed (on two threads when `openTraceParallel` can) and then indexed. What the
 * CLI and the analysis worker call instead of `openTrace`.
 */
export async function openTraceFiles(given: InputSource[], opts: OpenFilesOptions = {}): Promise<OpenFilesResult> {
  const sources = given.map(plainFileSource);
  const paths = sources.map((s) => s.path);
  const keyOpts = { rules: opts.rules, format: opts.format };
  if (opts.cacheDir) {
    const t0 = performance.now();
    let m: TraceModel | null = null;
    try {
      m = loadIndex(opts.cacheDir, paths, keyOpts);
    } catch (e) {
      opts.onCacheError?.(`index in ${opts.cacheDir} unreadable, parsing again: ${(e as Error).message}`);
    }
    if (m) {
      // The stats say what this open cost: the load, no parse or replay.
      m.stats = { ...m.stats, parseMs: Math.round(performance.now() - t0), analyzeMs: 0 };
      return { model: m, threads: 0, fromCache: true };
    }
  }
  const r = opts.threads === 1 ? { model: await openTrace(sources, opts), threads: 1, why: 'one thread asked for' } : await openTraceParallel(sources, opts);
  const cacheDir = opts.cacheDir;
  if (!cacheDir) return { ...r, fromCache: false };
  const save = (): void => {
    try {
      saveIndex(cacheDir, paths, keyOpts, r.model);
    } catch (e) {
      opts.onCacheError?.(`cannot write the index to ${cacheDir}: ${(e as Error).message}`);
    }
  };
  if (opts.saveIndexLater) return { ...r, fromCache: false, saveIndex: save };
  save();
  return { ...r, fromCache: false };
}
