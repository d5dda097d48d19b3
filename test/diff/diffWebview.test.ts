/**
 * The diff webview in headless Chromium, fed by the core through a stand-in for the extension host: both
 * maps draw, the tables fill, and clicking a change posts a reveal for the right side and line; in the dark
and high-contrast themes all text is legible, and the keyboard reaches the maps, the class filters and the
change links (with the theme's focus ring), and Enter on a link reveals its line. Needs
 * `npm run build` (dist/webview/diff.js) and /usr/bin/chromium; skipped without them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { answerDiffRequest, diffViewInit } from '../../src/core/analysis/diffView';
import { diffSides } from '../../src/core/analysis/snapshotDiff';
import type { DiffReply } from '../../src/protocol/diffData';
import type { HostToWebview, WebviewToHost } from '../../src/protocol/view';
import { openText } from '../helpers';
import { bodyClass, COMMON, THEMES, type ThemeName } from '../../webview/harness/themeVariables';

const ROOT = join(__dirname, '..', '..');
const CHROMIUM = '/usr/bin/chromium';
const ready = existsSync(CHROMIUM) && existsSync(join(ROOT, 'dist/webview/diff.js'));

function log(id: number, pages: string[]): string {
  return ['pageledger-snapshot 1', `snapshot id=${id} pid=7 comm=app`, ...pages, ''].join('\n');
}

/** Set a theme's variables and body class, as VS Code does when the user switches themes. */
function setTheme(page: Page, name: ThemeName): Promise<unknown> {
  const vars = { ...COMMON, ...THEMES[name] };
  return page.evaluate(`(() => {
    for (const [k, v] of Object.entries(${JSON.stringify(vars)})) document.documentElement.style.setProperty(k, v);
    document.body.className = ${JSON.stringify(bodyClass(name))};
  })()`);
}

/** Elements with their own text whose contrast with the page background is under 4.5 (WCAG AA). */
function lowContrastText(page: Page): Promise<unknown> {
  return page.evaluate(`(() => {
    const rgb = (s) => (s.match(/[\\d.]+/g) || []).slice(0, 3).map(Number);
    const lum = (c) => { const l = c.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2]; };
    const bg = lum(rgb(getComputedStyle(document.body).backgroundColor));
    const bad = [];
    for (const el of document.querySelectorAll('body *')) {
      if (el.closest('.sr-only') || el.tagName === 'STYLE' || el.tagName === 'SCRIPT') continue;
      if (!Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
      const fg = lum(rgb(getComputedStyle(el).color));
      const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      if (ratio < 4.5) bad.push(el.tagName + '.' + el.className + ': ' + ratio.toFixed(2));
    }
    return bad;
  })()`);
}

describe.skipIf(!ready)('diff webview', () => {
  let browser: Browser;
  let page: Page;
  const toHost: WebviewToHost[] = [];

  beforeAll(async () => {
    const a: string[] = [];
    const b: string[] = [];
    for (let k = 0; k < 2000; k++) {
      a.push(`page pfn=0x${(0x1000 + k).toString(16)} vaddr=0x${(0x10000 + k * 4096).toString(16)} node=0`);
      // Every 7th page changes owner; 1500.. are gone; 100 new pages at the end.
      if (k < 1500) b.push(`page pfn=0x${(0x1000 + k).toString(16)} vaddr=0x${(0x10000 + k * 4096).toString(16)} node=0${k % 7 === 3 ? ' pid=8' : ''}`);
    }
    for (let k = 0; k < 100; k++) b.push(`page pfn=0x${(0x9000 + k).toString(16)} node=0`);
    const d = diffSides({ model: await openText(log(1, a), 'a.plsnap'), snapshot: 1 }, { model: await openText(log(2, b), 'b.plsnap'), snapshot: 2 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    page.on('pageerror', (e) => toHost.push({ type: 'state', state: `page error: ${e.message}` }));
    const send = (m: HostToWebview): Promise<unknown> => page.evaluate(`window.postMessage(${JSON.stringify(m)}, '*')`);
    await page.exposeFunction('__toHost', async (m: WebviewToHost) => {
      toHost.push(m);
      if (m.type === 'ready') await send({ type: 'diffInit', init: diffViewInit(d, 'a ↔ b') });
      if (m.type === 'diffRequest') {
        const reply: DiffReply = answerDiffRequest(d, m.request);
        // Typed arrays go as plain arrays through this JSON relay; the view only indexes them.
        const plain = reply.kind === 'diffMap' ? { ...reply, a: Array.from(reply.a), b: Array.from(reply.b) } : reply;
        await send({ type: 'diffReply', requestId: m.requestId, reply: plain as unknown as DiffReply });
      }
    });
    await page.setContent(`<!doctype html><html><head><style>${readFileSync(join(ROOT, 'dist/webview/diff.css'), 'utf8')}</style></head><body></body></html>`);
    await setTheme(page, 'dark');
    await page.evaluate('window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__toHost(m), getState: () => undefined, setState: () => {} })');
    await page.addScriptTag({ path: join(ROOT, 'dist/webview/diff.js') });
    await page.waitForFunction('document.querySelectorAll("tr.change").length > 0');
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('draws both maps and fills the tables', async () => {
    const drawn = (i: number): Promise<unknown> =>
      page.evaluate(`(() => {
        const c = document.querySelectorAll('canvas.map')[${i}];
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++;
        return n;
      })()`);
    await page.waitForFunction(`(() => { const c = document.querySelectorAll('canvas.map')[1]; const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; return d.some((v, i) => i % 4 === 3 && v !== 0); })()`);
    expect(await drawn(0)).toBeGreaterThan(0);
    expect(await drawn(1)).toBeGreaterThan(0);
    expect(await page.evaluate('document.querySelector("h1").textContent')).toBe('a ↔ b');
    const classRows = await page.evaluate('Array.from(document.querySelector(".tables table").rows).slice(1).map((r) => Array.from(r.cells).map((c) => c.textContent))');
    // 1500 kept pages of which 214 (k % 7 == 3) changed owner; 500 removed; 100 added.
    expect(classRows).toEqual([
      ['unchanged', '1,286', '5.0 MiB'],
      ['added', '100', '400 KiB'],
      ['removed', '500', '2.0 MiB'],
      ['ownerChanged', '214', '856 KiB'],
    ]);
    await page.screenshot({ path: join(tmpdir(), 'pageledger-diff-webview.png') });
  });

  it('reveals the line of a change on the side clicked', async () => {
    toHost.length = 0;
    await page.evaluate('document.querySelectorAll("tr.change")[0].querySelectorAll("a")[1].click()');
    await expect.poll(() => toHost.filter((m) => m.type === 'reveal')).toEqual([{ type: 'reveal', side: 'b', file: 0, line: 6 }]);
  });

  it('keeps all text legible in the dark and high-contrast themes', async () => {
    expect(await lowContrastText(page)).toEqual([]);
    await setTheme(page, 'high-contrast');
    expect(await lowContrastText(page)).toEqual([]);
    // The maps get the theme's contrast border.
    expect(await page.evaluate('getComputedStyle(document.querySelector("canvas.map")).borderTopColor')).toBe('rgb(111, 195, 223)');
    await setTheme(page, 'dark');
  });

  it('Tab reaches both maps, the class filters and the change links with a focus ring; Enter on a link reveals its line', async () => {
    await page.evaluate('document.activeElement && document.activeElement.blur()');
    const stops: { name: string; ring: string }[] = [];
    for (let i = 0; i < 9; i++) {
      await page.keyboard.press('Tab');
      stops.push((await page.evaluate(`(() => {
        const e = document.activeElement;
        const s = getComputedStyle(e);
        const label = e.getAttribute('aria-labelledby') ? document.getElementById(e.getAttribute('aria-labelledby')).textContent : e.getAttribute('aria-label') || e.textContent;
        return { name: e.tagName.toLowerCase() + ' ' + label.trim(), ring: s.outlineStyle + ' ' + s.outlineWidth + ' ' + s.outlineColor };
      })()`)) as { name: string; ring: string });
    }
    expect(stops.map((s) => s.name)).toEqual([
      'canvas A: snapshot 1 of pid 7 (app) (2,000 pages)',
      'canvas B: snapshot 2 of pid 7 (app) (1,600 pages)',
      'button unchanged 1,286',
      'button added 100',
      'button removed 500',
      'button ownerChanged 214',
      'a next',
      'a Open a.plsnap at line 6 (side A)',
      'a Open b.plsnap at line 6 (side B)',
    ]);
    // Dark Modern's focusBorder, #0078d4.
    expect(new Set(stops.map((s) => s.ring))).toEqual(new Set(['solid 2px rgb(0, 120, 212)']));
    toHost.length = 0;
    await page.keyboard.press('Enter');
    await expect.poll(() => toHost.filter((m) => m.type === 'reveal')).toEqual([{ type: 'reveal', side: 'b', file: 0, line: 6 }]);
    // The maps' text alternative names the rows they show.
    expect(await page.evaluate('document.getElementById("diff-map-summary").textContent')).toBe('Rows 0 to 2,099 of 2,100, 1 row per cell.');
  });
});
