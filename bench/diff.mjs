// Diff of two 1-million-page snapshots (issue 7 goal: <= 1 s in the CLI). Both snapshot logs are
// generated in memory; the figures separate reading them (the parser, shared with analyze) from the diff.
// `node bench/diff.mjs --cli` also writes them to a temporary directory and times `node dist/cli.js diff
// A B --json > /dev/null` end to end (after `npm run build`), measured by /usr/bin/time.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PAGES = Number(process.env.DIFF_PAGES ?? 1_000_000);
const bundle = await build({ stdin: { contents: "export * from './src/core/trace'; export * from './src/core/io/memorySource'; export * from './src/core/analysis/snapshotDiff'; export * from './src/core/analysis/snapshotText'; export * from './src/core/analysis/pageSet';", resolveDir: '.', loader: 'ts' }, bundle: true, platform: 'node', format: 'esm', target: 'node20', write: false, logLevel: 'warning' });
const core = await import('data:text/javascript;base64,' + Buffer.from(bundle.outputFiles[0].text).toString('base64'));

/** A snapshot log of `n` pages of 8 processes over 2 nodes; `changed` rewrites about 1 page in 20. */
function snapshotLog(id, n, changed) {
  const out = [`pageledger-snapshot 1\nsnapshot id=${id} pid=1000 comm=app time=${id * 1000}\n`];
  let chunk = '';
  for (let i = 0; i < n; i++) {
    let pfn = 0x100000 + i;
    let pid = 1000 + ((i >> 10) & 7);
    let node = i < n / 2 ? 0 : 1;
    if (changed && i % 20 === 7) pid += 1; // owner changed
    if (changed && i % 20 === 13) pfn += n; // CoW split: same vaddr, new frame
    if (changed && i % 40 === 3) node = 1 - node; // migrated (another node, another frame)
    if (changed && i % 40 === 3) pfn += 2 * n;
    if (changed && i % 100 === 17) continue; // removed
    chunk += `page pfn=0x${pfn.toString(16)} vaddr=0x${(0x7f0000000000 + i * 4096).toString(16)} node=${node} pid=${pid}\n`;
    if (chunk.length > 1 << 20) {
      out.push(chunk);
      chunk = '';
    }
  }
  out.push(chunk);
  return new TextEncoder().encode(out.join(''));
}

const a = snapshotLog(1, PAGES, false);
const b = snapshotLog(2, PAGES, true);
// Wall time and this process's CPU time: on a shared machine the CPU figure is the steadier one.
let last = { wall: performance.now(), cpu: process.cpuUsage() };
function lap() {
  const now = { wall: performance.now(), cpu: process.cpuUsage() };
  const cpu = (now.cpu.user - last.cpu.user + now.cpu.system - last.cpu.system) / 1000;
  const text = `${(now.wall - last.wall).toFixed(0).padStart(6)} ms wall ${cpu.toFixed(0).padStart(6)} ms cpu`;
  last = now;
  return text;
}
console.log(`snapshot diff, ${PAGES} pages a side (${(a.length / 1e6).toFixed(0)} + ${(b.length / 1e6).toFixed(0)} MB of snapshot logs)`);
lap();
// As `pageledger diff a b` reads them: one timeline, the analysis deferred (two snapshots never read it).
const m = await core.openTrace([core.memorySource('a.plsnap', a), core.memorySource('b.plsnap', b)], { deferAnalysis: true });
console.log(`  read both logs (parse)            ${lap()}`);
const sa = core.snapshotPageSet(m, 1);
console.log(`  page set A (in order)             ${lap()}`);
const sb = core.snapshotPageSet(m, 2);
console.log(`  page set B (needs a sort)         ${lap()}`);
const d = core.diffPageSets(sa, sb);
console.log(`  classify                          ${lap()}`);
const json = core.toDiffResult(d);
console.log(`  change runs for --json            ${lap()}   (${json.changes.length} runs)`);
const text = core.renderDiffText(d);
console.log(`  canonical text of both sides      ${lap()}   (${text.a.firstPage.length} + ${text.b.firstPage.length} lines)`);
console.log(`  diff = page sets + classify: goal <= 1000 ms`);
console.log(`  classes: ${Object.entries(json.classes).filter(([, v]) => v).map(([k, v]) => `${k} ${v}`).join(', ')}`);

if (process.argv.includes('--cli')) {
  const dir = mkdtempSync(join(tmpdir(), 'pageledger-diff-bench-'));
  try {
    writeFileSync(join(dir, 'a.plsnap'), a);
    writeFileSync(join(dir, 'b.plsnap'), b);
    const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', process.execPath, 'dist/cli.js', 'diff', join(dir, 'a.plsnap'), join(dir, 'b.plsnap'), '--json'], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    const [wall, user, sys, rss] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
    console.log(`  pageledger diff A B --json, end to end: ${(wall * 1000).toFixed(0)} ms wall ${((user + sys) * 1000).toFixed(0)} ms cpu, peak RSS ${(rss / 1024).toFixed(0)} MB (exit ${r.status})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
