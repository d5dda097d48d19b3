import { mkdtempSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { openTrace, parseSource, summarize, type TraceModel, type TraceSummary } from '../../src/core/trace';
import { Replay } from '../../src/core/analysis/replay';
import { LineReader } from '../../src/core/formats/lineReader';
import { pageOwnerFormat, pageOwnerSite } from '../../src/core/formats/pageOwner';
import { memorySource } from '../../src/core/io/memorySource';
import { EventKind } from '../../src/core/model/events';
import { PartAppender, PartCutter } from '../../src/core/model/partStream';
import { TraceBuilder, type ParseError } from '../../src/core/model/traceBuilder';
import { rng } from '../helpers';
import { synthesize } from '../../src/core/synth/scenarios';
import { fileSource } from '../../src/node/fileSource';
import { defaultMainShare, MIN_RECORD_SPLIT_BYTES, openTraceParallel } from '../../src/node/parallelParse';
import { ownershipIndexOf, viewInit } from '../../src/core/view/viewRequests';

const dir = mkdtempSync(join(tmpdir(), 'pl-parallel-'));
const workerScript = join(dir, 'parseWorker.js');

beforeAll(async () => {
  await build({ entryPoints: [join(__dirname, '../../src/node/parseWorker.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: workerScript, logLevel: 'warning' });
}, 60_000);

/** The summary without timings (they differ from run to run), with the parse errors. */
function plain(m: TraceModel): Omit<TraceSummary, 'stats'> & { events: number; lines: number; bytes: number; errors: ParseError[]; dropped: number } {
  const { stats, ...rest } = summarize(m);
  return { ...rest, events: stats.events, lines: stats.lines, bytes: stats.bytes, errors: m.builder.errors, dropped: m.builder.droppedErrors };
}

function writeTrace(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

function nativeTrace(): string {
  const parts: string[] = [];
  synthesize({ scenario: 'cow-snapshots', seed: 5, events: 20000 }, (s) => parts.push(s));
  return parts.join('');
}

function ftraceTrace(): string {
  const lines = ['# tracer: nop', '#', '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION'];
  const live: number[] = [];
  let seed = 1;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
  for (let k = 0; k < 6000; k++) {
    const pid = 1000 + rnd(40);
    const comm = rnd(10) === 0 ? '<...>' : ['postgres', 'kworker/u16:2', 'nginx: worker'][pid % 3];
    const ts = `${100 + Math.floor(k / 1000)}.${String((k % 1000) * 997).padStart(6, '0')}`;
    if (live.length && rnd(2) === 0) {
      const pfn = live.splice(rnd(live.length), 1)[0];
      lines.push(`${comm}-${pid} [00${rnd(4)}] d..1. ${ts}: mm_page_free: page=0000000000000000 pfn=0x${pfn.toString(16)} order=0`);
    } else {
      // Now and then a page allocated twice: the rules must report it at the same line either way.
      const pfn = rnd(50) === 0 && live.length ? live[0] : 0x100000 + rnd(1 << 16);
      live.push(pfn);
      lines.push(`${comm}-${pid} [00${rnd(4)}] ..... ${ts}: mm_page_alloc: page=0000000000000000 pfn=0x${pfn.toString(16)} order=${rnd(8) === 0 ? 1 : 0} migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE`);
    }
    if (k === 3001) lines.push('this line is not ftrace');
  }
  return lines.join('\n') + '\n';
}

function pageOwnerDump(): string {
  const recs: string[] = [];
  for (let k = 0; k < 400; k++) {
    recs.push(`Page allocated via order 0, mask 0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), pid ${100 + (k % 9)}, tgid ${100 + (k % 9)} (app), ts ${1_000_000 + k} ns\nPFN 0x${(0x10000 + k).toString(16)} type Movable Block 128 type Movable Flags 0x17ffffc0020068(uptodate|lru|active|node=0|zone=2)\n get_page_from_freelist+0x1422/0x1540\n __alloc_pages+0x17e/0x340\n`);
  }
  return recs.join('\n') + '\n';
}

/**
 * Open `text` on one thread, then with two parse workers split at each of `splits` (and with one parse
 * worker sending small parts): the summaries (and what `also` reads of a model) must be equal. Returns
 * why one thread was used, per split.
 */
async function compare(
  name: string,
  text: string,
  splits: (size: number, text: string) => number[],
  threads: number,
  also: (m: TraceModel) => unknown = () => null,
): Promise<(string | undefined)[]> {
  const whys: (string | undefined)[] = [];
  const path = join(dir, name);
  writeFileSync(path, text);
  const size = statSync(path).size;
  const oneModel = await openTrace([fileSource(path)]);
  const one = { ...plain(oneModel), also: also(oneModel) };
  const same = (m: TraceModel): void => expect({ ...plain(m), also: also(m) }).toEqual(one);
  for (const at of splits(size, text)) {
    const r = await openTraceParallel([fileSource(path)], { workerScript, minBytes: 0, splitAt: at, parseWorkers: 2, partEvents: 777 });
    expect({ at, threads: r.threads }).toEqual({ at, threads });
    same(r.model);
    whys.push(r.why);
    // One worker up to the split, the main thread parsing from there while it waits for parts.
    const local = await openTraceParallel([fileSource(path)], { workerScript, minBytes: 0, splitAt: at, mainShare: 0.5, partEvents: 777 });
    expect({ at, threads: local.threads, why: local.why }).toEqual({ at, threads: threads === 3 ? 2 : threads, why: r.why });
    same(local.model);
  }
  const streamed = await openTraceParallel([fileSource(path)], { workerScript, minBytes: 0, partEvents: 1000 });
  expect(streamed.threads).toBe(threads === 1 && whys[0] !== 'layout lines after the split' ? 1 : 2);
  same(streamed.model);
  return whys;
}

/** The allocation site of each page_owner record, as the builder's site table gives it. */
function sites(m: TraceModel): (string | undefined)[] {
  const ev = m.builder.events;
  return Array.from({ length: ev.length }, (_, i) => (ev.kind.get(i) === EventKind.Record ? pageOwnerSite(m.builder, ev.arg.get(i)) : 'not a record'));
}

const STACKS = [
  [' get_page_from_freelist+0x1422/0x1540', ' __alloc_pages+0x17e/0x340', ' alloc_pages_mpol+0x97/0x1a0'],
  [' get_page_from_freelist+0x1422/0x1540', ' __alloc_pages+0x17e/0x340', ' folio_alloc+0x18/0x50', ' filemap_alloc_folio+0xe2/0xf0'],
  [' __alloc_pages+0x17e/0x340', ' kmalloc_large+0x20/0xa0'],
];

/**
 * `n` page_owner records (each without its blank line), seeded: the 6.x layout with now and then a 5.x
 * header (pid without comm, so an owner may get its comm from a later record), timestamps out of order,
 * orders 0-3, a pfn allocated twice now and then (an anomaly quoting its owners), migrate, memcg and
 * unknown lines; the 4.x layout (no pid, no timestamps, address columns) with `layout4`. Records at the
 * indices in `bad` are faulty, each in its own way.
 */
function poRecords(n: number, seed: number, opts: { layout4?: boolean; bad?: number[] } = {}): string[] {
  const r = rng(seed);
  const out: string[] = [];
  let pfn = 0x100000;
  const held: number[] = [];
  for (let k = 0; k < n; k++) {
    const order = r() < 0.8 ? 0 : 1 + Math.floor(r() * 3);
    pfn = (pfn + (1 << order) + Math.floor(r() * 3)) & ~((1 << order) - 1);
    const at = order === 0 && held.length > 0 && r() < 0.02 ? held[Math.floor(r() * held.length)] : pfn;
    if (order === 0) held.push(at);
    const pid = 100 + Math.floor(r() * 30);
    const comm = ['postgres', 'kworker/u16:2', 'odd, name (x)'][pid % 3];
    const ts = 1_000_000 + Math.floor(r() * 1e9);
    const stack = STACKS[Math.floor(r() * STACKS.length)];
    const lines = opts.layout4
      ? [`Page allocated via order ${order}, mask 0x14200ca(GFP_HIGHUSER_MOVABLE)`, `PFN ${at} type Movable Block ${at >> 9} type Movable Flags 0x1fffff80000068(uptodate|lru|active)`, ...stack.map((f, j) => ` [<ffffffff811b3e${(0xd0 + j).toString(16)}>]${f}`)]
      : [
          r() < 0.15
            ? `Page allocated via order ${order}, mask 0x100cca(GFP_HIGHUSER_MOVABLE), pid ${pid}, ts ${ts} ns, free_ts 0 ns`
            : `Page allocated via order ${order}, mask 0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), pid ${pid}, tgid ${pid} (${comm}), ts ${ts} ns`,
          `PFN 0x${at.toString(16)} type Movable Block ${at >> 9} type Movable Flags 0x17ffffc0020068(uptodate|lru|active|node=0|zone=2)`,
          ...stack,
        ];
    const x = r();
    if (x < 0.03) lines.push('Page has been migrated, last migrate reason: compaction');
    else if (x < 0.06) lines.push('Charged to memcg session-2.scope');
    else if (x < 0.07) lines.push('a vendor line nobody knows');
    const b = opts.bad?.indexOf(k) ?? -1;
    if (b >= 0) {
      // An impossible order (then the PFN and stack lines are outside any record), a PFN that is no
      // number, a record with no PFN line, and a line that is no record at all.
      if (b % 4 === 0) lines[0] = lines[0].replace(/order \d+/, 'order 99');
      else if (b % 4 === 1) lines[1] = 'PFN zz type Movable';
      else if (b % 4 === 2) lines.splice(1, 1);
      else lines.unshift('not a page_owner line');
    }
    out.push(lines.join('\n'));
  }
  return out;
}

/** Records as a dump prints them: a blank line after each. */
function dumpText(recs: string[]): string {
  return recs.map((x) => x + '\n\n').join('');
}

/** Offsets at which to split a dump: the middle, inside a record, at a record start, at the blank line before it, and at the last record. */
function dumpSplits(size: number, t: string): number[] {
  const start = t.indexOf('\n\nPage allocated', Math.floor(size / 2)) + 2;
  return [Math.floor(size / 2), t.indexOf('PFN ', Math.floor(size * 0.6)) + 2, start, start - 1, t.lastIndexOf('\n\nPage allocated') + 2];
}

/**
 * Parse `text` in two byte ranges cut at `split`, each by a parser of its own into its own builder,
 * merged into one builder as the parallel open does (parts appended, then the format's range state);
 * then parse the files of `more` into that builder and run the replay.
 */
async function rangesThenFiles(name: string, text: string, split: number, more: [string, string][]): Promise<TraceModel> {
  const bytes = new TextEncoder().encode(text);
  const b = new TraceBuilder();
  b.beginFile(name, 'page_owner', bytes.length);
  let lines = 0;
  for (const [s, e] of [
    [0, split],
    [split, bytes.length],
  ]) {
    const rb = new TraceBuilder();
    rb.beginFile(name, 'page_owner', e - s);
    const p = pageOwnerFormat.create({ builder: rb, path: name });
    const reader = new LineReader((x, i, j, n) => p.line(x, i, j, n));
    reader.feed(bytes.subarray(s, e));
    reader.end();
    p.end(reader.lines);
    const part = new PartCutter(rb).end(e - s, reader.lines, pageOwnerFormat.rangeSplit!.rangeState(rb));
    const first = b.events.length;
    new PartAppender(b, lines).append(part);
    pageOwnerFormat.rangeSplit!.mergeRange(b, part.end!.state, first);
    lines += reader.lines;
  }
  b.endFile(lines);
  let total = bytes.length;
  for (const [path, t] of more) {
    lines += await parseSource(b, memorySource(path, t), {}, () => {});
    total += new TextEncoder().encode(t).length;
  }
  return { builder: b, result: new Replay(b).run(), format: 'page_owner', stats: { bytes: total, lines, parseMs: 0, analyzeMs: 0 } };
}

describe('a page_owner dump read in two ranges, then a later dump', () => {
  for (const layout4 of [false, true]) {
    it(`frees what the later dump lacks as after one parser (${layout4 ? '4.x layout, no timestamps' : '6.x layout'})`, async () => {
      const recs = poRecords(1200, layout4 ? 17 : 16, { layout4 });
      const first = dumpText(recs);
      // The later dump: every third record of the first kept, the rest gone, and records of its own.
      const later = dumpText([...recs.filter((_, k) => k % 3 === 0), ...poRecords(300, 18, { layout4 }).map((x) => x.replace(/ts (\d+) ns/, (_m, t: string) => `ts ${Number(t) + 2e9} ns`))]);
      const split = first.indexOf('\n\nPage allocated', first.length / 2) + 2;
      const one = await openTrace([memorySource('d1.txt', first), memorySource('d2.txt', later)]);
      expect(one.builder.counters.get('freedBetweenDumps')).toBeGreaterThan(500);
      const two = await rangesThenFiles('d1.txt', first, split, [['d2.txt', later]]);
      expect({ ...plain(two), sites: sites(two) }).toEqual({ ...plain(one), sites: sites(one) });
    });
  }
});

describe('parallel parse', () => {
  it('gives the single-thread model for a native trace split anywhere (middle, inside a line, at a line start, right after the layout lines, near the end)', async () => {
    const text = nativeTrace();
    const afterLayout = (t: string): number => t.indexOf('\n', t.lastIndexOf('\nblock ') + 1);
    await compare('native.pltrace', text, (size, t) => [Math.floor(size / 2), t.indexOf('\n', 5000) - 3, t.indexOf('\n', 9000) + 1, afterLayout(t), t.lastIndexOf('\n', t.length - 2) - 5], 3);
  });

  it('falls back to one thread when layout lines fall after the split', async () => {
    expect(await compare('native-head.pltrace', nativeTrace(), () => [1], 1)).toEqual(['layout lines after the split']);
  });

  it('gives the single-thread model for ftrace text with a parse error in the second half', async () => {
    await compare('kmem.txt', ftraceTrace(), (size) => [Math.floor(size / 3), Math.floor(size / 2) + 7], 3);
  });

  it('gives the single-thread model for a page_owner dump in time order split at a record start', async () => {
    const text = pageOwnerDump();
    await compare('page_owner.txt', text, (_size, t) => [t.indexOf('PFN 0x100c8')], 3, sites);
  });

  it('gives the single-thread model for a page_owner dump split in a record, at a record start, at the blank line before it and at the last record', async () => {
    const text = dumpText(poRecords(3000, 7));
    expect(await compare('po6.txt', text, dumpSplits, 3, sites)).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  it('gives the single-thread model for a page_owner dump with a header of comment lines, and for the 4.x layout', async () => {
    const head = '# captured with: cat /sys/kernel/debug/page_owner\n# kernel 6.8.0-45-generic\n\n';
    await compare('po-head.txt', head + dumpText(poRecords(2000, 8)), dumpSplits, 3, sites);
    await compare('po4.txt', dumpText(poRecords(2000, 9, { layout4: true })), dumpSplits, 3, sites);
  });

  it('reports parse errors of the second range at their lines in the file', async () => {
    const recs = poRecords(2000, 10, { bad: [1500, 1600, 1700, 1800, 1900, 1950, 1990, 1999] });
    const text = dumpText(recs);
    const path = join(dir, 'po-errors.txt');
    writeFileSync(path, text);
    const r = await openTraceParallel([fileSource(path)], { workerScript, minBytes: 0 });
    expect(r.threads).toBe(2);
    const errors = r.model.builder.errors;
    expect(errors.length).toBeGreaterThan(8);
    const lines = text.split('\n');
    // The first faulty record (an order of 99) is the first error, at its own line.
    expect(lines[errors[0].line - 1]).toMatch(/^Page allocated via order 99, /);
    for (const e of errors) expect(e.line).toBeGreaterThan(text.slice(0, text.length / 2).split('\n').length);
    await compare('po-errors.txt', text, dumpSplits, 3, sites);
  });

  it('reads a page_owner dump below 256 MiB on one thread, and cuts it from there', async () => {
    // 17 MiB: over the line-local formats' 16 MiB, under the size from which a cut dump gains.
    const block = dumpText(poRecords(2000, 14));
    const path = join(dir, 'po-17mib.txt');
    writeFileSync(path, block.repeat(Math.ceil((17 * 2 ** 20) / block.length)));
    const r = await openTraceParallel([fileSource(path)], { workerScript });
    expect([r.threads, r.why]).toEqual([1, `page_owner below ${MIN_RECORD_SPLIT_BYTES >> 20} MiB`]);
    const cut = await openTraceParallel([fileSource(path)], { workerScript, minBytes: 16 * 2 ** 20 });
    expect(cut.threads).toBe(2);
    expect(plain(cut.model)).toEqual(plain(r.model));
  });

  it('falls back to one thread when no record starts after a blank line past the split', async () => {
    // Records with no blank line between them from the middle on (a dump passed through `grep -v '^$'`).
    const recs = poRecords(1000, 11);
    const text = dumpText(recs.slice(0, 300)) + recs.slice(300).join('\n') + '\n';
    const whys = await compare('po-noblank.txt', text, (size) => [Math.floor(size / 2), text.lastIndexOf('\n\n') + 3], 1, sites);
    expect(whys[0]).toMatch(/^no page_owner record starts after a blank line within 1 MiB from byte \d+$/);
  });

  it('finds a record start whose header the first window it is looked for in cuts off', async () => {
    const head = dumpText(poRecords(20, 12));
    let text = head + 'Page allocated via order 0, mask 0x0(), pid 1, tgid 1 (init), ts 5 ns\nPFN 0x10 type Movable Block 0 type Movable Flags 0x0()\n';
    const from = text.length + 100;
    // The first window is [from - 4 KiB, from + 60 KiB): the only record start after `from` begins 10
    // bytes before its end.
    const start = from + 61440 - 10;
    while (start - 1 - text.length > 100) text += ' ' + 'x'.repeat(78) + '\n';
    text += ' ' + 'y'.repeat(start - 1 - text.length - 2) + '\n\n';
    expect(text.length).toBe(start);
    text += poRecords(50, 13).join('\n') + '\n';
    await compare('po-window.txt', text, () => [from], 3, sites);
  });

  it('gives the single-thread model when the dump printed twice in one file is cut between the two copies', async () => {
    // One file is one dump: the second copy's records are allocations again of the same frames.
    const once = dumpText(poRecords(1500, 14));
    await compare('po-twice.txt', once + once, (size) => [once.length, Math.floor(size / 2) + 100], 3, sites);
  });

  it('gives the single-thread model and recorded ownership for a page_owner dump out of time order', async () => {
    const path = join(dir, 'po-record.txt');
    writeFileSync(path, dumpText(poRecords(5000, 15)));
    const one = await openTrace([fileSource(path)], { recordOwnership: true });
    const r = await openTraceParallel([fileSource(path)], { workerScript, minBytes: 0, partEvents: 1024, recordOwnership: true });
    expect(r.threads).toBe(2);
    expect(one.result.order).not.toBeNull();
    expect(plain(r.model)).toEqual(plain(one));
    expect(viewInit(r.model)).toEqual(viewInit(one));
  }, 60_000);

  it('streams parts of whole chunks to the analysis and gives the single-thread model and recorded ownership', async () => {
    const parts: string[] = [];
    synthesize({ scenario: 'cow-snapshots', seed: 11, events: 200000 }, (c) => parts.push(c));
    const path = join(dir, 'big.pltrace');
    writeFileSync(path, parts.join(''));
    const one = await openTrace([fileSource(path)], { recordOwnership: true });
    for (const [parseWorkers, mainShare] of [[1, 0], [1, 0.25], [1, 0.6], [2, 0]] as const) {
      const r = await openTraceParallel([fileSource(path)], { workerScript, minBytes: 0, parseWorkers, mainShare, partEvents: 65536, recordOwnership: true });
      expect(r.threads).toBe(parseWorkers + 1);
      expect(plain(r.model)).toEqual(plain(one));
      expect(r.model.result.order).toBeNull();
      expect(viewInit(r.model)).toEqual(viewInit(one));
    }
  }, 60_000);

  it('replays the whole trace in time order at the end when a later part goes back in time', async () => {
    const lines = ['pageledger-trace 1'];
    for (let k = 0; k < 70000; k++) lines.push(`${1000 + k} alloc pfn=0x${(0x100000 + k).toString(16)} order=0 pid=${10 + (k % 5)} comm=app`);
    // Late in the file, an event stamped before most of the others: the replay must see it in time order.
    lines.push('1500 free pfn=0x100005 order=0', '1501 free pfn=0x100005 order=0');
    const r = await openTraceParallel([fileSource(writeTrace('back.pltrace', lines))], { workerScript, minBytes: 0, partEvents: 65536 });
    const one = await openTrace([fileSource(join(dir, 'back.pltrace'))]);
    expect(r.threads).toBe(2);
    expect(r.model.result.order).not.toBeNull();
    expect(plain(r.model)).toEqual(plain(one));
    expect(r.model.result.anomalies.map((a) => [a.kind, a.line])).toEqual([['double-free', 70003]]);
  }, 60_000);

  it('quotes an owner with the comm it gets later in the file, as one pass does', async () => {
    const lines = ['pageledger-trace 1', '100 alloc pfn=0x100000 order=0 pid=7', '101 map pid=8 vaddr=0x7f0000000000 pfn=0x100000'];
    for (let k = 0; k < 200000; k++) lines.push(`${200 + k} alloc pfn=0x${(0x200000 + k).toString(16)} order=0 pid=9 comm=filler`);
    lines.push('300000 alloc pfn=0x300000 order=0 pid=7 comm=late');
    const path = writeTrace('late-comm.pltrace', lines);
    const one = await openTrace([fileSource(path)]);
    expect(one.result.anomalies.map((a) => a.message).join('\n')).toContain('pid 7 (late)');
    const r = await openTraceParallel([fileSource(path)], { workerScript, minBytes: 0, partEvents: 65536 });
    expect(r.threads).toBe(2);
    expect(plain(r.model)).toEqual(plain(one));
  }, 60_000);

  it('gives the single-thread model when the main thread parses a range of several parts after one whose last chunk is full, or not', async () => {
    // One event a line: the worker's range ends on a chunk boundary at 2 * CHUNK lines, and 100 lines past
    // it; the main thread's range is more than LOCAL_PART_CHUNKS chunks, so the worker copies it in parts.
    const lines = ['pageledger-trace 1'];
    const n = 7 * 65536 + 1234;
    for (let k = 0; k < n; k++) {
      const pid = 10 + (k % 37);
      const pfn = (0x100000 + (k % 50000)).toString(16);
      // A pid first seen without its comm in the first range gets it in the second (a patched label).
      const comm = pid === 13 && k < 3 * 65536 ? '' : ` comm=app${pid % 5}`;
      if (k % 3 === 2) lines.push(`${1000 + k} free pfn=0x${pfn} order=0`);
      else if (k % 7 === 1) lines.push(`${1000 + k} map pid=${pid} vaddr=0x7f00${pfn}000 pfn=0x${pfn}`);
      else lines.push(`${1000 + k} alloc pfn=0x${pfn} order=0 pid=${pid}${comm}`);
    }
    const path = writeTrace('tail.pltrace', lines);
    const one = await openTrace([fileSource(path)], { recordOwnership: true });
    expect(one.builder.events.length).toBe(n);
    const starts = [0];
    for (const l of lines) starts.push(starts[starts.length - 1] + Buffer.byteLength(l) + 1);
    for (const first of [2 * 65536, 2 * 65536 + 100]) {
      // The header is line 0: the worker's range ends before event `first`'s line.
      const r = await openTraceParallel([fileSource(path)], { workerScript, minBytes: 0, splitAt: starts[1 + first], mainShare: 0.5, partEvents: 65536, recordOwnership: true });
      expect({ first, threads: r.threads, why: r.why }).toEqual({ first, threads: 2, why: undefined });
      expect(plain(r.model)).toEqual(plain(one));
      expect(viewInit(r.model)).toEqual(viewInit(one));
    }
  }, 60_000);

  it('has the worker parse the rest of the main thread\'s range from where the main thread stopped, as one pass', async () => {
    // ftrace text whose last third brings new pids, a pid first seen as <...> that gets its name, an
    // error line and an over-long line.
    const lines = ['# tracer: nop', '#'];
    for (let k = 0; k < 3000; k++) {
      const late = k >= 2000;
      const pid = late && k % 3 === 0 ? 2000 + (k % 17) : 1000 + (k % 11);
      const comm = pid === 1005 && k < 2500 ? '<...>' : `app${pid % 4}`;
      const ts = `${100 + Math.floor(k / 1000)}.${String((k % 1000) * 997).padStart(6, '0')}`;
      const pfn = (0x100000 + (k % 700)).toString(16);
      if (k % 2) lines.push(`${comm}-${pid} [001] ..... ${ts}: mm_page_free: page=0000000000000000 pfn=0x${pfn} order=0`);
      else lines.push(`${comm}-${pid} [000] ..... ${ts}: mm_page_alloc: page=0000000000000000 pfn=0x${pfn} order=0 migratetype=1 gfp_flags=GFP_KERNEL`);
      if (k === 2222) lines.push('this line is not ftrace');
      if (k === 2600) lines.push('x'.repeat(70000));
    }
    const text = lines.join('\n') + '\n';
    const path = writeTrace('rest.txt', lines);
    const one = await openTrace([fileSource(path)], { recordOwnership: true });
    expect(one.builder.errors.length).toBe(2);
    const split = text.indexOf('\n', Math.floor(text.length * 0.4)) + 1;
    const range = text.length - split;
    const lineAt = (t: string): number => split + text.indexOf('\n', t.length ? text.indexOf(t) - split : 0);
    const longAt = text.indexOf('x'.repeat(100)) - split;
    // Nothing parsed; one byte; in a line; at a line start; inside the over-long line; at the last byte; all of it.
    const stops = [0, 1, 777, text.indexOf('\n', split + 5000) + 1 - split, longAt + 30000, range - 1, range, range + 10];
    expect(lineAt('')).toBeGreaterThan(0);
    for (const handOverAfter of stops) {
      const r = await openTraceParallel([fileSource(path)], { workerScript, minBytes: 0, splitAt: split, mainShare: 0.5, handOverAfter, partEvents: 777, recordOwnership: true });
      expect({ handOverAfter, threads: r.threads, why: r.why }).toEqual({ handOverAfter, threads: 2, why: undefined });
      expect(plain(r.model)).toEqual(plain(one));
      expect(viewInit(r.model)).toEqual(viewInit(one));
    }
  }, 60_000);

  it('has the worker parse the rest of a main thread\'s range of several chunks, after copying what the main thread parsed', async () => {
    const lines = ['pageledger-trace 1'];
    const n = 6 * 65536 + 999;
    for (let k = 0; k < n; k++) {
      // New pids all along, so that the rest has owners of its own; pid 13 gets its comm in the rest.
      const pid = 10 + (k % 37) + Math.floor(k / 20000);
      const pfn = (0x100000 + (k % 50000)).toString(16);
      const comm = pid === 13 && k < 5 * 65536 ? '' : ` comm=app${pid % 5}`;
      if (k % 3 === 2) lines.push(`${1000 + k} free pfn=0x${pfn} order=0`);
      else lines.push(`${1000 + k} alloc pfn=0x${pfn} order=0 pid=${pid}${comm}`);
      if (k === 5 * 65536 + 7) lines.push('1 alloc pfn=nothex');
    }
    const path = writeTrace('rest.pltrace', lines);
    const one = await openTrace([fileSource(path)], { recordOwnership: true });
    expect(one.builder.errors.length).toBe(1);
    const starts = [0];
    for (const l of lines) starts.push(starts[starts.length - 1] + Buffer.byteLength(l) + 1);
    const split = starts[1 + 65536 + 100];
    const size = statSync(path).size;
    // The main thread stops in its third chunk, its fifth (one part to copy, of fewer than TAIL_FIRST_CHUNKS +
    // LOCAL_PART_CHUNKS chunks), or its sixth (a first part of TAIL_FIRST_CHUNKS chunks and a last one).
    for (const at of [2 * 65536 + 3000, 4 * 65536 + 5, 5 * 65536 + 5]) {
      const handOverAfter = starts[1 + 65536 + 100 + at] + 9 - split;
      expect(handOverAfter).toBeLessThan(size - split);
      const r = await openTraceParallel([fileSource(path)], { workerScript, minBytes: 0, splitAt: split, mainShare: 0.5, handOverAfter, partEvents: 65536, recordOwnership: true });
      expect({ at, threads: r.threads, why: r.why }).toEqual({ at, threads: 2, why: undefined });
      expect(plain(r.model)).toEqual(plain(one));
      expect(viewInit(r.model)).toEqual(viewInit(one));
    }
  }, 60_000);

  it('reads small files on one thread by default', async () => {
    const path = join(dir, 'small.pltrace');
    writeFileSync(path, nativeTrace());
    const r = await openTraceParallel([fileSource(path)], { workerScript });
    expect(r.threads).toBe(1);
    expect(r.why).toBe('small file');
  });

  it('has the main thread parse the last 0.45 of a big line-local file itself, but not of a native trace', () => {
    const MiB = 2 ** 20;
    expect(defaultMainShare('ftrace', 256 * MiB)).toBe(0.45);
    expect(defaultMainShare('perf-script', 1000 * MiB)).toBe(0.45);
    expect(defaultMainShare('ftrace', 256 * MiB - 1)).toBe(0);
    expect(defaultMainShare('pageledger', 611 * MiB)).toBe(0);
  });
});

describe('the part read so far on two threads (onPrefix)', () => {
  it('shows, as each part is replayed, what the full analysis shows over its range', async () => {
    // Parts are whole chunks of the event store (65,536 events): 300 k events make five.
    const parts: string[] = [];
    synthesize({ scenario: 'cow-snapshots', seed: 6, events: 300_000 }, (x) => parts.push(x));
    const path = writeTrace('prefix-native.pltrace', [parts.join('')]);
    const seen: { range: [number, number]; series: unknown; bytesRead: number }[] = [];
    const r = await openTraceParallel([fileSource(path)], {
      workerScript,
      minBytes: 0,
      partEvents: 1000,
      recordOwnership: true,
      onPrefix: (p) => {
        expect(p).not.toBeNull();
        const range = p!.range();
        if (!range) return;
        const s = p!.series(50, 6)!;
        seen.push({ range, series: { ...s, unknown: undefined }, bytesRead: p!.bytesRead });
      },
    });
    expect(r.threads).toBe(2);
    expect(seen.length).toBeGreaterThan(3);
    const ix = ownershipIndexOf(r.model);
    for (const s of seen) expect(s.series).toEqual({ ...ix.series(s.range[0], s.range[1], 50, 6), unknown: undefined });
    expect(seen.map((s) => s.range[1])).toEqual(seen.map((s) => s.range[1]).sort((a, b) => a - b));
    // The same model as on one thread without prefixes.
    expect(plain(r.model)).toEqual(plain(await openTrace([fileSource(path)], { recordOwnership: true })));
  });

  it('shows nothing of a format not listed in time order, and withdraws a prefix when an event goes back in time', async () => {
    const lines = ['pageledger-trace 1'];
    for (let t = 1; t <= 300_000; t++) lines.push(`${t * 10} alloc pfn=${0x1000 + t} pid=${1 + (t % 7)}`);
    lines.push('15 free pfn=0x1001');
    for (let t = 300_001; t <= 310_000; t++) lines.push(`${t * 10} free pfn=${0x1000 + t - 5000}`);
    const path = writeTrace('prefix-back.pltrace', lines);
    const calls: (number | null)[] = [];
    const r = await openTraceParallel([fileSource(path)], { workerScript, minBytes: 0, partEvents: 500, recordOwnership: true, onPrefix: (p) => calls.push(p && p.events) });
    expect(r.threads).toBe(2);
    const at = calls.indexOf(null);
    expect(at).toBeGreaterThan(2);
    expect(calls.length).toBe(at + 1);
    expect(plain(r.model)).toEqual(plain(await openTrace([fileSource(path)], { recordOwnership: true })));
    const po: unknown[] = [];
    const dump = writeTrace('prefix-po.txt', poRecords(3000, 3).map((r) => r + '\n'));
    await openTraceParallel([fileSource(dump)], { workerScript, minBytes: 0, partEvents: 500, recordOwnership: true, onPrefix: (p) => po.push(p) });
    expect(po).toEqual([]);
  });
});
