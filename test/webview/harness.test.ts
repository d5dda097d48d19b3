/**
 * The ownership webview in headless Chromium through the harness: both views draw, the chart has one
 * dataset per top owner plus other/free/not-seen, clicks reveal lines, and a screenshot per seed scenario
 * and theme lands in test/webview/screenshots/. Then the craft: text stays legible in the light, dark and
 * high-contrast themes, the layout holds at 200% zoom, and the keyboard reaches every control, the chart,
 * its anomaly markers and the map. Needs `npm run build` and /usr/bin/chromium.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { SCENARIOS } from '../../src/core/synth/scenarios';
import { serveHarness } from './harnessServer';

const ROOT = join(__dirname, '..', '..');
const SHOTS = join(__dirname, 'screenshots');
const CHROMIUM = '/usr/bin/chromium';
const ready = existsSync(CHROMIUM) && existsSync(join(ROOT, 'dist/webview/harness.js')) && existsSync(join(ROOT, 'dist/webview/ownership.js'));

const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const DRAWN = '(window.pageLedgerView?.mapView.painted ?? 0) > 0 && (window.pageLedgerView?.timeChart.chart.data.datasets.length ?? 0) > 0';

/**
 * Every element of the view with its own text whose colour has a contrast ratio under 4.5 (WCAG AA) against
 * the page background, as "class: ratio"; empty when all text is legible.
 */
async function lowContrastText(page: Page): Promise<unknown> {
  return page.evaluate(`(() => {
    const rgb = (s) => (s.match(/[\\d.]+/g) || []).slice(0, 3).map(Number);
    const lum = (c) => { const l = c.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2]; };
    const bg = lum(rgb(getComputedStyle(document.body).backgroundColor));
    const bad = [];
    for (const el of document.querySelectorAll('.pl-root *')) {
      if (el.closest('.pl-sr-only') || el.closest('[hidden]')) continue;
      const own = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim());
      if (!own) continue;
      const fg = lum(rgb(getComputedStyle(el).color));
      const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      // The tag keeps its own background; the struck-through hidden series are meant to look disabled.
      if (ratio < 4.5 && !el.classList.contains('pl-tag') && el.getAttribute('aria-pressed') !== 'false') bad.push(el.className + ': ' + ratio.toFixed(2));
    }
    return bad;
  })()`);
}

/** Pixels of a canvas that differ from its top-left corner pixel (the background). */
async function drawnPixels(page: Page, selector: string): Promise<unknown> {
  // Page code as text: this file is type-checked without the DOM library.
  return page.evaluate(`(() => {
    const canvas = document.querySelector(${JSON.stringify(selector)});
    const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2]) n++;
    return n;
  })()`);
}

describe.skipIf(!ready)('ownership webview in the harness', () => {
  let browser: Browser;
  let server: Awaited<ReturnType<typeof serveHarness>>;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await serveHarness(ROOT);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const cases = SCENARIOS.flatMap((s) => (['light', 'dark', 'high-contrast'] as const).map((theme) => [s, theme] as const));

  it.each(cases)('%s in the %s theme: both views draw; clicks reveal lines', async (scenario, theme) => {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}?scenario=${scenario}&seed=1&events=20000&theme=${theme}`);
    await page.waitForFunction(DRAWN, undefined, { timeout: 30_000 });
    expect(await lowContrastText(page)).toEqual([]);
    // Top 8 owners (every seed scenario has more than 8 holding pages) + other + free + not seen yet.
    expect(await page.evaluate('window.pageLedgerView.timeChart.chart.data.datasets.length')).toBe(11);
    expect(await page.evaluate('window.harness.sent[0].type')).toBe('ready');
    expect(await drawnPixels(page, '.pl-map-canvas')).toBeGreaterThan(20_000);
    expect(await drawnPixels(page, '.pl-chart canvas')).toBeGreaterThan(20_000);

    // A click in the middle of the chart reveals the nearest event.
    const chart = (await page.$('.pl-chart canvas'))!;
    const box = (await chart.boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.4, box.y + box.height * 0.4);
    await page.waitForFunction("window.harness.sent.some((m) => m.type === 'reveal')");

    // Enter on the focused map picks the page in the middle and lists its history.
    await page.focus('.pl-map-canvas');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.pl-history-title', { timeout: 10_000 });
    expect(await page.textContent('.pl-history-title')).toMatch(/^pfn 0x[0-9a-f]+$/);
    await page.mouse.move(5, 995);
    await page.screenshot({ path: join(SHOTS, `${scenario}-${theme}.png`) });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('map tooltips and the page history name owners the init did not label, once asked for', async () => {
    const page = await open({ theme: 'light', width: 1600, height: 1000, scale: 1 });
    const map = (await page.$('.pl-map-canvas'))!;
    const box = (await map.boundingBox())!;
    const seen: string[] = [];
    const spots: [number, number][] = [];
    for (let i = 1; i < 12; i++) {
      for (let j = 1; j < 6; j++) {
        spots.push([box.x + (box.width * i) / 12, box.y + (box.height * j) / 6]);
        await page.mouse.move(...spots[spots.length - 1]);
        // The tooltip says "owner N" until the label arrives, then is drawn again with it.
        await page.waitForFunction("(() => { const t = document.querySelector('.pl-tooltip'); return !t || t.hidden || !/^owner \\d+/m.test(t.textContent); })()", undefined, { timeout: 5_000 });
        seen.push(await page.evaluate("(() => { const t = document.querySelector('.pl-tooltip'); return t && !t.hidden ? t.textContent : ''; })()") as string);
      }
    }
    // The fourth line of a tooltip is the cell's owner: a label, "free" or "not seen in the trace".
    const owned = seen.map((t) => t.split('\n')[3] ?? '').map((l) => (l && l !== 'free' && l !== 'not seen in the trace' ? l : ''));
    const named = owned.filter((l) => l);
    expect(named.length).toBeGreaterThan(5);
    expect(named.filter((l) => /^owner \d+/.test(l))).toEqual([]);
    const asked = (await page.evaluate("window.harness.sent.filter((m) => m.type === 'request' && m.request.kind === 'owners').length")) as number;
    expect(asked).toBeGreaterThan(0);
    // A click on an owned cell lists the history of the page of the nearest event there.
    await page.mouse.click(...spots[owned.findIndex((l) => l)]);
    await page.waitForSelector('.pl-change-owner', { timeout: 10_000 });
    const owners = (await page.evaluate("Array.from(document.querySelectorAll('.pl-change-owner'), (e) => e.textContent)")) as string[];
    expect(owners.filter((t) => /^owner \d+/.test(t))).toEqual([]);
    await page.close();
  }, 60_000);

  it.each(['light', 'dark'] as const)('shows the part read so far as a chart with its progress until init, in the %s theme', async (theme) => {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}?scenario=cow-snapshots&seed=1&events=20000&theme=${theme}&partial=6`);
    await page.waitForSelector('.pl-root.pl-partial .pl-chart canvas', { timeout: 30_000 });
    expect(await page.evaluate('window.harness.partials')).toBeGreaterThan(8);
    // The chart is drawn: top 8 of the partial's 16 owners, other, free, and "not seen yet" hidden.
    await page.waitForFunction(`(() => { const c = document.querySelector('.pl-chart canvas'); return c && c.width > 0; })()`);
    expect(await drawnPixels(page, '.pl-chart canvas')).toBeGreaterThan(20_000);
    const legend = (await page.evaluate("Array.from(document.querySelectorAll('.pl-chart-legend-item'), (b) => [b.textContent, b.getAttribute('aria-pressed')])")) as [string, string][];
    expect(legend.length).toBe(11);
    expect(legend.at(-1)).toEqual(['not seen yet', 'false']);
    expect(legend.slice(0, 8).every(([t]) => !/^owner \d+/.test(t))).toBe(true);
    // Title, progress and what the chart covers; no map yet.
    expect(await page.textContent('.pl-title')).toBe('cow-snapshots-seed1.pltrace');
    const text = (await page.textContent('.pl-progress-text')) ?? '';
    expect(text).toMatch(/^Reading \d+% · chart of the first [\d,]+ events, up to /);
    const pct = Number(/Reading (\d+)%/.exec(text)![1]);
    expect(pct).toBeGreaterThan(10);
    expect(pct).toBeLessThan(90);
    expect(await page.getAttribute('.pl-progress', 'aria-valuenow')).toBe(String(pct));
    expect(await page.$('vscode-progress-ring')).not.toBeNull();
    expect(await page.$('.pl-map-canvas')).toBeNull();
    expect(await lowContrastText(page)).toEqual([]);
    await page.mouse.move(5, 995);
    await page.screenshot({ path: join(SHOTS, `partial-${theme}.png`) });
    // The init replaces it with the full view.
    await page.evaluate('window.harnessInit()');
    await page.waitForFunction(DRAWN, undefined, { timeout: 30_000 });
    expect(await page.$('.pl-partial')).toBeNull();
    expect(await page.$('.pl-progress')).toBeNull();
    expect(await page.evaluate('window.pageLedgerView.timeChart.chart.data.datasets.length')).toBe(11);
    await page.screenshot({ path: join(SHOTS, `partial-then-full-${theme}.png`) });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('goes back to the progress alone when the part read so far is withdrawn, and to the error when the load fails', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    await page.goto(`${server.url}?scenario=cow-snapshots&seed=1&events=20000&theme=light&partial=3`);
    await page.waitForSelector('.pl-root.pl-partial', { timeout: 30_000 });
    await page.evaluate("window.postMessage({ type: 'status', progress: 0.5 }, '*')");
    await page.waitForFunction("document.querySelector('.pl-progress').getAttribute('aria-valuenow') === '50'");
    await page.evaluate("window.postMessage({ type: 'partial', title: 'x', partial: null }, '*')");
    await page.waitForFunction("!document.querySelector('.pl-partial')");
    expect(await page.textContent('#app')).toMatch(/not in time order/);
    await page.evaluate("window.postMessage({ type: 'status', error: 'disk gone' }, '*')");
    await page.waitForFunction("document.querySelector('#app').textContent.includes('disk gone')");
    await page.close();
  }, 60_000);

  /** Open the harness on cow-snapshots and wait until both views have drawn. */
  async function open(opts: { theme: string; width: number; height: number; scale: number }): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: opts.width, height: opts.height }, deviceScaleFactor: opts.scale });
    await page.goto(`${server.url}?scenario=cow-snapshots&seed=1&events=20000&theme=${opts.theme}`);
    await page.waitForFunction(DRAWN, undefined, { timeout: 30_000 });
    return page;
  }

  /** Backing-store pixels per CSS pixel of a canvas, across and down. */
  function backingScale(page: Page, selector: string): Promise<unknown> {
    return page.evaluate(`(() => { const c = document.querySelector(${JSON.stringify(selector)}); return [c.width / c.clientWidth, c.height / c.clientHeight].map((x) => Math.round(x * 100) / 100); })()`);
  }

  it('at device scale 2 both canvases draw at twice the resolution, so they stay crisp', async () => {
    const page = await open({ theme: 'dark', width: 1600, height: 1000, scale: 2 });
    expect(await backingScale(page, '.pl-map-canvas')).toEqual([2, 2]);
    expect(await backingScale(page, '.pl-chart canvas')).toEqual([2, 2]);
    await page.close();
  }, 60_000);

  it('at 200% zoom (960×540 CSS pixels at scale 2) controls wrap, nothing overflows sideways, the legend stays off the plot', async () => {
    const page = await open({ theme: 'dark', width: 960, height: 540, scale: 2 });
    const layout = await page.evaluate(`(() => {
      const r = (sel) => { const b = document.querySelector(sel).getBoundingClientRect(); return { left: b.left, right: b.right, top: b.top, bottom: b.bottom }; };
      const bar = document.querySelector('.pl-toolbar');
      const controls = Array.from(bar.children).map((c) => c.getBoundingClientRect());
      return {
        pageOverflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
        barOverflow: bar.scrollWidth - bar.clientWidth,
        barRows: new Set(controls.map((b) => Math.round(b.top))).size > 1,
        controlsInside: controls.every((b) => b.left >= 0 && b.right <= 960),
        plot: r('.pl-chart canvas'),
        legend: r('.pl-chart-legend'),
        legendOverflow: (() => { const l = document.querySelector('.pl-chart-legend'); return l.scrollWidth - l.clientWidth; })(),
      };
    })()`) as { pageOverflow: number; barOverflow: number; barRows: boolean; controlsInside: boolean; plot: { bottom: number }; legend: { top: number }; legendOverflow: number };
    expect(layout.pageOverflow).toBe(0);
    expect(layout.barOverflow).toBe(0);
    expect(layout.barRows).toBe(true);
    expect(layout.controlsInside).toBe(true);
    // The chart's legend wraps under the plot rather than beside it.
    expect(layout.legend.top).toBeGreaterThanOrEqual(layout.plot.bottom);
    expect(layout.legendOverflow).toBe(0);
    expect(await backingScale(page, '.pl-map-canvas')).toEqual([2, 2]);
    expect(await backingScale(page, '.pl-chart canvas')).toEqual([2, 2]);
    expect(await drawnPixels(page, '.pl-map-canvas')).toBeGreaterThan(20_000);
    expect(await lowContrastText(page)).toEqual([]);
    await page.close();
  }, 60_000);

  it('Tab reaches every control, the chart, each legend toggle and the map, each with the focus ring; the keyboard opens anomalies and pages', async () => {
    const page = await open({ theme: 'high-contrast', width: 1600, height: 1000, scale: 1 });
    const stops: string[] = [];
    const rings: string[] = [];
    for (let i = 0; i < 20; i++) {
      await page.keyboard.press('Tab');
      const [name, ring] = (await page.evaluate(`(() => {
        const e = document.activeElement;
        const s = getComputedStyle(e);
        const name = e.tagName.toLowerCase() + (e.getAttribute('aria-label') ? ' ' + e.getAttribute('aria-label').split('.')[0] : e.textContent ? ' ' + e.textContent.trim() : '');
        return [name, e.tagName === 'CANVAS' || e.classList.contains('pl-chart-legend-item') ? s.outlineStyle + ' ' + s.outlineWidth + ' ' + s.outlineColor : ''];
      })()`)) as [string, string];
      stops.push(name);
      if (ring) rings.push(ring);
      if (name.startsWith('canvas Page frame')) break;
    }
    expect(stops).toEqual([
      'vscode-dropdown Owners',
      'vscode-dropdown Colour by',
      'vscode-dropdown Resolution',
      'vscode-dropdown Top owners',
      'vscode-checkbox Bytes',
      'vscode-text-field Search pid, comm or pfn',
      'vscode-button Reset zoom',
      'canvas Pages per owner over time, stacked',
      'button kernel',
      'button pid 1169 (postgres)',
      'button pid 1318 (python3)',
      'button pid 1052 (kworker/u16:2)',
      'button pid 1222 (criu)',
      'button pid 1014 (redis-server)',
      'button pid 1049 (redis-server)',
      'button pid 1101 (memcached)',
      'button other owners',
      'button free',
      'button not seen yet',
      'canvas Page frame by time map',
    ]);
    // The theme's focusBorder (#f38518 in high contrast), 2 px, on the canvases and the legend toggles.
    expect(new Set(rings)).toEqual(new Set(['solid 2px rgb(243, 133, 24)']));

    // Both canvases are images with a text alternative kept current.
    expect(await page.evaluate('document.getElementById(document.querySelector(".pl-map-canvas").getAttribute("aria-describedby")).textContent')).toMatch(
      /^Showing pfn 0x[0-9a-f]+ to 0x[0-9a-f]+ in ram0 \(ram, node 0\), dax0\.0 \(kmem, node 1\), from [\d.]+ ms to [\d.]+ ms\.$/,
    );
    expect(await page.evaluate('document.getElementById(document.querySelector(".pl-chart canvas").getAttribute("aria-describedby")).textContent')).toMatch(
      /^From [\d.]+ ms to [\d.]+ ms\. At the end: .+\. 42 anomalies marked\.$/,
    );

    // Enter on the map selects the page in the middle; the live region says which.
    await page.keyboard.press('Enter');
    await page.waitForSelector('.pl-history-title', { timeout: 10_000 });
    const pfn = await page.textContent('.pl-history-title');
    expect(await page.textContent('[aria-live]')).toMatch(new RegExp(`^Selected ${pfn}: `));

    // Back to the chart: Right arrow lands on the first anomaly marker, Enter reveals its line.
    await page.focus('.pl-chart canvas');
    await page.keyboard.press('ArrowRight');
    expect(await page.evaluate('window.pageLedgerView.timeChart.focusedAnomaly')).toBe(0);
    const said = (await page.textContent('[aria-live]')) ?? '';
    expect(said).toMatch(/^Anomaly 1 of 42: [a-z-]+ at [\d.]+ ms, line \d+: /);
    const line = Number(/line (\d+):/.exec(said)![1]);
    const before = (await page.evaluate('window.harness.sent.length')) as number;
    await page.keyboard.press('Enter');
    expect(await page.evaluate(`window.harness.sent.slice(${before})`)).toEqual([{ type: 'reveal', file: 0, line }]);
    await page.close();
  }, 60_000);

  /** Open the harness on a file's text and collect the page's errors. */
  async function openText(name: string, text: string, errors: string[]): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}?theme=light&name=${encodeURIComponent(name)}&text=${encodeURIComponent(text)}`);
    return page;
  }

  it('a file of nothing but parse errors says so, with no chart or map to draw axes over nothing', async () => {
    const errors: string[] = [];
    const page = await openText('malformed.pltrace', 'pageledger-trace 1\nthis is not an event\nalloc t=5 pfn=zz\n', errors);
    await page.waitForSelector('.pl-empty', { timeout: 30_000 });
    expect(await page.textContent('.pl-empty')).toBe('No events in this trace (2 lines could not be read: see Problems).');
    expect(await page.textContent('.pl-title')).toBe('malformed.pltrace');
    expect(await page.textContent('.pl-status')).toBe('0 events · 0 frames in 0 segments · 2 anomalies');
    expect(await page.evaluate('document.querySelectorAll("canvas").length')).toBe(0);
    expect(await lowContrastText(page)).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'empty-trace-light.png') });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('a page_owner dump at one instant: a window of a millisecond either side, every time tick a different label', async () => {
    const errors: string[] = [];
    // The real capture, without the provenance comment no capture has.
    const dump = readFileSync(join(ROOT, 'test/fixtures/real/page_owner-1.txt'), 'utf8').replace(/^# SOURCE:.*\n/, '');
    const page = await openText('page_owner-1.txt', dump, errors);
    await page.waitForFunction(DRAWN, undefined, { timeout: 30_000 });
    const axes = (await page.evaluate(`(() => {
      const c = window.pageLedgerView.timeChart.chart;
      return { min: c.scales.x.min, max: c.scales.x.max, x: c.scales.x.ticks.map((t) => t.label), y: c.scales.y.ticks.map((t) => t.label), map: window.pageLedgerView.mapView.timeLabels };
    })()`)) as { min: number; max: number; x: string[]; y: string[]; map: string[] };
    // The dump's one instant, 460209702 ns, in the middle of the chart's window.
    expect([axes.min, axes.max]).toEqual([459209702, 461209702]);
    expect(axes.x).toEqual(['459.5 ms', '460.0 ms', '460.5 ms', '461.0 ms']);
    expect(axes.map).toEqual(['459.5 ms', '460.0 ms', '460.5 ms', '461.0 ms']);
    // Whole pages only: one page held gives 0 and 1, not six ticks rounded to "1 pages".
    expect(axes.y).toEqual(['0 pages', '1 page']);
    expect(await page.textContent('.pl-status')).toBe('1 event · 1 frame in 1 segment · 0 anomalies');
    expect(await drawnPixels(page, '.pl-map-canvas')).toBeGreaterThan(1000);
    await page.screenshot({ path: join(SHOTS, 'one-instant-light.png') });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
