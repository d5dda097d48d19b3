// Ownership webview bench: a generated trace (default 1M pages, 10M events) is built in Node with the real
// core, the harness runs in headless Chromium at 1920x1080 with its requests answered from Node (as the
// extension's worker would), and we print the first paint of both views after the data arrives and the
// frame time while panning the map. Usage: node bench/webview.mjs [--pages N] [--events N]. Needs `npm run build`.
import { build } from 'esbuild';
import { createServer } from 'node:http';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, extname, normalize } from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values } = parseArgs({ options: { pages: { type: 'string', default: '1000000' }, events: { type: 'string', default: '10000000' } } });
const PAGES = Number(values.pages);
const EVENTS = Number(values.events);
const ROOT = new URL('..', import.meta.url).pathname;
const DATA = join(ROOT, 'bench/.data');
mkdirSync(DATA, { recursive: true });

// The core for Node, bundled from the same sources the worker uses.
await build({
  stdin: {
    contents: `export { TraceBuilder } from './src/core/model/traceBuilder'; export { Replay } from './src/core/analysis/replay'; export { EventKind, newEventRecord } from './src/core/model/events'; export { viewInit, answerViewRequest } from './src/core/view/viewRequests';`,
    resolveDir: ROOT, loader: 'ts',
  },
  bundle: true, platform: 'node', format: 'cjs', outfile: join(DATA, 'viewCore.cjs'), logLevel: 'warning',
});
const core = createRequire(import.meta.url)(join(DATA, 'viewCore.cjs'));

function ms(t) { return `${t.toFixed(1)} ms`; }

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
t = performance.now();
const result = new core.Replay(b).run();
const replayMs = performance.now() - t;
const model = { builder: b, result, format: 'native', stats: { bytes: 0, lines: EVENTS, parseMs: 0, analyzeMs: replayMs } };
t = performance.now();
const init = core.viewInit(model);
const indexMs = performance.now() - t;
console.log(`trace: ${PAGES.toLocaleString()} pages, ${EVENTS.toLocaleString()} events; built ${ms(buildMs)}, replay ${ms(replayMs)}, index + init ${ms(indexMs)}; rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);

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
console.log(`first paint after data (1920x1080): map ${ms(paint.mapMs)} (bitmap + draw), chart ${ms(paint.chartMs)}`);
console.log(`core answers: ${answerMs.map(([k, v]) => `${k} ${ms(v)}`).join(', ')}`);
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
console.log(`pan frame (draw): median ${ms(frames[30])}, p95 ${ms(frames[Math.floor(frames.length * 0.95)])}, max ${ms(frames[frames.length - 1])}`);
await browser.close();
server.close();
