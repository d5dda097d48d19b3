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
