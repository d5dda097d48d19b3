/** The webview's side of the request/reply envelope, with a small cache of recent windows. */
import type { WebviewToHost } from '../../src/protocol/view';
import type { ViewReply, ViewRequest } from '../../src/protocol/viewData';

/** What `acquireVsCodeApi()` returns, as far as the views use it. */
export interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare global {
  /** Provided by VS Code (or the harness) once per page. */
  function acquireVsCodeApi(): VsCodeApi;
}

// Keys are the request as JSON; windows the user comes back to (reset zoom, undo a pan) are answered at once.
const CACHE_SIZE = 24;

/** Sends requests, matches replies by requestId, caches recent answers. */
export class HostClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: ViewReply) => void; key: string }>();
  private readonly cache = new Map<string, ViewReply>();

  constructor(readonly api: VsCodeApi) {}

  request(req: ViewRequest): Promise<ViewReply> {
    const key = JSON.stringify(req);
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return Promise.resolve(hit);
    }
    const requestId = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(requestId, { resolve, key });
      this.api.postMessage({ type: 'request', requestId, request: req });
    });
  }

  /** Deliver a reply; unknown ids (a reply after a reload) are ignored. */
  reply(requestId: number, reply: ViewReply): void {
    const p = this.pending.get(requestId);
    if (!p) return;
    this.pending.delete(requestId);
    if (reply.kind !== 'error') {
      this.cache.set(p.key, reply);
      if (this.cache.size > CACHE_SIZE) this.cache.delete(this.cache.keys().next().value as string);
    }
    p.resolve(reply);
  }

  reveal(file: number, line: number): void {
    this.api.postMessage({ type: 'reveal', file, line });
  }
}
