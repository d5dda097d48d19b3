/**
 * Payloads of view requests and replies, and the init summary. Owned by the webview work: extend the
 * unions here; the host only relays them.
 */

/** The data the webview needs for its first paint. */
export interface ViewInit {
  title: string;
}

/** A data request from the webview. */
export type ViewRequest = { kind: 'ping' };

/** The core's answer to a ViewRequest. */
export type ViewReply = { kind: 'pong' };
