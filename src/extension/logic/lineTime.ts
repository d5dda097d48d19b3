import type { TraceModel } from '../../core/trace';

/** The event at or before a line of one input file, with its time; null when none has a time. */
export interface LineEvent {
  time: number;
  file: number;
  line: number;
}

/**
 * The trace time at `line` of the file at `path`: the time of the last timed event on or before that line.
 * Files are parsed one after another, so each file's events are one contiguous, line-ordered run of the
 * event store, and two binary searches find it without a scan.
 */
export function eventAtLine(m: TraceModel, path: string, line: number): LineEvent | null {
  const f = m.builder.files.findIndex((x) => x.path === path);
  const ev = m.builder.events;
  if (f < 0 || ev.length === 0) return null;
  const firstAtLeast = (pred: (i: number) => boolean): number => {
    let lo = 0;
    let hi = ev.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pred(mid)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const start = firstAtLeast((i) => ev.file.get(i) >= f);
  const end = firstAtLeast((i) => ev.file.get(i) > f);
  let lo = start;
  let hi = end;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ev.line.get(mid) > line) hi = mid;
    else lo = mid + 1;
  }
  for (let i = lo - 1; i >= start; i--) {
    const t = ev.time.get(i);
    if (t === t) return { time: t, file: f, line: ev.line.get(i) };
  }
  return null;
}
