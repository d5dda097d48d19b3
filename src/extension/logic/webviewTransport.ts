/**
 * VS Code serializes webview messages as JSON (typed arrays travel beside it as buffers), so an infinite
 * number in a message arrives as null and fails the webview's shape checks: the ownership init's offline
 * intervals use -Infinity/Infinity for open ends. This turns ±Infinity into ±Number.MAX_VALUE, which
 * compares the same way against any trace time, and leaves typed arrays (sent as raw buffers) alone.
 */
export function finiteForWebview<T>(value: T): T {
  return clamp(value) as T;
}

function clamp(v: unknown): unknown {
  if (typeof v === 'number') return v === Infinity ? Number.MAX_VALUE : v === -Infinity ? -Number.MAX_VALUE : v;
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return v;
  if (Array.isArray(v)) {
    let out: unknown[] | null = null;
    for (let k = 0; k < v.length; k++) {
      const c = clamp(v[k]);
      if (c !== v[k]) (out ??= v.slice())[k] = c;
    }
    return out ?? v;
  }
  let out: Record<string, unknown> | null = null;
  for (const [k, x] of Object.entries(v)) {
    const c = clamp(x);
    if (c !== x) (out ??= { ...(v as Record<string, unknown>) })[k] = c;
  }
  return out ?? v;
}
