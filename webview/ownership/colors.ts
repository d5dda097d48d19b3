/** Colours for owners, owner kinds and nodes, taken from the VS Code theme where it has them. */
import type { ViewOwnerKind } from '../../src/protocol/viewData';

/** An RGB triple, 0..255. */
export type Rgb = [number, number, number];

function cssVar(name: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim();
}

/** Parse `#rgb`, `#rrggbb(aa)` or `rgb(a)(...)`; null when unreadable. */
export function parseColor(s: string): Rgb | null {
  const h = /^#([0-9a-f]{3,8})$/i.exec(s);
  if (h) {
    const x = h[1];
    if (x.length === 3) return [parseInt(x[0] + x[0], 16), parseInt(x[1] + x[1], 16), parseInt(x[2] + x[2], 16)];
    if (x.length >= 6) return [parseInt(x.slice(0, 2), 16), parseInt(x.slice(2, 4), 16), parseInt(x.slice(4, 6), 16)];
  }
  const m = /^rgba?\(\s*([\d.]+)[ ,]+([\d.]+)[ ,]+([\d.]+)/i.exec(s);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

/** A theme colour with a fallback. */
export function themeColor(name: string, fallback: Rgb): Rgb {
  return parseColor(cssVar(name)) ?? fallback;
}

/** `rgba(...)` text for canvas and chart.js. */
export function rgba(c: Rgb, a = 1): string {
  return `rgba(${c[0]}, ${c[1]}, ${c[2]}, ${a})`;
}

/** True when the theme background is dark (body class from VS Code, else the background's luminance). */
export function isDarkTheme(): boolean {
  const cl = document.body.classList;
  if (cl.contains('vscode-dark') || cl.contains('vscode-high-contrast')) return true;
  if (cl.contains('vscode-light') || cl.contains('vscode-high-contrast-light')) return false;
  const bg = themeColor('--vscode-editor-background', [255, 255, 255]);
  return bg[0] * 0.3 + bg[1] * 0.59 + bg[2] * 0.11 < 128;
}

// Twelve distinguishable hues (Tableau 10 plus two); the dark theme gets lighter tints of the same order.
const OWNER_LIGHT: Rgb[] = [
  [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189], [140, 86, 75],
  [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207], [57, 59, 121], [173, 73, 74],
];

/** Colour of the i-th series owner (stable order: the chart's legend and the map's "owner" mode agree). */
export function ownerColor(i: number): Rgb {
  const c = OWNER_LIGHT[i % OWNER_LIGHT.length];
  if (!isDarkTheme()) return c;
  return [Math.round(c[0] * 0.75 + 64), Math.round(c[1] * 0.75 + 64), Math.round(c[2] * 0.75 + 64)];
}

/** Colour of an owner id not in the chart: spread over hues by id, so neighbours differ. */
export function hashedOwnerColor(id: number): Rgb {
  const hue = (id * 137.508) % 360;
  return hsl(hue, 0.55, isDarkTheme() ? 0.62 : 0.45);
}

// Colours the user set per owner kind (setting pageledger.ownerColors); the theme's for the others.
let kindOverrides = new Map<string, Rgb>();

/** Use these colours for owner kinds (unreadable values are skipped: that kind keeps the theme colour). */
export function setKindColors(colors: Record<string, string>): void {
  const m = new Map<string, Rgb>();
  for (const [k, v] of Object.entries(colors)) {
    const c = parseColor(v);
    if (c) m.set(k, c);
  }
  kindOverrides = m;
}

/** The colour the user set for an owner kind, null when it follows the theme. */
export function kindOverride(kind: ViewOwnerKind): Rgb | null {
  return kindOverrides.get(kind) ?? null;
}

/** Colour per owner kind. */
export function kindColor(kind: ViewOwnerKind): Rgb {
  const set = kindOverrides.get(kind);
  if (set) return set;
  switch (kind) {
    case 'kernel':
      return themeColor('--vscode-charts-purple', [101, 44, 144]);
    case 'process':
      return themeColor('--vscode-charts-blue', [26, 133, 255]);
    case 'file':
      return themeColor('--vscode-charts-green', [56, 138, 52]);
    case 'snapshot':
      return themeColor('--vscode-charts-orange', [209, 134, 22]);
    case 'agent':
      return themeColor('--vscode-charts-yellow', [191, 161, 0]);
    default:
      return themeColor('--vscode-descriptionForeground', [128, 128, 128]);
  }
}

/** Colour per NUMA node. */
export function nodeColor(node: number): Rgb {
  if (node < 0) return themeColor('--vscode-descriptionForeground', [128, 128, 128]);
  return ownerColor(node * 3 + 2);
}

function hsl(h: number, s: number, l: number): Rgb {
  const k = (n: number): number => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n: number): number => Math.round(255 * (l - a * Math.max(-1, Math.min(k(n) - 3, Math.min(9 - k(n), 1)))));
  return [f(0), f(8), f(4)];
}
