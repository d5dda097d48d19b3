import { formatByName } from '../formats/registry';
import { ownerLabel } from '../model/owners';
import type { TraceBuilder } from '../model/traceBuilder';
import type { RuleConfig } from './anomalies';
import { lowerBound, OwnershipRecorder, seriesOf, type OwnershipSeries } from './ownershipIndex';
import { Replay, type ReplayResult } from './replay';

/**
 * The part of a trace read and replayed so far, while the rest is still read (OpenOptions.onPrefix). Valid
 * only during the call it is given to: the replay goes on after it.
 */
export interface TracePrefix {
  bytesRead: number;
  /** Bytes of the file (0 when unknown). */
  bytesTotal: number;
  /** Events read so far. */
  events: number;
  /**
   * The time range [t0, t1] whose ownership is final: every event up to t1 has been read, if the rest of the
   * file stays in time order (when it does not, `onPrefix(null)` says so). t1 is the last time read before
   * the latest one, since more events may come at the latest time. Null before three distinct times.
   * A call replays the events read since the replay last advanced.
   */
  range(): [number, number] | null;
  /**
   * Pages per owner at n times over `range()`, the `top` largest kept: what the full analysis gives for that
   * range (OwnershipIndex.series), but `unknown`, left at 0 (which pages the rest of the trace shows is not
   * known yet). Null when the range is.
   */
  series(n: number, top: number): OwnershipSeries | null;
  /** An owner's label as the views show it. */
  label(owner: number): string;
}

/** What a prefix replay hands the open once the parse is over. */
export interface PrefixOutcome {
  result: ReplayResult;
  recording: OwnershipRecorder;
  /** Milliseconds the replay ran during the parse, and after it. */
  duringParseMs: number;
  afterParseMs: number;
}

/**
 * The analysis replay run beside the parse of one file whose format lists events in time order
 * (TraceFormat.timeOrdered), while every event read so far is in time order, so the ownership of the part
 * read so far can be shown while the rest is read. The replay applies the events in store order, which is
 * the time order of a sorted store: its result and recording are the ones a replay after the parse gives
 * (Replay.advance), and it costs no second pass. It advances after each chunk until a prefix is first
 * asked for its range or series, so the first one is at hand, then only when asked, and after the parse:
 * advanced after each 1 MiB chunk all along, the open of the 103 MB trace of the VS Code bench took up to
 * 7% more CPU than with the replay after the parse (medians of 16, load 4), the parse and the replay
 * taking turns in the caches; only when asked, the first view came 0.3-0.5 s later (the replay of the
 * first 25 MB in one go). When an event goes back in time the replay so far is
 * dropped, `onPrefix(null)` is called, and the open replays after the parse as it does without this.
 */
export class PrefixReplay {
  private replay: Replay | null = null;
  private recording: OwnershipRecorder | null = null;
  /** Set once the events are known not to be in time order, or the format does not promise it. */
  private off = false;
  /** The format was looked at. */
  private checked = false;
  /** A prefix was asked for its range: from then on the replay advances only when asked. */
  private asked = false;
  private duringParseMs = 0;

  constructor(
    private readonly b: TraceBuilder,
    private readonly rules: RuleConfig | undefined,
    private readonly bytesTotal: number,
    private readonly onPrefix: (prefix: TracePrefix | null) => void,
  ) {}

  /** A chunk was parsed: `bytesRead` of the file so far. Replays its events and shows the prefix. */
  chunkParsed(bytesRead: number): void {
    if (this.off) return;
    const b = this.b;
    const ev = b.events;
    if (!this.checked) {
      if (ev.length === 0) return;
      this.checked = true;
      const format = b.files.length === 1 ? formatByName(b.files[0].format) : undefined;
      if (!format?.timeOrdered) {
        this.off = true;
        return;
      }
    }
    if (!ev.sorted) {
      this.stop();
      return;
    }
    if (!this.asked) this.catchUp(bytesRead);
    this.onPrefix(this.prefix(bytesRead));
  }

  /** Replay the events read so far (from where the last call stopped). */
  private catchUp(bytesRead: number): OwnershipRecorder {
    const ev = this.b.events;
    const t = performance.now();
    if (this.replay === null || this.recording === null) {
      // Sized for the events the whole file will have at the density read so far (growing it copies).
      const expected = this.bytesTotal > bytesRead ? Math.ceil(((ev.length * this.bytesTotal) / Math.max(1, bytesRead)) * 1.05) : ev.length;
      this.recording = new OwnershipRecorder(expected);
      this.replay = new Replay(this.b, this.rules, this.recording);
    }
    this.replay.advance(ev.length);
    this.duringParseMs += performance.now() - t;
    return this.recording;
  }

  /**
   * After the parse: the replay's result and recording, or null when there is none (the events were not in
   * time order, or no prefix was asked for its range) and the open must replay the trace itself.
   */
  finish(): PrefixOutcome | null {
    const replay = this.replay;
    const recording = this.recording;
    if (this.off || replay === null || recording === null) return null;
    if (!this.b.events.sorted) {
      this.stop();
      return null;
    }
    const t = performance.now();
    replay.advance(this.b.events.length);
    const result = replay.finish();
    recording.seal();
    return { result, recording, duringParseMs: this.duringParseMs, afterParseMs: performance.now() - t };
  }

  /** The events went back in time: what was shown may not hold, and nothing more is shown. */
  private stop(): void {
    const shown = this.replay !== null;
    this.off = true;
    this.replay = null;
    this.recording = null;
    if (shown) this.onPrefix(null);
  }

  private prefix(bytesRead: number): TracePrefix {
    return recordedPrefix(this.b, () => {
      this.asked = true;
      return this.catchUp(bytesRead);
    }, bytesRead, this.bytesTotal);
  }
}

/**
 * The part of a trace replayed so far as a TracePrefix, from the replay's recording: `recording` gives it,
 * after replaying what was read since the last call when the caller replays on demand (PrefixReplay); the
 * two-thread open replays each part as it comes and gives it as it is.
 */
export function recordedPrefix(b: TraceBuilder, recording: () => OwnershipRecorder, bytesRead: number, bytesTotal: number): TracePrefix {
  let rec: OwnershipRecorder | null = null;
  const range = (): [number, number] | null => {
    rec = recording();
    return exactRange(rec.eventTimes.subarray(0, rec.events));
  };
  return {
    bytesRead,
    bytesTotal,
    events: b.events.length,
    range,
    series: (n, top) => {
      const r = range();
      return r ? seriesOf(rec!.prefix(b.owners.size), r[0], r[1], n, top) : null;
    },
    label: (o) => (o === 0 ? 'free' : ownerLabel(b.owners.get(o))),
  };
}

/**
 * [first time, last time before the latest] of effective event times in replay order (non-decreasing;
 * -Infinity before the first timed event), or null when that leaves no span (fewer than three distinct times).
 */
export function exactRange(times: Float64Array): [number, number] | null {
  const n = times.length;
  if (n === 0) return null;
  const latest = times[n - 1];
  const i = lowerBound(times, -Number.MAX_VALUE);
  if (i === n) return null;
  const first = times[i];
  // The events at the latest time may not all be read yet: the range ends at the time before it.
  const j = lowerBound(times, latest) - 1;
  if (j < i) return null;
  const end = times[j];
  return end > first ? [first, end] : null;
}
