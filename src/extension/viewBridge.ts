import type { TraceModel } from '../core/trace';
import { answerViewRequest, ownershipIndexOf, viewInit } from '../core/view/viewRequests';
import type { ViewInit, ViewReply, ViewRequest } from '../protocol/viewData';

/** The ownership webview's first-paint data, computed by the core where the model lives (the worker). */
export function viewInitFor(model: TraceModel): ViewInit {
  return viewInit(model);
}

/** The core's answer to one webview request. */
export function answerViewRequestFor(model: TraceModel, request: ViewRequest): ViewReply {
  return answerViewRequest(model, request);
}

/**
 * The view's index work put off past its first chart, run when idle: the log in page order (maps, page
 * histories) and the checkpoints a zoomed chart needs.
 */
export function finishViewIndex(model: TraceModel): void {
  const ix = ownershipIndexOf(model);
  ix.pageOrder();
  ix.buildCheckpoints();
}
