// The analysis worker: parses traces from disk, keeps their models and answers the host's queries, so the
// extension host never parses on its own thread.
import { createWriteStream } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { SCENARIOS, synthesize, type ScenarioName } from '../core/synth/scenarios';
import { answerDiffRequest, diffViewInit } from '../core/analysis/diffView';
import { CancelledError, type TraceModel, type TracePrefix } from '../core/trace';
import { fileSource } from '../node/fileSource';
import { openTraceFiles } from '../node/openFiles';
import type { CallMessage, HostToWorker, WorkerMethod, WorkerMethods, WorkerToHost } from '../protocol/worker';
import { CallQueue } from './logic/callQueue';
import { collectLines } from './logic/excerpt';
import { eventAtLine } from './logic/lineTime';
import { pageHistory } from './logic/pageHistory';
import { DiffCache } from './logic/diffCache';
import { IdleTasks } from './logic/idleTasks';
import { PartialViews } from './logic/partialViews';
import { SummaryLists } from './logic/summaryPages';
import { answerViewRequestFor, finishViewIndex, viewInitFor } from './viewBridge';

// Progress messages at most this often: each one wakes the host, and 10 per second is smooth enough for a
// progress bar.
const PROGRESS_INTERVAL_MS = 100;

const models = new Map<string, TraceModel>();
const lists = new Map<string, SummaryLists>();
const cancelled = new Set<string>();
/** The partial views of the traces being opened. */
const partials = new Map<string, PartialViews>();
/** Traces a view asked a partial view of before their open began (an open waits its turn in the queue). */
const earlyWants = new Set<string>();
const diffs = new DiffCache(model);
/**
 * Index writes of traces just opened, run when no call has come for a second: the open's answer, the
 * view's init and its first chart do not wait for them.
 */
const idle = new IdleTasks(1000, 10_000);
/**
 * The ownership index's checkpoints a zoomed chart needs, built when the worker is quiet after a view's
 * init (the first chart, over the whole trace, needs none). Apart from the index writes: an open or a
 * stop that flushes those has no use for them.
 */
const viewIdle = new IdleTasks(1000, 10_000);

function post(m: WorkerToHost): void {
  parentPort?.postMessage(m);
}

function listsOf(traceId: string): SummaryLists {
  const l = lists.get(traceId);
  if (!l) throw new Error(`trace ${traceId} is not loaded`);
  return l;
}

function model(traceId: string): TraceModel {
  const m = models.get(traceId);
  if (!m) throw new Error(`trace ${traceId} is not loaded`);
  return m;
}

type Handlers = { [M in WorkerMethod]: (p: WorkerMethods[M]['params']) => Promise<WorkerMethods[M]['result']> | WorkerMethods[M]['result'] };

const handlers: Handlers = {
  async open({ traceId, paths, rules, format, cacheDir, threads, partial: timing }) {
    // A cancel of an earlier load was cleared when this call arrived (below); one that came after it
    // applies to this load, even if it came before the load's turn in the queue.
    let last = 0;
    // An index still to be written for these files is written first, so that this open can load it.
    idle.flushAll();
    // The view of the part read so far, while the rest is read (one file of a format in time order).
    const partial = timing ? new PartialViews((view) => post({ type: 'partial', traceId, view }), timing) : undefined;
    if (partial) partials.set(traceId, partial);
    if (partial && earlyWants.has(traceId)) partial.want();
    earlyWants.delete(traceId);
    // The persisted index makes a reopen of an unchanged trace a load instead of a parse; recording the
    // page changes during the analysis spares the views' ownership index a second replay (docs/performance.md).
    const opening = openTraceFiles(paths.map(fileSource), {
      cacheDir,
      saveIndexLater: true,
      recordOwnership: true,
      threads,
      onCacheError: (message) => post({ type: 'log', message }),
      rules,
      format,
      isCancelled: () => cancelled.has(traceId),
      ...(partial ? { onPrefix: (p: TracePrefix | null) => partial.prefix(p) } : {}),
      onProgress: (bytesRead, bytesTotal) => {
        const now = Date.now();
        if (now - last < PROGRESS_INTERVAL_MS) return;
        last = now;
        post({ type: 'progress', traceId, bytesRead, bytesTotal });
      },
    });
    const { model: m, saveIndex } = await opening.finally(() => {
      if (partials.get(traceId) === partial) partials.delete(traceId);
    });
    models.set(traceId, m);
    if (saveIndex) idle.add(traceId, saveIndex);
    const l = new SummaryLists(m);
    lists.set(traceId, l);
    // A digest, not summarize(m): the whole summary was 11.3 MB of JSON for a 103 MB trace, built and
    // cloned before the host could say the trace is loaded; the long lists now come a page at a time.
    return l.digest();
  },
  flushIndexes() {
    idle.flushAll();
    return null;
  },
  close({ traceId }) {
    idle.flush(traceId);
    models.delete(traceId);
    lists.delete(traceId);
    return null;
  },
  owners({ traceId, ...q }) {
    return listsOf(traceId).ownerPage(q);
  },
  snapshots({ traceId, ...q }) {
    return listsOf(traceId).snapshotPage(q);
  },
  anomalies({ traceId, ...q }) {
    return listsOf(traceId).anomalyPage(q);
  },
  stepAnomaly({ traceId, from, direction }) {
    return listsOf(traceId).step(from, direction);
  },
  pageHistory({ traceId, pfn, maxTouches }) {
    return pageHistory(model(traceId), pfn, maxTouches);
  },
  viewInit({ traceId }) {
    const init = viewInitFor(model(traceId));
    viewIdle.add(traceId, () => {
      const m = models.get(traceId);
      if (m) finishViewIndex(m);
    });
    return init;
  },
  view({ traceId, request }) {
    return answerViewRequestFor(model(traceId), request);
  },
  diffInit({ a, b, title }) {
    return diffViewInit(diffs.diff({ a, b }), title);
  },
  diffRequest({ a, b, request }) {
    return answerDiffRequest(diffs.diff({ a, b }), request);
  },
  diffText({ a, b, side }) {
    return diffs.text({ a, b })[side].text;
  },
  timeAtLine({ traceId, path, line }) {
    return eventAtLine(model(traceId), path, line);
  },
  async synth({ scenario, seed, events, path }) {
    if (!(SCENARIOS as readonly string[]).includes(scenario)) throw new Error(`unknown scenario "${scenario}": expected one of ${SCENARIOS.join(', ')}`);
    const stream = createWriteStream(path);
    const truth = synthesize({ scenario: scenario as ScenarioName, seed, events, injectEvery: 500 }, (chunk) => void stream.write(chunk));
    await new Promise<void>((resolve, reject) => stream.end((e?: Error | null) => (e ? reject(e) : resolve())));
    return { events: truth.events, lines: truth.lines, anomalies: truth.anomalies.length };
  },
  async excerpt({ path, line, before, after }) {
    const from = Math.max(1, line - before);
    return collectLines(fileSource(path).chunks(), from, line + after);
  },
};

// Calls slower than this are logged with their time: the worker answers one call at a time, so a slow one
// delays every call behind it (the view's init behind the Problems' pages, say).
const SLOW_CALL_MS = 100;

async function dispatch(msg: CallMessage): Promise<void> {
  idle.touch();
  viewIdle.touch();
  try {
    const started = performance.now();
    // The union of handlers is indexed by the message's own method, so params and result stay paired.
    const handler = handlers[msg.method] as (p: typeof msg.params) => unknown;
    const result = (await handler(msg.params)) as WorkerMethods[typeof msg.method]['result'];
    const ms = performance.now() - started;
    if (ms >= SLOW_CALL_MS && msg.method !== 'open') post({ type: 'log', message: `worker: ${msg.method} took ${Math.round(ms)} ms` });
    post({ type: 'result', callId: msg.callId, result });
    idle.touch();
    viewIdle.touch();
  } catch (e) {
    const isCancel = e instanceof CancelledError;
    post({ type: 'error', callId: msg.callId, message: isCancel ? 'cancelled' : e instanceof Error ? e.message : String(e), cancelled: isCancel });
  }
}

// The host logs when the worker was asked for and when it could answer: the gap is the bundle's load.
post({ type: 'log', message: 'analysis worker ready' });

const calls = new CallQueue<CallMessage>((m) => m.method === 'viewInit' || m.method === 'view', (m) => void dispatch(m), setImmediate);

parentPort?.on('message', (msg: HostToWorker) => {
  if (msg.type === 'cancel') {
    cancelled.add(msg.traceId);
    return;
  }
  if (msg.type === 'wantPartial') {
    const p = partials.get(msg.traceId);
    if (p) p.want();
    else earlyWants.add(msg.traceId);
    return;
  }
  if (msg.method === 'open') cancelled.delete((msg.params as WorkerMethods['open']['params']).traceId);
  calls.push(msg);
});
