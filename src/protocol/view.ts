/**
 * The one message protocol between the extension host and the ownership/diff webviews. Types only: the
 * host (src/extension), the worker, the core's answerViewRequest (src/core/view) and the webview
 * (webview/) all import it. 64-bit addresses cross as hex strings; bulk numbers as typed arrays.
 *
 * Envelope, fixed: the webview sends `ready`, the host answers `init`; the webview then sends `request`
 * messages with a requestId, and the host answers each with a `reply` carrying the same requestId (the
 * payload comes from the core, computed where the trace model lives, i.e. in the worker).
 */

import type { PartialView, ViewReply, ViewRequest, ViewInit } from './viewData';
import type { DiffReply, DiffRequest, DiffViewInit } from './diffData';

export type { PartialView, ViewReply, ViewRequest, ViewInit } from './viewData';

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
  /** Index of the file in the trace (init.files), or in that side's files for the diff view. */
  file: number;
  line: number;
  /** Diff view only: which side's file. */
  side?: 'a' | 'b';
}

/** Webview → host: the state to keep for restore (also kept with setState in the webview). */
export interface StateMessage {
  type: 'state';
  state: unknown;
}

/** Diff webview → host: a data request, answered with a `diffReply` of the same requestId. */
export interface DiffRequestMessage {
  type: 'diffRequest';
  requestId: number;
  request: DiffRequest;
}

/** Everything the webview sends. */
export type WebviewToHost = ReadyMessage | RequestMessage | RevealMessage | StateMessage | DiffRequestMessage;

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

/**
 * Host → ownership webview, before `init`: the chart of the part of the trace read so far (sent when the
 * view is ready and each time the worker has a newer one); null withdraws it (an event went back in time:
 * the view waits for the whole trace). An `init` replaces it; once initialised, the view ignores it.
 */
export interface PartialMessage {
  type: 'partial';
  /** The view's title (the file's name), which the init would give. */
  title: string;
  partial: PartialView | null;
}

/** Host → ownership webview: the user's view settings; sent before `init` and again when they change. */
export interface SettingsMessage {
  type: 'settings';
  /** CSS colours by owner kind (`process`, `kernel`, ..., `free`) the user set; other kinds follow the theme. */
  ownerColors: Record<string, string>;
  /** Time buckets across the chart (at most one per pixel is asked for). */
  chartResolution: number;
}

/** Host → diff webview: the diff summary for the first paint (the answer to `ready`). */
export interface DiffInitMessage {
  type: 'diffInit';
  init: DiffViewInit;
}

/** Host → diff webview: the answer to a diffRequest. */
export interface DiffReplyMessage {
  type: 'diffReply';
  requestId: number;
  reply: DiffReply;
}

/** Everything the host sends. */
export type HostToWebview = InitMessage | ReplyMessage | CursorMessage | StatusMessage | PartialMessage | SettingsMessage | DiffInitMessage | DiffReplyMessage;
