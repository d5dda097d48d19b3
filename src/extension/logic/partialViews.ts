import type { TracePrefix } from '../../core/trace';
import { PARTIAL_TOP, type PartialView } from '../../protocol/viewData';
import type { PartialTiming } from '../../protocol/worker';

/**
 * Without a view asking (`want`), none: the webview of the 103 MB trace of the VS Code bench is ready
 * 0.9-1.4 s after the load starts (up to 5 s when code-server serves its frame late), and a view made
 * after 400 ms of reading, before the webview could draw it, held 36 k of its 1.73 M events at load 7,
 * the next one coming a second later.
 */
const FIRST_MS = Infinity;
/**
 * Then at most this often: each costs a series over every change read so far (9-13 ms at 0.7-1.2 M
 * events of that trace, `seriesOf`) and the replay of what was read since the last; a few updates are
 * enough while the full view is two seconds away.
 */
const EVERY_MS = 1000;
/**
 * None past this share of the file: the full view follows within a second, and the last views cost the
 * most. With views every 600 ms up to 85% of the file, the open took 8.5% more CPU than without (the
 * 103 MB trace, warm, medians of 16 at load 4.5), 2.6% of it the replay's turns beside the parse.
 */
const LAST_SHARE = 0.7;

/**
 * When the worker turns the part of a trace read so far into a partial view: at the first chunk after a
 * view asked for one (`want`, when the webview is ready) or after `firstMs` of reading, then every
 * `everyMs`, none near the end; a withdrawal (null) passed on if one was sent.
 */
export class PartialViews {
  private readonly started: number;
  private last = -Infinity;
  private sent = false;
  private readonly firstMs: number;
  private readonly everyMs: number;

  constructor(
    private readonly send: (view: PartialView | null) => void,
    { samples, firstMs = FIRST_MS, everyMs = EVERY_MS }: PartialTiming,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.samples = samples;
    this.firstMs = firstMs;
    this.everyMs = everyMs;
    this.started = clock();
  }

  private readonly samples: number;
  /** A view waits for one: send at the next prefix. */
  private wanted = false;

  /** A view is ready to draw the part read so far: make one from the next prefix. */
  want(): void {
    this.wanted = true;
  }

  /** The open's onPrefix. */
  prefix(p: TracePrefix | null): void {
    if (p === null) {
      if (this.sent) this.send(null);
      this.sent = false;
      return;
    }
    const now = this.clock();
    const due = this.wanted || (this.sent ? now - this.last >= this.everyMs : now - this.started >= this.firstMs);
    if (!due) return;
    if (p.bytesTotal > 0 && p.bytesRead > p.bytesTotal * LAST_SHARE) return;
    const s = p.series(this.samples, PARTIAL_TOP);
    if (!s) return;
    this.last = now;
    this.sent = true;
    this.wanted = false;
    this.send({ bytesRead: p.bytesRead, bytesTotal: p.bytesTotal, events: p.events, series: { kind: 'series', ...s }, labels: [...s.owners].map((o) => p.label(o)) });
  }
}
