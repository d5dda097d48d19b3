/**
 * The page-frame × time map: a canvas where x is time and y is the row space (layout segments end to
 * end). The last reply is kept as a cell-resolution bitmap and redrawn under the current view while
 * panning, so a pan frame is one drawImage plus the overlays; a new window is asked for once the view rests.
 */
import type { MapReply, MapRequest, ViewInit, ViewSegment } from '../../src/protocol/viewData';
import { CELL_ANOMALY, CELL_CONFLICT, CELL_OFFLINE, CELL_SHARED, OWNER_KINDS } from '../../src/protocol/viewData';
import { hashedOwnerColor, kindColor, nodeColor, ownerColor, rgba, themeColor, type Rgb } from './colors';
import { formatTick, formatTime, hex, tickGap, traceTimeRange } from './format';

/** What the map colours cells by. */
export type ColorMode = 'kind' | 'owner' | 'node';

/** The visible window: time and row space. */
export interface MapView {
  t0: number;
  t1: number;
  y0: number;
  y1: number;
}

/** What the map asks of the page around it. */
export interface PageMapHost {
  request(req: MapRequest): Promise<MapReply | null>;
  /** The owner's label, or a stand-in until it has been fetched. */
  label(owner: number): string;
  /** Whether the owner's label is here already (the init carries only the top owners'). */
  labelKnown(owner: number): boolean;
  /** Fetch labels not known yet; resolves once they are. */
  fetchLabels(owners: number[]): Promise<void>;
  /** Index of an owner in the chart's series (for matching colours), -1 when not shown there. */
  seriesIndex(owner: number): number;
  /** Owners highlighted by the filter or a search; null = all. */
  highlighted(owner: number): boolean;
  /** A click at row-space y (pages [pfn0, pfn1)) and time. */
  pick(pfn0: number, pfn1: number, time: number): void;
  viewChanged(v: MapView): void;
  /** Say something to screen readers (where the keyboard moved the view). */
  announce(text: string): void;
}

const GUTTER = 132;
const AXIS = 22;
// Ask for a quarter of the view more on every side, so a pan shows cached cells rather than a hole.
const MARGIN = 0.25;
const SETTLE_MS = 60;

interface Image {
  reply: MapReply;
  win: MapView;
  bitmap: HTMLCanvasElement;
}

/** The page map view. */
export class PageMap {
  readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly tip: HTMLDivElement;
  /** The last pointer position hovered, so a label that arrives late updates only the tooltip still shown there. */
  private hoverAt: { x: number; y: number } | null = null;
  view: MapView;
  private image: Image | null = null;
  private mode: ColorMode;
  private cellPx: number;
  private cursor = NaN;
  private selectedRow = -1;
  private fetchTimer = 0;
  private fetchSeq = 0;
  private drag: { x: number; y: number; view: MapView; moved: boolean } | null = null;
  private offlinePattern: CanvasPattern | null = null;
  /** Milliseconds spent in the last frame (the bench reads it). */
  lastFrameMs = 0;
  /** Resolves when a reply has been drawn (the harness and bench wait on it). */
  painted = 0;
  /** The time axis labels last drawn (the harness reads them). */
  timeLabels: string[] = [];

  constructor(root: HTMLElement, private readonly init: ViewInit, private readonly host: PageMapHost, view: MapView | null, mode: ColorMode, cellPx: number) {
    this.canvas = document.createElement('canvas');
    this.canvas.tabIndex = 0;
    this.canvas.className = 'pl-map-canvas';
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', 'Page frame by time map. Arrow keys pan, plus and minus zoom time, Page Up and Page Down zoom frames, Home resets, Enter selects the page in the middle.');
    this.tip = document.createElement('div');
    this.tip.className = 'pl-tooltip';
    this.tip.hidden = true;
    this.tip.setAttribute('role', 'tooltip');
    root.append(this.canvas, this.tip);
    this.ctx = this.canvas.getContext('2d', { alpha: false })!;
    this.mode = mode;
    this.cellPx = cellPx;
    this.view = view ?? this.fullView();
    this.canvas.addEventListener('mousedown', (e) => this.down(e));
    window.addEventListener('mousemove', (e) => this.move(e));
    window.addEventListener('mouseup', (e) => this.up(e));
    this.canvas.addEventListener('mouseleave', () => (this.tip.hidden = true));
    this.canvas.addEventListener('wheel', (e) => this.wheel(e), { passive: false });
    this.canvas.addEventListener('keydown', (e) => this.key(e));
    new ResizeObserver(() => this.resize()).observe(root);
  }

  fullView(): MapView {
    const [t0, t1] = traceTimeRange(this.init.timeStart, this.init.timeEnd);
    const pad = Math.max(1, (t1 - t0) * 0.01);
    return { t0: t0 - pad, t1: t1 + pad, y0: 0, y1: Math.max(1, this.init.rows) };
  }

  setMode(mode: ColorMode): void {
    this.mode = mode;
    this.rebuild();
  }

  setCellPx(px: number): void {
    this.cellPx = px;
    this.fetchSoon(0);
  }

  setCursor(t: number): void {
    this.cursor = t;
    this.draw();
  }

  /** Select the page at row-space y (draws a marker line). */
  select(row: number): void {
    this.selectedRow = row;
    this.draw();
  }

  /** Show [t0, t1] (keeping rows). */
  setTime(t0: number, t1: number): void {
    this.setView({ ...this.view, t0, t1 });
  }

  /** Centre the rows on y, zooming in to `span` rows. */
  reveal(row: number, span = 256): void {
    const y0 = Math.max(0, row - span / 2);
    this.setView({ ...this.view, y0, y1: Math.min(this.init.rows, y0 + span) });
  }

  setView(v: MapView): void {
    const minT = 1e-3;
    let { t0, t1, y0, y1 } = v;
    if (t1 - t0 < minT) t1 = t0 + minT;
    const rows = Math.max(1, this.init.rows);
    const span = Math.min(rows, Math.max(8, y1 - y0));
    y0 = Math.max(0, Math.min(rows - span, y0));
    y1 = y0 + span;
    this.view = { t0, t1, y0, y1 };
    this.draw();
    this.host.viewChanged(this.view);
    this.fetchSoon(SETTLE_MS);
  }

  /** Redraw the bitmap from the last reply (colours changed). */
  rebuild(): void {
    if (this.image) this.image.bitmap = this.bitmapOf(this.image.reply);
    this.draw();
  }

  private get plot(): { x: number; y: number; w: number; h: number } {
    const w = this.canvas.clientWidth;
    const h = this.canvas.clientHeight;
    return { x: GUTTER, y: 0, w: Math.max(1, w - GUTTER - 8), h: Math.max(1, h - AXIS) };
  }

  private resize(): void {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(this.canvas.clientWidth * dpr));
    const h = Math.max(1, Math.round(this.canvas.clientHeight * dpr));
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    this.draw();
    this.fetchSoon(0);
  }

  private fetchSoon(ms: number): void {
    clearTimeout(this.fetchTimer);
    this.fetchTimer = window.setTimeout(() => void this.fetch(), ms);
  }

  private async fetch(): Promise<void> {
    const p = this.plot;
    const v = this.view;
    const dt = (v.t1 - v.t0) * MARGIN;
    const dy = (v.y1 - v.y0) * MARGIN;
    const win: MapView = { t0: v.t0 - dt, t1: v.t1 + dt, y0: Math.max(0, v.y0 - dy), y1: Math.min(this.init.rows, v.y1 + dy) };
    const scaleX = (win.t1 - win.t0) / (v.t1 - v.t0);
    const scaleY = (win.y1 - win.y0) / (v.y1 - v.y0);
    const nx = Math.max(1, Math.min(8192, Math.round((p.w / this.cellPx) * scaleX)));
    // Never more rows than pages: a row then holds exactly one page.
    const ny = Math.max(1, Math.min(8192, Math.round((p.h / this.cellPx) * scaleY), Math.ceil(win.y1 - win.y0)));
    const seq = ++this.fetchSeq;
    const reply = await this.host.request({ kind: 'map', t0: win.t0, t1: win.t1, nx, y0: win.y0, y1: win.y1, ny });
    if (!reply || seq !== this.fetchSeq) return;
    const t = performance.now();
    this.image = { reply, win, bitmap: this.bitmapOf(reply) };
    this.draw();
    this.painted++;
    this.lastFrameMs = performance.now() - t;
  }

  private colorOf(owner: number, row: number, reply: MapReply): Rgb {
    switch (this.mode) {
      case 'kind':
        return kindColor(OWNER_KINDS[this.init.ownerKinds[owner]] ?? 'free');
      case 'node':
        return nodeColor(reply.rowNode[row]);
      default: {
        const i = this.host.seriesIndex(owner);
        return i >= 0 ? ownerColor(i) : hashedOwnerColor(owner);
      }
    }
  }

  private bitmapOf(reply: MapReply): HTMLCanvasElement {
    const { nx, ny } = reply;
    const c = document.createElement('canvas');
    c.width = nx;
    c.height = ny;
    const g = c.getContext('2d')!;
    const img = g.createImageData(nx, ny);
    const px = new Uint32Array(img.data.buffer);
    const bg = themeColor('--vscode-editor-background', [255, 255, 255]);
    const fg = themeColor('--vscode-foreground', [60, 60, 60]);
    const free = mix(bg, fg, 0.1);
    const dim = mix(bg, fg, 0.22);
    const conflict = themeColor('--vscode-errorForeground', [229, 20, 0]);
    const anomaly = themeColor('--vscode-editorWarning-foreground', [191, 136, 3]);
    const shared: Rgb = [214, 64, 190];
    // Colours per owner are computed once per bitmap: a map has far fewer owners than cells.
    const cache = new Map<number, Rgb>();
    const pack = (c3: Rgb): number => (255 << 24) | (c3[2] << 16) | (c3[1] << 8) | c3[0];
    const packedBg = pack(bg);
    for (let r = 0; r < ny; r++) {
      for (let x = 0; x < nx; x++) {
        const i = r * nx + x;
        const o = reply.owner[i];
        const f = reply.flags[i];
        let col: Rgb;
        if (f & CELL_CONFLICT) col = conflict;
        else if (f & CELL_ANOMALY) col = anomaly;
        else if (o > 0) {
          let base: Rgb | undefined;
          if (this.mode !== 'node') base = cache.get(o);
          if (!base) {
            base = this.colorOf(o, r, reply);
            if (this.mode !== 'node') cache.set(o, base);
          }
          if (!this.host.highlighted(o)) base = dim;
          else if (f & CELL_SHARED) base = shared;
          // Sparse cells stay visible: at least 45% strength, full when every page of the row is held.
          col = mix(bg, base, 0.45 + (0.55 * reply.fill[i]) / 255);
        } else if (o === 0) col = free;
        else {
          px[i] = packedBg;
          continue;
        }
        px[i] = pack(col);
      }
    }
    g.putImageData(img, 0, 0);
    return c;
  }

  /** Draw the current view from the cached bitmap plus overlays. */
  draw(): void {
    const t = performance.now();
    const ctx = this.ctx;
    const dpr = this.canvas.width / Math.max(1, this.canvas.clientWidth);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const p = this.plot;
    const v = this.view;
    const bg = themeColor('--vscode-editor-background', [255, 255, 255]);
    const fg = themeColor('--vscode-foreground', [60, 60, 60]);
    ctx.fillStyle = rgba(bg);
    ctx.fillRect(0, 0, this.canvas.clientWidth, this.canvas.clientHeight);
    const xOf = (time: number): number => p.x + ((time - v.t0) / (v.t1 - v.t0)) * p.w;
    const yOf = (row: number): number => p.y + ((row - v.y0) / (v.y1 - v.y0)) * p.h;
    ctx.save();
    ctx.beginPath();
    ctx.rect(p.x, p.y, p.w, p.h);
    ctx.clip();
    const im = this.image;
    if (im) {
      ctx.imageSmoothingEnabled = false;
      const x0 = xOf(im.win.t0);
      const x1 = xOf(im.win.t1);
      const y0 = yOf(im.win.y0);
      const y1 = yOf(im.win.y1);
      ctx.drawImage(im.bitmap, x0, y0, x1 - x0, y1 - y0);
    }
    this.drawOffline(ctx, xOf, yOf);
    // Segment boundaries.
    ctx.strokeStyle = rgba(fg, 0.35);
    ctx.lineWidth = 1;
    for (const g of this.init.segments) {
      const y = Math.round(yOf(g.offset)) + 0.5;
      if (y > p.y && y < p.y + p.h) {
        ctx.beginPath();
        ctx.moveTo(p.x, y);
        ctx.lineTo(p.x + p.w, y);
        ctx.stroke();
      }
    }
    if (this.cursor === this.cursor) {
      const x = Math.round(xOf(this.cursor)) + 0.5;
      ctx.strokeStyle = rgba(themeColor('--vscode-editorCursor-foreground', [0, 122, 204]));
      ctx.setLineDash([4, 3]);
      ctx.beginPath();
      ctx.moveTo(x, p.y);
      ctx.lineTo(x, p.y + p.h);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    if (this.selectedRow >= 0) {
      const ya = yOf(this.selectedRow);
      const yb = Math.max(ya + 2, yOf(this.selectedRow + 1));
      ctx.strokeStyle = rgba(themeColor('--vscode-focusBorder', [0, 122, 204]));
      ctx.lineWidth = 2;
      ctx.strokeRect(p.x + 1, ya - 1, p.w - 2, yb - ya + 2);
      ctx.lineWidth = 1;
    }
    ctx.restore();
    this.drawAxes(ctx, p, v, xOf, yOf, fg);
    this.lastFrameMs = performance.now() - t;
  }

  private drawOffline(ctx: CanvasRenderingContext2D, xOf: (t: number) => number, yOf: (r: number) => number): void {
    if (!this.offlinePattern) {
      const tile = document.createElement('canvas');
      tile.width = tile.height = 8;
      const g = tile.getContext('2d')!;
      g.strokeStyle = rgba(themeColor('--vscode-foreground', [60, 60, 60]), 0.28);
      g.beginPath();
      g.moveTo(0, 8);
      g.lineTo(8, 0);
      g.stroke();
      this.offlinePattern = ctx.createPattern(tile, 'repeat');
    }
    const p = this.plot;
    for (const b of this.init.blocks) {
      const seg = segmentOfPfn(this.init.segments, b.start);
      if (!seg) continue;
      const row = seg.offset + (b.start - seg.start);
      for (let k = 0; k < b.offline.length; k += 2) {
        const xa = Math.max(p.x, xOf(Math.max(b.offline[k], this.view.t0)));
        const xb = Math.min(p.x + p.w, xOf(Math.min(b.offline[k + 1], this.view.t1)));
        const ya = Math.max(p.y, yOf(row));
        const yb = Math.min(p.y + p.h, yOf(row + b.pages));
        if (xb <= xa || yb <= ya) continue;
        ctx.fillStyle = this.offlinePattern ?? 'rgba(128,128,128,0.2)';
        ctx.fillRect(xa, ya, xb - xa, yb - ya);
      }
    }
  }

  /** The theme changed: patterns and bitmaps hold colours. */
  themeChanged(): void {
    this.offlinePattern = null;
    this.rebuild();
  }

  private drawAxes(ctx: CanvasRenderingContext2D, p: { x: number; y: number; w: number; h: number }, v: MapView, xOf: (t: number) => number, yOf: (r: number) => number, fg: Rgb): void {
    const font = getComputedStyle(document.body).getPropertyValue('--vscode-font-family') || 'sans-serif';
    ctx.font = `11px ${font}`;
    ctx.fillStyle = rgba(fg, 0.85);
    ctx.strokeStyle = rgba(fg, 0.4);
    // Time ticks.
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const ticks = niceTicks(v.t0, v.t1, Math.max(2, Math.floor(p.w / 110)));
    const gap = tickGap(ticks);
    this.timeLabels = ticks.map((t) => formatTick(t, gap));
    for (const [k, t] of ticks.entries()) {
      const x = Math.round(xOf(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, p.y + p.h);
      ctx.lineTo(x, p.y + p.h + 4);
      ctx.stroke();
      ctx.fillText(this.timeLabels[k], x, p.y + p.h + 6);
    }
    // Segment labels and pfn ticks in the gutter.
    ctx.textAlign = 'right';
    ctx.textBaseline = 'top';
    for (const g of this.init.segments) {
      const ya = Math.max(p.y, yOf(g.offset));
      const yb = Math.min(p.y + p.h, yOf(g.offset + g.pages));
      if (yb - ya < 4) continue;
      ctx.fillStyle = rgba(nodeColor(g.node), 0.9);
      ctx.fillRect(p.x - 6, ya, 4, yb - ya);
      if (yb - ya >= 28) {
        ctx.fillStyle = rgba(fg, 0.95);
        ctx.font = `bold 11px ${font}`;
        ctx.fillText(g.name, p.x - 10, ya + 3);
        ctx.font = `11px ${font}`;
        ctx.fillStyle = rgba(fg, 0.7);
        ctx.fillText(`${g.type} · node ${g.node < 0 ? '?' : g.node}`, p.x - 10, ya + 16);
      }
    }
    ctx.textBaseline = 'middle';
    ctx.fillStyle = rgba(fg, 0.7);
    // Whole rows only: a map of one page had five ticks between its two edges, each naming that page.
    const rowTicks = niceTicks(v.y0, v.y1, Math.max(2, Math.floor(p.h / 60)), 1);
    for (const r of rowTicks) {
      const y = yOf(r);
      if (y < p.y + 34 || y > p.y + p.h - 6) continue;
      const seg = segmentOfRow(this.init.segments, r);
      if (!seg) continue;
      ctx.fillText(hex(seg.start + r - seg.offset), p.x - 10, y);
    }
  }

  // ---- interaction

  /** The cell of the cached image under a plot point, with the row range and time range it covers. */
  private cellAt(x: number, y: number): { cell: number; row0: number; row1: number; t0: number; t1: number } | null {
    const im = this.image;
    const p = this.plot;
    if (!im || x < p.x || x > p.x + p.w || y < p.y || y > p.y + p.h) return null;
    const v = this.view;
    const t = v.t0 + ((x - p.x) / p.w) * (v.t1 - v.t0);
    const row = v.y0 + ((y - p.y) / p.h) * (v.y1 - v.y0);
    const { nx, ny } = im.reply;
    const cx = Math.floor(((t - im.win.t0) / (im.win.t1 - im.win.t0)) * nx);
    const cy = Math.floor(((row - im.win.y0) / (im.win.y1 - im.win.y0)) * ny);
    if (cx < 0 || cx >= nx || cy < 0 || cy >= ny) return null;
    const h = (im.win.y1 - im.win.y0) / ny;
    const row0 = Math.floor(im.win.y0 + cy * h);
    const row1 = Math.max(row0 + 1, Math.floor(im.win.y0 + (cy + 1) * h));
    const dt = (im.win.t1 - im.win.t0) / nx;
    return { cell: cy * nx + cx, row0, row1, t0: im.win.t0 + cx * dt, t1: im.win.t0 + (cx + 1) * dt };
  }

  private down(e: MouseEvent): void {
    if (e.button !== 0) return;
    this.canvas.focus();
    this.drag = { x: e.clientX, y: e.clientY, view: { ...this.view }, moved: false };
  }

  private move(e: MouseEvent): void {
    const d = this.drag;
    if (d) {
      const dx = e.clientX - d.x;
      const dy = e.clientY - d.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) d.moved = true;
      if (d.moved) {
        const p = this.plot;
        const st = ((d.view.t1 - d.view.t0) * dx) / p.w;
        const sy = ((d.view.y1 - d.view.y0) * dy) / p.h;
        this.setView({ t0: d.view.t0 - st, t1: d.view.t1 - st, y0: d.view.y0 - sy, y1: d.view.y1 - sy });
        this.tip.hidden = true;
        return;
      }
    }
    if (e.target !== this.canvas) return;
    this.hover(e.offsetX, e.offsetY);
  }

  private hover(x: number, y: number): void {
    const at = (this.hoverAt = { x, y });
    const c = this.cellAt(x, y);
    if (!c || !this.image) {
      this.tip.hidden = true;
      return;
    }
    const r = this.image.reply;
    const lines: string[] = [];
    const a = pfnOfRow(this.init.segments, c.row0);
    const b = pfnOfRow(this.init.segments, c.row1 - 1);
    const seg = segmentOfRow(this.init.segments, c.row0);
    lines.push(c.row1 - c.row0 > 1 ? `pfn ${hex(a)} – ${hex(b)} (${c.row1 - c.row0} frames)` : `pfn ${hex(a)}`);
    if (seg) lines.push(`${seg.name} (${seg.type}), node ${seg.node < 0 ? '?' : seg.node}`);
    lines.push(`time ${formatTick(c.t0, c.t1 - c.t0)} – ${formatTick(c.t1, c.t1 - c.t0)}`);
    const o = r.owner[c.cell];
    if (o > 0 && !this.host.labelKnown(o)) {
      // Most owners' labels come on demand: show the cell now and its owner's name once it has arrived,
      // if the pointer is still on the same spot.
      void this.host.fetchLabels([o]).then(() => {
        if (this.hoverAt === at && !this.tip.hidden) this.hover(x, y);
      });
    }
    if (o > 0) lines.push(`${this.host.label(o)}${c.row1 - c.row0 > 1 ? ` · ${Math.round((r.fill[c.cell] / 255) * 100)}% of frames held` : ''}`);
    else if (o === 0) lines.push('free');
    else lines.push('not seen in the trace');
    const f = r.flags[c.cell];
    if (f & CELL_SHARED) lines.push('shared: process + live snapshot');
    if (f & CELL_CONFLICT) lines.push('conflict: two exclusive owners');
    if (f & CELL_ANOMALY) lines.push('anomaly here');
    if (f & CELL_OFFLINE) lines.push('memory block offline');
    this.tip.textContent = lines.join('\n');
    this.tip.hidden = false;
    const host = this.canvas.getBoundingClientRect();
    const left = Math.min(x + 14, host.width - 260);
    this.tip.style.left = `${this.canvas.offsetLeft + Math.max(0, left)}px`;
    this.tip.style.top = `${this.canvas.offsetTop + y + 14}px`;
  }

  private up(e: MouseEvent): void {
    const d = this.drag;
    this.drag = null;
    if (!d || d.moved) return;
    const rect = this.canvas.getBoundingClientRect();
    this.pickAt(e.clientX - rect.left, e.clientY - rect.top);
  }

  private pickAt(x: number, y: number): void {
    const p = this.plot;
    if (x < p.x || x > p.x + p.w || y < p.y || y > p.y + p.h) return;
    const v = this.view;
    const t = v.t0 + ((x - p.x) / p.w) * (v.t1 - v.t0);
    const perPixel = (v.y1 - v.y0) / p.h;
    const row0 = Math.floor(v.y0 + ((y - p.y) / p.h) * (v.y1 - v.y0));
    const row1 = Math.max(row0 + 1, Math.floor(row0 + perPixel * 2));
    const seg = segmentOfRow(this.init.segments, row0);
    if (!seg) return;
    const pfn0 = seg.start + row0 - seg.offset;
    const pfn1 = Math.min(seg.start + seg.pages, seg.start + row1 - seg.offset);
    this.host.pick(pfn0, pfn1, t);
  }

  private wheel(e: WheelEvent): void {
    e.preventDefault();
    const p = this.plot;
    const f = Math.exp(Math.sign(e.deltaY) * Math.min(0.5, Math.abs(e.deltaY) / 300));
    const v = this.view;
    if (e.shiftKey || e.altKey) {
      const at = v.y0 + ((e.offsetY - p.y) / p.h) * (v.y1 - v.y0);
      this.setView({ ...v, y0: at - (at - v.y0) * f, y1: at + (v.y1 - at) * f });
    } else {
      const at = v.t0 + ((e.offsetX - p.x) / p.w) * (v.t1 - v.t0);
      this.setView({ ...v, t0: at - (at - v.t0) * f, t1: at + (v.t1 - at) * f });
    }
  }

  private key(e: KeyboardEvent): void {
    const v = this.view;
    const wt = v.t1 - v.t0;
    const wy = v.y1 - v.y0;
    const step = e.shiftKey ? 0.5 : 0.1;
    let next: MapView | null = null;
    switch (e.key) {
      case 'ArrowLeft':
        next = { ...v, t0: v.t0 - wt * step, t1: v.t1 - wt * step };
        break;
      case 'ArrowRight':
        next = { ...v, t0: v.t0 + wt * step, t1: v.t1 + wt * step };
        break;
      case 'ArrowUp':
        next = { ...v, y0: v.y0 - wy * step, y1: v.y1 - wy * step };
        break;
      case 'ArrowDown':
        next = { ...v, y0: v.y0 + wy * step, y1: v.y1 + wy * step };
        break;
      case '+':
      case '=':
        next = { ...v, t0: v.t0 + wt * 0.25, t1: v.t1 - wt * 0.25 };
        break;
      case '-':
        next = { ...v, t0: v.t0 - wt * 0.5, t1: v.t1 + wt * 0.5 };
        break;
      case 'PageUp':
        next = { ...v, y0: v.y0 + wy * 0.25, y1: v.y1 - wy * 0.25 };
        break;
      case 'PageDown':
        next = { ...v, y0: v.y0 - wy * 0.5, y1: v.y1 + wy * 0.5 };
        break;
      case 'Home':
        next = this.fullView();
        break;
      case 'Enter': {
        const p = this.plot;
        this.pickAt(p.x + p.w / 2, p.y + p.h / 2);
        e.preventDefault();
        return;
      }
    }
    if (next) {
      e.preventDefault();
      this.setView(next);
      this.host.announce(this.describe());
    }
  }

  /** The visible window in words: frames, segments and time (the map's text alternative). */
  describe(): string {
    const v = this.view;
    const segs = this.init.segments;
    const r0 = Math.max(0, Math.floor(v.y0));
    const r1 = Math.max(r0, Math.min(this.init.rows, Math.ceil(v.y1)) - 1);
    const names = segs.filter((g) => g.offset + g.pages > r0 && g.offset <= r1).map((g) => `${g.name} (${g.type}, node ${g.node < 0 ? '?' : g.node})`);
    const a = pfnOfRow(segs, r0);
    const b = pfnOfRow(segs, r1);
    const range = a === a && b === b ? `pfn ${hex(a)} to ${hex(b)}` : `${r1 - r0 + 1} frames`;
    return `Showing ${range} in ${names.join(', ') || 'no segment'}, from ${formatTime(Math.max(v.t0, this.init.timeStart))} to ${formatTime(Math.min(v.t1, this.init.timeEnd))}.`;
  }
}

function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [Math.round(a[0] + (b[0] - a[0]) * t), Math.round(a[1] + (b[1] - a[1]) * t), Math.round(a[2] + (b[2] - a[2]) * t)];
}

/** The segment holding row-space index y. */
export function segmentOfRow(segs: readonly ViewSegment[], y: number): ViewSegment | undefined {
  let lo = 0;
  let hi = segs.length - 1;
  while (lo <= hi) {
    const m = (lo + hi) >>> 1;
    if (y < segs[m].offset) hi = m - 1;
    else if (y >= segs[m].offset + segs[m].pages) lo = m + 1;
    else return segs[m];
  }
  return undefined;
}

/** The segment holding pfn. */
export function segmentOfPfn(segs: readonly ViewSegment[], pfn: number): ViewSegment | undefined {
  return segs.find((g) => pfn >= g.start && pfn < g.start + g.pages);
}

/** The pfn at row-space index y (NaN outside every segment). */
export function pfnOfRow(segs: readonly ViewSegment[], y: number): number {
  const g = segmentOfRow(segs, y);
  return g ? g.start + y - g.offset : NaN;
}

/** About `n` round tick values in [a, b], at least `minStep` apart. */
function niceTicks(a: number, b: number, n: number, minStep = 0): number[] {
  const span = b - a;
  if (!(span > 0)) return [];
  const raw = Math.max(span / n, minStep);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let t = Math.ceil(a / step) * step; t <= b; t += step) out.push(t);
  return out;
}
