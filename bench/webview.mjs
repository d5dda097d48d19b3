// Ownership webview bench: a generated trace (default 1M pages, 10M events) is built in Node with the real
// core, the harness runs in headless Chromium at 1920x1080 with its requests answered from Node (as the
// extension's worker would), and we print the first paint of both views after the data arrives and the
// frame time while panning the map. Usage: node bench/webview.mjs [--pages N] [--events N] [--core-only]
// [--own-replay] (also time the index built by its own replay, as when the analysis did not record).
// Needs `npm run build` (not with --core-only, which skips the browser and times only the core's answers).
import { build } from 'esbuild';
import { createServer } from 'node:http';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, extname, normalize } from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { chromium } from 'playwright-core';

const { values } = parseArgs({ options: { pages: { type: 'string', default: '1000000' }, events: { type: 'string', default: '10000000' }, 'core-only': { type: 'boolean', default: false }, 'own-replay': { type: 'boolean', default: false }, runs: { type: 'string', default: '3' } } });
const PAGES = Number(values.pages);
const EVENTS = Number(values.events);
const RUNS = Number(values.runs);
const ROOT = new URL('..', import.meta.url).pathname;
const DATA = join(ROOT, 'bench/.data');
mkdirSync(DATA, { recursive: true });

// The core for Node, bundled from the same sources the worker uses.
await build({
  stdin: {
    contents: `export { TraceBuilder } from './src/core/model/traceBuilder'; export { Replay } from './src/core/analysis/replay'; export { EventKind, newEventRecord } from './src/core/model/events'; export { viewInit, answerViewRequest } from './src/core/view/viewRequests'; export { OwnershipRecorder } from './src/core/analysis/ownershipIndex';`,
    resolveDir: ROOT, loader: 'ts',
  },
  bundle: true, platform: 'node', format: 'cjs', outfile: join(DATA, 'viewCore.cjs'), logLevel: 'warning',
});
const core = createRequire(import.meta.url)(join(DATA, 'viewCore.cjs'));

function ms(t) { return `${t.toFixed(1)} ms`; }
/** Wall and CPU milliseconds of f(), each the least of `runs` (the machine is shared: the least is the least disturbed). */
function timed(f, runs = 1) {
  const best = { wall: Infinity, cpu: Infinity, value: undefined };
  for (let k = 0; k < runs; k++) {
    const w = performance.now();
    const c = process.cpuUsage();
    best.value = f();
    const du = process.cpuUsage(c);
    best.wall = Math.min(best.wall, performance.now() - w);
    best.cpu = Math.min(best.cpu, (du.user + du.system) / 1000);
  }
  return best;
}
const rssMiB = () => (process.memoryUsage().rss / 2 ** 20).toFixed(0);

// A trace straight into the builder (no text): processes and the kernel allocate and free single pages
// over PAGES frames of one RAM region; a deterministic LCG picks frames and owners.
let t = performance.now();
const b = new core.TraceBuilder();
b.beginFile('bench.pltrace', 'native', 0);
b.layout.addNode(0, 'dram');
b.layout.addRegion({ name: 'ram0', type: 'ram', node: 0, start: 0x100000, pages: PAGES });
const owners = [b.owners.kernel()];
for (let p = 0; p < 2000; p++) owners.push(b.owners.process(1000 + p, ['postgres', 'java', 'qemu', 'redis', 'nginx'][p % 5]));
const e = core.newEventRecord();
const held = new Int32Array(PAGES).fill(-1);
let seed = 12345;
const rnd = (n) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
for (let i = 0; i < EVENTS; i++) {
  const p = rnd(PAGES);
  e.time = 1e6 + i * 100;
  e.line = i + 2;
  e.pfn = 0x100000 + p;
  e.order = 0;
  e.node = 0;
  if (held[p] >= 0) {
    e.kind = core.EventKind.Free;
    e.owner = 0;
    held[p] = -1;
  } else {
    // Owners come in waves over time, so the chart has structure.
    const o = owners[(rnd(40) + Math.floor((i / EVENTS) * owners.length)) % owners.length];
    e.kind = core.EventKind.Alloc;
    e.owner = o;
    held[p] = o;
  }
  b.push(e);
}
b.endFile(EVENTS + 1);
const buildMs = performance.now() - t;
// The analysis replay as the extension runs it, recording page changes for the views (recordOwnership).
const rssTrace = rssMiB();
const analysis = timed(() => {
  const recording = new core.OwnershipRecorder(b.events.length);
  return { recording, result: new core.Replay(b, {}, recording).run() };
});
const result = analysis.value.result;
const model = { builder: b, result, format: 'native', stats: { bytes: 0, lines: EVENTS, parseMs: 0, analyzeMs: analysis.wall }, ownershipRecording: analysis.value.recording };
console.log(`trace: ${PAGES.toLocaleString()} pages, ${EVENTS.toLocaleString()} events, built in ${ms(buildMs)}; rss ${rssTrace} MiB; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
console.log(`analysis replay recording page changes: ${ms(analysis.wall)} wall, ${ms(analysis.cpu)} cpu`);
const ix = timed(() => core.viewInit(model));
const init = ix.value;
const perEvent = (((Number(rssMiB()) - Number(rssTrace)) * 2 ** 20) / EVENTS).toFixed(0);
console.log(`index + init from the recorded changes: ${ms(ix.wall)} wall, ${ms(ix.cpu)} cpu (goal: a few seconds); rss ${rssMiB()} MiB (${perEvent} bytes an event over the trace, recording and index)`);
if (values['own-replay']) {
  const plain = { ...model, ownershipRecording: undefined };
  const own = timed(() => core.viewInit(plain));
  console.log(`index + init by its own replay (an analysis that did not record): ${ms(own.wall)} wall, ${ms(own.cpu)} cpu (goal: a few seconds)`);
}

// The windows the page map asks for at 1920x1080 (plot 1780x1058 px, a quarter margin on every side, as
// webview/ownership/pageMap.ts fetches them), at 2 px cells (the default) and 1 px cells (the finest).
const span = init.timeEnd - init.timeStart;
const win = (name, cellPx, t0, t1, y0, y1) => {
  const ty = (y1 - y0) * 0.25;
  const a = Math.max(0, y0 - ty);
  const z = Math.min(init.rows, y1 + ty);
  const nx = Math.round((1780 / cellPx) * 1.5);
  const ny = Math.max(1, Math.min(8192, Math.round((1058 / cellPx) * ((z - a) / (y1 - y0))), Math.ceil(z - a)));
  const dt = (t1 - t0) * 0.25;
  return { name, req: { kind: 'map', t0: t0 - dt, t1: t1 + dt, nx, y0: a, y1: z, ny } };
};
const mid = init.timeStart + span / 2;
const windows = [
  win('full view, 2 px', 2, init.timeStart - span / 100, init.timeEnd + span / 100, 0, init.rows),
  win('full view, 1 px', 1, init.timeStart - span / 100, init.timeEnd + span / 100, 0, init.rows),
  win('1/1000 time x all rows', 2, mid, mid + span / 1000, 0, init.rows),
  win('1/10 time x 1/10 rows', 2, mid - span / 20, mid + span / 20, init.rows * 0.45, init.rows * 0.55),
  win('full time x 2000 rows', 2, init.timeStart, init.timeEnd, init.rows / 2, init.rows / 2 + 2000),
  win('full time x 200 rows', 2, init.timeStart, init.timeEnd, init.rows / 2, init.rows / 2 + 200),
  win('1/100 time x 50 rows', 1, mid, mid + span / 100, init.rows / 3, init.rows / 3 + 50),
];
for (const w of windows) {
  const r = timed(() => core.answerViewRequest(model, w.req), RUNS);
  if (r.value.kind !== 'map') throw new Error(`${w.name}: ${r.value.message}`);
  console.log(`map ${w.name} (${w.req.nx}x${w.req.ny} cells): ${ms(r.wall)} wall, ${ms(r.cpu)} cpu, best of ${RUNS} (goal: well under 1000 ms)`);
}
const series = timed(() => core.answerViewRequest(model, { kind: 'series', t0: init.timeStart, t1: init.timeEnd, n: 1780, top: 8 }), 3);
console.log(`series 1780 samples: ${ms(series.wall)} wall, ${ms(series.cpu)} cpu, best of ${RUNS} (goal: well under 1000 ms); rss ${rssMiB()} MiB`);
if (values['core-only']) process.exit(0);

function encode(v) {
  if (ArrayBuffer.isView(v)) return { $t: v.constructor.name, b64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  if (Array.isArray(v)) return v.map(encode);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encode(x)]));
  if (typeof v === 'number' && !Number.isFinite(v)) return v !== v ? '$NaN' : v > 0 ? '$Infinity' : '$-Infinity';
  return v;
}
const answerMs = [];

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json' };
const server = createServer((req, res) => {
  const path = normalize(decodeURIComponent(req.url.split('?')[0]));
  if (!path.startsWith('/webview/harness/') && !path.startsWith('/dist/webview/')) return res.writeHead(404).end();
  try { res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(readFileSync(join(ROOT, path))); } catch { res.writeHead(404).end(); }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
await page.exposeFunction('pageLedgerHost', (body) => {
  const call = JSON.parse(body);
  const t0 = performance.now();
  const out = call.init ? init : core.answerViewRequest(model, call.request);
  if (!call.init) answerMs.push([call.request.kind, performance.now() - t0]);
  return JSON.stringify(encode(out));
});
await page.goto(`http://127.0.0.1:${server.address().port}/webview/harness/index.html?remote=1&theme=dark`);
// First paint after data: time from each reply's arrival in the page to the end of the draw it causes.
const paint = await page.evaluate(async () => {
  const wait = (f) => new Promise((r) => { const tick = () => (f() ? r() : requestAnimationFrame(tick)); tick(); });
  await wait(() => window.pageLedgerView && window.pageLedgerView.mapView.painted > 0 && window.pageLedgerView.timeChart.chart.data.datasets.length > 0);
  const v = window.pageLedgerView;
  // Redraw both from data already in the page, as a reply would.
  const m0 = performance.now();
  v.mapView.rebuild();
  const mapMs = performance.now() - m0;
  const c0 = performance.now();
  v.timeChart.chart.update();
  const chartMs = performance.now() - c0;
  return { mapMs, chartMs };
});
console.log(`first paint after data (1920x1080): map ${ms(paint.mapMs)} (bitmap + draw), chart ${ms(paint.chartMs)} (goal: each <= 500 ms)`);
console.log(`core answers to the page's first requests: ${answerMs.map(([k, v]) => `${k} ${ms(v)}`).join(', ')} (goal: map well under 1000 ms)`);
// Pan: drag the map across 600 px in 60 steps; each step is one frame drawn from the cached bitmap.
const box = await (await page.$('.pl-map-canvas')).boundingBox();
await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.5);
await page.mouse.down();
const frames = [];
for (let i = 1; i <= 60; i++) {
  await page.mouse.move(box.x + box.width * 0.7 - i * 10, box.y + box.height * 0.5 + (i % 7));
  frames.push(await page.evaluate(() => window.pageLedgerView.mapView.lastFrameMs));
}
await page.mouse.up();
frames.sort((a, b) => a - b);
console.log(`pan frame (draw): median ${ms(frames[30])}, p95 ${ms(frames[Math.floor(frames.length * 0.95)])}, max ${ms(frames[frames.length - 1])} (goal: <= 16 ms)`);
await browser.close();
server.close();
