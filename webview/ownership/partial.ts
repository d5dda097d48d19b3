/**
 * The view of the part of a trace read so far, shown while the rest is read: the title, a progress bar,
 * the ownership chart of the range read (final for that range: see PartialView) and a note. The full
 * view (main.ts) replaces it at init.
 */
import type { PartialView, SeriesReply } from '../../src/protocol/viewData';
import { progress, type ProgressControl } from '../ui/toolkit';
import { formatTime } from './format';
import { TimeChart, UNKNOWN } from './timeChart';

/** The series with only its first `top` owners (the largest, in order), the others added to "other". */
export function foldSeries(s: SeriesReply, top: number): SeriesReply {
  const keep = Math.min(top, s.owners.length);
  if (keep === s.owners.length) return s;
  const n = s.times.length;
  const other = Float64Array.from(s.other);
  for (let j = keep; j < s.owners.length; j++) for (let i = 0; i < n; i++) other[i] += s.values[j * n + i];
  return { ...s, owners: s.owners.slice(0, keep), values: s.values.slice(0, keep * n), other };
}

/** What the progress line says: how far the read is and what the chart covers. */
export function partialText(p: PartialView, fraction: number): string {
  const n = p.series.times.length;
  const until = n ? `, up to ${formatTime(p.series.times[n - 1])}` : '';
  // The event count is the chart's: the read goes on between two partial views.
  return `Reading ${Math.round(fraction * 100)}% · chart of the first ${p.events.toLocaleString('en-US')} events${until}`;
}

/** The partial view in `root`, updated as newer parts arrive. */
export class PartialChart {
  private readonly chart: TimeChart;
  private readonly bar: ProgressControl;
  private readonly summary: HTMLElement;
  private labels = new Map<number, string>();
  private last: PartialView;
  private fraction: number;

  constructor(root: HTMLElement, title: string, first: PartialView, private readonly top: number, hidden: readonly string[]) {
    root.textContent = '';
    root.className = 'pl-root pl-partial';
    const header = el('header', 'pl-toolbar');
    const h = el('h1', 'pl-title');
    h.textContent = title;
    const note = el('p', 'pl-partial-note');
    note.textContent = 'Part read so far';
    header.append(h, note);
    this.bar = progress('Reading the trace');
    const chartBox = el('section', 'pl-chart');
    chartBox.setAttribute('aria-label', 'Pages per owner over the part of the trace read so far');
    const status = el('footer', 'pl-status');
    status.textContent = 'The chart shows the trace up to the time read so far, as the whole trace will show it; the page map, zoom and the rest of the view come once it is read.';
    this.summary = el('p', 'pl-sr-only');
    this.summary.id = 'pl-chart-summary';
    root.append(header, this.bar.element, chartBox, status, this.summary);
    // The chart's own controls (zoom, reveal) need the whole trace: they wait for the full view.
    this.chart = new TimeChart(
      chartBox,
      {
        label: (o) => this.labels.get(o) ?? `owner ${o}`,
        pageSize: () => null,
        zoomTo: () => undefined,
        pick: () => undefined,
        reveal: () => undefined,
        hiddenChanged: () => undefined,
        announce: () => undefined,
      },
      // Not known yet in a partial view: its "not seen yet" band is always 0.
      [...new Set([...hidden, UNKNOWN])],
    );
    this.chart.element.setAttribute('aria-describedby', this.summary.id);
    this.last = first;
    this.fraction = first.bytesTotal > 0 ? first.bytesRead / first.bytesTotal : 0;
    this.update(first);
  }

  /** A newer part read. */
  update(p: PartialView): void {
    this.last = p;
    this.labels = new Map([...p.series.owners].map((o, j) => [o, p.labels[j] ?? `owner ${o}`]));
    this.chart.setSeries(foldSeries(p.series, this.top));
    this.summary.textContent = `Part read so far. ${this.chart.summary()}`;
    this.progress(Math.max(this.fraction, p.bytesTotal > 0 ? p.bytesRead / p.bytesTotal : 0));
  }

  /** Bytes read so far as a share of the file (the host's status messages). */
  progress(fraction: number): void {
    this.fraction = fraction;
    this.bar.set(fraction, partialText(this.last, fraction));
  }

  /** The full view takes over. */
  dispose(): void {
    this.chart.dispose();
  }
}

function el(tag: string, cls: string): HTMLElement {
  const e = document.createElement(tag);
  e.className = cls;
  return e;
}
