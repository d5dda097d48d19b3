/**
 * The ownership webview in headless Chromium through the harness: both views draw, the chart has one
 * dataset per top owner plus other/free/not-seen, clicks reveal lines, and a screenshot per seed scenario
 * and theme lands in test/webview/screenshots/. Needs `npm run build` and /usr/bin/chromium.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { SCENARIOS } from '../../src/core/synth/scenarios';
import { serveHarness } from './harnessServer';

const ROOT = join(__dirname, '..', '..');
const SHOTS = join(__dirname, 'screenshots');
const CHROMIUM = '/usr/bin/chromium';
const ready = existsSync(CHROMIUM) && existsSync(join(ROOT, 'dist/webview/harness.js')) && existsSync(join(ROOT, 'dist/webview/ownership.js'));

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
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const cases = SCENARIOS.flatMap((s) => (['light', 'dark'] as const).map((theme) => [s, theme] as const));

  it.each(cases)('%s in the %s theme: both views draw; clicks reveal lines', async (scenario, theme) => {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}?scenario=${scenario}&seed=1&events=20000&theme=${theme}`);
    await page.waitForFunction('(window.pageLedgerView?.mapView.painted ?? 0) > 0 && (window.pageLedgerView?.timeChart.chart.data.datasets.length ?? 0) > 0', undefined, { timeout: 30_000 });
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
});
