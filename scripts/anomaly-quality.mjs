// `npm run quality`: measures the anomaly rules. Generates the seed scenarios over many seeds with
// anomalies injected at known lines, analyses them with the core, and prints per-kind precision and
// recall as a Markdown table; then counts what clean traces (no injection) and the clean real samples in
// test/fixtures/real/ report. docs/anomalies.md holds the table this prints.
//
//   node scripts/anomaly-quality.mjs [--seeds N] [--events N] [--inject-every N] [--clean-seeds N]
import { build } from 'esbuild';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '20' },
    events: { type: 'string', default: '60000' },
    'inject-every': { type: 'string', default: '250' },
    'clean-seeds': { type: 'string', default: '4' },
  },
});
const seeds = Number(values.seeds);
const events = Number(values.events);
const injectEvery = Number(values['inject-every']);
const cleanSeeds = Number(values['clean-seeds']);

// The core is TypeScript: bundle the three entry points it needs into one temporary module.
const dir = mkdtempSync(join(tmpdir(), 'pageledger-quality-'));
const bundle = join(dir, 'core.mjs');
await build({
  stdin: {
    contents: [
      "export { synthesize, SCENARIOS, INJECTABLE } from './src/core/synth/scenarios';",
      "export { openTrace, summarize } from './src/core/trace';",
      "export { memorySource } from './src/core/io/memorySource';",
      "export { ANOMALY_KINDS } from './src/core/analysis/anomalies';",
    ].join('\n'),
    resolveDir: root,
    loader: 'ts',
  },
  bundle: true,
  platform: 'neutral',
  format: 'esm',
  outfile: bundle,
  logLevel: 'warning',
});
const core = await import(pathToFileURL(bundle).href);
rmSync(dir, { recursive: true, force: true });

async function analyse(name, text) {
  return core.summarize(await core.openTrace([core.memorySource(name, text, 1 << 20)]));
}

function generate(opts) {
  const parts = [];
  const truth = core.synthesize(opts, (c) => parts.push(c));
  return { text: parts.join(''), truth };
}

const key = (a) => `${a.kind} ${a.line} ${a.pfn}`;
const stats = new Map(core.INJECTABLE.map((k) => [k, { tp: 0, fp: 0, fn: 0 }]));
const stat = (k) => {
  if (!stats.has(k)) stats.set(k, { tp: 0, fp: 0, fn: 0 });
  return stats.get(k);
};
const misses = [];
const t0 = performance.now();
let traces = 0;
let totalEvents = 0;
let injected = 0;
for (const scenario of core.SCENARIOS) {
  for (let seed = 1; seed <= seeds; seed++) {
    const { text, truth } = generate({ scenario, seed, events, injectEvery });
    const s = await analyse(`${scenario}-${seed}.pltrace`, text);
    traces++;
    totalEvents += truth.events;
    injected += truth.anomalies.length;
    const expected = new Set(truth.anomalies.map(key));
    const reported = new Set(s.anomalies.map(key));
    for (const a of s.anomalies) {
      if (expected.has(key(a))) stat(a.kind).tp++;
      else {
        stat(a.kind).fp++;
        misses.push(`false positive ${scenario} seed ${seed}: ${key(a)}: ${a.message}`);
      }
    }
    for (const a of truth.anomalies) {
      if (!reported.has(key(a))) {
        stat(a.kind).fn++;
        misses.push(`missed ${scenario} seed ${seed}: ${key(a)}`);
      }
    }
  }
}

const clean = new Map();
let cleanEvents = 0;
for (const scenario of core.SCENARIOS) {
  for (let seed = 1; seed <= cleanSeeds; seed++) {
    const { text, truth } = generate({ scenario, seed: 1000 + seed, events, injectEvery: 0 });
    cleanEvents += truth.events;
    const s = await analyse(`${scenario}-clean-${seed}.pltrace`, text);
    for (const a of s.anomalies) clean.set(a.kind, (clean.get(a.kind) ?? 0) + 1);
  }
}
const seconds = ((performance.now() - t0) / 1000).toFixed(1);

const pct = (num, den) => (den === 0 ? 'n/a' : `${((100 * num) / den).toFixed(2)}%`);
const out = [];
out.push(`${traces} traces (${core.SCENARIOS.join(', ')}; seeds 1..${seeds}; ${events} events each, one injection per about ${injectEvery} events): ${totalEvents} events, ${injected} injected anomalies.`);
out.push('');
out.push('| kind | injected | reported | true positives | false positives | missed | precision | recall | false positives on clean traces |');
out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
let all = { tp: 0, fp: 0, fn: 0 };
let allClean = 0;
for (const [kind, st] of stats) {
  const c = clean.get(kind) ?? 0;
  allClean += c;
  all = { tp: all.tp + st.tp, fp: all.fp + st.fp, fn: all.fn + st.fn };
  out.push(`| ${kind} | ${st.tp + st.fn} | ${st.tp + st.fp} | ${st.tp} | ${st.fp} | ${st.fn} | ${pct(st.tp, st.tp + st.fp)} | ${pct(st.tp, st.tp + st.fn)} | ${c} |`);
}
for (const [kind, c] of clean) if (!stats.has(kind)) allClean += c;
out.push(`| **all** | ${all.tp + all.fn} | ${all.tp + all.fp} | ${all.tp} | ${all.fp} | ${all.fn} | ${pct(all.tp, all.tp + all.fp)} | ${pct(all.tp, all.tp + all.fn)} | ${allClean} |`);
out.push('');
out.push(`Clean traces: ${core.SCENARIOS.length * cleanSeeds} (seeds 1001..${1000 + cleanSeeds}, ${cleanEvents} events), ${allClean} anomalies.`);
out.push('');

// Real captures: each file starts with a "# SOURCE:" line naming where it comes from; the parsers expect
// the capture itself, so that line is stripped (as test/helpers.ts realFixture does).
const realDir = join(root, 'test', 'fixtures', 'real');
let realFiles = [];
try {
  realFiles = readdirSync(realDir).filter((f) => !f.startsWith('.') && !f.endsWith('.md')).sort();
} catch {
  realFiles = [];
}
out.push('| real sample | format | events | errors | warnings | infos | error-severity anomalies |');
out.push('| --- | --- | ---: | ---: | ---: | ---: | --- |');
for (const f of realFiles) {
  let text = readFileSync(join(realDir, f), 'utf8');
  if (text.startsWith('# SOURCE:')) text = text.slice(text.indexOf('\n') + 1);
  const s = await analyse(f, text);
  const by = (sev) => s.anomalies.filter((a) => a.severity === sev);
  const errors = by('error');
  const shown = errors.slice(0, 3).map((a) => `${a.kind} line ${a.line}: ${a.message.replace(/\|/g, '\\|')}`);
  if (errors.length > 3) shown.push(`... ${errors.length - 3} more`);
  out.push(`| ${f} | ${s.format} | ${s.stats.events} | ${errors.length} | ${by('warning').length} | ${by('info').length} | ${shown.join('<br>') || 'none'} |`);
}
out.push('');
out.push(`Measured in ${seconds} s.`);
const text = out.join('\n') + '\n';
process.stdout.write(text);
if (misses.length) {
  process.stderr.write(misses.slice(0, 50).join('\n') + (misses.length > 50 ? `\n... ${misses.length - 50} more\n` : '\n'));
}
if (process.env.QUALITY_OUT) writeFileSync(process.env.QUALITY_OUT, text);
process.exitCode = all.fn > 0 ? 1 : 0;
