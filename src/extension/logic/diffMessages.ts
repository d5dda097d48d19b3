import type { DiffRequest, DiffViewInit } from '../../protocol/diffData';

/** What the host does with one message of the diff webview. */
export type DiffHostAction =
  | { kind: 'init' }
  | { kind: 'request'; requestId: number; request: DiffRequest }
  | { kind: 'reveal'; file: string; line: number }
  | { kind: 'ignore'; reason: string };

const REQUEST_KINDS: readonly string[] = ['diffMap', 'diffChanges', 'diffAt'] satisfies DiffRequest['kind'][];

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/**
 * Route a message of the diff webview: `ready` asks for the init, `diffRequest` goes to the worker, and
 * `reveal` names a side's file by index, resolved here against the init it was shown (so a webview can
 * only open the files of its own diff). Messages arrive as untyped JSON, so shapes are checked.
 */
export function routeDiffMessage(m: unknown, init: DiffViewInit | null): DiffHostAction {
  if (typeof m !== 'object' || m === null) return { kind: 'ignore', reason: 'not a message' };
  const msg = m as Record<string, unknown>;
  switch (msg.type) {
    case 'ready':
      return { kind: 'init' };
    case 'diffRequest': {
      const r = msg.request as Record<string, unknown> | null;
      if (!isCount(msg.requestId) || typeof r !== 'object' || r === null || !REQUEST_KINDS.includes(String(r.kind))) return { kind: 'ignore', reason: 'malformed diffRequest' };
      return { kind: 'request', requestId: msg.requestId, request: r as unknown as DiffRequest };
    }
    case 'reveal': {
      if (!init) return { kind: 'ignore', reason: 'reveal before init' };
      const side = msg.side === 'a' || msg.side === 'b' ? msg.side : null;
      if (!side || !isCount(msg.file) || !isCount(msg.line) || msg.line < 1) return { kind: 'ignore', reason: 'malformed reveal' };
      const file = init[side].files[msg.file];
      return file === undefined ? { kind: 'ignore', reason: `no file ${msg.file} on side ${side}` } : { kind: 'reveal', file, line: msg.line };
    }
    case 'state':
      // The view keeps its zoom and scroll with setState; nothing to do here.
      return { kind: 'ignore', reason: 'state' };
    default:
      return { kind: 'ignore', reason: `unknown message type ${String(msg.type)}` };
  }
}
