/**
 * A stand-in for VS Code around the ownership webview: generates a seed-scenario trace in the page, opens
 * it with the real core, and answers the webview's messages with viewInit/answerViewRequest, as the
 * extension's worker does. Query: ?scenario=cow-snapshots&seed=1&events=20000&theme=dark. With
 * ?text=...&name=dump.txt it opens that text as a file of that name instead (edge cases: a file of parse
 * errors, a dump at one instant). With ?remote=1 the requests go to `window.pageLedgerHost` (bound by the bench, which keeps a large model in Node).
 * With ?partial=K (a generated trace) the trace is opened as the worker opens it, with the views of the part
 * read so far; at `ready` the webview gets the K-th of them (the last when K is past the end) and the read
 * share, and its init only when the page calls `window.harnessInit()`.
 */
import type { HostToWebview, WebviewToHost } from '../../src/protocol/view';
import type { PartialView, ViewInit, ViewReply, ViewRequest } from '../../src/protocol/viewData';
import { PartialViews } from '../../src/extension/logic/partialViews';
import { memorySource } from '../../src/core/io/memorySource';
import { SCENARIOS, synthesize, type ScenarioName } from '../../src/core/synth/scenarios';
import { openTrace, type TraceModel } from '../../src/core/trace';
import { answerViewRequest, viewInit } from '../../src/core/view/viewRequests';
import type { VsCodeApi } from '../ownership/hostClient';
import { applyTheme, type ThemeName } from './themes';

/** What the harness records for tests: every message the webview sent. */
interface HarnessLog {
  sent: WebviewToHost[];
  ready: boolean;
  initMs: number;
  /** Partial views made by the open (?partial). */
  partials: number;
}

declare global {
  interface Window {
    harness?: HarnessLog;
    /** With ?partial: send the init the webview waits for. */
    harnessInit?: () => void;
    /** Bound by the bench: answers one encoded request (see decode below). */
    pageLedgerHost?: (call: string) => Promise<string>;
  }
}

type Encoded = { $t: string; b64: string } | Encoded[] | { [k: string]: Encoded } | string | number | boolean | null;

const CTORS: Record<string, new (b: ArrayBuffer) => ArrayBufferView> = { Float64Array, Int32Array, Uint32Array, Uint8Array, Uint16Array, Int16Array };

/** Typed arrays cross the bench's binding as base64; everything else as JSON. */
function decode(v: Encoded): unknown {
  if (Array.isArray(v)) return v.map(decode);
  if (v && typeof v === 'object') {
    if (typeof v.$t === 'string' && typeof v.b64 === 'string') {
      const bin = atob(v.b64 as string);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      const Ctor = CTORS[v.$t as string];
      return Ctor ? new Ctor(bytes.buffer) : bytes;
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = decode(x as Encoded);
    return out;
  }
  if (v === '$Infinity') return Infinity;
  if (v === '$-Infinity') return -Infinity;
  if (v === '$NaN') return NaN;
  return v;
}

interface Core {
  init(): Promise<ViewInit>;
  answer(req: ViewRequest): Promise<ViewReply>;
}

function localCore(model: TraceModel): Core {
  return { init: async () => viewInit(model), answer: async (req) => answerViewRequest(model, req) };
}

function remoteCore(): Core {
  const call = async (body: unknown): Promise<unknown> => decode(JSON.parse(await window.pageLedgerHost!(JSON.stringify(body))) as Encoded);
  return { init: async () => (await call({ init: true })) as ViewInit, answer: async (req) => (await call({ request: req })) as ViewReply };
}

async function main(): Promise<void> {
  const q = new URLSearchParams(location.search);
  applyTheme((q.get('theme') as ThemeName) ?? 'light');
  const log: HarnessLog = { sent: [], ready: false, initMs: 0, partials: 0 };
  window.harness = log;
  const app = document.getElementById('app')!;
  let core: Core;
  const partialAt = q.get('partial');
  const partials: PartialView[] = [];
  let title = '';
  if (q.get('remote') === '1') core = remoteCore();
  else if (q.get('text') !== null) {
    const name = q.get('name') ?? 'trace.pltrace';
    core = localCore(await openTrace([memorySource(name, q.get('text') ?? '')]));
  } else {
    const name = q.get('scenario') ?? 'cow-snapshots';
    const scenario: ScenarioName = (SCENARIOS as readonly string[]).includes(name) ? (name as ScenarioName) : 'cow-snapshots';
    const seed = Number(q.get('seed') ?? 1) || 1;
    const events = Number(q.get('events') ?? 20000) || 20000;
    app.textContent = `Generating ${scenario} seed ${seed}, ${events} events…`;
    const chunks: string[] = [];
    synthesize({ scenario, seed, events }, (c) => chunks.push(c));
    title = `${scenario}-seed${seed}.pltrace`;
    // As the extension's worker opens it: every part read is a partial view (no wait between them).
    const views = new PartialViews((v) => v && partials.push(v), { samples: 400, firstMs: 0, everyMs: 0 });
    const opts = partialAt === null ? {} : { recordOwnership: true, onPrefix: views.prefix.bind(views) };
    const model = await openTrace([memorySource(title, chunks.join(''))], opts);
    log.partials = partials.length;
    core = localCore(model);
  }
  const t0 = performance.now();
  const init = await core.init();
  log.initMs = performance.now() - t0;
  const deliver = (m: HostToWebview): void => window.postMessage(m, '*');
  let state: unknown = undefined;
  const api: VsCodeApi = {
    postMessage(m: WebviewToHost) {
      log.sent.push(m);
      if (m.type === 'ready') {
        log.ready = true;
        const partial = partialAt === null ? undefined : partials[Math.min(partials.length - 1, Number(partialAt) || 0)];
        if (partial) {
          deliver({ type: 'partial', title, partial });
          deliver({ type: 'status', progress: partial.bytesRead / partial.bytesTotal });
          window.harnessInit = () => deliver({ type: 'init', init });
        } else deliver({ type: 'init', init });
      } else if (m.type === 'request') {
        void core.answer(m.request).then((reply) => deliver({ type: 'reply', requestId: m.requestId, reply }));
      } else if (m.type === 'state') state = m.state;
    },
    getState: () => state,
    setState: (s: unknown) => {
      state = s;
    },
  };
  (window as unknown as { acquireVsCodeApi: () => VsCodeApi }).acquireVsCodeApi = () => api;
  const s = document.createElement('script');
  s.src = '../../dist/webview/ownership.js';
  document.body.appendChild(s);
}

void main();
