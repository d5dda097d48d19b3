/**
 * The README's screenshots, written to media/screenshots/ by the harness: the ownership view in the dark and
 * light themes (map zoomed onto RAM, a page selected so its history shows) and the snapshot diff view of
 * numactlx-remap's process before and after its pages were remapped. Opt-in, since the PNGs are committed:
 * `PAGELEDGER_README_SHOTS=1 npx vitest run test/webview/harnessScreenshots.test.ts` after `npm run build`.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { answerDiffRequest, diffViewInit } from '../../src/core/analysis/diffView';
import { diffSides } from '../../src/core/analysis/snapshotDiff';
import { memorySource } from '../../src/core/io/memorySource';
import { synthesize } from '../../src/core/synth/scenarios';
import { openTrace, summarize } from '../../src/core/trace';
import type { DiffReply } from '../../src/protocol/diffData';
import type { HostToWebview, WebviewToHost } from '../../src/protocol/view';
import { bodyClass, COMMON, THEMES } from '../../webview/harness/themeVariables';
import { serveHarness } from './harnessServer';

const ROOT = join(__dirname, '..', '..');
const OUT = join(ROOT, 'media', 'screenshots');
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const wanted = process.env.PAGELEDGER_README_SHOTS === '1' && existsSync(CHROMIUM) && existsSync(join(ROOT, 'dist/webview/harness.js'));
// A README image over this is slow to load on the Marketplace and in a clone.
const MAX_BYTES = 200 * 1024;

describe.skipIf(!wanted)('README screenshots', () => {
  let browser: Browser;
  let server: Awaited<ReturnType<typeof serveHarness>>;

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    server = await serveHarness(ROOT);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it.each(['dark', 'light'] as const)('ownership view, %s theme', async (theme) => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${server.url}?scenario=cow-snapshots&seed=1&events=20000&theme=${theme}`);
    await page.waitForFunction('(window.pageLedgerView?.mapView.painted ?? 0) > 0 && (window.pageLedgerView?.timeChart.chart.data.datasets.length ?? 0) > 0', undefined, { timeout: 30_000 });
    // The first 1400 frames of RAM, where the processes and snapshots live (the whole layout is mostly the
    // idle persistent-memory region); the frame in the middle, 0x1002c1, has an allocation and a free.
    await page.evaluate('window.pageLedgerView.mapView.setView({ ...window.pageLedgerView.mapView.view, y0: 0, y1: 1400 })');
    const painted = (await page.evaluate('window.pageLedgerView.mapView.painted')) as number;
    await page.waitForFunction(`window.pageLedgerView.mapView.painted > ${painted}`);
    await page.focus('.pl-map-canvas');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.pl-change', { timeout: 10_000 });
    await page.evaluate('document.activeElement.blur()');
    await shoot(page, `ownership-${theme}.png`);
    await page.close();
  }, 60_000);

  it('snapshot diff view, dark theme', async () => {
    const chunks: string[] = [];
    synthesize({ scenario: 'numactlx-remap', seed: 1, events: 20000 }, (c) => chunks.push(c));
    const model = await openTrace([memorySource('numactlx-remap-seed1.pltrace', chunks.join(''))]);
    // Snapshots 20 and 37 are the same process (pid 1006) early and at the end: every class a remap
    // produces shows (kept, added, removed, copy-on-write split, migrated); the scenario's other pairs
    // differ by a few pages only.
    const snaps = summarize(model).snapshots;
    const a = snaps.find((s) => s.id === 20)!;
    const b = snaps.find((s) => s.id === 37)!;
    expect(a.pid).toBe(b.pid);
    const d = diffSides({ model, snapshot: a.id }, { model, snapshot: b.id });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const send = (m: HostToWebview): Promise<unknown> => page.evaluate(`window.postMessage(${JSON.stringify(m)}, '*')`);
    await page.exposeFunction('__toHost', async (m: WebviewToHost) => {
      if (m.type === 'ready') await send({ type: 'diffInit', init: diffViewInit(d) });
      if (m.type === 'diffRequest') {
        const reply: DiffReply = answerDiffRequest(d, m.request);
        const plain = reply.kind === 'diffMap' ? { ...reply, a: Array.from(reply.a), b: Array.from(reply.b) } : reply;
        await send({ type: 'diffReply', requestId: m.requestId, reply: plain as unknown as DiffReply });
      }
    });
    const vars = Object.entries({ ...COMMON, ...THEMES.dark }).map(([k, v]) => `${k}: ${v};`).join(' ');
    await page.setContent(`<!doctype html><html style='${vars}'><head><style>${readFileSync(join(ROOT, 'dist/webview/diff.css'), 'utf8')}</style></head><body class="${bodyClass('dark')}"></body></html>`);
    await page.evaluate('window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__toHost(m), getState: () => undefined, setState: () => {} })');
    await page.addScriptTag({ path: join(ROOT, 'dist/webview/diff.js') });
    await page.waitForFunction('document.querySelectorAll("tr.change").length > 0 && document.getElementById("diff-map-summary").textContent !== ""');
    await shoot(page, 'diff-dark.png');
    await page.close();
  }, 60_000);
});

async function shoot(page: Page, name: string): Promise<void> {
  const path = join(OUT, name);
  await page.screenshot({ path });
  expect(statSync(path).size).toBeLessThanOrEqual(MAX_BYTES);
}
