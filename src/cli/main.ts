import { closeSync, createWriteStream, existsSync, openSync, readFileSync, realpathSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { normalize, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { ANOMALY_KINDS, RULES, type AnomalyKind, type RuleConfig, type Severity } from '../core/analysis/anomalies';
import { SCENARIOS, synthesize, type ScenarioName } from '../core/synth/scenarios';
import { anomalySummary, layoutSummary, ownerSummary, rankedOwnerIds, summarize, summaryJson, type AnomalySummary, type InputSource, type OwnerSummary, type TraceModel, type TraceSummary } from '../core/trace';
import { jsonPieces } from '../core/export/jsonPieces';
import { FORMATS } from '../core/formats/registry';
import { fileSource } from '../node/fileSource';
import { openTraceFiles } from '../node/openFiles';
import { criuDirInputs, isDirectory } from '../node/criuDir';
import { diffResultJson, diffSides, listComparable, toDiffResult, type DiffResult, type DiffSideSpec, type SnapshotDiff } from '../core/analysis/snapshotDiff';
import { toSarif } from '../core/export/sarif';
import { exportTrace, ExportDirError, type ExportFormat } from '../node/exportTrace';

/** Exit codes: documented in `pageledger --help` and the README. */
export const EXIT_OK = 0;
export const EXIT_ANOMALIES = 1;
export const EXIT_USAGE = 2;

class UsageError extends Error {}

const HELP = `pageledger: who owns every physical page frame, from kernel memory traces

Usage:
  pageledger analyze FILE... [--json] [--sarif OUT] [--fail-on-anomaly [error|warning]] [--config FILE] [--format NAME]
  pageledger synth --scenario NAME --seed N --events N -o FILE [--truth TRUTH.json] [--inject-every N]
  pageledger diff A [B] [--json] [--snapshot-a ID] [--snapshot-b ID] [--at T1 [--at T2]] [--pid P]
  pageledger export FILE... (--parquet DIR | --csv DIR) [--config FILE] [--format NAME]
  pageledger COMMAND --help

Exit codes: 0 ok; 1 anomalies found with --fail-on-anomaly; 2 bad usage or unreadable input.`;

const HELP_ANALYZE = `pageledger analyze FILE... [options]

Reads one or more traces (merged into one timeline), works out page ownership over time and reports
anomalies. The format of each file is detected from its content; .gz files are read transparently.

Options:
  --json                   print one JSON object (format, counts, livePages, owners, snapshots, anomalies, stats)
  --sarif OUT              also write the anomalies as SARIF 2.1.0 to OUT
  --fail-on-anomaly [SEV]  exit 1 when an anomaly of severity SEV or worse is found (default SEV: warning)
  --config FILE            JSON rule settings: {"rules": {"disabled": [kind...], "severity": {kind: "error"|"warning"|"info"}}}
  --format NAME            skip detection; one of: ${FORMATS.map((f) => f.name).join(', ')}
  --quiet                  no progress line
  --cache DIR              keep a persisted index of each trace in DIR (keyed by path, size and mtime):
                           reopening an unchanged trace loads it instead of parsing
  --threads 1|2            2 (default): a single big (>= 16 MiB) line-local trace is parsed on a second
                           thread while this one analyses what it parsed so far; a page_owner dump from
                           256 MiB is cut at a record past its middle, its halves parsed on the two threads

Rules: ${ANOMALY_KINDS.join(', ')}`;

const HELP_SYNTH = `pageledger synth --scenario NAME --seed N --events N -o FILE [--truth TRUTH.json] [--inject-every N]

Writes a deterministic synthetic trace in the Page Ledger format, with anomalies injected at known lines.
  --scenario NAME     one of: ${SCENARIOS.join(', ')}
  --seed N            random seed (same seed, same trace)
  --events N          number of events
  -o, --output FILE   the trace to write
  --truth FILE        where to write the injected anomalies as JSON ({anomalies: [{kind, line, pfn}]})
  --inject-every N    about one injected anomaly per N events (default 500; 0 = clean trace)`;

const HELP_DIFF = `pageledger diff A [B] [--json] [options]

Compares two moments page by page: two snapshot logs, two page_owner dumps, two CRIU pagemaps, two
snapshots inside one trace, the ownership of one trace at two times, or a snapshot against the ownership
at a time. B defaults to A. Prints pages per class (unchanged, added, removed, ownerChanged, cowSplit,
newlyShared, migrated, movedToSnapshot, freed, leaked) and, with --json, per owner, per node and every
changed page range with the source lines on each side.
  --snapshot-a ID, --snapshot-b ID   which snapshot of each file (default: the last one; the last two
                                      when A and B are the same file)
  --at T                              ownership at time T (ns, or "end"): once for B (A stays a
                                      snapshot), twice for A then B
  --at-a T, --at-b T                  the same, per side
  --pid P                             limit ownership at a time to pid P (default: the pid of the
                                      snapshot on the other side, if any)
  --json                              print the full result as JSON`;

const HELP_EXPORT = `pageledger export FILE... (--parquet DIR | --csv DIR) [options]

Reads one or more traces (merged into one timeline, as analyze does) and writes four tables into DIR, for
DuckDB, Spark or Trino: events (one row per event), intervals (who held each page from when to when),
owners and anomalies. Schema and example queries: docs/export.md.
  --parquet DIR    write DIR/events.parquet, intervals.parquet, owners.parquet, anomalies.parquet
                   (one row group per batch, typed INT64/INT32/UTF8/BOOLEAN columns, nulls where a value
                   does not apply)
  --csv DIR        write the same tables as DIR/TABLE.csv (header line; null is an empty field)
  --batch-rows N   rows per batch and Parquet row group (default 131072)
  --config FILE    rule settings for the anomalies table, as for analyze
  --format NAME    skip detection; one of: \${FORMATS.map((f) => f.name).join(', ')}
  --threads 1|2    as for analyze
  --quiet          no progress line

DIR is created when missing; existing tables in it are replaced. Both --parquet and --csv may be given.`;

/**
 * Where the CLI writes its output. A writer may return a promise when its sink is full; long outputs
 * (JSON in pieces) wait for it before the next piece.
 */
export type Writer = (s: string) => unknown;

/** Write to stdout; when its buffer is full, a promise that settles once it drained (fails if stdout fails). */
function stdoutWriter(s: string): void | Promise<void> {
  if (process.stdout.write(s)) return;
  return new Promise((resolve, reject) => {
    const settle = (e?: Error): void => {
      process.stdout.off('drain', settle).off('error', settle).off('close', settle);
      if (e instanceof Error) reject(e);
      else resolve();
    };
    process.stdout.on('drain', settle).on('error', settle).on('close', settle);
  });
}

/** Write pieces one after the other, waiting for the writer when it asks to. */
async function writePieces(pieces: Iterable<string>, out: Writer): Promise<void> {
  for (const p of pieces) {
    const w = out(p);
    if (w instanceof Promise) await w;
  }
}

/** Write pieces to a file, one write each, then a newline: the SARIF of a large trace was one string first. */
function writeFilePieces(path: string, pieces: Iterable<string>): void {
  const fd = openSync(path, 'w');
  // writeSync may write less than it is given; writeFileSync loops the same way.
  const write = (text: string): void => {
    const bytes = Buffer.from(text, 'utf8');
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
  };
  try {
    for (const p of pieces) write(p);
    write('\n');
  } finally {
    closeSync(fd);
  }
}

/** Run the CLI; returns the exit code. Output goes through the given writers (tests capture them). */
export async function main(argv: string[], out: Writer = stdoutWriter, err: (s: string) => void = (s) => process.stderr.write(s)): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'analyze':
        return await analyze(rest, out, err);
      case 'synth':
        return await synth(rest, out, err);
      case 'diff':
        return await diff(rest, out, err);
      case 'export':
        return await exportCommand(rest, out, err);
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        out(HELP + '\n');
        return cmd === undefined ? EXIT_USAGE : EXIT_OK;
      default:
        throw new UsageError(`unknown command "${cmd}": expected analyze, synth, diff or export`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      err(`pageledger: ${e.message}\n(see pageledger ${cmd && ['analyze', 'synth', 'diff', 'export'].includes(cmd) ? cmd + ' ' : ''}--help)\n`);
      return EXIT_USAGE;
    }
    if (e instanceof InputError) {
      err(`pageledger: ${e.message}\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
}

class InputError extends Error {}

type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;
type Values = Record<string, string | boolean | undefined>;

function parse(args: string[], options: OptionSpec): { values: Values; positionals: string[] } {
  try {
    const r = parseArgs({ args, options: { help: { type: 'boolean', short: 'h' }, ...options }, allowPositionals: true, strict: true });
    return { values: r.values as Values, positionals: r.positionals };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function checkReadable(files: string[]): void {
  for (const f of files) {
    if (!existsSync(f)) throw new InputError(`${f}: no such file`);
    const st = statSync(f);
    // A directory is a CRIU dump directory, expanded by criuDirInputs.
    if (st.isDirectory()) continue;
    try {
      // Open and close: reading the whole file here cost its full size in RSS and time (1 GB trace, 1 GB).
      closeSync(openSync(f, 'r'));
    } catch (e) {
      throw new InputError(`${f}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
}

function loadConfig(path: string | undefined): RuleConfig {
  if (!path) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError(`${path}: cannot read the rule config: ${(e as Error).message}`);
  }
  const rules = (raw as { rules?: { disabled?: unknown; severity?: unknown } }).rules ?? {};
  const cfg: RuleConfig = {};
  if (rules.disabled !== undefined) {
    if (!Array.isArray(rules.disabled)) throw new InputError(`${path}: rules.disabled must be a list of rule names`);
    for (const k of rules.disabled) if (!ANOMALY_KINDS.includes(k as AnomalyKind)) throw new InputError(`${path}: unknown rule "${k}" in rules.disabled; expected one of ${ANOMALY_KINDS.join(', ')}`);
    cfg.disabled = rules.disabled as AnomalyKind[];
  }
  if (rules.severity !== undefined) {
    const sev: Partial<Record<AnomalyKind, Severity>> = {};
    for (const [k, v] of Object.entries(rules.severity as Record<string, unknown>)) {
      if (!ANOMALY_KINDS.includes(k as AnomalyKind)) throw new InputError(`${path}: unknown rule "${k}" in rules.severity`);
      if (v !== 'error' && v !== 'warning' && v !== 'info') throw new InputError(`${path}: severity of ${k} must be error, warning or info`);
      sev[k as AnomalyKind] = v;
    }
    cfg.severity = sev;
  }
  return cfg;
}

async function load(files: string[], opts: { config?: string; format?: string; quiet?: boolean; cache?: string; threads?: string; recordOwnership?: boolean; deferAnalysis?: boolean }, err: (s: string) => void): Promise<TraceModel> {
  if (opts.threads !== undefined && opts.threads !== '1' && opts.threads !== '2') throw new UsageError(`--threads takes 1 or 2, not "${opts.threads}"`);
  checkReadable(files);
  const rules = loadConfig(opts.config);
  const tty = !opts.quiet && process.stderr.isTTY === true;
  let lastShown = 0;
  // Two dump directories of one chain share their ancestors: each image is read once.
  const seen = new Set<string>();
  const sources = files.flatMap((f) => (isDirectory(f) ? criuSources(f, opts.quiet === true, err, seen) : [fileSource(f)]));
  const { model } = await openTraceFiles(sources, {
    rules,
    format: opts.format,
    cacheDir: opts.cache,
    threads: opts.threads === '1' ? 1 : 2,
    recordOwnership: opts.recordOwnership,
    deferAnalysis: opts.deferAnalysis,
    onCacheError: (m) => err(`pageledger: ${m}\n`),
    onProgress: tty
      ? (done, total) => {
          const now = Date.now();
          if (now - lastShown < 200) return;
          lastShown = now;
          const pct = total ? ` ${((100 * done) / total).toFixed(0)}%` : '';
          err(`\rreading${pct} ${(done / 1e6).toFixed(0)} MB`);
        }
      : undefined,
  });
  if (tty && lastShown) err('\r\x1b[K');
  return model;
}

/** The decoded images of a CRIU dump directory and its parent chain; says on stderr what it left out. */
function criuSources(dir: string, quiet: boolean, err: (s: string) => void, seen: Set<string>): InputSource[] {
  const r = criuDirInputs(dir);
  if (r.sources.length === 0) {
    throw new InputError(`${dir}: is a directory with no crit JSON pagemap or mm image (in it or its parent chain); expected a trace file or a CRIU dump directory with images decoded by "crit decode --pretty"`);
  }
  if (!quiet && r.skipped.length) {
    err(`pageledger: ${dir}: read ${r.sources.length} images from ${r.chain.length} dump${r.chain.length === 1 ? '' : 's'}, skipped ${r.skipped.length} files (${r.skipped[0].path}: ${r.skipped[0].reason}${r.skipped.length > 1 ? ', ...' : ''})\n`);
  }
  return r.sources.filter((src) => {
    const real = realpathSync(src.path);
    if (seen.has(real)) return false;
    seen.add(real);
    return true;
  });
}

/** Whether `path`, a file read for a trace, came from the command-line argument `arg`: the file itself, or a file of the dump directory `arg`. */
function cameFrom(path: string, arg: string): boolean {
  const p = normalize(path);
  const a = normalize(arg).replace(/[\\/]+$/, '');
  return p === a || p.startsWith(a + sep);
}

const SEVERITY_RANK: Record<Severity, number> = { error: 3, warning: 2, info: 1 };

async function analyze(args: string[], out: Writer, err: (s: string) => void): Promise<number> {
  // --fail-on-anomaly takes an optional value; parseArgs has no optional values, so split it off first.
  let failOn: Severity | undefined;
  const rest: string[] = [];
  for (let k = 0; k < args.length; k++) {
    if (args[k] === '--fail-on-anomaly') {
      failOn = 'warning';
      const v = args[k + 1];
      if (v === 'error' || v === 'warning' || v === 'info') {
        failOn = v;
        k++;
      }
    } else if (args[k].startsWith('--fail-on-anomaly=')) {
      const v = args[k].slice('--fail-on-anomaly='.length);
      if (v !== 'error' && v !== 'warning' && v !== 'info') throw new UsageError(`--fail-on-anomaly takes error, warning or info, not "${v}"`);
      failOn = v;
    } else rest.push(args[k]);
  }
  const { values, positionals } = parse(rest, {
    json: { type: 'boolean' },
    sarif: { type: 'string' },
    config: { type: 'string' },
    format: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
    cache: { type: 'string' },
    threads: { type: 'string' },
  });
  if (values.help) {
    out(HELP_ANALYZE + '\n');
    return EXIT_OK;
  }
  if (positionals.length === 0) throw new UsageError('analyze needs at least one FILE');
  const model = await load(positionals, values as { config?: string; format?: string; quiet?: boolean; cache?: string; threads?: string }, err);
  // --json writes the summary as it makes it, in pieces: building it whole (objects, then one string)
  // held hundreds of MB at 10 M events. SARIF takes the whole summary; the text report its head.
  const summary = values.sarif ? summarize(model) : null;
  if (values.sarif) writeFilePieces(values.sarif as string, jsonPieces(toSarif(summary!), 4));
  if (values.json) {
    await writePieces(summary ? jsonPieces(summary, 2) : summaryJson(model), out);
    await writePieces(['\n'], out);
  } else out(renderText(textReport(model)));
  if (failOn) {
    const worst = model.result.anomalies.some((a) => SEVERITY_RANK[a.severity] >= SEVERITY_RANK[failOn!]);
    if (worst) return EXIT_ANOMALIES;
  }
  return EXIT_OK;
}

/** What the text report of `analyze` shows: totals, the top 10 owners and the first 20 anomalies. */
export interface TextReport {
  files: TraceSummary['files'];
  counts: TraceSummary['counts'];
  events: number;
  livePages: number;
  layout: TraceSummary['layout'];
  topOwners: OwnerSummary[];
  snapshots: number;
  liveSnapshots: number;
  anomalies: number;
  anomalyCounts: TraceSummary['anomalyCounts'];
  firstAnomalies: AnomalySummary[];
  stats: TraceModel['stats'];
}

const TEXT_OWNERS = 10;
const TEXT_ANOMALIES = 20;

/** The text report's figures, read from the model: the summary would make every owner, snapshot and anomaly. */
export function textReport(m: TraceModel): TextReport {
  const { builder: b, result: r } = m;
  const anomalyCounts: Record<string, number> = {};
  for (const a of r.anomalies) anomalyCounts[a.kind] = (anomalyCounts[a.kind] ?? 0) + 1;
  let dropped = 0;
  for (const s of b.snapshots) if (r.snapshots.get(s.id)?.dropped) dropped++;
  return {
    files: b.files.map((f) => ({ path: f.path, format: f.format, bytes: f.bytes, lines: f.lines })),
    counts: r.counts,
    events: b.events.length,
    livePages: r.livePages,
    layout: layoutSummary(m),
    topOwners: rankedOwnerIds(m)
      .slice(0, TEXT_OWNERS)
      .map((id) => ownerSummary(m, id)),
    snapshots: b.snapshots.length,
    liveSnapshots: b.snapshots.length - dropped,
    anomalies: r.anomalies.length,
    anomalyCounts,
    firstAnomalies: r.anomalies.slice(0, TEXT_ANOMALIES).map((_, k) => anomalySummary(m, k)),
    stats: m.stats,
  };
}

/** The text report of `analyze`. */
export function renderText(s: TextReport): string {
  const lines: string[] = [];
  const files = s.files.map((f) => `${f.path} (${f.format}, ${f.lines} lines)`).join(', ');
  lines.push(`${files}`);
  const counts = Object.entries(s.counts).map(([k, v]) => `${k} ${v}`).join(', ');
  lines.push(`events: ${s.events} (${counts || 'none'})`);
  lines.push(`live pages at end: ${s.livePages}`);
  if (s.layout.regions.length) {
    lines.push('layout:');
    for (const r of s.layout.regions) lines.push(`  node ${r.node} ${r.name} ${r.type} pfn ${r.start ?? '?'} +${r.pages}${r.device ? ` ${r.device}` : ''}`);
    const off = s.layout.blocks.filter((b) => b.state === 'offline').length;
    if (s.layout.blocks.length) lines.push(`  memory blocks: ${s.layout.blocks.length} (${off} offline at start)`);
  }
  lines.push('top owners (live / peak pages):');
  for (const o of s.topOwners) {
    const label = o.kind === 'process' ? `pid ${o.pid}${o.comm ? ` ${o.comm}` : ''}` : o.kind === 'file' ? `file ${o.dev}/${o.ino}` : o.kind === 'snapshot' ? `snapshot ${o.snap}` : o.kind === 'agent' ? `agent ${o.name}` : o.kind;
    lines.push(`  ${label.padEnd(32)} ${String(o.livePages).padStart(9)} ${String(o.peakPages).padStart(9)}`);
  }
  if (s.snapshots) lines.push(`snapshots: ${s.snapshots} (${s.liveSnapshots} live at end)`);
  const byKind = Object.entries(s.anomalyCounts).map(([k, v]) => `${k} ${v}`).join(', ');
  lines.push(`anomalies: ${s.anomalies}${byKind ? ` (${byKind})` : ''}`);
  for (const a of s.firstAnomalies) {
    lines.push(`  ${a.file}:${a.line}: ${a.severity} ${a.kind}: ${a.message}`);
  }
  if (s.anomalies > TEXT_ANOMALIES) lines.push(`  ... ${s.anomalies - TEXT_ANOMALIES} more (use --json or --sarif)`);
  lines.push(`read ${(s.stats.bytes / 1e6).toFixed(1)} MB, ${s.stats.lines} lines in ${s.stats.parseMs} ms, analysed in ${s.stats.analyzeMs} ms`);
  return lines.join('\n') + '\n';
}

async function synth(args: string[], out: Writer, _err: (s: string) => void): Promise<number> {
  const { values } = parse(args, {
    scenario: { type: 'string' },
    seed: { type: 'string' },
    events: { type: 'string' },
    output: { type: 'string', short: 'o' },
    truth: { type: 'string' },
    'inject-every': { type: 'string' },
  });
  if (values.help) {
    out(HELP_SYNTH + '\n');
    return EXIT_OK;
  }
  const scenario = values.scenario as string | undefined;
  if (!scenario || !SCENARIOS.includes(scenario as ScenarioName)) throw new UsageError(`--scenario must be one of ${SCENARIOS.join(', ')}`);
  const seed = intArg('--seed', values.seed as string | undefined, 0);
  const events = intArg('--events', values.events as string | undefined, 1);
  const injectEvery = values['inject-every'] === undefined ? 500 : intArg('--inject-every', values['inject-every'] as string, 0);
  const output = values.output as string | undefined;
  if (!output) throw new UsageError('synth needs -o FILE');
  const stream = createWriteStream(output);
  // synthesize() writes every chunk before it returns, so the stream drains afterwards: one wait for it,
  // not a listener for each write the stream's buffer refused.
  let pending: Promise<void> | null = null;
  const truth = synthesize({ scenario: scenario as ScenarioName, seed, events, injectEvery }, (chunk) => {
    if (!stream.write(chunk)) pending ??= new Promise((r) => stream.once('drain', () => r()));
  });
  if (pending) await pending;
  await new Promise<void>((resolve, reject) => stream.end((e?: Error | null) => (e ? reject(e) : resolve())));
  if (values.truth) writeFileSync(values.truth as string, JSON.stringify(truth, null, 1) + '\n');
  out(`wrote ${output}: ${truth.events} events, ${truth.lines} lines, ${truth.anomalies.length} injected anomalies${values.truth ? ` (truth: ${values.truth})` : ''}\n`);
  return EXIT_OK;
}

function intArg(name: string, v: string | undefined, min: number): number {
  if (v === undefined) throw new UsageError(`${name} N is required`);
  if (!/^\d+$/.test(v)) throw new UsageError(`${name} takes a whole number, not "${v}"`);
  const n = Number(v);
  if (n < min) throw new UsageError(`${name} must be at least ${min}`);
  return n;
}

async function diff(args: string[], out: Writer, err: (s: string) => void): Promise<number> {
  // --at may be given twice; parseArgs keeps only the last of a repeated string option, so collect it here.
  const times: string[] = [];
  const rest: string[] = [];
  for (let k = 0; k < args.length; k++) {
    if (args[k] === '--at') {
      if (k + 1 >= args.length) throw new UsageError('--at needs a time in ns (or "end")');
      times.push(args[++k]);
    } else if (args[k].startsWith('--at=')) times.push(args[k].slice(5));
    else rest.push(args[k]);
  }
  const { values, positionals } = parse(rest, {
    json: { type: 'boolean' },
    'snapshot-a': { type: 'string' },
    'snapshot-b': { type: 'string' },
    'at-a': { type: 'string' },
    'at-b': { type: 'string' },
    pid: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
  });
  if (values.help) {
    out(HELP_DIFF + '\n');
    return EXIT_OK;
  }
  if (positionals.length < 1 || positionals.length > 2) throw new UsageError('diff needs one or two files: A [B]');
  if (times.length > 2) throw new UsageError('--at is given at most twice (T1 for A, T2 for B)');
  const [a, b = a] = positionals;
  let atA = values['at-a'] as string | undefined;
  let atB = values['at-b'] as string | undefined;
  if (times.length === 2) [atA, atB] = [atA ?? times[0], atB ?? times[1]];
  else if (times.length === 1) {
    if (atB === undefined) atB = times[0];
    else atA ??= times[0];
  }
  const quiet = values.quiet as boolean;
  // Two snapshot files are read into one timeline, so a CRIU pagemap resolves its PE_PARENT pages
  // through the parent dump and two page_owner dumps see each other; each side keeps its own file.
  const together = a !== b && atA === undefined && atB === undefined;
  // The analysis runs only if a side reads it (ownership at a time does): two snapshots need the parse alone.
  const ma = await load(together ? [a, b] : [a], { quiet, deferAnalysis: true }, err);
  const mb = a === b || together ? ma : await load([b], { quiet, deferAnalysis: true }, err);
  // A line that could not be read may be a page missing from a side: say so rather than diff silently.
  for (const m of ma === mb ? [ma] : [ma, mb]) {
    const errors = m.builder.errors;
    for (const e of errors.slice(0, 5)) err(`${m.builder.files[e.file]?.path ?? '?'}:${e.line}: ${e.message}\n`);
    const more = Math.max(0, errors.length - 5) + m.builder.droppedErrors;
    if (more > 0) err(`... and ${more} more lines that could not be read (pageledger analyze lists them)\n`);
  }
  const pick = (m: TraceModel, v: unknown, which: 'a' | 'b'): number => {
    const file = which === 'a' ? a : b;
    // A side's snapshots are those of the files its argument named (a dump directory names several).
    const list = listComparable(m).filter((s) => cameFrom(m.builder.files[s.file]?.path ?? '', file));
    if (list.length === 0) throw new InputError(`${file}: has no snapshot to compare (use --at T to compare ownership at a time)`);
    if (v === undefined) {
      // Same file on both sides: its last two snapshots, unless the other side is a time.
      const bothSnapshots = atA === undefined && atB === undefined;
      return which === 'a' && a === b && bothSnapshots && list.length > 1 ? list[list.length - 2].id : list[list.length - 1].id;
    }
    // A snapshot id taken by the other file is renumbered on reading; its name keeps the id it had.
    const found = list.find((s) => String(s.id) === String(v)) ?? list.find((s) => s.name === `snapshot ${v}`);
    if (!found) throw new InputError(`no snapshot ${v} in ${file}; it has ${list.map((s) => s.id).join(', ')}`);
    return found.id;
  };
  const pid = values.pid === undefined ? undefined : intArg('--pid', values.pid as string, 0);
  const side = (m: TraceModel, at: string | undefined, snap: unknown, which: 'a' | 'b'): { spec: DiffSideSpec; id: { id?: number; time?: number } } => {
    if (at !== undefined) {
      const time = at === 'end' ? Infinity : /^\d+$/.test(at) ? Number(at) : NaN;
      if (time !== time) throw new UsageError(`--at takes a time in ns or "end", not "${at}"`);
      return { spec: { model: m, time, pid }, id: { time } };
    }
    const id = pick(m, snap, which);
    return { spec: { model: m, snapshot: id }, id: { id } };
  };
  const sa = side(ma, atA, values['snapshot-a'], 'a');
  const sb = side(mb, atB, values['snapshot-b'], 'b');
  let d: SnapshotDiff;
  try {
    d = diffSides(sa.spec, sb.spec);
  } catch (e) {
    throw new InputError((e as Error).message);
  }
  const ids = { a: sa.id, b: sb.id };
  if (values.json) {
    // In pieces, each change run described as it is written (135 k runs for two 1 M-page snapshots).
    await writePieces(diffResultJson(d, ids), out);
    await writePieces(['\n'], out);
  } else out(renderDiff(toDiffResult(d, ids)));
  return EXIT_OK;
}

async function exportCommand(args: string[], out: Writer, err: (s: string) => void): Promise<number> {
  const { values, positionals } = parse(args, {
    parquet: { type: 'string' },
    csv: { type: 'string' },
    'batch-rows': { type: 'string' },
    config: { type: 'string' },
    format: { type: 'string' },
    threads: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
  });
  if (values.help) {
    out(HELP_EXPORT + '\n');
    return EXIT_OK;
  }
  const targets: [ExportFormat, string][] = [];
  if (values.parquet !== undefined) targets.push(['parquet', values.parquet as string]);
  if (values.csv !== undefined) targets.push(['csv', values.csv as string]);
  if (targets.length === 0) throw new UsageError('export needs --parquet DIR or --csv DIR');
  for (const [f, dir] of targets) if (dir === '') throw new UsageError(`--${f} needs a directory`);
  if (positionals.length === 0) throw new UsageError('export needs at least one FILE');
  const batchRows = values['batch-rows'] === undefined ? undefined : intArg('--batch-rows', values['batch-rows'] as string, 1);
  // The intervals table comes from the page changes the analysis records as it goes: no second replay.
  const model = await load(positionals, { ...(values as { config?: string; format?: string; quiet?: boolean; threads?: string }), recordOwnership: true }, err);
  const t0 = performance.now();
  for (const [format, dir] of targets) {
    try {
      for (const t of await exportTrace(model, dir, format, batchRows)) out(`wrote ${t.path}: ${t.rows} rows\n`);
    } catch (e) {
      if (e instanceof ExportDirError) throw new InputError(e.message);
      throw e;
    }
  }
  if (!values.quiet) err(`exported ${model.builder.events.length} events in ${Math.round(performance.now() - t0)} ms (read and analysed in ${model.stats.parseMs + model.stats.analyzeMs} ms)\n`);
  return EXIT_OK;
}

function renderDiff(d: DiffResult): string {
  const lines = [`A: ${d.a.name} (${d.a.file}), ${d.a.pages} pages`, `B: ${d.b.name} (${d.b.file}), ${d.b.pages} pages`, `matched by ${d.key}`];
  for (const [k, v] of Object.entries(d.classes)) if (v) lines.push(`  ${k.padEnd(16)} ${String(v).padStart(9)} pages ${mib(d.bytes[k as keyof DiffResult['bytes']]).padStart(10)}`);
  const changed = (c: DiffResult['classes']): number => Object.entries(c).reduce((n, [k, v]) => (k === 'unchanged' ? n : n + v), 0);
  const owners = d.byOwner.filter((o) => changed(o.pages) > 0).sort((x, y) => changed(y.pages) - changed(x.pages));
  if (owners.length) {
    lines.push('most changed owners (changed pages):');
    for (const o of owners.slice(0, 10)) lines.push(`  ${o.owner.padEnd(36)} ${String(changed(o.pages)).padStart(9)}`);
  }
  lines.push(`${d.changes.length} changed page ranges${d.changes.length ? ' (--json lists them)' : ''}`);
  return lines.join('\n') + '\n';
}

function mib(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(0)} KiB`;
}

export { RULES };
