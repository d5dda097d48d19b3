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

/**
 * An axis label for a tick `gap` ns from its nearest neighbour: the unit formatTime picks, with as many
 * decimals as keep neighbours apart. formatTime's four digits gave "460.2 ms" on every tick of a 2 µs window.
 */
export function formatTick(ns: number, gap: number): string {
  if (!Number.isFinite(ns)) return '—';
  if (!(gap > 0) || !Number.isFinite(gap)) return formatTime(ns);
  const a = Math.abs(ns);
  const [scale, unit] = a < 1e3 ? [1, 'ns'] : a < 1e6 ? [1e3, 'µs'] : a < 1e9 ? [1e6, 'ms'] : [1e9, 's'];
  // 10^-decimals <= gap / scale, so two ticks a gap apart round to different texts.
  const decimals = Math.min(9, Math.max(0, Math.ceil(-Math.log10(gap / scale) - 1e-9)));
  return `${(ns / scale).toFixed(decimals)} ${unit}`;
}

/** The smallest distance between neighbouring sorted tick values (Infinity for fewer than two). */
export function tickGap(ticks: readonly number[]): number {
  let gap = Infinity;
  for (let i = 1; i < ticks.length; i++) gap = Math.min(gap, ticks[i] - ticks[i - 1]);
  return gap;
}

/**
 * The time window that shows a whole trace. A trace whose events share one instant (a page_owner dump is
 * one snapshot at one ts) has no width to draw: it gets a millisecond either side, kept off negative times
 * when the instant is not negative.
 */
export function traceTimeRange(start: number, end: number): [number, number] {
  if (end > start) return [start, end];
  const half = 1e6;
  return start >= 0 && start - half < 0 ? [0, start + half] : [start - half, start + half];
}

/** `0x1a2b` */
export function hex(n: number): string {
  return '0x' + Math.floor(n).toString(16);
}

/** Pages, or bytes (KiB..TiB) when `pageSize` is given. */
export function formatAmount(pages: number, pageSize: number | null): string {
  if (pageSize === null) {
    const n = Math.round(pages);
    return `${n.toLocaleString('en-US')} page${n === 1 ? '' : 's'}`;
  }
  let v = pages * pageSize;
  for (const unit of ['B', 'KiB', 'MiB', 'GiB', 'TiB']) {
    if (Math.abs(v) < 1024 || unit === 'TiB') return `${unit === 'B' ? v.toFixed(0) : v.toPrecision(3)} ${unit}`;
    v /= 1024;
  }
  return `${v}`;
}
