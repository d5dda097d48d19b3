import { Worker } from 'node:worker_threads';
import type { PartialView } from '../protocol/viewData';
import type { HostToWorker, WorkerMethod, WorkerMethods, WorkerToHost } from '../protocol/worker';

/** A call the worker refused because the host cancelled it. */
export class WorkerCancelledError extends Error {
  constructor() {
    super('cancelled');
  }
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/**
 * The host's handle on the analysis worker: typed calls, progress per trace, and a fresh worker when one
 * dies (every pending call fails with the reason, and traces must be opened again).
 */
export class WorkerClient {
  private worker: Worker | null = null;
  /** The stop under way, if any. */
  private stopping: Promise<void> | undefined;
  private nextCallId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly progressListeners = new Map<string, (bytesRead: number, bytesTotal: number) => void>();
  private readonly partialListeners = new Map<string, (view: PartialView | null) => void>();
  /** Called when the worker died: the models it held are gone. */
  onCrash: (reason: string) => void = () => undefined;
  /** Lines the worker wants in the extension's log. */
  onLog: (message: string) => void = () => undefined;

  constructor(private readonly scriptPath: string) {}

  /** Call a worker method. */
  call<M extends WorkerMethod>(method: M, params: WorkerMethods[M]['params']): Promise<WorkerMethods[M]['result']> {
    const callId = this.nextCallId++;
    return new Promise<WorkerMethods[M]['result']>((resolve, reject) => {
      this.pending.set(callId, { resolve: (v) => resolve(v as WorkerMethods[M]['result']), reject });
      this.send({ type: 'call', callId, method, params } as HostToWorker);
    });
  }

  /** Start the worker thread now, if not started, so the first call does not wait for its bundle to load. */
  warm(): void {
    this.ensure();
  }

  /** Ask the worker to stop loading a trace. */
  cancel(traceId: string): void {
    if (this.worker) this.send({ type: 'cancel', traceId });
  }

  /** Receive load progress for a trace (one listener per trace). */
  onProgress(traceId: string, listener: ((bytesRead: number, bytesTotal: number) => void) | undefined): void {
    if (listener) this.progressListeners.set(traceId, listener);
    else this.progressListeners.delete(traceId);
  }

  /** A view of a trace is ready to draw the part read so far: the worker sends one at its next chunk. */
  wantPartial(traceId: string): void {
    if (this.worker) this.send({ type: 'wantPartial', traceId });
  }

  /** Receive the views of the part of a trace read so far while it loads (one listener per trace). */
  onPartial(traceId: string, listener: ((view: PartialView | null) => void) | undefined): void {
    if (listener) this.partialListeners.set(traceId, listener);
    else this.partialListeners.delete(traceId);
  }

  dispose(): void {
    void this.stop();
  }

  /**
   * Stop the worker once it has written the indexes it put off until idle (a window reloaded a second
   * after an open would otherwise lose that trace's index), or after `timeoutMs`; deactivate waits on it.
   */
  stop(timeoutMs = 3000): Promise<void> {
    if (this.stopping) return this.stopping;
    const w = this.worker;
    if (!w) return Promise.resolve();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    const flushed = this.call('flushIndexes', {}).then(
      () => undefined,
      () => undefined,
    );
    this.stopping = Promise.race([flushed, late]).then(() => {
      clearTimeout(timer);
      this.stopping = undefined;
      if (this.worker === w) this.worker = null;
      this.failAll('the extension is shutting down');
      void w.terminate();
    });
    return this.stopping;
  }

  private send(m: HostToWorker): void {
    this.ensure().postMessage(m);
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    this.onLog('analysis worker starting');
    const w = new Worker(this.scriptPath);
    w.on('message', (m: WorkerToHost) => this.receive(m));
    w.on('error', (e) => this.died(w, e.message));
    w.on('exit', (code) => this.died(w, `the analysis worker exited with code ${code}`));
    // An idle worker must not keep the extension host alive at shutdown.
    w.unref();
    this.worker = w;
    return w;
  }

  private receive(m: WorkerToHost): void {
    if (m.type === 'progress') {
      this.progressListeners.get(m.traceId)?.(m.bytesRead, m.bytesTotal);
      return;
    }
    if (m.type === 'partial') {
      this.partialListeners.get(m.traceId)?.(m.view);
      return;
    }
    if (m.type === 'log') {
      this.onLog(m.message);
      return;
    }
    const p = this.pending.get(m.callId);
    if (!p) return;
    this.pending.delete(m.callId);
    if (m.type === 'result') p.resolve(m.result);
    else p.reject(m.cancelled ? new WorkerCancelledError() : new Error(m.message));
  }

  private died(w: Worker, reason: string): void {
    if (this.worker !== w) return;
    this.worker = null;
    this.failAll(reason);
    this.onCrash(reason);
  }

  private failAll(reason: string): void {
    for (const p of this.pending.values()) p.reject(new Error(reason));
    this.pending.clear();
  }
}
