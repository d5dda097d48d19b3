import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { detectFormat } from '../../src/core/formats/registry';
import { summarize, type TraceSummary } from '../../src/core/trace';
import { EventKind } from '../../src/core/model/events';
import { analyzeText, openText, realFixture } from '../helpers';
import { generate, render, STYLES, TASKS, type StreamEvent, type TextStyle } from './eventTextStyles';

const FORMAT_OF: Record<TextStyle, string> = {
  'ftrace-modern': 'ftrace',
  'ftrace-old': 'ftrace',
  'trace-cmd': 'trace-cmd',
  'perf-script': 'perf-script',
};

/** Live pages per pid (0 for the kernel), from a summary. */
function liveByPid(s: TraceSummary): Record<number, number> {
  const out: Record<number, number> = {};
  for (const o of s.owners) {
    if (o.livePages === 0) continue;
    if (o.kind === 'kernel') out[0] = o.livePages;
    else if (o.kind === 'process') out[o.pid!] = o.livePages;
  }
  return out;
}

/** Anomalies as [kind, index of the event in the stream, pfn], lines mapped back through lineOf. */
function anomaliesByEvent(s: TraceSummary, lineOf: number[]): [string, number, string | null][] {
  const eventAt = new Map(lineOf.map((line, k) => [line, k]));
  return s.anomalies.map((a) => [a.kind, eventAt.get(a.line) ?? -a.line, a.pfn]);
}

describe('real ftrace captures', () => {
  it('Android 4.14 kmem trace: 8 allocations by pid 22275, one failed allocation by kswapd0', async () => {
    const s = await analyzeText(realFixture('ftrace-kmem-1.txt'), 'ftrace-kmem-1.txt');
    expect(s.format).toBe('ftrace');
    expect(s.counts).toEqual({ alloc: 8, allocFailed: 1 });
    expect(s.livePages).toBe(8);
    expect(liveByPid(s)).toEqual({ 22275: 8 });
    // `<...>` means ftrace lost the task name: no comm rather than a fake one.
    expect(s.owners[0]).toMatchObject({ kind: 'process', pid: 22275, livePages: 8 });
    expect(s.owners[0].comm).toBeUndefined();
    expect(s.anomalies).toEqual([]);
    expect(s.time).toEqual({ start: 889_213_383_000, end: 889_213_398_000 });
  });

  it('Android filemap trace with record-tgid: 30 page-cache adds, 28 pages held by 9 files', async () => {
    const s = await analyzeText(realFixture('ftrace-filemap-1.txt'), 'ftrace-filemap-1.txt');
    expect(s.format).toBe('ftrace');
    expect(s.counts).toEqual({ cacheAdd: 30 });
    // pfn 719246 and 864982 are added twice (the trace does not record the deletions in between).
    expect(s.livePages).toBe(28);
    const files = Object.fromEntries(s.owners.filter((o) => o.kind === 'file' && o.livePages).map((o) => [`${o.dev}/${o.ino!.toString(16)}`, o.livePages]));
    expect(files).toEqual({
      '253:6/b285': 10,
      '253:6/7580': 7,
      '253:6/1': 4,
      '253:6/9a64': 2,
      '253:6/b1d8': 1,
      '253:6/712d': 1,
      '253:6/b7dd': 1,
      '253:6/758f': 1,
      '253:6/7591': 1,
    });
    expect(s.owners.some((o) => o.kind === 'process')).toBe(false);
    expect(s.anomalies).toEqual([]);
  });
});

describe('one allocation stream in four text styles', () => {
  const { stream, expected } = generate(7, 1500);
  const renders = STYLES.map((style) => ({ style, ...render(stream, TASKS, style) }));

  it('is detected as the right format in every style', () => {
    for (const r of renders) expect(detectFormat(r.text.slice(0, 65536))?.name, r.style).toBe(FORMAT_OF[r.style]);
  });

  it('gives the counts, live pages and owners of a naive page map, identical in every style', async () => {
    expect(expected.doubleFree.length + expected.doubleAlloc.length).toBe(6);
    const byPid = Object.fromEntries(expected.byPid);
    const results: unknown[] = [];
    for (const r of renders) {
      const s = await analyzeText(r.text, `stream.${r.style}`);
      expect(s.format, r.style).toBe(FORMAT_OF[r.style]);
      expect({ alloc: s.counts.alloc, free: s.counts.free, allocFailed: s.counts.allocFailed }, r.style).toEqual({
        alloc: expected.alloc,
        free: expected.free,
        allocFailed: expected.allocFailed,
      });
      expect(s.livePages, r.style).toBe(expected.livePages);
      expect(liveByPid(s), r.style).toEqual(byPid);
      const byEvent = anomaliesByEvent(s, r.lineOf);
      expect(byEvent.filter((a) => a[0] === 'double-free').map((a) => a[1]), r.style).toEqual(expected.doubleFree);
      expect(byEvent.filter((a) => a[0] === 'double-alloc').map((a) => a[1]), r.style).toEqual(expected.doubleAlloc);
      expect(s.anomalies.filter((a) => a.kind === 'parse-error'), r.style).toEqual([]);
      results.push({ counts: s.counts, live: s.livePages, owners: liveByPid(s), anomalies: byEvent, time: s.time, events: s.stats.events });
    }
    for (const r of results.slice(1)) expect(r).toEqual(results[0]);
  });

  it('gives exact figures for a hand-written stream with page cache, fork, exit and allocator-internal events', async () => {
    const ev: StreamEvent[] = [
      { op: 'fork', us: 1_000_001, pid: 101, child: 303 },
      { op: 'alloc', us: 1_000_002, pid: 303, pfn: 0x1286c, order: 2 },
      { op: 'zoneLocked', us: 1_000_003, pid: 303, pfn: 0x1286c },
      { op: 'alloc', us: 1_000_004, pid: 707, pfn: 0x20000, order: 0 },
      { op: 'cacheAdd', us: 1_000_005, pid: 707, pfn: 0x20000, dev: '8:1', ino: 0x1a2b, ofs: 8192 },
      { op: 'alloc', us: 1_000_006, pid: 0, pfn: 0x30000, order: 1 },
      { op: 'allocFailed', us: 1_000_007, pid: 404, order: 3 },
      { op: 'allocFailed', us: 1_000_008, pid: 404, order: 0 },
      { op: 'free', us: 1_000_009, pid: 303, pfn: 0x1286c, order: 2 },
      { op: 'pcpuDrain', us: 1_000_010, pid: 0, pfn: 0x1286c },
      { op: 'free', us: 1_000_011, pid: 101, pfn: 0x1286c, order: 2 },
      { op: 'alloc', us: 1_000_012, pid: 505, pfn: 0x30001, order: 0 },
      { op: 'cacheDelete', us: 1_000_013, pid: 404, pfn: 0x20000, dev: '8:1', ino: 0x1a2b, ofs: 8192 },
      { op: 'extfrag', us: 1_000_014, pid: 202, pfn: 0x40000 },
      { op: 'migrateSummary', us: 1_000_015, pid: 404 },
      { op: 'unknown', us: 1_000_016, pid: 101 },
      { op: 'alloc', us: 1_000_017, pid: 606, pfn: 0x50000, order: 3 },
      { op: 'freeBatched', us: 1_000_018, pid: 606, pfn: 0x50007 },
      { op: 'exit', us: 1_000_019, pid: 101 },
    ];
    const outs: unknown[] = [];
    for (const style of STYLES) {
      const r = render(ev, TASKS, style);
      const s = await analyzeText(r.text, `hand.${style}`);
      expect(s.format).toBe(FORMAT_OF[style]);
      expect(s.counts, style).toEqual({
        fork: 1,
        alloc: 5,
        other: 4,
        cacheAdd: 1,
        cacheDelete: 1,
        allocFailed: 2,
        free: 3,
        exit: 1,
        mm_page_alloc_zone_locked: 1,
        mm_page_pcpu_drain: 1,
        mm_page_alloc_extfrag: 1,
        mm_migrate_pages: 1,
        unknownEvents: 1,
      });
      // Kernel (pid 0): 0x30000 (0x30001 went to pid 505: a double alloc). File 8:1/0x1a2b keeps its page
      // after the delete until it is freed; pid 606: 8 pages minus the batched (order-0) free of 0x50007.
      expect(s.livePages, style).toBe(1 + 1 + 1 + 7);
      expect(liveByPid(s), style).toEqual({ 0: 1, 505: 1, 606: 7 });
      expect(s.owners.find((o) => o.kind === 'file')).toMatchObject({ dev: '8:1', ino: 0x1a2b, livePages: 1 });
      expect(anomaliesByEvent(s, r.lineOf), style).toEqual([
        ['double-free', 10, '0x1286c'],
        ['double-alloc', 11, '0x30001'],
      ]);
      expect(s.owners.find((o) => o.pid === 303)).toMatchObject({ comm: 'Web Content', livePages: 0, peakPages: 4 });
      // Messages name related lines; map them to events so the styles compare.
      const eventAt = new Map(r.lineOf.map((line, k) => [line, k]));
      outs.push(s.anomalies.map((a) => a.message.replace(/line (\d+)/g, (_, l: string) => `event ${eventAt.get(Number(l))}`)));
    }
    for (const o of outs.slice(1)) expect(o).toEqual(outs[0]);
  });

  it('gives the same result whatever the chunk size', async () => {
    const r = render(stream.slice(0, 300), TASKS, 'ftrace-old');
    const whole = await analyzeText(r.text, 'test');
    for (const chunk of [1, 7, 100]) {
      const s = await analyzeText(r.text, 'test', {}, chunk);
      expect({ c: s.counts, l: s.livePages, a: s.anomalies, o: s.owners }).toEqual({ c: whole.counts, l: whole.livePages, a: whole.anomalies, o: whole.owners });
    }
  });
});

/** An ftrace body line from its parts. */
const ft = (task: string, rest: string): string => `${task} [001] .... 100.000001: ${rest}`;

describe('ftrace line quirks', () => {
  it('finds the pid after the last "-" whatever the comm holds, brackets included', async () => {
    const text = [
      ft('   ld-linux-x86-64-4242', 'mm_page_alloc: page=1 pfn=0x10 order=0 gfp_flags=GFP_KERNEL'),
      ft('     Web Content-17', 'mm_page_alloc: page=1 pfn=0x11 order=0 gfp_flags=GFP_KERNEL'),
      ft('   kworker/u16:3-99', 'mm_page_alloc: page=1 pfn=0x12 order=0 gfp_flags=GFP_KERNEL'),
      ft('           <...>-5', 'mm_page_alloc: page=1 pfn=0x13 order=0 gfp_flags=GFP_KERNEL'),
      ft('        (sd-pam)-6', 'mm_page_alloc: page=1 pfn=0x14 order=0 gfp_flags=GFP_KERNEL'),
      ft('  a-1 b-2 c-3-77', 'mm_page_alloc: page=1 pfn=0x15 order=1 gfp_flags=GFP_KERNEL'),
      ft('  foo [0] bar[1]-88', 'mm_page_alloc: page=1 pfn=0x19 order=0 gfp_flags=GFP_KERNEL'),
      ft('      <idle>-0', 'mm_page_alloc: page=1 pfn=0x17 order=0 gfp_flags=GFP_ATOMIC'),
      ft('   swapper/3-0', 'mm_page_alloc: page=1 pfn=0x18 order=0 gfp_flags=GFP_ATOMIC'),
    ].join('\n');
    const s = await analyzeText(text);
    expect(s.format).toBe('ftrace');
    const procs = s.owners.filter((o) => o.kind === 'process').map((o) => [o.pid, o.comm, o.livePages]);
    expect(procs).toEqual([
      [77, 'a-1 b-2 c-3', 2],
      [4242, 'ld-linux-x86-64', 1],
      [17, 'Web Content', 1],
      [99, 'kworker/u16:3', 1],
      [5, undefined, 1],
      [6, '(sd-pam)', 1],
      [88, 'foo [0] bar[1]', 1],
    ]);
    expect(s.owners.find((o) => o.kind === 'kernel')!.livePages).toBe(2);
    expect(s.anomalies).toEqual([]);
  });

  it('reads the tgid column, padded or dashed, with 4- and 5-character flags or none', async () => {
    const text = [
      '            bash-123   (  120) [002] d..1. 200.000001: mm_page_alloc: page=x pfn=0x100 order=0 gfp_flags=GFP_KERNEL',
      '            bash-124   (-------) [002] .... 200.000002: mm_page_alloc: page=x pfn=0x101 order=0 gfp_flags=GFP_KERNEL',
      '            bash-125   (-----) [002] 200.000003: mm_page_alloc: page=x pfn=0x102 order=0 gfp_flags=GFP_KERNEL',
      '            bash-126 [002] dNs2. 200.000004: mm_page_alloc: page=x pfn=0x103 order=0 gfp_flags=GFP_KERNEL',
    ].join('\n');
    const s = await analyzeText(text);
    expect(s.format).toBe('ftrace');
    expect(s.owners.filter((o) => o.kind === 'process').map((o) => [o.pid, o.tgid])).toEqual([
      [123, 120],
      [124, undefined],
      [125, undefined],
      [126, undefined],
    ]);
    expect(s.time).toEqual({ start: 200_000_001_000, end: 200_000_004_000 });
    expect(s.anomalies).toEqual([]);
  });

  it('reads timestamps of 0 to 12 fraction digits as exact nanoseconds, after flags or none, and names bad ones', async () => {
    const stamps = ['7', '7.', '.5', '12.3', '12.000345', '4294967.123456789', '1.1234567891', '99.999999999999'];
    const lines = stamps.flatMap((t, k) => [
      `  a-1 [000] d..1. ${t}: mm_page_alloc: page=1 pfn=${k} order=0 gfp_flags=GFP_KERNEL`,
      `  a-1 [000] ${t}: mm_page_free: page=1 pfn=${k} order=0`,
    ]);
    const m = await openText(lines.join('\n'), 'stamps.txt');
    const ev = m.builder.events;
    const times = Array.from({ length: ev.length }, (_, i) => ev.time.get(i));
    const want = [7e9, 7e9, 5e8, 12_300_000_000, 12_000_345_000, 4_294_967_123_456_789, 1_123_456_789, 99_999_999_999];
    expect(times).toEqual(want.flatMap((t) => [t, t]));
    const bad = ['1.2.3:', '1.5:x', 'abc:', ':', '12,5:'].map((t) => `  a-1 [000] d..1. ${t} mm_page_alloc: page=1 pfn=1 order=0`);
    const s = summarize(await openText(['  a-1 [000] d..1. 1.0: mm_page_alloc: page=1 pfn=1 order=0', ...bad].join('\n'), 'bad.txt'));
    expect(s.anomalies.map((a) => [a.line, a.message])).toEqual([
      [2, 'expected a timestamp in seconds (e.g. 1234.567890:), found "1.2.3:"'],
      [3, 'expected a timestamp in seconds followed by ":" after the CPU column, found "1.5:x mm_page_alloc: page=1 pfn=1 order=0"'],
      [4, 'expected a timestamp in seconds (e.g. 1234.567890:), found "abc:"'],
      [5, 'expected a timestamp in seconds (e.g. 1234.567890:), found ":"'],
      [6, 'expected a timestamp in seconds (e.g. 1234.567890:), found "12,5:"'],
    ]);
  });

  it('matches event names exactly: a name with the hash of a known one, a prefix or an extension is not it', async () => {
    // The parser finds names by a hash h = h * 31 + byte: one more in the 12th byte and 31 less in the 13th
    // gives another name with the same hash ("mm_page_allpD").
    const known = 'mm_page_alloc';
    const twin = known.slice(0, -2) + String.fromCharCode(known.charCodeAt(11) + 1) + String.fromCharCode(known.charCodeAt(12) - 31);
    const text = [
      ft('a-1', `${known}: page=1 pfn=0x10 order=0 gfp_flags=GFP_KERNEL`),
      ft('a-1', `${twin}: page=1 pfn=0x11 order=0 gfp_flags=GFP_KERNEL`),
      ft('a-1', 'mm_page_allo: page=1 pfn=0x12 order=0 gfp_flags=GFP_KERNEL'),
      ft('a-1', 'mm_page_allocx: page=1 pfn=0x13 order=0 gfp_flags=GFP_KERNEL'),
      ft('a-1', 'kmem:mm_page_free: page=1 pfn=0x10 order=0'),
    ].join('\n');
    const s = await analyzeText(text);
    expect(s.counts).toEqual({ alloc: 1, free: 1, unknownEvents: 3 });
  });

  it('counts every spelling of a failed allocation as allocFailed, never as an allocation', async () => {
    const fails = ['page=(null) pfn=0', 'page= (null) pfn=0', 'page=          (null) pfn=0', 'page=0000000000000000 pfn=0x0', 'page=(nil) pfn=0x0', 'page=0x0 pfn=0x0', '[FAILED TO PARSE] pfn=18446744073709551615', 'page=(null) pfn=-1'];
    const text = ['# tracer: nop', '#', ...fails.map((f) => ft('kswapd0-1207', `mm_page_alloc: ${f} order=0 migratetype=1 nr_free=3650 gfp_flags=GFP_NOWAIT|__GFP_NOWARN`))].join('\n');
    const s = await analyzeText(text);
    expect(s.counts).toEqual({ allocFailed: 8 });
    expect(s.livePages).toBe(0);
    expect(s.anomalies).toEqual([]);
  });

  it('tells a NULL page from a pointer by its whole token, and a pfn by its whole token, in any spelling', async () => {
    const text = [
      ft('a-1', 'mm_page_alloc: page=0x pfn=0x20 order=0 gfp_flags=GFP_KERNEL'),
      ft('a-1', 'mm_page_alloc: page=00x0 pfn=0X21 order=0 gfp_flags=GFP_KERNEL'),
      ft('a-1', 'mm_page_alloc: page=0X000 pfn=34 order=0 gfp_flags=GFP_KERNEL'),
      ft('a-1', 'mm_page_alloc: page=0 pfn=0x23 order=0 gfp_flags=GFP_KERNEL'),
      ft('a-1', 'mm_page_alloc: page=(nil)x pfn=0x24 order=0 gfp_flags=GFP_KERNEL'),
      ft('a-1', 'mm_page_alloc: page=1 pfn=0x order=0 gfp_flags=GFP_KERNEL'),
      ft('a-1', 'mm_page_alloc: page=1 pfn=1f order=0 gfp_flags=GFP_KERNEL'),
      ft('a-1', 'mm_page_alloc: page=1 pfn=0xfg order=0 gfp_flags=GFP_KERNEL'),
      ft('a-1', 'mm_page_alloc: page=1 pfn= order=0 gfp_flags=GFP_KERNEL'),
      ft('a-1', 'mm_page_alloc: page=1 pfn=0x25 order= gfp_flags=GFP_KERNEL'),
      ft('a-1', 'mm_page_free: pfn=0x25 order=0'),
    ].join('\n');
    const m = await openText(text, 'ptr.txt');
    const s = summarize(m);
    expect(s.counts).toEqual({ alloc: 3, allocFailed: 3, free: 1 });
    expect(s.anomalies.map((a) => a.line)).toEqual([6, 7, 8, 9]);
    expect(s.anomalies[0].message).toBe('mm_page_alloc: expected pfn= with a page frame number (decimal or 0x hex)');
    const ev = m.builder.events;
    expect(Array.from({ length: ev.length }, (_, i) => [ev.kind.get(i), ev.pfn.get(i)])).toEqual([
      [1, 0x20],
      [1, 0x21],
      [3, 0],
      [3, 0],
      [3, 0],
      [1, 0x25],
      [2, 0x25],
    ]);
  });

  it('keys on pfn in decimal or hex, and ignores page=, raw gfp flags and vendor fields', async () => {
    const text = [
      ft('a-1', 'mm_page_alloc: page=ffffea0000040000 pfn=4096 order=1 migratetype=0 gfp_flags=0x100cca'),
      ft('a-1', 'mm_page_free: page=00000000deadbeef pfn=0x1000 order=1'),
      ft('a-1', 'mm_page_alloc: page=00000000deadbeef pfn=0x1000 order=0 migratetype=0 nr_free=12 extra=yes gfp_flags=GFP_USER'),
    ].join('\n');
    const s = await analyzeText(text);
    expect(s.counts).toEqual({ alloc: 2, free: 1 });
    expect(s.livePages).toBe(1);
    expect(s.anomalies).toEqual([]);
  });

  it('skips stack-trace and lost-event lines, counting lost events and lines of other tracers', async () => {
    const text = [
      '# tracer: nop',
      ft('a-1', 'mm_page_alloc: page=x pfn=0x10 order=0 gfp_flags=GFP_KERNEL'),
      ' => __alloc_pages+0x1ed/0x330',
      ' => alloc_pages+0x8a/0x120',
      ' <stack trace>',
      '            bash-1     [001] ....   100.000002: do_sys_open <-__x64_sys_openat',
      '            bash-1     [001] ....   100.000003: tracing_mark_write: hello',
      'CPU:3 [LOST 1234 EVENTS]',
      '##### CPU 2 buffer started ####',
      ft('a-1', 'mm_page_free: page=x pfn=0x10 order=0'),
    ].join('\n');
    const s = await analyzeText(text);
    expect(s.counts).toEqual({ alloc: 1, free: 1, lostEvents: 1234, unknownEvents: 2 });
    expect(s.anomalies).toEqual([]);
  });

  it('reads fork and exit with comms holding spaces, page-level migration, and tells thread exits apart', async () => {
    const text = [
      ft('nginx-10', 'sched_process_fork: comm=nginx pid=10 child_comm=nginx: worker child_pid=11'),
      ft('nginx: worker-11', 'mm_page_alloc: page=x pfn=0x200 order=1 gfp_flags=GFP_KERNEL'),
      ft('kcompactd0-40', 'mm_page_migrate: src_pfn=0x200 dst_pfn=0x900 order=1'),
      ft('nginx: worker-11', 'sched_process_exit: comm=nginx: worker pid=11 prio=120 group_dead=true'),
      // Threads leaving a live process: group_dead=false (6.x), or a tgid column naming another leader.
      ft('java-21', 'mm_page_alloc: page=x pfn=0x300 order=0 gfp_flags=GFP_KERNEL'),
      ft('java-21', 'sched_process_exit: comm=java pid=21 prio=120 group_dead=false'),
      '           java-22    (   20) [001] .... 100.000002: mm_page_alloc: page=x pfn=0x301 order=0 gfp_flags=GFP_KERNEL',
      '           java-22    (   20) [001] .... 100.000003: sched_process_exit: comm=java pid=22 prio=120',
    ].join('\n');
    const s = await analyzeText(text);
    expect(s.counts).toEqual({ fork: 1, alloc: 3, migrate: 1, exit: 1, other: 2, threadExits: 2 });
    expect(s.owners.find((o) => o.pid === 11)).toMatchObject({ comm: 'nginx: worker', livePages: 2 });
    expect(s.anomalies.map((a) => [a.kind, a.line, a.pfn])).toEqual([['leak', 3, '0x900']]);
  });

  it('names the line and what was expected, and goes on parsing', async () => {
    const text = [
      '# tracer: nop',
      ft('a-1', 'mm_page_alloc: page=x pfn=0x10 order=0 gfp_flags=GFP_KERNEL'),
      'this is not an event line',
      'bash-12 [001] .... notatime: mm_page_alloc: pfn=0x11',
      ft('a-1', 'mm_page_alloc: page=x order=0 gfp_flags=GFP_KERNEL'),
      ft('a-1', 'mm_filemap_add_to_page_cache: pfn=0x10 ofs=0'),
      ft('a-1', 'mm_page_free: page=x pfn=0x10 order=0'),
      ft('a-1', 'mm_page_alloc: page=x pfn=0x40000 order=19 gfp_flags=GFP_KERNEL'),
    ].join('\n');
    const s = await analyzeText(text, 'bad.trace');
    expect(s.counts).toEqual({ alloc: 1, free: 1 });
    expect(s.anomalies.map((a) => [a.kind, a.file, a.line])).toEqual([
      ['parse-error', 'bad.trace', 3],
      ['parse-error', 'bad.trace', 4],
      ['parse-error', 'bad.trace', 5],
      ['parse-error', 'bad.trace', 6],
      ['parse-error', 'bad.trace', 8],
    ]);
    const m = s.anomalies.map((a) => a.message);
    expect(m[0]).toContain('expected "TASK-PID [CPU] FLAGS TIMESTAMP: EVENT: fields"');
    expect(m[1]).toContain('expected a timestamp in seconds');
    expect(m[2]).toContain('mm_page_alloc: expected pfn=');
    expect(m[3]).toContain('expected "dev MAJOR:MINOR ino HEX"');
    expect(m[4]).toContain('order=19 is out of range: expected 0..18');
  });
});

describe('event names', () => {
  /** What the last line of `lines` (forced ftrace) gave: its events, what it added to the counters, its errors. */
  async function lastLine(lines: string[]): Promise<unknown> {
    const b = (await openText(lines.join('\n'), 'names.txt', { format: 'ftrace' })).builder;
    const before = lines.length > 1 ? (await openText(lines.slice(0, -1).join('\n'), 'names.txt', { format: 'ftrace' })).builder.counters : new Map<string, number>();
    const ev = b.events;
    const events = [];
    for (let i = 0; i < ev.length; i++) if (ev.line.get(i) === lines.length) events.push([ev.kind.get(i), ev.pfn.get(i), ev.orderCol.get(i)]);
    const counters = [...b.counters].map(([k, v]) => [k, v - (before.get(k) ?? 0)]).filter(([, v]) => v !== 0);
    return { events, counters: counters.sort(), errors: b.errors.filter((e) => e.line === lines.length).map((e) => e.message) };
  }

  it('reads a name the same whichever known name the line before had (the guess by its ninth byte)', async () => {
    const known = ['mm_page_alloc', 'mm_page_free', 'mm_page_alloc_zone_locked', 'mm_page_free_batched', 'mm_page_free_direct', 'mm_filemap_add_to_page_cache', 'mm_migrate_pages'];
    const primers = known.map((n) => ft('a-1', `${n}: page=1 pfn=0x1 order=0`));
    const bodies = [
      ...known.map((n) => `${n}: page=1 pfn=0x10 order=0`),
      'mm_page_allocx: page=1 pfn=0x12 order=0',
      'mm_page_alloX: page=1 pfn=0x12 order=0',
      'mm_page_fre: page=1 pfn=0x12 order=0',
      'mm_page_alloc:x page=1 pfn=0x13 order=0',
      'mm_page_alloc::',
      'mm_page_alloc:',
      'mm_page_alloc:\tpage=1 pfn=0x15 order=0',
      'kmem:mm_page_alloc: page=1 pfn=0x16 order=0',
      'xm_page_alloc: page=1 pfn=0x17 order=0',
      'mm_page_alloc_zone_locked:x page=1 pfn=0x18 order=0',
      '7 mm_page_free: page=1 pfn=0x19 order=0',
      'mm_page_',
    ];
    for (const body of bodies) {
      const alone = await lastLine([ft('a-1', body)]);
      for (const p of primers) expect(await lastLine([p, ft('a-1', body)]), `${body} after ${p}`).toEqual(alone);
    }
    // What the lines alone give, so that a wrong guess cannot hide behind a wrong reference.
    expect(await lastLine([ft('a-1', 'mm_page_alloc_zone_locked: page=1 pfn=0x18 order=0')])).toEqual({ events: [[EventKind.Other, 0x18, 0]], counters: [['mm_page_alloc_zone_locked', 1]], errors: [] });
    expect(await lastLine([ft('a-1', 'mm_page_allocx: page=1 pfn=0x12 order=0')])).toEqual({ events: [], counters: [['unknownEvents', 1]], errors: [] });
    expect(await lastLine([ft('a-1', 'kmem:mm_page_alloc: page=1 pfn=0x16 order=0')])).toEqual({ events: [[EventKind.Alloc, 0x16, 0]], counters: [], errors: [] });
    expect(await lastLine([ft('a-1', 'mm_page_alloc:')])).toEqual({ events: [], counters: [], errors: ['mm_page_alloc: expected pfn= with a page frame number (decimal or 0x hex)'] });
  });
});

describe('fixed strings read 4 bytes at a time', () => {
  /** Kind and pfn of each event, and the errors, of a forced-ftrace text. */
  async function eventsOf(text: string): Promise<unknown> {
    const b = (await openText(text, 'words.txt', { format: 'ftrace' })).builder;
    const ev = b.events;
    return {
      events: Array.from({ length: ev.length }, (_, i) => [ev.line.get(i), ev.kind.get(i), ev.pfn.get(i)]),
      errors: b.errors.map((e) => [e.line, e.message]),
      unknown: b.counters.get('unknownEvents') ?? 0,
    };
  }

  it('tells a known name from one differing in any single byte, after a line of that name', async () => {
    for (const name of ['mm_page_alloc', 'mm_page_free', 'mm_page_free_batched', 'mm_page_alloc_zone_locked']) {
      const lines = [ft('a-1', `${name}: page=1 pfn=0x1 order=0`)];
      for (let k = 0; k < name.length; k++) lines.push(ft('a-1', `${name.slice(0, k)}${name[k] === 'z' ? 'y' : 'z'}${name.slice(k + 1)}: page=1 pfn=0x2 order=0`));
      const r = (await eventsOf(lines.join('\n'))) as { events: unknown[]; unknown: number };
      expect(r.events, name).toHaveLength(1);
      expect(r.unknown, name).toBe(name.length);
    }
  });

  it('reads a page pointer of any length as NULL exactly when it is only zeros, after an optional 0x', async () => {
    const pointers: string[] = [];
    for (let n = 1; n <= 20; n++) {
      pointers.push('0'.repeat(n), `0x${'0'.repeat(n)}`);
      // One digit that is not a zero at each place, and a pointer that runs into the end of the line.
      for (let k = 0; k < n; k++) pointers.push(`${'0'.repeat(k)}1${'0'.repeat(n - k - 1)}`);
      pointers.push(`${'0'.repeat(n - 1)}f`, `0X${'0'.repeat(n - 1)}a`);
    }
    const isNull = (p: string): boolean => /^(0[xX])?0+$/.test(p);
    for (const sep of [' ', '\t', '  ']) {
      const lines = pointers.map((p, k) => ft('a-1', `mm_page_alloc: page=${p}${sep}pfn=0x${(k + 16).toString(16)} order=0 gfp_flags=GFP_KERNEL`));
      const r = (await eventsOf(lines.join('\n'))) as { events: [number, number, number][]; errors: unknown[] };
      expect(r.errors).toEqual([]);
      expect(r.events.map(([line, kind]) => [line, kind])).toEqual(pointers.map((p, k) => [k + 1, isNull(p) ? EventKind.AllocFailed : EventKind.Alloc]));
    }
  });

  it('finds the CPU column wherever a bracket stands in the comm, at every offset', async () => {
    const text: string[] = [];
    const want: [number, string][] = [];
    for (let k = 0; k < 9; k++) {
      const comm = `${'x'.repeat(k)} [1] [${'y'.repeat(k)}`;
      text.push(ft(`${comm}-${100 + k}`, `mm_page_alloc: page=1 pfn=0x${(k + 1).toString(16)} order=0 gfp_flags=GFP_KERNEL`));
      want.push([100 + k, comm.trim()]);
    }
    const s = await analyzeText(text.join('\n'), 'brackets.txt', { format: 'ftrace' });
    expect(s.owners.filter((o) => o.kind === 'process').map((o) => [o.pid, o.comm]).sort()).toEqual(want.sort());
    expect(s.anomalies).toEqual([]);
  });

  it('reads a pid of any length as its digits read left to right', async () => {
    const pids = ['7', '4242', '123456789012345', '1234567890123456', '98765432109876543210'];
    const text = pids.map((p, k) => ft(`a-${p}`, `mm_page_alloc: page=1 pfn=0x${(k + 1).toString(16)} order=0 gfp_flags=GFP_KERNEL`)).join('\n');
    const s = await analyzeText(text, 'pids.txt', { format: 'ftrace' });
    const want = pids.map((p) => [...p].reduce((v, d) => v * 10 + Number(d), 0));
    expect(s.owners.filter((o) => o.kind === 'process').map((o) => o.pid)).toEqual(want);
  });

  it('reads a hex pfn of any length two digits at a time, and no pfn with any other byte in it', async () => {
    const good: string[] = [];
    const bad: string[] = [];
    for (let len = 1; len <= 13; len++) {
      const digits = Array.from({ length: len }, (_, m) => '0123456789abcdefABCDEF'[(m * 5 + len) % 22]).join('');
      good.push(digits);
      for (let k = 0; k < len; k++) for (const c of ['g', 'G', 'x', '/', ':', '@']) bad.push(`${digits.slice(0, k)}${c}${digits.slice(k + 1)}`);
    }
    const lines = [...good, ...bad].map((h, k) => ft('a-1', `mm_page_free: page=1 pfn=0x${h}${k % 2 ? '\t' : ' '}order=0`));
    const m = await openText(lines.join('\n'), 'hexpfn.txt', { format: 'ftrace' });
    const ev = m.builder.events;
    expect(Array.from({ length: ev.length }, (_, i) => [ev.line.get(i), ev.pfn.get(i)])).toEqual(good.map((h, k) => [k + 1, parseInt(h, 16)]));
    expect(m.builder.errors.map((e) => e.line)).toEqual(bad.map((_, k) => good.length + k + 1));
  });

  it('reads a line cut at any byte the same at the end of the text as with more lines after it', async () => {
    const full = ft('kworker/u16:2-1051', 'mm_page_alloc: page=00000000070e6d80 pfn=0x1c39b6 order=0 migratetype=1 gfp_flags=GFP_KERNEL');
    const next = ft('b-2', 'mm_page_free: page=0000000000000000 pfn=0x77 order=0');
    for (let n = 1; n <= full.length; n++) {
      const cut = full.slice(0, n);
      const alone = (await eventsOf(cut)) as { events: unknown[]; errors: unknown[]; unknown: number };
      const before = (await eventsOf(`${cut}\n${next}`)) as { events: [number][]; errors: [number][]; unknown: number };
      expect({ events: before.events.filter(([line]) => line === 1), errors: before.errors.filter(([line]) => line === 1), unknown: before.unknown }, cut).toEqual(alone);
    }
  });
});

describe('trace-cmd report and perf script quirks', () => {
  it('trace-cmd: header lines and padded event names', async () => {
    const text = [
      'version = 6',
      'CPU 1 is empty',
      'cpus=4',
      '          <idle>-0     [000]   300.000001: mm_page_alloc:        page=0xffffea0000400000 pfn=0x10000 order=0 migratetype=0 gfp_flags=GFP_ATOMIC',
      '            bash-55    [003]   300.000002: mm_page_free:         page=0xffffea0000400000 pfn=0x10000 order=0',
      '            bash-55    [003]   300.000003: mm_page_alloc:        [FAILED TO PARSE] pfn=65537 order=0 gfp_flags=3264 migratetype=1',
    ].join('\n');
    const s = await analyzeText(text);
    expect(s.format).toBe('trace-cmd');
    expect(s.counts).toEqual({ alloc: 2, free: 1 });
    expect(liveByPid(s)).toEqual({ 55: 1 });
  });

  it('perf script: subsystem prefixes, call chains, pid/tid, a period column, no cpu column, no comm', async () => {
    const text = [
      '            java  4001/4002  [002] 400.000001: kmem:mm_page_alloc: page=0xffffea0000400000 pfn=0x10000 order=1 migratetype=0 gfp_flags=GFP_HIGHUSER_MOVABLE',
      '\tffffffff8123abcd __alloc_pages+0x1ed ([kernel.kallsyms])',
      '\t    7f0012345678 malloc+0x18 (/usr/lib/libc.so.6)',
      '',
      '    Web Content  5000 [001] 400.000002:          1 kmem:mm_page_alloc: page=0xffffea0000400080 pfn=0x10002 order=0 migratetype=0 gfp_flags=GFP_KERNEL',
      '            java  4002  400.000003: kmem:mm_page_free: page=0xffffea0000400000 pfn=0x10000 order=1',
      '  4001/4002 [002] 400.000004: kmem:mm_page_free: page=0xffffea0000400080 pfn=0x10002 order=0',
    ].join('\n');
    const s = await analyzeText(text);
    expect(s.format).toBe('perf-script');
    expect(s.counts).toEqual({ alloc: 2, free: 2 });
    expect(s.livePages).toBe(0);
    expect(s.owners.filter((o) => o.kind === 'process').map((o) => [o.pid, o.tgid, o.comm, o.livePages, o.peakPages])).toEqual([
      [4002, 4001, 'java', 0, 2],
      [5000, undefined, 'Web Content', 0, 1],
    ]);
    expect(s.anomalies).toEqual([]);
  });
});

describe('pageledger analyze on a generated ftrace file', () => {
  it('prints the JSON summary with the format, counts and anomalies', async () => {
    const { stream, expected } = generate(3, 400, 1);
    const dir = mkdtempSync(join(tmpdir(), 'pl-ftrace-'));
    try {
      const file = join(dir, 'kmem.trace');
      const r = render(stream, TASKS, 'ftrace-modern');
      writeFileSync(file, r.text);
      let out = '';
      let err = '';
      const code = await main(['analyze', '--json', '--quiet', file], (x) => (out += x), (x) => (err += x));
      expect(err).toBe('');
      expect(code).toBe(0);
      const s = JSON.parse(out) as TraceSummary;
      expect(s.format).toBe('ftrace');
      expect(s.files).toEqual([{ path: file, format: 'ftrace', bytes: r.text.length, lines: r.text.split('\n').length - 1 }]);
      expect([s.counts.alloc, s.counts.free, s.counts.allocFailed]).toEqual([expected.alloc, expected.free, expected.allocFailed]);
      expect(s.livePages).toBe(expected.livePages);
      expect(s.anomalies.filter((a) => a.kind === 'double-free').map((a) => a.line)).toEqual(expected.doubleFree.map((k) => r.lineOf[k]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
