/**
 * The ownership webview: a stacked chart of pages per owner over time above a page-frame × time map,
 * with a page history panel. Talks to the host only through the envelope in src/protocol/view.ts.
 */
import './ownership.css';
import type { HostToWebview, SettingsMessage } from '../../src/protocol/view';
import type { AnomaliesReply, MapReply, PageReply, SeriesReply, ViewInit, ViewReply, ViewRequest } from '../../src/protocol/viewData';
import { OWNER_KINDS } from '../../src/protocol/viewData';
import { button, checkbox, dropdown, registerToolkit, searchField } from '../ui/toolkit';
import { kindColor, ownerColor, rgba, setKindColors } from './colors';
import { formatTime, hex, traceTimeRange } from './format';
import { HostClient } from './hostClient';
import { parseHostMessage } from './messages';
import { PartialChart } from './partial';
import { OwnerLabels } from './ownerLabels';
import { PageMap, pfnOfRow, type ColorMode, type MapView } from './pageMap';
import { FREE, TimeChart, UNKNOWN } from './timeChart';

/** What survives hide/show and reload. */
interface SavedState {
  chart: [number, number] | null;
  map: MapView | null;
  mode: ColorMode;
  cellPx: number;
  top: number;
  filter: string;
  bytes: boolean;
  hidden: string[];
  selected: number | null;
  search: string;
}

const DEFAULTS: SavedState = { chart: null, map: null, mode: 'kind', cellPx: 2, top: 8, filter: 'all', bytes: false, hidden: [UNKNOWN, FREE], selected: null, search: '' };

function restore(raw: unknown): SavedState {
  const s: SavedState = { ...DEFAULTS, hidden: [...DEFAULTS.hidden] };
  if (typeof raw !== 'object' || raw === null) return s;
  const r = raw as Record<string, unknown>;
  const nums = (v: unknown, n: number): v is number[] => Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (nums(r.chart, 2)) s.chart = [r.chart[0], r.chart[1]];
  const m = r.map as Record<string, unknown> | null;
  if (m && typeof m === 'object' && nums([m.t0, m.t1, m.y0, m.y1], 4)) s.map = { t0: m.t0 as number, t1: m.t1 as number, y0: m.y0 as number, y1: m.y1 as number };
  if (r.mode === 'kind' || r.mode === 'owner' || r.mode === 'node') s.mode = r.mode;
  if (r.cellPx === 1 || r.cellPx === 2 || r.cellPx === 4) s.cellPx = r.cellPx;
  if (typeof r.top === 'number' && [4, 8, 12, 16].includes(r.top)) s.top = r.top;
  if (typeof r.filter === 'string' && (r.filter === 'all' || (OWNER_KINDS as readonly string[]).includes(r.filter))) s.filter = r.filter;
  if (typeof r.bytes === 'boolean') s.bytes = r.bytes;
  if (Array.isArray(r.hidden) && r.hidden.every((x) => typeof x === 'string')) s.hidden = r.hidden as string[];
  if (typeof r.selected === 'number' && Number.isFinite(r.selected)) s.selected = r.selected;
  if (typeof r.search === 'string') s.search = r.search;
  return s;
}

class OwnershipView {
  private state: SavedState;
  private series: SeriesReply | null = null;
  private readonly chart: TimeChart;
  private readonly map: PageMap;
  private readonly history: HTMLElement;
  private readonly status: HTMLElement;
  /** Off-screen live region: what the keyboard just reached, for screen readers. */
  private readonly live: HTMLElement;
  private readonly chartSummary: HTMLElement;
  private readonly mapSummary: HTMLElement;
  private searchOwners: Set<number> | null = null;
  private chartSeq = 0;
  private readonly labels: OwnerLabels;

  constructor(root: HTMLElement, private readonly init: ViewInit, private readonly client: HostClient, private chartResolution: number) {
    this.state = restore(client.api.getState());
    this.labels = new OwnerLabels(init, (req) => this.ask(req));
    root.textContent = '';
    root.className = 'pl-root';

    const header = el('header', 'pl-toolbar');
    header.setAttribute('role', 'toolbar');
    header.setAttribute('aria-label', 'Ownership view controls');
    const title = el('h1', 'pl-title');
    title.textContent = init.title;
    const kinds = OWNER_KINDS.map((k, i) => ({ value: k, label: `${k} (${(init.kindCounts[i] ?? 0).toLocaleString('en-US')})` })).filter((c) => c.value !== 'free');
    const filter = dropdown('Owners', [{ value: 'all', label: 'all kinds' }, ...kinds], this.state.filter, (v) => {
      this.state.filter = v;
      this.save();
      this.loadSeries();
      this.map.rebuild();
    });
    const mode = dropdown('Colour by', [{ value: 'kind', label: 'owner kind' }, { value: 'owner', label: 'owner' }, { value: 'node', label: 'NUMA node' }], this.state.mode, (v) => {
      this.state.mode = v === 'owner' || v === 'node' ? v : 'kind';
      this.save();
      this.map.setMode(this.state.mode);
      this.renderLegend();
    });
    const res = dropdown('Resolution', [{ value: '1', label: 'fine (1 px)' }, { value: '2', label: 'normal (2 px)' }, { value: '4', label: 'coarse (4 px)' }], String(this.state.cellPx), (v) => {
      this.state.cellPx = Number(v) === 1 ? 1 : Number(v) === 4 ? 4 : 2;
      this.save();
      this.map.setCellPx(this.state.cellPx);
    });
    const top = dropdown('Top owners', [4, 8, 12, 16].map((n) => ({ value: String(n), label: String(n) })), String(this.state.top), (v) => {
      this.state.top = Number(v) || 8;
      this.save();
      this.loadSeries();
    });
    const bytes = checkbox('Bytes', this.state.bytes, (v) => {
      this.state.bytes = v;
      this.save();
      this.chart.refresh();
    });
    const search = searchField('Search pid, comm or pfn', 'pid, comm or 0xpfn', (q) => void this.search(q));
    search.value = this.state.search;
    const reset = button('Reset zoom', () => this.resetZoom(), { secondary: true, title: 'Show the whole trace in both views' });
    header.append(title, filter.element, mode.element, res.element, top.element, bytes, search.element, reset);

    const chartBox = el('section', 'pl-chart');
    chartBox.setAttribute('aria-label', 'Pages per owner over time');
    const mapBox = el('section', 'pl-map');
    mapBox.setAttribute('aria-label', 'Page frames over time');
    this.history = el('aside', 'pl-history');
    this.history.setAttribute('aria-label', 'Page history');
    this.history.innerHTML = '';
    this.history.append(hint('Click a cell of the map (or press Enter on it) to see the history of that page frame.'));
    const legend = el('div', 'pl-legend');
    legend.id = 'pl-legend';
    this.status = el('footer', 'pl-status');
    this.status.setAttribute('role', 'status');
    // Text alternatives of the two canvases, kept current and linked by aria-describedby.
    this.chartSummary = el('p', 'pl-sr-only');
    this.chartSummary.id = 'pl-chart-summary';
    this.mapSummary = el('p', 'pl-sr-only');
    this.mapSummary.id = 'pl-map-summary';
    this.live = el('div', 'pl-sr-only');
    this.live.setAttribute('aria-live', 'polite');
    this.live.setAttribute('aria-atomic', 'true');
    const body = el('div', 'pl-body');
    const mapCol = el('div', 'pl-map-col');
    mapCol.append(mapBox, legend);
    body.append(mapCol, this.history);
    root.append(header, chartBox, body, this.status, this.chartSummary, this.mapSummary, this.live);

    this.chart = new TimeChart(chartBox, {
      label: (o) => this.label(o),
      pageSize: () => (this.state.bytes ? init.pageSize : null),
      zoomTo: (t0, t1) => this.zoomTime(t0, t1),
      pick: (t) => void this.pickTime(t),
      reveal: (f, l) => client.reveal(f, l),
      hiddenChanged: (h) => {
        this.state.hidden = h;
        this.save();
      },
      announce: (t) => this.announce(t),
    }, this.state.hidden);
    this.chart.element.setAttribute('aria-describedby', this.chartSummary.id);
    // The chart's data first: the host computes it while the map below is built (its reply lands after
    // this constructor returns, when the map exists).
    this.loadSeries();
    this.map = new PageMap(mapBox, init, {
      request: async (req) => {
        const r = await this.ask(req);
        return r.kind === 'map' ? (r as MapReply) : null;
      },
      label: (o) => this.label(o),
      labelKnown: (o) => this.labels.has(o),
      fetchLabels: (owners) => this.labels.want(owners),
      seriesIndex: (o) => (this.series ? this.series.owners.indexOf(o) : -1),
      highlighted: (o) => this.highlighted(o),
      pick: (a, b, t) => void this.pickPage(a, b, t),
      viewChanged: (v) => {
        this.state.map = v;
        this.saveSoon();
        this.mapSummary.textContent = this.map.describe();
      },
      announce: (t) => this.announce(t),
    }, this.state.map, this.state.mode, this.state.cellPx);
    this.map.canvas.setAttribute('aria-describedby', this.mapSummary.id);
    this.mapSummary.textContent = this.map.describe();
    this.renderLegend();
    this.status.textContent = statusText(init);
    if (this.state.selected !== null) void this.showPage(this.state.selected);
    new MutationObserver(() => this.recolour()).observe(document.body, { attributes: true, attributeFilter: ['class'] });
  }

  /** The user changed a view setting: recolour, and ask for the chart again at a new resolution. */
  applySettings(s: SettingsMessage): void {
    setKindColors(s.ownerColors);
    this.recolour();
    if (s.chartResolution !== this.chartResolution) {
      this.chartResolution = s.chartResolution;
      this.loadSeries();
    }
  }

  private recolour(): void {
    this.map.themeChanged();
    if (this.series) this.chart.setSeries(this.series);
    this.renderLegend();
  }

  private label(o: number): string {
    return this.labels.get(o);
  }

  private highlighted(o: number): boolean {
    if (this.searchOwners && !this.searchOwners.has(o)) return false;
    return this.state.filter === 'all' || OWNER_KINDS[this.init.ownerKinds[o]] === this.state.filter;
  }

  private async ask(req: ViewRequest): Promise<ViewReply> {
    const r = await this.client.request(req);
    if (r.kind === 'error') this.status.textContent = `Request failed: ${r.message}`;
    return r;
  }

  private window(): [number, number] {
    return this.state.chart ?? traceTimeRange(this.init.timeStart, this.init.timeEnd);
  }

  private loadSeries(): void {
    const [t0, t1] = this.window();
    const width = this.chart.element.clientWidth || 800;
    // The setting's buckets, but never more than pixels: more would cost the host and show nothing.
    const n = Math.max(2, Math.min(this.chartResolution, Math.round(width)));
    const hidden: number[] = [];
    if (this.state.filter !== 'all') for (let o = 1; o < this.init.ownerKinds.length; o++) if (OWNER_KINDS[this.init.ownerKinds[o]] !== this.state.filter) hidden.push(o);
    const pinned = this.searchOwners ? [...this.searchOwners] : [];
    const seq = ++this.chartSeq;
    if (seq === 1) performance.mark('pageledger-series-asked');
    void this.ask({ kind: 'series', t0, t1, n, top: this.state.top, pinned, hidden }).then(async (r) => {
      if (seq === 1) performance.mark('pageledger-series-reply');
      if (seq !== this.chartSeq || r.kind !== 'series') return;
      // The chart's datasets (and the legend toggles the user hid) go by label, so owners past the
      // init's top ones (a zoomed window, a search) get theirs first: no round trip for the first chart.
      await this.labels.want(r.owners);
      if (seq !== this.chartSeq) return;
      this.series = r;
      this.chart.setSeries(r);
      if (seq === 1) performance.mark('pageledger-chart');
      this.chartSummary.textContent = this.chart.summary();
      this.map.rebuild();
      this.renderLegend();
    });
    void this.ask({ kind: 'anomalies', t0, t1, max: 2000 }).then((r) => {
      if (seq !== this.chartSeq || r.kind !== 'anomalies') return;
      this.chart.setAnomalies(r as AnomaliesReply);
      this.chartSummary.textContent = this.chart.summary();
    });
  }

  private zoomTime(t0: number, t1: number): void {
    this.state.chart = [t0, t1];
    this.save();
    this.loadSeries();
    this.map.setTime(t0, t1);
  }

  private resetZoom(): void {
    this.state.chart = null;
    this.save();
    this.loadSeries();
    this.map.setView(this.map.fullView());
  }

  private async pickTime(t: number): Promise<void> {
    const r = await this.ask({ kind: 'nearest', time: t });
    if (r.kind === 'nearest' && r.found) {
      this.client.reveal(r.file, r.line);
      this.status.textContent = `Nearest event: line ${r.line} at ${formatTime(r.time)}`;
    }
  }

  private async pickPage(pfn0: number, pfn1: number, t: number): Promise<void> {
    const r = await this.ask({ kind: 'nearest', time: t, pfn0, pfn1 });
    if (r.kind !== 'nearest') return;
    if (r.found) {
      this.client.reveal(r.file, r.line);
      await this.showPage(r.pfn);
    } else await this.showPage(pfn0);
  }

  private async showPage(pfn: number): Promise<void> {
    this.state.selected = pfn;
    this.save();
    const seg = this.init.segments.find((g) => pfn >= g.start && pfn < g.start + g.pages);
    if (seg) this.map.select(seg.offset + pfn - seg.start);
    const r = await this.ask({ kind: 'page', pfn });
    if (r.kind !== 'page') return;
    await this.labels.want(r.changes.map((c) => c.owner));
    if (this.state.selected === pfn) this.renderHistory(r as PageReply);
  }

  private renderHistory(r: PageReply): void {
    const h = this.history;
    h.textContent = '';
    const head = el('h2', 'pl-history-title');
    head.textContent = `pfn ${hex(r.pfn)}`;
    const sub = el('div', 'pl-history-sub');
    sub.textContent = `${r.region ?? 'no region'} · node ${r.node < 0 ? '?' : r.node} · ${r.changes.length} change${r.changes.length === 1 ? '' : 's'}${r.dropped ? ` (${r.dropped} older not shown)` : ''}`;
    h.append(head, sub);
    const now = r.changes[r.changes.length - 1];
    this.announce(`Selected pfn ${hex(r.pfn)}: ${sub.textContent}${now ? `; last owner ${now.owner === 0 ? 'free' : this.label(now.owner)}` : ''}.`);
    if (!r.changes.length) {
      h.append(hint('No event of the trace touched this frame.'));
      return;
    }
    const list = el('ol', 'pl-history-list');
    for (const c of [...r.changes].reverse()) {
      const li = el('li', 'pl-change');
      const sw = el('span', 'pl-swatch');
      const kind = OWNER_KINDS[this.init.ownerKinds[c.owner]] ?? 'free';
      sw.style.background = rgba(kindColor(kind));
      const who = el('span', 'pl-change-owner');
      who.textContent = c.owner === 0 ? 'free' : this.label(c.owner);
      if (c.shared) {
        const tag = el('span', 'pl-tag');
        tag.textContent = 'shared';
        tag.title = 'A live snapshot references this page while the process holds it';
        who.append(' ', tag);
      }
      const when = el('span', 'pl-change-time');
      when.textContent = `${formatTime(c.from)} – ${formatTime(c.to)}`;
      const link = document.createElement('a');
      link.href = '#';
      link.className = 'pl-link';
      link.textContent = `${c.event} · line ${c.line}`;
      link.setAttribute('aria-label', `Reveal ${c.event} at line ${c.line} of ${this.init.files[c.file] ?? 'the trace'}`);
      link.addEventListener('click', (e) => {
        e.preventDefault();
        this.client.reveal(c.file, c.line);
      });
      li.append(sw, who, when, link);
      list.append(li);
    }
    h.append(list);
  }

  private async search(q: string): Promise<void> {
    this.state.search = q;
    this.save();
    if (!q.trim()) {
      this.searchOwners = null;
      this.loadSeries();
      this.map.rebuild();
      return;
    }
    const r = await this.ask({ kind: 'search', query: q, max: 16 });
    if (r.kind !== 'search') return;
    if (r.row >= 0) {
      this.map.reveal(r.row);
      await this.showPage(r.pfn);
    }
    this.searchOwners = r.owners.length ? new Set(r.owners) : null;
    this.status.textContent = r.row >= 0 ? `pfn ${hex(r.pfn)} is row ${r.row}` : `${r.owners.length} owner${r.owners.length === 1 ? '' : 's'} match "${q}"`;
    this.loadSeries();
    this.map.rebuild();
  }

  private renderLegend(): void {
    const lg = document.getElementById('pl-legend');
    if (!lg) return;
    lg.textContent = '';
    const item = (color: string, text: string, cls = ''): void => {
      const s = el('span', `pl-legend-item ${cls}`);
      const sw = el('span', 'pl-swatch');
      sw.style.background = color;
      s.append(sw, text);
      lg.append(s);
    };
    if (this.state.mode === 'kind') for (const k of OWNER_KINDS) if (k !== 'free') item(rgba(kindColor(k)), k);
    if (this.state.mode === 'owner' && this.series) this.series.owners.forEach((o, i) => item(rgba(ownerColor(i)), this.label(o)));
    if (this.state.mode === 'node') for (const n of this.init.nodes) item(rgba(ownerColor(n.id * 3 + 2)), `node ${n.id}${n.name ? ` (${n.name})` : ''}`);
    // The map draws free frames as a faint tint of the text colour over the background (pageMap.ts).
    item('color-mix(in srgb, var(--vscode-foreground) 10%, var(--vscode-editor-background))', 'free', 'pl-free');
    item('rgb(214, 64, 190)', 'shared with a snapshot');
    item('var(--vscode-errorForeground, #e51400)', 'conflict');
    item('var(--vscode-editorWarning-foreground, #bf8803)', 'other anomaly');
    item('', 'offline block', 'pl-offline');
  }

  private announce(text: string): void {
    this.live.textContent = text;
  }

  setCursor(time: number): void {
    this.chart.setCursor(time);
    this.map.setCursor(time);
  }

  /** For the harness and the bench. */
  get mapView(): PageMap {
    return this.map;
  }
  get timeChart(): TimeChart {
    return this.chart;
  }
  /** The page of the map's selected row (for tests). */
  selectedPfn(row: number): number {
    return pfnOfRow(this.init.segments, row);
  }

  private saveTimer = 0;
  private saveSoon(): void {
    clearTimeout(this.saveTimer);
    this.saveTimer = window.setTimeout(() => this.save(), 200);
  }
  private save(): void {
    this.client.api.setState(this.state);
  }
}

/** The status line: what the trace holds. */
function statusText(init: ViewInit): string {
  return `${count(init.events, 'event')} · ${count(init.rows, 'frame')} in ${count(init.segments.length, 'segment')} · ${count(init.anomalyCount, 'anomaly', 'anomalies')}`;
}

/** `1 event`, `2,000 events`. */
function count(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** What the empty view says: no events, and why when lines could not be read. */
function emptyText(init: ViewInit): string {
  const n = init.unreadLines;
  return n > 0 ? `No events in this trace (${count(n, 'line')} could not be read: see Problems).` : 'No events in this trace.';
}

/**
 * A trace without events (every line a parse error, or a layout listing alone): the title, the reason and
 * the status line, with no chart or map, whose axes over nothing showed only repeated and negative ticks.
 */
function renderEmpty(root: HTMLElement, init: ViewInit): void {
  root.textContent = '';
  root.className = 'pl-root pl-root-empty';
  const header = el('header', 'pl-toolbar');
  const title = el('h1', 'pl-title');
  title.textContent = init.title;
  header.append(title);
  const body = el('section', 'pl-empty');
  body.setAttribute('role', 'status');
  const text = el('p', 'pl-empty-text');
  text.textContent = emptyText(init);
  body.append(text);
  const status = el('footer', 'pl-status');
  status.textContent = statusText(init);
  root.append(header, body, status);
}

function el(tag: string, cls: string): HTMLElement {
  const e = document.createElement(tag);
  e.className = cls;
  return e;
}

function hint(text: string): HTMLElement {
  const p = el('p', 'pl-hint');
  p.textContent = text;
  return p;
}

/** Exposed for the harness and the bench (read-only handles; the view works without them). */
declare global {
  interface Window {
    pageLedgerView?: OwnershipView;
  }
}

function main(): void {
  // Marks of the first paint's steps, read by bench/vscode.mjs (performance entries of this frame).
  performance.mark('pageledger-script');
  registerToolkit();
  const root = document.getElementById('app') ?? document.body.appendChild(document.createElement('div'));
  const api = acquireVsCodeApi();
  const client = new HostClient(api);
  let view: OwnershipView | null = null;
  /** The chart of the part read so far, until init. */
  let partial: PartialChart | null = null;
  let pendingCursor: number | null = null;
  // Set by init, so a late progress message cannot overwrite the view (or the empty view) with "Loading".
  let initialised = false;
  // The host sends settings before init; until one arrives, the declared default.
  let settings: SettingsMessage = { type: 'settings', ownerColors: {}, chartResolution: 800 };
  root.textContent = 'Loading the trace…';
  window.addEventListener('message', (e: MessageEvent) => {
    const msg: HostToWebview | null = parseHostMessage(e.data);
    if (!msg) return;
    switch (msg.type) {
      case 'init':
        performance.mark('pageledger-init');
        initialised = true;
        partial?.dispose();
        partial = null;
        if (msg.init.events === 0) {
          view = null;
          window.pageLedgerView = undefined;
          renderEmpty(root, msg.init);
          break;
        }
        setKindColors(settings.ownerColors);
        view = new OwnershipView(root, msg.init, client, settings.chartResolution);
        window.pageLedgerView = view;
        if (pendingCursor !== null) view.setCursor(pendingCursor);
        break;
      case 'reply':
        client.reply(msg.requestId, msg.reply);
        break;
      case 'cursor':
        if (view) view.setCursor(msg.time);
        else pendingCursor = msg.time;
        break;
      case 'settings':
        settings = msg;
        if (view) view.applySettings(msg);
        else setKindColors(msg.ownerColors);
        break;
      case 'partial': {
        if (initialised) break;
        if (!msg.partial) {
          // An event went back in time: what the chart showed may not hold. Back to the progress alone.
          partial?.dispose();
          partial = null;
          root.className = '';
          root.textContent = 'Loading the trace… (its events are not in time order: the chart comes when it is read)';
          break;
        }
        if (partial) partial.update(msg.partial);
        else {
          setKindColors(settings.ownerColors);
          const saved = restore(api.getState());
          partial = new PartialChart(root, msg.title, msg.partial, saved.top, saved.hidden);
        }
        performance.mark('pageledger-partial');
        break;
      }
      case 'status':
        if (initialised) break;
        if (partial && !msg.error) partial.progress(msg.progress ?? 0);
        else {
          partial?.dispose();
          partial = null;
          root.className = '';
          root.textContent = msg.error ? `Could not open the trace: ${msg.error}` : `Loading the trace… ${Math.round((msg.progress ?? 0) * 100)}%`;
        }
        break;
    }
  });
  api.postMessage({ type: 'ready' });
  performance.mark('pageledger-ready');
}

main();
