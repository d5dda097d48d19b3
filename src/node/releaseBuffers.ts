import { MessageChannel } from 'node:worker_threads';

/**
 * Free the memory of array buffers nothing uses any more, without waiting for a garbage collection:
 * posted (transferred) on a channel that is then closed, they are detached at once and their memory goes
 * with the channel. Resolves when it has gone (both ends closed, a turn or two of the event loop later).
 */
export function releaseBuffers(buffers: ArrayBuffer[]): Promise<void> {
  if (buffers.length === 0) return Promise.resolve();
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(null, buffers);
  const closed = Promise.all([new Promise((resolve) => port1.once('close', resolve)), new Promise((resolve) => port2.once('close', resolve))]);
  port1.close();
  port2.close();
  return closed.then(() => undefined);
}

/**
 * Detach a small ArrayBuffer, so that the thread's first detach comes before its hot code is compiled.
 * V8 compiles typed array access without a check for a detached buffer until the first buffer of the
 * thread's isolate is detached (a transfer, releaseBuffers), and then drops every function compiled so,
 * to run them unoptimized until they are compiled again. kmem-1 on two threads: the main thread's first
 * detach was its hand-over to the worker (the transfer of its range's events), and about 40 functions of
 * the replay and of the event store were dropped there; the worker's was its first part.
 */
export function detachEarly(b = new ArrayBuffer(8)): ArrayBuffer {
  structuredClone(b, { transfer: [b] });
  return b;
}
