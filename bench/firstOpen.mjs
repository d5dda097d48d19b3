// The analysis worker's first open of a trace, without VS Code: `openTraceFiles` as src/extension/worker.ts
// calls it (a fresh index folder, two threads, `recordOwnership`, the index written later), the `open`
// reply's digest, the view's `viewInit`, then the index write the worker runs once idle. Prints each
// step's wall time and the CPU of the process (main thread and parse worker).
// Usage: node bench/firstOpen.mjs [FILE] [--threads 1|2] [--runs N]   (after `npm run build`)
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir, loadavg } from 'node:os';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { threads: { type: 'string', default: '2' }, runs: { type: 'string', default: '1' } } });
const ROOT = new URL('..', import.meta.url).pathname;
const FILE = positionals[0] ?? join(ROOT, 'bench/.data/vscode-cow-100mb.pltrace');
const tmp = mkdtempSync(join(tmpdir(), 'pl-open-'));
const out = join(tmp, 'core.cjs');
await build({
  stdin: {
    contents: `export { openTraceFiles } from './src/node/openFiles'; export { fileSource } from './src/node/fileSource'; export { SummaryLists } from './src/extension/logic/summaryPages'; export { viewInitFor } from './src/extension/viewBridge';`,
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
  const opened = await core.openTraceFiles([core.fileSource(FILE)], { cacheDir, saveIndexLater: true, recordOwnership: true, workerScript, threads: Number(values.threads) });
  const model = opened.model;
  const w1 = performance.now();
  new core.SummaryLists(model).digest();
  const w2 = performance.now();
  core.viewInitFor(model);
  const w3 = performance.now();
  const c3 = cpu();
  opened.saveIndex?.();
  const w4 = performance.now();
  console.log(`${opened.threads} threads: open ${(w1 - w0).toFixed(0)} ms (parse ${model.stats.parseMs}, analyze ${model.stats.analyzeMs}), digest ${(w2 - w1).toFixed(0)} ms, viewInit ${(w3 - w2).toFixed(0)} ms: view data after ${(w3 - w0).toFixed(0)} ms wall, ${(c3 - c0).toFixed(0)} ms CPU; then the index ${(w4 - w3).toFixed(0)} ms`);
}
rmSync(tmp, { recursive: true, force: true });
