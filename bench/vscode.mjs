// `node bench/vscode.mjs`: time from opening a ~100 MB trace in a real VS Code (code-server + headless
// Chromium, the e2e harness of test/e2e/codeServer.ts) to the first chart drawn in the ownership view, for a
// first open and for a reopen of the unchanged file after reloading the window, and whether the workbench
// stayed responsive while the trace loaded. Goal (issue 9): first chart <= 2 s for 100 MB.
// Env: VSCODE_BENCH_EVENTS (default 1,730,000 events = 103 MB of cow-snapshots), BENCH_RUNS (default 3),
// VSCODE_BENCH_SETTINGS (JSON merged into the user settings, e.g. '{"pageledger.analysis.threads":"two"}').
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..');
process.chdir(ROOT);
const DATA = 'bench/.data';
const EVENTS = Number(process.env.VSCODE_BENCH_EVENTS ?? 1_730_000);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const SETTINGS = JSON.parse(process.env.VSCODE_BENCH_SETTINGS ?? '{}');
const VSIX = 'dist/pageledger.vsix';
const WS = join(DATA, 'vscode-ws');
const NAME = `cow-${EVENTS}.pltrace`;
const TRACE = join(WS, NAME);
const GOAL_MS = 2000;
const TIMEOUT_MS = 180_000;
// A chart with its axes only, before the series arrive, paints far fewer pixels than this (the e2e test's bar).
const PAINTED = 2000;

// The harness is TypeScript; bundle it with esbuild like bench/generate.ts. It finds the repository and its
// code-server install from its own URL, so that URL is kept as the source file's.
const harnessOut = join(DATA, 'codeServer.mjs');
mkdirSync(DATA, { recursive: true });
await build({
  entryPoints: ['test/e2e/codeServer.ts'], bundle: true, platform: 'node', format: 'esm', target: 'node20',
  outfile: harnessOut, external: ['playwright-core'], logLevel: 'warning',
  define: { 'import.meta.url': JSON.stringify(pathToFileURL(resolve('test/e2e/codeServer.ts')).href) },
});
const h = await import(pathToFileURL(resolve(harnessOut)).href);

const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');
const s = (ms) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(2)} s`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Newest mtime of the files the .vsix is built from. */
function newestSource() {
  let newest = 0;
  const walk = (p) => {
    const st = statSync(p);
    if (st.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
    else newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of ['src', 'webview', 'media', 'package.json']) if (existsSync(p)) walk(p);
  return newest;
}

if (!existsSync(VSIX) || statSync(VSIX).mtimeMs < newestSource()) {
  console.log(`${VSIX} is older than the sources: npm run package`);
  const r = spawnSync('npm', ['run', 'package'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error('npm run package failed');
}
mkdirSync(WS, { recursive: true });
if (!existsSync(TRACE)) {
  const r = spawnSync('node', ['dist/cli.js', 'synth', '--scenario', 'cow-snapshots', '--seed', '1', '--events', String(EVENTS), '-o', TRACE], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error('synth failed');
}
const bytes = statSync(TRACE).size;
console.log(`VS Code (code-server ${h.CODE_SERVER_VERSION}, headless Chromium): ${TRACE}, ${(bytes / 1e6).toFixed(0)} MB, ${EVENTS.toLocaleString('en-US')} events; ${cpus().length} cores, load average ${load()} at start; best of ${RUNS} (BENCH_RUNS)${Object.keys(SETTINGS).length ? `; settings ${JSON.stringify(SETTINGS)}` : ''}`);

if (!h.isCodeServerInstalled()) h.ensureCodeServerInstalled();
const server = await h.startCodeServer({ name: 'bench-vscode', vsix: VSIX, workspace: WS, settings: SETTINGS });
let wb;
const stopAll = async () => {
  await wb?.close().catch(() => undefined);
  await server.stop();
};
process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));

/** The ownership view's frame for our trace (its title is the file name), if it is there yet. */
async function viewFrame(page) {
  for (const frame of page.frames()) {
    try {
      const t = await frame.$('.pl-title');
      if (t && (await t.textContent())?.trim() === NAME) return frame;
    } catch { /* detached or navigating */ }
  }
  return undefined;
}

/**
 * The view's state: whether it shows the part read so far (`.pl-partial`, before init) or the full view, and
 * the painted (non-transparent) pixels of its chart canvas, counted up to the bar so a poll stays cheap.
 */
function viewState(frame) {
  return frame.evaluate((bar) => {
    const root = document.querySelector('.pl-root');
    const state = { partial: !!root && root.classList.contains('pl-partial'), full: !!root && !root.classList.contains('pl-partial') && !!document.querySelector('.pl-title'), painted: 0 };
    const c = document.querySelector('.pl-chart canvas');
    const g = c && c.width && c.height ? c.getContext('2d') : null;
    if (!g) return state;
    const d = g.getImageData(0, 0, c.width, c.height).data;
    for (let k = 3; k < d.length && state.painted <= bar; k += 4) if (d[k] !== 0) state.painted++;
    return state;
  }, PAINTED, { timeout: 2000 }).catch(() => ({ partial: false, full: false, painted: 0 }));
}

/** The Page Ledger status bar item: "Page Ledger: reading N%" while the worker reads, "N events · …" after. */
async function statusMark(page) {
  const texts = await h.statusBarTexts(page).catch(() => []);
  if (texts.some((t) => /^\d[\d,]* events · /.test(t))) return 'loaded';
  if (texts.some((t) => t.startsWith('Page Ledger: reading'))) return 'reading';
  return undefined;
}

/**
 * Polls until the full view's chart has drawn; returns the times (ms from t0) at which the status bar first
 * said "reading" (extension active, worker reading), the view showed the part read so far (`partialView`)
 * and had drawn its chart (`partial`: the first chart, of the part read so far), the status bar said the
 * trace was loaded (worker done), the view got its init (`view`) and the full chart had drawn (`chart`). The view's frames are looked for every 100 ms
 * only: enumerating frames costs the browser, which shares the 2 cores with what is measured.
 */
async function waitForChart(page, t0, onTick) {
  const marks = { cpu0: cpuNow() };
  let frame;
  let lastLook = 0;
  while (performance.now() - t0 < TIMEOUT_MS) {
    if (!marks.loaded) {
      const m = await statusMark(page);
      if (m && !marks.reading) marks.reading = performance.now() - t0;
      if (m === 'loaded') marks.loaded = performance.now() - t0;
    }
    if (!frame && performance.now() - lastLook >= 100) {
      lastLook = performance.now();
      frame = await viewFrame(page);
    }
    const st = frame ? await viewState(frame) : undefined;
    const now = performance.now() - t0;
    if (st?.partial && marks.partialView === undefined) marks.partialView = now;
    if (st?.partial && st.painted > PAINTED && marks.partial === undefined) {
      marks.partial = now;
      // Once per bench, how the part read so far looks (it delays that run's later marks by the shot).
      if (!partialShot) {
        partialShot = true;
        await h.screenshot(page, 'bench-vscode-partial').catch(() => undefined);
      }
    }
    if (st?.full && marks.view === undefined) marks.view = now;
    if (st?.full && st.painted > PAINTED) {
      marks.chart = now;
      marks.first = Math.min(marks.partial ?? Infinity, marks.chart);
      const c = cpuNow();
      marks.cpu = Object.fromEntries(Object.keys(c).map((k) => [k, c[k] - marks.cpu0[k]]));
      // VS Code writes the log a moment later.
      await sleep(300);
      marks.log = extensionLog(t0, marks.chart);
      // The webview's own start: its document's navigation (the inner frame's time origin), its bundle
      // fetched, its script done.
      const w = await frame.evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0];
        const res = performance.getEntriesByType('resource').map((e) => ({ name: e.name.replace(/^.*\//, '').replace(/\?.*$/, ''), start: e.startTime, end: e.responseEnd }));
        const marks = performance.getEntriesByType('mark').map((e) => ({ name: e.name, at: e.startTime }));
        return { origin: performance.timeOrigin, res, marks, dcl: nav?.domContentLoadedEventEnd };
      }).catch(() => undefined);
      const outer = await frame.parentFrame()?.evaluate(() => ({
        origin: performance.timeOrigin,
        res: performance.getEntriesByType('resource').map((e) => ({ name: e.name.replace(/^.*\//, '').replace(/\?.*$/, ''), start: e.startTime, end: e.responseEnd })),
        dcl: performance.getEntriesByType('navigation')[0]?.domContentLoadedEventEnd,
      })).catch(() => undefined);
      if (outer && w) marks.log.push(`outer webview frame: navigation ${((outer.origin - w.origin) / 1000).toFixed(2)} s before the inner's, then ${outer.res.map((r) => `${r.name} +${(r.start / 1000).toFixed(2)}-+${(r.end / 1000).toFixed(2)}`).join(', ')}, DOMContentLoaded +${((outer.dcl ?? 0) / 1000).toFixed(2)}`);
      const sw = swSince(t0);
      if (sw) marks.log.push(sw);
      if (w) {
        // Chromium's timeOrigin is not exactly the bench's clock (the webview's marks came out 0.2-0.3 s
        // later than the host's log lines of the same steps): the steps are given from the navigation.
        const at = (ms) => (ms === undefined ? '?' : `+${(ms / 1000).toFixed(2)}`);
        marks.log.push(`webview: navigation at about +${((w.origin - performance.timeOrigin - t0) / 1000).toFixed(2)}, then ${w.res.map((r) => `${r.name} ${at(r.start)}-${at(r.end)}`).join(', ')}, DOMContentLoaded ${at(w.dcl)}, ${w.marks.map((m) => `${m.name.replace('pageledger-', '')} ${at(m.at)}`).join(', ')}`);
      }
      return marks;
    }
    if (onTick) await onTick(marks);
    await sleep(20);
  }
  throw new Error(`no chart within ${TIMEOUT_MS} ms`);
}

let partialShot = false;

/**
 * The service workers' steps (from Chromium's DevTools protocol) and code-server's "[Service Worker] registered"
 * (its own worker at "/", registered by the workbench after every load), with performance.now() times. Every
 * webview registers VS Code's webview worker with a script URL that names the webview (`id=` in swPath,
 * lib/vscode/out/vs/workbench/contrib/webview/browser/pre/index.html line 239 in code-server 4.100.3), and
 * code-server serves all webviews from one origin (its `webviewEndpoint`, lib/vscode/out/server-main.js), so
 * each new webview replaces the worker of the one before; the outer frame creates the inner document only once
 * the new worker answers, and its fake.html navigation waits until that worker is activated.
 */
const swEvents = [];
const reloadNotes = [];
async function watchServiceWorkers(workbench) {
  const cdp = await workbench.context.newCDPSession(workbench.page);
  cdp.on('ServiceWorker.workerVersionUpdated', (e) => {
    for (const v of e.versions) {
      if (!/\/pre\/service-worker\.js/.test(v.scriptURL)) continue;
      const id = /[?&]id=([^&]+)/.exec(v.scriptURL)?.[1];
      swEvents.push({ at: performance.now(), what: `webview ${v.status}`, id });
    }
  });
  await cdp.send('ServiceWorker.enable');
  workbench.page.on('console', (m) => {
    if (m.text().includes('[Service Worker] registered')) swEvents.push({ at: performance.now(), what: 'code-server registered' });
  });
}

/** One line on the service workers since t0: when the new webview worker installed and activated, and when
 * code-server's own worker registration finished if that was after t0. */
function swSince(t0) {
  const first = (what) => swEvents.find((e) => e.at >= t0 && e.what === what);
  const installing = first('webview installing');
  if (!installing) return undefined;
  const later = (what) => swEvents.find((e) => e.at >= installing.at && e.what === what && e.id === installing.id) ?? swEvents.find((e) => e.at >= installing.at && e.what === what);
  const at = (e) => (e ? `+${((e.at - t0) / 1000).toFixed(2)}` : '—');
  const cs = first('code-server registered');
  return `webview service worker: installing ${at(installing)}, activating ${at(later('webview activating'))}, activated ${at(later('webview activated'))}${cs ? `; code-server's own worker registered ${at(cs)}` : ''}`;
}

/** One line of marks, and the extension's own log lines of the open (time from the action: message). */
const fmt = (r) => `reading ${s(r.reading)}, part read so far shown ${s(r.partialView)}, its chart ${s(r.partial)}, worker done ${s(r.loaded)}, view data ${s(r.view)}, full chart ${s(r.chart)}; CPU s: extension host + worker ${r.cpu.exthost.toFixed(1)}, code-server ${r.cpu.server.toFixed(1)}, chromium ${r.cpu.chromium.toFixed(1)}${r.log?.length ? `\n      extension log: ${r.log.join('; ')}` : ''}`;

/**
 * The lines the extension logged (its "Page Ledger" log channel, timestamped to the ms by VS Code) from
 * t0 (performance.now() of the action) to the chart, as "+seconds message": activation, the worker's
 * start, the webview's ready, the load, the first chart data.
 */
function extensionLog(t0, t1) {
  const logs = join(server.userDataDir, 'logs');
  const files = [];
  const walk = (p) => {
    for (const n of readdirSync(p, { withFileTypes: true })) {
      if (n.isDirectory()) walk(join(p, n.name));
      else if (n.name === 'Page Ledger.log' || n.name === 'remoteexthost.log') files.push(join(p, n.name));
    }
  };
  if (existsSync(logs)) walk(logs);
  const from = performance.timeOrigin + t0 - 50;
  const to = performance.timeOrigin + t0 + t1 + 50;
  const out = [];
  for (const f of files) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3}) \[\w+\] (.*)$/.exec(line);
      if (!m || (f.endsWith('remoteexthost.log') && !m[3].includes('pageledger'))) continue;
      const at = new Date(`${m[1]}T${m[2]}`).getTime();
      if (at >= from && at <= to) out.push([at, `+${((at - performance.timeOrigin - t0) / 1000).toFixed(2)} ${m[3]}`]);
    }
  }
  return out.sort((a, b) => a[0] - b[0]).map((x) => x[1]);
}

/** The user's action: right-click the trace in the explorer, "Show Ownership View". Returns t0 (the click). */
async function openFromExplorer(page) {
  await h.runCommand(page, 'View: Show Explorer');
  const row = page.locator('.explorer-folders-view .monaco-list-row').filter({ has: page.locator('.label-name', { hasText: NAME }) }).first();
  await row.waitFor({ timeout: 30_000 });
  const menu = page.locator('.context-view .monaco-menu');
  await row.click({ button: 'right' });
  const item = menu.locator('.action-item').filter({ hasText: 'Show Ownership View' }).first();
  await item.waitFor({ timeout: 10_000 });
  // A menu ignores a click that comes right after it opened (see test/e2e/README.md).
  await sleep(300);
  await item.hover();
  const t0 = performance.now();
  await item.click();
  if (await menu.isVisible()) await page.keyboard.press('Enter');
  return t0;
}

/** The Page Ledger state in the extension's storage (a persisted index, if the extension keeps one). */
function dropExtensionStorage() {
  const user = join(server.userDataDir, 'User');
  const dirs = [join(user, 'globalStorage', 'pageledger.pageledger')];
  const wsRoot = join(user, 'workspaceStorage');
  if (existsSync(wsRoot)) for (const d of readdirSync(wsRoot)) dirs.push(join(wsRoot, d, 'pageledger.pageledger'));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

/** Extension-host processes of this code-server still running (the old window's should be gone after a reload). */
function extensionHosts() {
  let n = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes('extensionHost') && readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`E2E_RUN_DIR=${server.runDir}`)) n++;
    } catch { /* gone */ }
  }
  return n;
}

/**
 * CPU seconds used so far by this run's processes, from /proc (user + system, all threads; the analysis
 * worker is a thread of the extension host). On a shared machine CPU time is steadier than wall time.
 * Processes that exited (an old window's extension host) drop out, so deltas are taken over one open only.
 */
function cpuNow() {
  const out = { exthost: 0, server: 0, chromium: 0 };
  const tick = 100;   // USER_HZ on Linux
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      let kind;
      if (cmd.includes(join(server.runDir, 'chromium'))) kind = 'chromium';
      else if (readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`E2E_RUN_DIR=${server.runDir}`)) kind = cmd.includes('extensionHost') ? 'exthost' : 'server';
      if (!kind) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[kind] += (Number(f[11]) + Number(f[12])) / tick;
    } catch { /* gone */ }
  }
  return out;
}

/** The extension-host logs of this code-server so far. */
function exthostLogs() {
  const logs = join(server.userDataDir, 'logs');
  const out = [];
  if (!existsSync(logs)) return out;
  for (const session of readdirSync(logs)) {
    const dir = join(logs, session);
    if (!statSync(dir).isDirectory()) continue;
    for (const n of readdirSync(dir)) if (n.startsWith('exthost') && existsSync(join(dir, n, 'remoteexthost.log'))) out.push(join(dir, n, 'remoteexthost.log'));
  }
  return out;
}

/** Whether an extension host not in `before` has activated its startup extensions. */
function eagerActivated(before) {
  return exthostLogs().some((f) => !before.has(f) && readFileSync(f, 'utf8').includes('Eager extensions activated'));
}

/** A fresh extension host (and analysis worker) with no editor open: close everything, reload the window. */
async function reloadWindow() {
  const before = new Set(exthostLogs());
  await h.runCommand(wb.page, 'View: Close All Editors');
  // Wait for the new page's load event: the old page answers every locator until the reload replaces it.
  const reloadStart = performance.now();
  const reloaded = wb.page.waitForEvent('load', { timeout: 60_000 });
  await h.runCommand(wb.page, 'Developer: Reload Window');
  await reloaded;
  await wb.page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  await wb.page.locator('.part.statusbar').waitFor({ timeout: 60_000 });
  // Let the workbench and the new extension host finish starting (its eager extensions activated, which
  // at load 10 took longer than the fixed 3 s wait of before), so the open is not measured against startup.
  const t = performance.now();
  while (performance.now() - t < 60_000 && !eagerActivated(before)) await sleep(100);
  // And until code-server's own service worker registration of this load has finished: a webview's worker
  // registration waits for it (the webview's inner document came 3.8-5.5 s late when the view was opened
  // before it), and after a reload it can take several seconds. The time it took is printed.
  while (performance.now() - t < 30_000 && !swEvents.some((e) => e.at >= reloadStart && e.what === 'code-server registered')) await sleep(100);
  const reg = swEvents.find((e) => e.at >= reloadStart && e.what === 'code-server registered');
  reloadNotes.push(reg ? `code-server's worker registered ${s(reg.at - reloadStart)} after the reload` : 'code-server\'s worker not registered within 30 s');
  await sleep(1000);
  const hosts = extensionHosts();
  if (hosts !== 1) console.log(`  (${hosts} extension hosts running after the reload)`);
}

let paletteFailed;

/** Opens the command palette with F1 and waits until it lists Page Ledger's commands: how long that took
 * (undefined when it did not within 10 s). */
async function paletteLatency(page) {
  // Keyboard focus on the workbench first (a click on an empty spot of the status bar, untimed): F1 pressed
  // while a webview or a tree has focus may not reach the palette, which says nothing about responsiveness.
  const bar = await page.locator('.monaco-workbench .part.statusbar').boundingBox().catch(() => null);
  if (bar) await page.mouse.click(bar.x + bar.width / 2, bar.y + bar.height / 2).catch(() => undefined);
  const t = performance.now();
  const input = page.locator('.quick-input-widget input');
  let step = 'F1';
  try {
    await page.keyboard.press('F1');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    step = 'typing';
    await input.fill('>Page Ledger', { timeout: 10_000 });
    step = 'listing';
    await page.locator('.quick-input-list .monaco-list-row .label-name').filter({ hasText: 'Page Ledger' }).first().waitFor({ timeout: 10_000 });
    return performance.now() - t;
  } catch {
    if (!paletteFailed) {
      paletteFailed = step;
      await h.screenshot(page, 'bench-vscode-palette-failed').catch(() => undefined);
    }
    return undefined;
  } finally {
    await page.keyboard.press('Escape');
    await input.waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => undefined);
  }
}

const results = { first: [], reopen: [], same: [] };
try {
  wb = await h.openWorkbench(server, { viewport: { width: 1600, height: 1000 } });
  await watchServiceWorkers(wb);
  await sleep(3000);

  // 1. First open in a fresh profile, as a person would: Quick Open the file. The text opens, and the
  // extension is meant to open the ownership view beside it; but VS Code does not hand files over 50 MB to
  // extensions as documents, so if neither the view nor the extension's status shows within 5 s, the view
  // is asked for with "Page Ledger: Show Ownership View" from the palette, timed from that command's F1.
  const tq = performance.now();
  await h.openFile(wb.page, NAME, 60_000, { textEditor: false });
  const textTab = performance.now() - tq;
  await sleep(300);
  await h.screenshot(wb.page, 'bench-vscode-quick-open-text');
  let started = false;
  while (!started && performance.now() - tq < textTab + 5000) {
    started = (await statusMark(wb.page)) !== undefined || (await viewFrame(wb.page)) !== undefined;
    await sleep(100);
  }
  let quick;
  if (started) quick = await waitForChart(wb.page, tq);
  else {
    const tp = performance.now();
    await h.runCommand(wb.page, 'Page Ledger: Show Ownership View');
    quick = { ...(await waitForChart(wb.page, tp)), asked: true };
  }
  console.log(`  first open, fresh window: Quick Open showed the tab after ${s(textTab)}; ${quick.asked ? 'no view beside it within 5 s; Show Ownership View from the palette: ' : 'the view opened beside it: '}${fmt(quick)}`);
  await h.screenshot(wb.page, 'bench-vscode-quick-open');
  results.first.push(quick);
  // 1b. The explorer way (right-click, Show Ownership View), still the first open in this window's worker:
  // reload and drop storage first. The remaining first opens go this way too, so they compare.
  await reloadWindow();
  dropExtensionStorage();
  results.first.push(await waitForChart(wb.page, await openFromExplorer(wb.page)));
  console.log(`  first open after reload, explorer: ${fmt(results.first[1])}`);
  // 2. Same window, the trace still loaded in the worker: close the view, show it again.
  await h.runCommand(wb.page, 'View: Close All Editors');
  await sleep(1000);
  results.same.push(await waitForChart(wb.page, await openFromExplorer(wb.page)));
  console.log(`  same window, trace still loaded: ${fmt(results.same[0])}`);
  // 3. Reopen of the unchanged file after reloading the window (a persisted index would serve it).
  for (let k = 0; k < RUNS; k++) {
    await reloadWindow();
    const r = await waitForChart(wb.page, await openFromExplorer(wb.page));
    results.reopen.push(r);
    console.log(`  reopen after reload ${k + 1}: ${fmt(r)}`);
  }
  // 4. More first opens: reload and drop the extension's storage, so nothing persisted can serve them.
  for (let k = 2; k < RUNS; k++) {
    await reloadWindow();
    dropExtensionStorage();
    const r = await waitForChart(wb.page, await openFromExplorer(wb.page));
    results.first.push(r);
    console.log(`  first open after reload, extension storage dropped ${k}: ${fmt(r)}`);
  }
  // 5. Responsiveness during a first open: the palette opened and listing Page Ledger's commands, over and
  // over while the trace loads; and once, the Page Ledger tree (served by the extension host) showing the trace.
  await reloadWindow();
  dropExtensionStorage();
  const idle = [];
  for (let k = 0; k < 3; k++) idle.push((await paletteLatency(wb.page)) ?? 10_000);
  const during = [];
  let failed = 0;
  let tree;
  const t0 = await openFromExplorer(wb.page);
  const loaded = await waitForChart(wb.page, t0, async (marks) => {
    // The palette closes when it loses focus, and the ownership view's editor takes the focus as it opens:
    // probes start once the worker is reading and the editor has had a second to open.
    if (marks.reading === undefined || performance.now() - t0 < marks.reading + 1000) return;
    if (tree === undefined) {
      const t = performance.now();
      await h.runCommand(wb.page, 'Page Ledger: Focus on Traces View');
      await wb.page.locator('[id="workbench.parts.sidebar"] .monaco-list-row .label-name').filter({ hasText: NAME }).first().waitFor({ timeout: 60_000 });
      tree = { ms: performance.now() - t, at: t - t0 };
      return;
    }
    const ms = await paletteLatency(wb.page);
    if (ms === undefined) failed++;
    else during.push(ms);
  });
  const stats = (xs) => {
    const v = [...xs].sort((a, b) => a - b);
    return v.length ? `median ${v[Math.floor(v.length / 2)].toFixed(0)} ms, max ${v[v.length - 1].toFixed(0)} ms over ${v.length}` : 'no sample';
  };
  const errors = server.activationErrors('pageledger.pageledger');

  // The best run by time to chart (the least disturbed on a shared machine), with its own breakdown.
  const best = (xs, key = 'chart') => xs.reduce((x, y) => (y[key] < x[key] ? y : x));
  const first = best(results.first);
  const firstAny = best(results.first, 'first');
  const reopen = best(results.reopen);
  console.log(`\nVS Code, ${(bytes / 1e6).toFixed(0)} MB trace, from "Show Ownership View" (explorer or palette) to the first chart drawn (best of ${results.first.length} / ${results.reopen.length}):`);
  console.log(`  first open, first chart (part read so far)  ${s(firstAny.first)}   (goal: <= 2 s for 100 MB) ${firstAny.first <= GOAL_MS ? 'met' : 'NOT met'}; all: ${results.first.map((r) => s(r.first)).join(', ')}`);
  console.log(`    ${fmt(firstAny)}`);
  console.log(`  first open, full chart           ${s(first.chart)}; all: ${results.first.map((r) => s(r.chart)).join(', ')}`);
  console.log(`    ${fmt(first)}`);
  console.log(`  reopen, unchanged, after reload  ${s(reopen.chart)} = ${((100 * reopen.chart) / first.chart).toFixed(0)}% of the first   (goal: <= 2 s; a persisted index reopen <= 10% of the first parse)`);
  console.log(`    ${fmt(reopen)}`);
  console.log(`  same window, trace still loaded  ${s(results.same[0].chart)}`);
  console.log(`  Quick Open, fresh window         ${quick.asked ? `no view beside the text; then Show Ownership View from the palette ${s(quick.chart)} (F1 and typing included)` : `view beside the text, chart ${s(quick.chart)} (typing included)`}`);
  console.log(`  command palette lists Page Ledger's commands: idle ${stats(idle)}; during the load ${stats(during)}, ${failed} not within 10 s${paletteFailed ? ` (first stuck at: ${paletteFailed})` : ''} (the chart took ${s(loaded.chart)} with the probes running)`);
  console.log(`  Page Ledger tree (extension host) showed the trace ${tree ? `${tree.ms.toFixed(0)} ms after the command, asked ${tree.at.toFixed(0)} ms into the load` : 'not asked (load too quick)'}; probes began 1 s after the status said reading`);
  console.log(`  after each reload, before the open: ${reloadNotes.join('; ')}`);
  console.log(`  activation errors: ${errors.length ? errors.join('\n') : 'none'}; load average at end ${load()}`);
  await h.screenshot(wb.page, 'bench-vscode-100mb');
} catch (e) {
  if (wb) await h.screenshot(wb.page, 'FAILED-bench-vscode').catch(() => undefined);
  throw e;
} finally {
  await stopAll();
}
