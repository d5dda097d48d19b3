import { mkdtempSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { openTrace, summarize, type TraceModel, type TraceSummary } from '../../src/core/trace';
import { synthesize } from '../../src/core/synth/scenarios';
import { fileSource } from '../../src/node/fileSource';
import { defaultMainShare, openTraceParallel } from '../../src/node/parallelParse';
import { viewInit } from '../../src/core/view/viewRequests';

const dir = mkdtempSync(join(tmpdir(), 'pl-parallel-'));
const workerScript = join(dir, 'parseWorker.js');

beforeAll(async () => {
  await build({ entryPoints: [join(__dirname, '../../src/node/parseWorker.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: workerScript, logLevel: 'warning' });
}, 60_000);

/** The summary without timings (they differ from run to run). */
function plain(m: TraceModel): Omit<TraceSummary, 'stats'> & { events: number; lines: number; bytes: number } {
  const { stats, ...rest } = summarize(m);
  return { ...rest, events: stats.events, lines: stats.lines, bytes: stats.bytes };
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
 * worker sending small parts): the summaries must be equal. Returns why one thread was used, per split.
 */
async function compare(name: string, text: string, splits: (size: number, text: string) => number[], threads: number): Promise<(string | undefined)[]> {
  const whys: (string | undefined)[] = [];
  const path = join(dir, name);
  writeFileSync(path, text);
  const size = statSync(path).size;
  const one = plain(await openTrace([fileSource(path)]));
  for (const at of splits(size, text)) {
    const r = await openTraceParallel([fileSource(path)], { workerScript, minBytes: 0, splitAt: at, parseWorkers: 2, partEvents: 777 });
    expect({ at, threads: r.threads }).toEqual({ at, threads });
    expect(plain(r.model)).toEqual(one);
    whys.push(r.why);
    // One worker up to the split, the main thread parsing from there while it waits for parts.
    const local = await openTraceParallel([fileSource(path)], { workerScript, minBytes: 0, splitAt: at, mainShare: 0.5, partEvents: 777 });
    expect({ at, threads: local.threads, why: local.why }).toEqual({ at, threads: threads === 3 ? 2 : threads, why: r.why });
    expect(plain(local.model)).toEqual(one);
  }
  const streamed = await openTraceParallel([fileSource(path)], { workerScript, minBytes: 0, partEvents: 1000 });
  expect(streamed.threads).toBe(threads === 1 && whys[0] !== 'layout lines after the split' ? 1 : 2);
  expect(plain(streamed.model)).toEqual(one);
  return whys;
}

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

  it('reads a page_owner dump on one thread, even when asked to split inside a multi-line record', async () => {
    const text = pageOwnerDump();
    await compare('page_owner.txt', text, (_size, t) => [t.indexOf('PFN 0x100c8')], 1);
  });

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

  it('reads small files on one thread by default', async () => {
    const path = join(dir, 'small.pltrace');
    writeFileSync(path, nativeTrace());
    const r = await openTraceParallel([fileSource(path)], { workerScript });
    expect(r.threads).toBe(1);
    expect(r.why).toBe('small file');
  });

  it('has the main thread parse the last quarter of a big line-local file itself, but not of a native trace', () => {
    const MiB = 2 ** 20;
    expect(defaultMainShare('ftrace', 256 * MiB)).toBe(0.25);
    expect(defaultMainShare('perf-script', 1000 * MiB)).toBe(0.25);
    expect(defaultMainShare('ftrace', 256 * MiB - 1)).toBe(0);
    expect(defaultMainShare('pageledger', 611 * MiB)).toBe(0);
  });
});
