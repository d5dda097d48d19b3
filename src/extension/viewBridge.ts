import type { TraceModel } from '../core/trace';
import type { ViewInit, ViewReply, ViewRequest } from '../protocol/viewData';

/**
 * Where the worker gets the ownership webview's data from: the core's view module once it is in the
 * tree. Until then the view answers with a clear error instead of the build failing on a missing import.
 */
export function viewInitFor(_model: TraceModel): ViewInit {
  throw new Error('the ownership view data (src/core/view/answer.ts) is not part of this build yet');
}

/** The core's answer to one webview request. */
export function answerViewRequestFor(_model: TraceModel, _request: ViewRequest): ViewReply {
  throw new Error('the ownership view data (src/core/view/answer.ts) is not part of this build yet');
}
