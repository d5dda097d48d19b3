/** The stacked area chart of pages per owner over time (chart.js), with drag-to-zoom and anomaly markers. */
import { Chart, Filler, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartDataset, type Plugin } from 'chart.js';
import type { AnomaliesReply, SeriesReply } from '../../src/protocol/viewData';
import { VIEW_ANOMALY_KINDS } from '../../src/protocol/viewData';
import { isDarkTheme, kindOverride, ownerColor, rgba, themeColor, type Rgb } from './colors';
import { formatAmount, formatTick, formatTime, tickGap } from './format';

Chart.register(LineController, LineElement, PointElement, LinearScale, Filler, Tooltip);

/** What the chart asks of the page around it. */
export interface TimeChartHost {
  label(owner: number): string;
  /** Bytes per page when showing bytes, null for pages. */
  pageSize(): number | null;
  zoomTo(t0: number, t1: number): void;
  /** A click on the plot at a time (reveal the nearest event). */
  pick(time: number): void;
  reveal(file: number, line: number): void;
  /** Dataset labels the user hid with the legend changed. */
  hiddenChanged(hidden: string[]): void;
  /** Say something to screen readers (the focused anomaly marker). */
  announce(text: string): void;
}

type Point = { x: number; y: number };

/** Names of the fixed datasets after the owners. */
export const OTHER = 'other owners';
export const FREE = 'free';
export const UNKNOWN = 'not seen yet';

const MARKER = 6;

/** The ownership-over-time chart. */
export class TimeChart {
  readonly chart: Chart<'line', Point[]>;
  private anomalies: AnomaliesReply | null = null;
  private cursor = NaN;
  /** Time between the samples shown (tooltips tell neighbouring samples apart by it). */
  private sampleGap = NaN;
  private dragFrom: number | null = null;
  private readonly band: HTMLDivElement;
  private hidden: Set<string>;
  /** The anomaly marker the keyboard is on, -1 for none. */
  private focusedMarker = -1;
  private readonly legend: HTMLElement;

  constructor(private readonly root: HTMLElement, private readonly host: TimeChartHost, hidden: string[]) {
    this.hidden = new Set(hidden);
    // chart.js sizes the canvas to its parent: a box of its own, so the HTML legend beside it does not count.
    const plot = document.createElement('div');
    plot.className = 'pl-chart-plot';
    const canvas = document.createElement('canvas');
    canvas.tabIndex = 0;
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-roledescription', 'chart');
    canvas.setAttribute('aria-label', 'Pages per owner over time, stacked. Drag to zoom into a time range; click to reveal the nearest event. Left and Right arrows step through the anomaly markers, Enter opens the line of the marker.');
    this.band = document.createElement('div');
    this.band.className = 'pl-zoom-band';
    this.band.hidden = true;
    plot.append(canvas, this.band);
    // The legend is HTML, not drawn by chart.js: its toggles are buttons a keyboard reaches, and it wraps
    // under the plot on a narrow (or 200% zoomed) view instead of being clipped over it.
    this.legend = document.createElement('ul');
    this.legend.className = 'pl-chart-legend';
    this.legend.setAttribute('aria-label', 'Series: press to show or hide');
    root.append(plot, this.legend);
    const markers: Plugin<'line'> = { id: 'plMarkers', afterDatasetsDraw: (c) => this.drawOverlays(c as Chart<'line', Point[]>) };
    this.chart = new Chart(canvas, {
      type: 'line',
      data: { datasets: [] },
      plugins: [markers],
      options: {
        animation: false,
        parsing: false,
        normalized: true,
        maintainAspectRatio: false,
        responsive: true,
        interaction: { mode: 'index', intersect: false },
        elements: { point: { radius: 0, hitRadius: 4 }, line: { borderWidth: 1, tension: 0 } },
        layout: { padding: { bottom: MARKER + 2 } },
        scales: {
          // Round times only: the window's own ends (where a drag let go) sat a hair from a round tick and
          // would have needed many decimals to read apart from it.
          x: { type: 'linear', ticks: { maxRotation: 0, includeBounds: false, callback: (v, _i, ticks) => formatTick(Number(v), tickGap(ticks.map((t) => t.value))) } },
          // Whole pages only: a chart of a few pages had ticks at 0.2 steps, all rounded to the same label.
          y: { type: 'linear', stacked: true, beginAtZero: true, ticks: { precision: 0, callback: (v) => this.amount(Number(v)) } },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            itemSort: (a, b) => b.datasetIndex - a.datasetIndex,
            filter: (item) => (item.parsed.y ?? 0) !== 0,
            callbacks: {
              title: (items) => (items.length ? formatTick(items[0].parsed.x ?? NaN, this.sampleGap) : ''),
              label: (item) => `${item.dataset.label}: ${this.amount(item.parsed.y ?? 0)}`,
            },
          },
        },
      },
    });
    this.applyThemeColors();
    canvas.addEventListener('mousedown', (e) => this.down(e));
    canvas.addEventListener('keydown', (e) => this.key(e));
    canvas.addEventListener('blur', () => {
      this.focusedMarker = -1;
      this.chart.draw();
    });
    window.addEventListener('mousemove', this.onMove);
    window.addEventListener('mouseup', this.onUp);
  }

  private readonly onMove = (e: MouseEvent): void => this.move(e);
  private readonly onUp = (e: MouseEvent): void => this.up(e);

  /** Take the chart down (the partial view's chart, when the full view replaces it). */
  dispose(): void {
    window.removeEventListener('mousemove', this.onMove);
    window.removeEventListener('mouseup', this.onUp);
    this.chart.destroy();
  }

  /** Show a series reply. */
  setSeries(s: SeriesReply): void {
    const n = s.times.length;
    const mk = (values: ArrayLike<number>, off: number): Point[] => {
      const pts: Point[] = new Array<Point>(n);
      for (let i = 0; i < n; i++) pts[i] = { x: s.times[i], y: values[off + i] };
      return pts;
    };
    const sets: ChartDataset<'line', Point[]>[] = [];
    const add = (label: string, data: Point[], color: Rgb, alpha: number): void => {
      sets.push({ label, data, borderColor: rgba(color, 0.95), backgroundColor: rgba(color, alpha), fill: sets.length === 0 ? 'origin' : '-1', hidden: this.hidden.has(label) });
    };
    s.owners.forEach((o, j) => add(this.host.label(o), mk(s.values, j * n), ownerColor(j), 0.55));
    const grey = themeColor('--vscode-descriptionForeground', [128, 128, 128]);
    add(OTHER, mk(s.other, 0), grey, 0.45);
    add(FREE, mk(s.free, 0), kindOverride('free') ?? (isDarkTheme() ? [90, 90, 90] : [200, 200, 200]), 0.35);
    add(UNKNOWN, mk(s.unknown, 0), grey, 0.08);
    this.chart.data.datasets = sets;
    this.sampleGap = n > 1 ? s.times[1] - s.times[0] : NaN;
    this.chart.options.scales!.x!.min = s.times[0];
    this.chart.options.scales!.x!.max = s.times[n - 1];
    this.applyThemeColors();
    this.chart.update();
    this.renderLegend();
  }

  // Tick and grid colours come from the theme; read again on every series so a theme switch reaches them.
  private applyThemeColors(): void {
    const fg = themeColor('--vscode-foreground', [60, 60, 60]);
    const grid = themeColor('--vscode-panel-border', [128, 128, 128]);
    for (const axis of [this.chart.options.scales!.x!, this.chart.options.scales!.y!]) {
      axis.ticks!.color = rgba(fg, 0.85);
      axis.grid!.color = rgba(grid, 0.3);
    }
  }

  private renderLegend(): void {
    this.legend.textContent = '';
    this.chart.data.datasets.forEach((d, i) => {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'pl-chart-legend-item';
      const visible = this.chart.isDatasetVisible(i);
      b.setAttribute('aria-pressed', String(visible));
      b.title = visible ? 'Hide this series' : 'Show this series';
      const sw = document.createElement('span');
      sw.className = 'pl-swatch';
      sw.style.background = String(d.backgroundColor);
      sw.style.borderColor = String(d.borderColor);
      b.append(sw, d.label ?? '');
      b.addEventListener('click', () => this.toggle(i));
      li.append(b);
      this.legend.append(li);
    });
  }

  private toggle(i: number): void {
    const visible = this.chart.isDatasetVisible(i);
    this.chart.setDatasetVisibility(i, !visible);
    const label = this.chart.data.datasets[i].label ?? '';
    if (visible) this.hidden.add(label);
    else this.hidden.delete(label);
    this.chart.update();
    const button = this.legend.querySelectorAll('button')[i];
    button?.setAttribute('aria-pressed', String(!visible));
    if (button) button.title = visible ? 'Show this series' : 'Hide this series';
    this.host.hiddenChanged([...this.hidden]);
  }

  /** A text summary of the shown window: the largest owners at its end (the chart's text alternative). */
  summary(): string {
    const sets = this.chart.data.datasets;
    if (!sets.length) return 'No data yet.';
    const last = (d: ChartDataset<'line', Point[]>): number => d.data[d.data.length - 1]?.y ?? 0;
    const first = sets[0].data[0]?.x ?? 0;
    const end = sets[0].data[sets[0].data.length - 1]?.x ?? 0;
    const top = sets
      .filter((d) => d.label !== UNKNOWN)
      .map((d) => [d.label ?? '', last(d)] as const)
      .filter(([, v]) => v > 0)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([l, v]) => `${l} ${this.amount(v)}`);
    const n = this.anomalies?.time.length ?? 0;
    return `From ${formatTime(first)} to ${formatTime(end)}. At the end: ${top.join(', ') || 'nothing held'}. ${n} anomal${n === 1 ? 'y' : 'ies'} marked.`;
  }

  private key(e: KeyboardEvent): void {
    const a = this.anomalies;
    const n = a?.time.length ?? 0;
    let k = this.focusedMarker;
    switch (e.key) {
      case 'ArrowRight':
        k = k < 0 ? 0 : Math.min(n - 1, k + 1);
        break;
      case 'ArrowLeft':
        k = k < 0 ? n - 1 : Math.max(0, k - 1);
        break;
      case 'Home':
        k = 0;
        break;
      case 'End':
        k = n - 1;
        break;
      case 'Enter':
      case ' ':
        if (a && k >= 0 && k < n) {
          e.preventDefault();
          this.host.reveal(a.file[k], a.line[k]);
        }
        return;
      default:
        return;
    }
    e.preventDefault();
    if (!a || n === 0) {
      this.host.announce('No anomaly in this time range.');
      return;
    }
    this.focusedMarker = k;
    this.chart.draw();
    this.host.announce(`Anomaly ${k + 1} of ${n}: ${this.markerText(k)}`);
  }

  /** The marker the keyboard is on (tests), -1 for none. */
  get focusedAnomaly(): number {
    return this.focusedMarker;
  }

  setAnomalies(a: AnomaliesReply | null): void {
    this.anomalies = a;
    this.focusedMarker = -1;
    this.chart.draw();
  }

  setCursor(time: number): void {
    this.cursor = time;
    this.chart.draw();
  }

  /** Re-read units and colours (theme or unit change). */
  refresh(): void {
    this.chart.update();
  }

  private amount(pages: number): string {
    return formatAmount(pages, this.host.pageSize());
  }

  private drawOverlays(c: Chart<'line', Point[]>): void {
    const ctx = c.ctx;
    const area = c.chartArea;
    const x = c.scales.x;
    ctx.save();
    if (this.cursor === this.cursor) {
      const px = x.getPixelForValue(this.cursor);
      if (px >= area.left && px <= area.right) {
        ctx.strokeStyle = rgba(themeColor('--vscode-editorCursor-foreground', [0, 122, 204]), 0.9);
        ctx.setLineDash([4, 3]);
        ctx.beginPath();
        ctx.moveTo(px, area.top);
        ctx.lineTo(px, area.bottom);
        ctx.stroke();
        ctx.setLineDash([]);
      }
    }
    const a = this.anomalies;
    if (a) {
      const err = themeColor('--vscode-errorForeground', [229, 20, 0]);
      const warn = themeColor('--vscode-editorWarning-foreground', [191, 136, 3]);
      for (let k = 0; k < a.time.length; k++) {
        const px = x.getPixelForValue(a.time[k]);
        if (px < area.left - 1 || px > area.right + 1) continue;
        ctx.fillStyle = rgba(a.severity[k] === 0 ? err : warn, 0.95);
        ctx.beginPath();
        ctx.moveTo(px, area.bottom - 1);
        ctx.lineTo(px - MARKER / 2 - 1, area.bottom + MARKER + 1);
        ctx.lineTo(px + MARKER / 2 + 1, area.bottom + MARKER + 1);
        ctx.closePath();
        ctx.fill();
      }
      const f = this.focusedMarker;
      if (f >= 0 && f < a.time.length) {
        // The keyboard's marker gets the theme's focus ring, as a focused control would.
        const px = x.getPixelForValue(a.time[f]);
        ctx.strokeStyle = rgba(themeColor('--vscode-focusBorder', [0, 95, 184]));
        ctx.lineWidth = 2;
        ctx.strokeRect(px - MARKER / 2 - 4, area.bottom - 3, MARKER + 8, MARKER + 6);
        ctx.setLineDash([2, 2]);
        ctx.beginPath();
        ctx.moveTo(px, area.top);
        ctx.lineTo(px, area.bottom - 3);
        ctx.stroke();
        ctx.setLineDash([]);
      }
    }
    ctx.restore();
  }

  /** The anomaly marker under a canvas point, as an index into the reply. */
  markerAt(offsetX: number, offsetY: number): number {
    const a = this.anomalies;
    if (!a) return -1;
    const area = this.chart.chartArea;
    if (offsetY < area.bottom - 2 || offsetY > area.bottom + MARKER + 4) return -1;
    let best = -1;
    let bestD = MARKER;
    for (let k = 0; k < a.time.length; k++) {
      const d = Math.abs(this.chart.scales.x.getPixelForValue(a.time[k]) - offsetX);
      if (d <= bestD) {
        bestD = d;
        best = k;
      }
    }
    return best;
  }

  /** Text for a marker (tooltip of the marker under the pointer). */
  markerText(k: number): string {
    const a = this.anomalies!;
    return `${VIEW_ANOMALY_KINDS[a.kinds[k]] ?? 'anomaly'} at ${formatTime(a.time[k])}, line ${a.line[k]}: ${a.messages[k]}`;
  }

  private down(e: MouseEvent): void {
    if (e.button !== 0) return;
    const area = this.chart.chartArea;
    if (e.offsetX < area.left || e.offsetX > area.right) return;
    this.dragFrom = e.offsetX;
  }

  private move(e: MouseEvent): void {
    const canvas = this.chart.canvas;
    const rect = canvas.getBoundingClientRect();
    const ox = e.clientX - rect.left;
    const oy = e.clientY - rect.top;
    const mk = this.markerAt(ox, oy);
    canvas.style.cursor = mk >= 0 ? 'pointer' : 'crosshair';
    canvas.title = mk >= 0 ? this.markerText(mk) : '';
    if (this.dragFrom === null) return;
    const area = this.chart.chartArea;
    const a = Math.max(area.left, Math.min(this.dragFrom, ox));
    const b = Math.min(area.right, Math.max(this.dragFrom, ox));
    this.band.hidden = b - a < 3;
    this.band.style.left = `${canvas.offsetLeft + a}px`;
    this.band.style.width = `${b - a}px`;
    this.band.style.top = `${canvas.offsetTop + area.top}px`;
    this.band.style.height = `${area.bottom - area.top}px`;
  }

  private up(e: MouseEvent): void {
    if (this.dragFrom === null) return;
    const from = this.dragFrom;
    this.dragFrom = null;
    this.band.hidden = true;
    const rect = this.chart.canvas.getBoundingClientRect();
    const ox = e.clientX - rect.left;
    const oy = e.clientY - rect.top;
    const x = this.chart.scales.x;
    if (Math.abs(ox - from) >= 5) {
      const t0 = x.getValueForPixel(Math.min(ox, from)) ?? 0;
      const t1 = x.getValueForPixel(Math.max(ox, from)) ?? 0;
      if (t1 > t0) this.host.zoomTo(t0, t1);
      return;
    }
    const mk = this.markerAt(ox, oy);
    if (mk >= 0 && this.anomalies) this.host.reveal(this.anomalies.file[mk], this.anomalies.line[mk]);
    else this.host.pick(x.getValueForPixel(ox) ?? 0);
  }

  /** Canvas element (tests and the bench look for it). */
  get element(): HTMLCanvasElement {
    return this.chart.canvas;
  }

  /** The container. */
  get container(): HTMLElement {
    return this.root;
  }
}
