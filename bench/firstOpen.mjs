// The analysis worker's first open of a trace, without VS Code: `openTraceFiles` as src/extension/worker.ts
// calls it (a fresh index folder, two threads, `recordOwnership`, the index written later), the `open`
// reply's digest, the view's `viewInit`, the chart's first `series` request as the webview sends it at init
// (webview/ownership/main.ts `loadSeries`: the whole trace, n = the chart.resolution default 800, which a
// chart 800 px or wider keeps, top 8, nothing pinned or hidden), then the index write the worker runs once
// idle. Prints each step's wall time and the CPU of the process (main thread and parse worker), and the
// CPU from the end of the parse to the first chart's data (the main thread alone: the parse worker is gone).
// On one thread the worker also sends the views of the part read so far (src/extension/logic/partialViews.ts,
// its default timing, 800 samples), the first one asked for `--want-ms` after the open began (default 1000:
// the webview of the VS Code bench says ready 0.9-1.4 s after the load starts): the first one's time and
// the CPU of all of them are printed, and `--partial 0` opens without them, to compare.
// Usage: node bench/firstOpen.mjs [FILE] [--threads 1|2] [--runs N] [--partial 0|1] [--want-ms MS]   (after `npm run build`)
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir, loadavg } from 'node:os';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { threads: { type: 'string', default: '2' }, runs: { type: 'string', default: '1' }, partial: { type: 'string', default: '1' }, 'want-ms': { type: 'string', default: '1000' } } });
const ROOT = new URL('..', import.meta.url).pathname;
const FILE = positionals[0] ?? join(ROOT, 'bench/.data/vscode-cow-100mb.pltrace');
const tmp = mkdtempSync(join(tmpdir(), 'pl-open-'));
const out = join(tmp, 'core.cjs');
await build({
  stdin: {
    contents: `export { openTraceFiles } from './src/node/openFiles'; export { fileSource } from './src/node/fileSource'; export { SummaryLists } from './src/extension/logic/summaryPages'; export { viewInitFor, answerViewRequestFor } from './src/extension/viewBridge'; export { PartialViews } from './src/extension/logic/partialViews';`,
    resolveDir: ROOT, loader: 'ts',
  },
  bundle: true, platform: 'node', format: 'cjs', outfile: out, logLevel: 'warning',
});
const core = createRequire(import.meta.url)(out);
const workerScript = join(ROOT, 'dist/parseWorker.js');
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
console.log(`${FILE}: load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
for (let r = 0; r < Number(values.runs); r++) {
  const cacheDir = join(tmp, `index-${r}`);
  const w0 = performance.now();
  const c0 = cpu();
  // The views of the part read so far, as the worker makes and posts them (a structured clone each).
  const partial = { first: NaN, events: 0, n: 0, ms: 0, cpu: 0 };
  const views = new core.PartialViews((v) => {
    if (!v) return;
    structuredClone(v);
    if (partial.n++ === 0) {
      partial.first = performance.now() - w0;
      partial.events = v.events;
    }
  }, { samples: 800 });
  const asking = setTimeout(() => views.want(), Number(values['want-ms']));
  const onPrefix = (p) => {
    const t = performance.now();
    const c = cpu();
    views.prefix(p);
    partial.ms += performance.now() - t;
    partial.cpu += cpu() - c;
  };
  const opened = await core.openTraceFiles([core.fileSource(FILE)], { cacheDir, saveIndexLater: true, recordOwnership: true, workerScript, threads: Number(values.threads), ...(values.partial === '1' ? { onPrefix } : {}) });
  clearTimeout(asking);
  const model = opened.model;
  const w1 = performance.now();
  const c1 = cpu();
  new core.SummaryLists(model).digest();
  const w2 = performance.now();
  const init = core.viewInitFor(model);
  const w3 = performance.now();
  const [t0, t1] = init.timeEnd > init.timeStart ? [init.timeStart, init.timeEnd] : [init.timeStart - 1e6, init.timeStart + 1e6];
  const reply = core.answerViewRequestFor(model, { kind: 'series', t0, t1, n: 800, top: 8, pinned: [], hidden: [] });
  if (reply.kind !== 'series') throw new Error(`series: ${reply.message}`);
  const w4 = performance.now();
  const c4 = cpu();
  opened.saveIndex?.();
  const w5 = performance.now();
  const partialText = partial.n ? `first chart (part read so far) data after ${partial.first.toFixed(0)} ms (${partial.events} events), ${partial.n} partial views (${partial.ms.toFixed(0)} ms, ${partial.cpu.toFixed(0)} ms CPU in all); ` : 'no partial view; ';
  console.log(
    `${partialText}${opened.threads} threads: open ${(w1 - w0).toFixed(0)} ms (parse ${model.stats.parseMs}, analyze ${model.stats.analyzeMs}), digest ${(w2 - w1).toFixed(0)} ms, viewInit ${(w3 - w2).toFixed(0)} ms, series ${(w4 - w3).toFixed(0)} ms: ` +
      `full chart data after ${(w4 - w0).toFixed(0)} ms wall, ${(c4 - c0).toFixed(0)} ms CPU (after the parse ${(w4 - w1).toFixed(0)} ms wall, ${(c4 - c1).toFixed(0)} ms CPU); then the index ${(w5 - w4).toFixed(0)} ms`,
  );
}
rmSync(tmp, { recursive: true, force: true });
