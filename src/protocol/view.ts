/**
 * The one message protocol between the extension host and the ownership/diff webviews. Types only: the
 * host (src/extension), the worker, the core's answerViewRequest (src/core/view) and the webview
 * (webview/) all import it. 64-bit addresses cross as hex strings; bulk numbers as typed arrays.
 *
 * Envelope, fixed: the webview sends `ready`, the host answers `init`; the webview then sends `request`
 * messages with a requestId, and the host answers each with a `reply` carrying the same requestId (the
 * payload comes from the core, computed where the trace model lives, i.e. in the worker).
 */

import type { ViewReply, ViewRequest, ViewInit } from './viewData';

export type { ViewReply, ViewRequest, ViewInit } from './viewData';

/** Webview → host: the page is loaded and listening. */
export interface ReadyMessage {
  type: 'ready';
}

/** Webview → host: a data request (a window of the ownership chart or map, a page history...). */
export interface RequestMessage {
  type: 'request';
  requestId: number;
  request: ViewRequest;
}

/** Webview → host: open the trace file at this line (the one "reveal location" command). */
export interface RevealMessage {
  type: 'reveal';
  /** Index of the file in the trace (init.files). */
  file: number;
  line: number;
}

/** Webview → host: the state to keep for restore (also kept with setState in the webview). */
export interface StateMessage {
  type: 'state';
  state: unknown;
}

/** Everything the webview sends. */
export type WebviewToHost = ReadyMessage | RequestMessage | RevealMessage | StateMessage;

/** Host → webview: the trace summary needed for the first paint. */
export interface InitMessage {
  type: 'init';
  init: ViewInit;
}

/** Host → webview: the answer to a request. */
export interface ReplyMessage {
  type: 'reply';
  requestId: number;
  reply: ViewReply;
}

/** Host → webview: the text cursor moved to an event at this time (ns) and line. */
export interface CursorMessage {
  type: 'cursor';
  time: number;
  file: number;
  line: number;
}

/** Host → webview: loading progress (0..1) or a failure. */
export interface StatusMessage {
  type: 'status';
  progress?: number;
  error?: string;
}

/** Everything the host sends. */
export type HostToWebview = InitMessage | ReplyMessage | CursorMessage | StatusMessage;
