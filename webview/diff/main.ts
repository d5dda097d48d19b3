/**
 * The diff webview: the page maps of sides A and B side by side (one zoom and scroll for both), change
 * classes coloured, the summary tables and the change list. Data comes from the host (ready → diffInit,
 * then diffRequest/diffReply); clicking a change asks the host to reveal its source line on that side.
 */
import './diff.css';
import type { HostToWebview, WebviewToHost } from '../../src/protocol/view';
import { DIFF_CELL_EMPTY, DIFF_CLASS_NAMES, type DiffChangeRow, type DiffReply, type DiffRequest, type DiffViewInit } from '../../src/protocol/diffData';

interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

/** What survives a reload of the view. */
interface SavedState {
  start: number;
  rowsPerCell: number;
}

// Cells are 4 px at the least (one row per cell still readable) and up to 16 px, so a diff of a few
// hundred pages fills the maps instead of a strip along their top.
const MIN_CELL_PX = 4;
const MAX_CELL_PX = 16;
let cellPx = MIN_CELL_PX;
// Unchanged pages are drawn faint, so the changes stand out.
const UNCHANGED_ALPHA = 0.35;
const PAGE_SIZE = 200;

// Theme variable per class, with a fallback for hosts without it (the harness, old themes).
const CLASS_COLORS: Record<(typeof DIFF_CLASS_NAMES)[number], [string, string]> = {
  unchanged: ['--vscode-editorLineNumber-foreground', '#858585'],
  added: ['--vscode-gitDecoration-addedResourceForeground', '#81b88b'],
  removed: ['--vscode-gitDecoration-deletedResourceForeground', '#c74e39'],
  ownerChanged: ['--vscode-charts-yellow', '#cca700'],
  cowSplit: ['--vscode-charts-purple', '#b180d7'],
  newlyShared: ['--vscode-charts-blue', '#3794ff'],
  migrated: ['--vscode-charts-orange', '#d18616'],
  movedToSnapshot: ['--vscode-terminal-ansiCyan', '#11a8cd'],
  freed: ['--vscode-disabledForeground', '#6f6f6f'],
  leaked: ['--vscode-errorForeground', '#f14c4c'],
};

const vscode = acquireVsCodeApi();
let init: DiffViewInit | null = null;
let view: SavedState = { start: 0, rowsPerCell: 1 };
let filter: number | undefined;
let changesOffset = 0;
let selectedRow = -1;
let nextId = 1;
const pending = new Map<number, (r: DiffReply) => void>();
let colors: string[] = [];

function request(req: DiffRequest): Promise<DiffReply> {
  const requestId = nextId++;
  return new Promise((resolve) => {
    pending.set(requestId, resolve);
    vscode.postMessage({ type: 'diffRequest', requestId, request: req });
  });
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function themeColors(): string[] {
  const style = getComputedStyle(document.body);
  return DIFF_CLASS_NAMES.map((k) => style.getPropertyValue(CLASS_COLORS[k][0]).trim() || CLASS_COLORS[k][1]);
}

function bytesText(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  return `${(n / 1024).toFixed(0)} KiB`;
}

// ---------------------------------------------------------------- layout

const root = el('div');
document.body.appendChild(root);
const title = el('h1', 'Loading the diff…');
const maps = el('div', undefined, 'maps');
const canvases: Record<'a' | 'b', HTMLCanvasElement> = { a: el('canvas', undefined, 'map'), b: el('canvas', undefined, 'map') };
const sideTitles: Record<'a' | 'b', HTMLDivElement> = { a: el('div', '', 'side-title'), b: el('div', '', 'side-title') };
// The maps' text alternative: which rows they show; the class counts are in the tables below.
const mapSummary = el('p', '', 'sr-only');
mapSummary.id = 'diff-map-summary';
for (const s of ['a', 'b'] as const) {
  const box = el('div', undefined, 'side');
  sideTitles[s].id = `diff-side-${s}`;
  const c = canvases[s];
  c.tabIndex = 0;
  c.setAttribute('role', 'img');
  c.setAttribute('aria-roledescription', 'page map');
  c.setAttribute('aria-labelledby', sideTitles[s].id);
  c.setAttribute('aria-describedby', `${mapSummary.id} diff-map-keys`);
  box.append(sideTitles[s], c);
  maps.appendChild(box);
}
const hint = el('div', 'Wheel scrolls both maps, Ctrl+wheel zooms; click a coloured cell to open its line on that side.', 'hint');
const keys = el('p', 'Up and Down arrows or Page Up and Page Down scroll both maps, plus and minus zoom, Home goes to the start.', 'sr-only');
keys.id = 'diff-map-keys';
const legend = el('div', undefined, 'legend');
const tables = el('div', undefined, 'tables');
const changesBox = el('div');
const status = el('div', '', 'error');
status.setAttribute('role', 'alert');
legend.setAttribute('role', 'group');
legend.setAttribute('aria-label', 'Change classes: press one to list only its changes');
root.append(title, maps, hint, keys, mapSummary, legend, tables, changesBox, status);

// ---------------------------------------------------------------- maps

function geometry(c: HTMLCanvasElement): { cols: number; lines: number } {
  return { cols: Math.max(1, Math.floor(c.clientWidth / cellPx)), lines: Math.max(1, Math.floor(c.clientHeight / cellPx)) };
}

let drawing = 0;
async function drawMaps(): Promise<void> {
  if (!init) return;
  const ticket = ++drawing;
  const { cols, lines } = geometry(canvases.a);
  const cells = cols * lines;
  const end = Math.min(init.rows, view.start + cells * view.rowsPerCell);
  const usedCells = Math.max(1, Math.ceil((end - view.start) / view.rowsPerCell));
  const reply = await request({ kind: 'diffMap', start: view.start, end, cells: usedCells });
  if (ticket !== drawing || reply.kind !== 'diffMap') return;
  for (const side of ['a', 'b'] as const) {
    const c = canvases[side];
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.round(c.clientWidth * dpr);
    c.height = Math.round(c.clientHeight * dpr);
    const g = c.getContext('2d');
    if (!g) continue;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, c.clientWidth, c.clientHeight);
    const data = reply[side];
    for (let i = 0; i < data.length; i++) {
      const cls = data[i];
      if (cls === DIFF_CELL_EMPTY) continue;
      g.fillStyle = colors[cls];
      g.globalAlpha = cls === 0 ? UNCHANGED_ALPHA : 1;
      g.fillRect((i % cols) * cellPx, Math.floor(i / cols) * cellPx, cellPx - 1, cellPx - 1);
    }
    g.globalAlpha = 1;
  }
  mapSummary.textContent = `Rows ${view.start.toLocaleString('en-US')} to ${Math.max(view.start, end - 1).toLocaleString('en-US')} of ${init.rows.toLocaleString('en-US')}, ${view.rowsPerCell} row${view.rowsPerCell === 1 ? '' : 's'} per cell.`;
  vscode.setState(view);
}

function rowAt(c: HTMLCanvasElement, ev: MouseEvent): number {
  const r = c.getBoundingClientRect();
  const { cols } = geometry(c);
  const cell = Math.floor((ev.clientY - r.top) / cellPx) * cols + Math.floor((ev.clientX - r.left) / cellPx);
  return view.start + cell * view.rowsPerCell;
}

/** Zoom both maps by `factor` around `anchor` (a row), so that row stays put. */
function zoom(c: HTMLCanvasElement, anchor: number, factor: number): void {
  if (!init) return;
  const { cols, lines } = geometry(c);
  const maxPerCell = Math.max(1, Math.ceil(init.rows / (cols * lines)));
  const next = Math.min(maxPerCell, Math.max(1, Math.round(view.rowsPerCell * factor)));
  const offsetCells = (anchor - view.start) / view.rowsPerCell;
  view = { rowsPerCell: next, start: Math.max(0, Math.round(anchor - offsetCells * next)) };
  void drawMaps();
}

/** Scroll both maps by `lines` lines of cells (negative: up). */
function scroll(c: HTMLCanvasElement, lines: number): void {
  if (!init) return;
  const g = geometry(c);
  const last = Math.max(0, init.rows - g.cols * g.lines * view.rowsPerCell);
  view = { ...view, start: Math.min(last, Math.max(0, view.start + g.cols * view.rowsPerCell * lines)) };
  void drawMaps();
}

function onWheel(c: HTMLCanvasElement, ev: WheelEvent): void {
  if (!init) return;
  ev.preventDefault();
  if (ev.ctrlKey) zoom(c, rowAt(c, ev), ev.deltaY > 0 ? 2 : 0.5);
  else scroll(c, 4 * Math.sign(ev.deltaY));
}

function onKey(c: HTMLCanvasElement, ev: KeyboardEvent): void {
  const { lines } = geometry(c);
  const middle = view.start + Math.floor((geometry(c).cols * lines) / 2) * view.rowsPerCell;
  switch (ev.key) {
    case 'ArrowDown':
      scroll(c, 4);
      break;
    case 'ArrowUp':
      scroll(c, -4);
      break;
    case 'PageDown':
      scroll(c, lines);
      break;
    case 'PageUp':
      scroll(c, -lines);
      break;
    case '+':
    case '=':
      zoom(c, middle, 0.5);
      break;
    case '-':
      zoom(c, middle, 2);
      break;
    case 'Home':
      view = { ...view, start: 0 };
      void drawMaps();
      break;
    default:
      return;
  }
  ev.preventDefault();
}

async function onClick(side: 'a' | 'b', ev: MouseEvent): Promise<void> {
  const row = rowAt(canvases[side], ev);
  const reply = await request({ kind: 'diffAt', row });
  if (reply.kind !== 'diffAt' || !reply.change) return;
  // Only a change under the cell: diffAt finds the next one too, which may be far away.
  if (reply.change.rowStart > row + view.rowsPerCell - 1) return;
  selectedRow = reply.change.rowStart;
  reveal(side, reply.change);
  showSelected(reply.change);
}

for (const side of ['a', 'b'] as const) {
  canvases[side].addEventListener('wheel', (ev) => onWheel(canvases[side], ev), { passive: false });
  canvases[side].addEventListener('click', (ev) => void onClick(side, ev));
  canvases[side].addEventListener('keydown', (ev) => onKey(canvases[side], ev));
}
window.addEventListener('resize', () => void drawMaps());

function reveal(side: 'a' | 'b', c: DiffChangeRow): void {
  const loc = c[side] ?? c[side === 'a' ? 'b' : 'a'];
  if (!loc) return;
  const which = c[side] ? side : side === 'a' ? 'b' : 'a';
  vscode.postMessage({ type: 'reveal', side: which, file: loc.file, line: loc.line });
}

// ---------------------------------------------------------------- tables

/** A table with a caption screen readers announce (the layout shows what each table is). */
function captioned(text: string): HTMLTableElement {
  const t = el('table');
  t.createCaption().append(el('span', text, 'sr-only'));
  return t;
}

function classTable(i: DiffViewInit): HTMLTableElement {
  const t = captioned('Pages per change class');
  const head = t.insertRow();
  for (const h of ['class', 'pages', 'bytes']) head.appendChild(el('th', h));
  DIFF_CLASS_NAMES.forEach((name, k) => {
    if (!i.pages[k]) return;
    const r = t.insertRow();
    r.insertCell().textContent = name;
    r.insertCell().textContent = i.pages[k].toLocaleString();
    r.insertCell().textContent = bytesText(i.pages[k] * i.pageBytes);
  });
  return t;
}

function groupTable(label: string, rows: { name: string; pages: number[] }[]): HTMLTableElement {
  const t = captioned(`Changed pages per ${label}, by class`);
  const head = t.insertRow();
  const used = DIFF_CLASS_NAMES.map((_, k) => rows.some((r) => r.pages[k] > 0));
  head.appendChild(el('th', label));
  DIFF_CLASS_NAMES.forEach((n, k) => used[k] && head.appendChild(el('th', n)));
  const changed = (p: number[]): number => p.reduce((s, v, k) => (k === 0 ? s : s + v), 0);
  for (const row of [...rows].sort((x, y) => changed(y.pages) - changed(x.pages)).slice(0, 20)) {
    const r = t.insertRow();
    r.insertCell().textContent = row.name;
    DIFF_CLASS_NAMES.forEach((_, k) => used[k] && (r.insertCell().textContent = row.pages[k] ? row.pages[k].toLocaleString() : ''));
  }
  return t;
}

/** A class's colour chip, at the strength the maps draw it (unchanged is faint there). */
function swatch(cls: number): HTMLSpanElement {
  const sw = el('span', undefined, 'swatch');
  sw.style.background = colors[cls];
  if (cls === 0) sw.style.opacity = String(UNCHANGED_ALPHA);
  return sw;
}

function drawLegend(i: DiffViewInit): void {
  legend.replaceChildren();
  DIFF_CLASS_NAMES.forEach((name, k) => {
    if (!i.pages[k]) return;
    const b = el('button', undefined, filter === k ? 'active' : '');
    b.type = 'button';
    b.setAttribute('aria-pressed', String(filter === k));
    const sw = swatch(k);
    b.append(sw, document.createTextNode(`${name} ${i.pages[k].toLocaleString()}`));
    b.title = k === 0 ? 'Show every change' : `List only ${name} changes`;
    b.addEventListener('click', () => {
      filter = filter === k || k === 0 ? undefined : k;
      changesOffset = 0;
      drawLegend(i);
      void drawChanges();
    });
    legend.appendChild(b);
  });
}

const selectedBox = el('div', '', 'hint');
// A click or Enter on a map or a change says what it selected.
selectedBox.setAttribute('aria-live', 'polite');

function showSelected(c: DiffChangeRow): void {
  selectedBox.textContent = `${DIFF_CLASS_NAMES[c.cls]} ${c.start}${c.pages > 1 ? `–${c.end}` : ''}${c.startAfter ? ` → ${c.startAfter}` : ''}: ${c.ownerBefore ?? '—'} → ${c.ownerAfter ?? '—'}`;
  void drawChanges();
}

function locationLink(side: 'a' | 'b', c: DiffChangeRow): HTMLElement {
  const loc = c[side];
  if (!loc) return el('span', '');
  const a = link(`${side.toUpperCase()}:${loc.line}`, () => reveal(side, c));
  a.title = `Open ${init?.[side].files[loc.file] ?? ''} at line ${loc.line}`;
  a.setAttribute('aria-label', `${a.title} (side ${side.toUpperCase()})`);
  return a;
}

// An href makes the link focusable and Enter fires its click; '#' goes nowhere because of preventDefault.
function link(text: string, onClick: () => void): HTMLAnchorElement {
  const a = el('a', text);
  a.href = '#';
  a.addEventListener('click', (ev) => {
    ev.preventDefault();
    onClick();
  });
  return a;
}

async function drawChanges(): Promise<void> {
  const reply = await request({ kind: 'diffChanges', offset: changesOffset, limit: PAGE_SIZE, cls: filter });
  if (reply.kind !== 'diffChanges') return;
  const t = captioned('Changes');
  const head = t.insertRow();
  for (const h of ['class', 'range', 'pages', 'before', 'after', 'lines']) head.appendChild(el('th', h));
  for (const c of reply.changes) {
    const r = t.insertRow();
    r.className = c.rowStart === selectedRow ? 'change selected' : 'change';
    const cls = r.insertCell();
    const sw = swatch(c.cls);
    cls.append(sw, document.createTextNode(` ${DIFF_CLASS_NAMES[c.cls]}`));
    r.insertCell().textContent = `${c.start}${c.pages > 1 ? `–${c.end}` : ''}${c.startAfter ? ` → ${c.startAfter}` : ''}`;
    r.insertCell().textContent = String(c.pages);
    r.insertCell().textContent = c.ownerBefore ?? '';
    r.insertCell().textContent = c.ownerAfter ?? '';
    const links = r.insertCell();
    links.append(locationLink('a', c), document.createTextNode(' '), locationLink('b', c));
  }
  const nav = el('div', `changes ${reply.total ? reply.offset + 1 : 0}–${reply.offset + reply.changes.length} of ${reply.total.toLocaleString()} `, 'hint');
  if (reply.offset > 0) {
    const prev = link('previous', () => {
      changesOffset = Math.max(0, changesOffset - PAGE_SIZE);
      void drawChanges();
    });
    nav.append(prev, document.createTextNode(' '));
  }
  if (reply.offset + reply.changes.length < reply.total) {
    const next = link('next', () => {
      changesOffset += PAGE_SIZE;
      void drawChanges();
    });
    nav.appendChild(next);
  }
  changesBox.replaceChildren(selectedBox, nav, t);
}

function start(i: DiffViewInit): void {
  init = i;
  colors = themeColors();
  title.textContent = i.title;
  sideTitles.a.textContent = `A: ${i.a.name} (${i.a.pages.toLocaleString()} pages)`;
  sideTitles.b.textContent = `B: ${i.b.name} (${i.b.pages.toLocaleString()} pages)`;
  sideTitles.a.title = i.a.files.join('\n');
  sideTitles.b.title = i.b.files.join('\n');
  const area = canvases.a.clientWidth * canvases.a.clientHeight;
  cellPx = Math.max(MIN_CELL_PX, Math.min(MAX_CELL_PX, Math.floor(Math.sqrt(area / Math.max(1, i.rows)))));
  const { cols, lines } = geometry(canvases.a);
  const saved = vscode.getState() as SavedState | undefined;
  view = saved && saved.start < i.rows ? saved : { start: 0, rowsPerCell: Math.max(1, Math.ceil(i.rows / (cols * lines))) };
  drawLegend(i);
  tables.replaceChildren(
    classTable(i),
    groupTable('owner', i.byOwner.map((o) => ({ name: o.owner, pages: o.pages }))),
    groupTable('node', i.byNode.map((n) => ({ name: n.node < 0 ? 'unknown' : `node ${n.node}`, pages: n.pages }))),
  );
  void drawMaps();
  void drawChanges();
}

window.addEventListener('message', (ev: MessageEvent<HostToWebview>) => {
  const m = ev.data;
  switch (m.type) {
    case 'diffInit':
      start(m.init);
      return;
    case 'diffReply': {
      const resolve = pending.get(m.requestId);
      pending.delete(m.requestId);
      if (m.reply.kind === 'error') status.textContent = m.reply.message;
      resolve?.(m.reply);
      return;
    }
    case 'status':
      if (m.error) status.textContent = m.error;
      else if (!init) title.textContent = `Loading the diff… ${Math.round((m.progress ?? 0) * 100)}%`;
      return;
  }
});

// VS Code changes the body's theme class when the user switches themes: recolour.
new MutationObserver(() => {
  if (!init) return;
  colors = themeColors();
  drawLegend(init);
  void drawMaps();
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

vscode.postMessage({ type: 'ready' });
