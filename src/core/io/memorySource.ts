import type { InputSource } from '../trace';

/** Text or bytes in memory as an InputSource (tests, the webview harness). */
export function memorySource(path: string, data: string | Uint8Array, chunkSize = 64 * 1024): InputSource {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  return {
    path,
    size: bytes.length,
    async *chunks() {
      for (let i = 0; i < bytes.length; i += chunkSize) yield bytes.subarray(i, Math.min(bytes.length, i + chunkSize));
    },
  };
}
