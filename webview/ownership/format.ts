/** Number and time formatting for axes and tooltips. */

/** Trace nanoseconds as a short human time: `812 ns`, `3.20 ms`, `12.5 s`. */
export function formatTime(ns: number): string {
  const a = Math.abs(ns);
  if (!Number.isFinite(ns)) return '—';
  if (a < 1e3) return `${ns.toFixed(0)} ns`;
  if (a < 1e6) return `${(ns / 1e3).toPrecision(3)} µs`;
  if (a < 1e9) return `${(ns / 1e6).toPrecision(4)} ms`;
  return `${(ns / 1e9).toPrecision(4)} s`;
}

/** `0x1a2b` */
export function hex(n: number): string {
  return '0x' + Math.floor(n).toString(16);
}

/** Pages, or bytes (KiB..TiB) when `pageSize` is given. */
export function formatAmount(pages: number, pageSize: number | null): string {
  if (pageSize === null) return `${Math.round(pages).toLocaleString('en-US')} pages`;
  let v = pages * pageSize;
  for (const unit of ['B', 'KiB', 'MiB', 'GiB', 'TiB']) {
    if (Math.abs(v) < 1024 || unit === 'TiB') return `${unit === 'B' ? v.toFixed(0) : v.toPrecision(3)} ${unit}`;
    v /= 1024;
  }
  return `${v}`;
}
