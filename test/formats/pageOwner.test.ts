import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main';
import { pageOwnerAllocId, pageOwnerRecordStart, pageOwnerSite } from '../../src/core/formats/pageOwner';
import { memorySource } from '../../src/core/io/memorySource';
import { openTrace, summarize } from '../../src/core/trace';
import { analyzeText, openText, realFixture, rng } from '../helpers';
import { PageTable } from '../../src/core/analysis/pageTable';
import { EventStore, type OrderSlices } from '../../src/core/model/eventStore';
import type { TraceModel } from '../../src/core/trace';

/** One allocation as a page_owner record would print it. */
interface Rec {
  order: number;
  pfn: number;
  pid?: number;
  tgid?: number;
  comm?: string;
  ts?: number;
  stack?: string[];
  extra?: string[];
}

const STACK = ['__alloc_pages+0x1a6/0x340', 'alloc_pages_vma+0xb3/0x260', 'handle_mm_fault+0x1051/0x1620'];

/** 4.x (4.6-5.10): no pid, no ts; decimal PFN with `Flags %#lx(%pGp)`; frames as ` [<addr>] sym`. */
function layout4(recs: Rec[]): string {
  return recs
    .map((r) =>
      [
        `Page allocated via order ${r.order}, mask 0x14200ca(GFP_HIGHUSER_MOVABLE)`,
        `PFN ${r.pfn} type Movable Block ${r.pfn >> 9} type Movable Flags 0x1fffff80000068(uptodate|lru|active)`,
        ...(r.stack ?? STACK).map((f, k) => ` [<ffffffff811b3e${(0xd0 + k).toString(16)}>] ${f}`),
        ...(r.extra ?? []),
        '',
      ].join('\n'),
    )
    .join('\n');
}

/** 5.13-5.18: pid, ts, free_ts; decimal PFN; bare frames. */
function layout5(recs: Rec[]): string {
  return recs
    .map((r) =>
      [
        `Page allocated via order ${r.order}, mask 0x100cca(GFP_HIGHUSER_MOVABLE), pid ${r.pid}, ts ${r.ts} ns, free_ts 0 ns`,
        `PFN ${r.pfn} type Movable Block ${r.pfn >> 9} type Movable Flags 0x17ffffc0080014(uptodate|lru|swapbacked|node=0|zone=2)`,
        ...(r.stack ?? STACK).map((f) => ` ${f}`),
        ...(r.extra ?? []),
        '',
      ].join('\n'),
    )
    .join('\n');
}

/** 6.x: pid, tgid (comm), ts[, free_ts]; hex PFN; memcg lines; the stack handle line of 6.10+. */
function layout6(recs: Rec[], freeTs = true): string {
  return recs
    .map((r) =>
      [
        `Page allocated via order ${r.order}, mask 0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), pid ${r.pid}, tgid ${r.tgid ?? r.pid} (${r.comm}), ts ${r.ts} ns${freeTs ? ', free_ts 0 ns' : ''}`,
        `PFN 0x${r.pfn.toString(16)} type Movable Block ${r.pfn >> 9} type Movable Flags 0x17ffffc0080014(uptodate|lru|swapbacked|node=0|zone=2)`,
        ...(r.stack ?? STACK).map((f) => ` ${f}`),
        'Charged to memcg session-2.scope',
        'handle: 1048582',
        ...(r.extra ?? []),
        '',
      ].join('\n'),
    )
    .join('\n');
}

describe('page_owner dumps', () => {
  it('reads the real 5.x record: one page of pid 1', async () => {
    const m = await openText(realFixture('page_owner-1.txt'), 'page_owner-1.txt');
    const s = summarize(m);
    expect(s.format).toBe('page_owner');
    expect(s.counts).toEqual({ records: 1 });
    expect(s.livePages).toBe(1);
    expect(s.owners.map((o) => [o.kind, o.pid, o.livePages])).toEqual([['process', 1, 1]]);
    expect(s.snapshots).toMatchObject([{ source: 'page_owner', name: 'page_owner dump 1', time: 460209702, line: 1 }]);
    expect(s.anomalies).toEqual([]);
    const ev = m.builder.events;
    expect([ev.pfn.get(0), ev.orderCol.get(0), ev.time.get(0), ev.line.get(0)]).toEqual([16, 0, 460209702, 1]);
    expect(pageOwnerSite(m.builder, ev.arg.get(0))).toBe(
      '0x0() type Unmovable\n register_early_stack+0x2d/0x5e\n init_page_owner+0x2a/0x2a7\n kernel_init_freeable+0xed/0x14d\n kernel_init+0x5/0x100',
    );
  });

  it('reads the 4.x layout (no pid: every page is the kernel\'s) with addresses and migrate lines', async () => {
    const text = layout4([
      { order: 0, pfn: 4096 },
      { order: 2, pfn: 4100, extra: ['Page has been migrated, last migrate reason: compaction'] },
      { order: 9, pfn: 8192, extra: ['some vendor line we do not know'] },
    ]);
    const s = await analyzeText(text, 'po4.txt');
    expect(s.format).toBe('page_owner');
    expect(s.counts).toEqual({ records: 3, migratedRecords: 1, unknownLines: 1 });
    expect(s.livePages).toBe(1 + 4 + 512);
    expect(s.owners.map((o) => [o.kind, o.livePages])).toEqual([['kernel', 517]]);
    expect(s.snapshots[0].time).toBeNull();
    expect(s.anomalies).toEqual([]);
  });

  it('reads the 5.x layout: pages per pid, record lines, the dump time is the newest ts', async () => {
    const text = layout5([
      { order: 0, pfn: 100, pid: 7, ts: 1000 },
      { order: 1, pfn: 102, pid: 7, ts: 2000 },
      { order: 3, pfn: 112, pid: 9, ts: 1500, extra: ['??? unexpected'] },
      { order: 0, pfn: 200, pid: 0, ts: 10 },
    ]);
    const m = await openText(text, 'po5.txt');
    const s = summarize(m);
    expect(s.counts).toEqual({ records: 4, unknownLines: 1 });
    expect(s.livePages).toBe(1 + 2 + 8 + 1);
    expect(s.owners.map((o) => [o.kind, o.pid ?? null, o.livePages])).toEqual([
      ['process', 9, 8],
      ['process', 7, 3],
      ['kernel', null, 1],
    ]);
    expect(s.snapshots[0].time).toBe(2000);
    const ev = m.builder.events;
    expect(Array.from({ length: ev.length }, (_, i) => ev.line.get(i))).toEqual([1, 7, 13, 20]);
  });

  it('reads the 6.x layout: tgid and comm (with parentheses and commas), hex PFN, memcg and handle lines', async () => {
    const recs: Rec[] = [
      { order: 0, pfn: 0x1a2b3, pid: 1201, tgid: 1200, comm: 'postgres', ts: 5_000 },
      { order: 2, pfn: 0x1a2b4, pid: 1200, comm: 'postgres', ts: 6_000 },
      { order: 1, pfn: 0x20000, pid: 88, comm: '(sd-pam)', ts: 7_000 },
      { order: 0, pfn: 0x20002, pid: 89, comm: 'odd, name (x)', ts: 8_000 },
    ];
    for (const freeTs of [true, false]) {
      const s = await analyzeText(layout6(recs, freeTs), 'po6.txt');
      expect(s.counts).toEqual({ records: 4 });
      expect(s.livePages).toBe(1 + 4 + 2 + 1);
      expect(s.owners.map((o) => [o.pid, o.tgid, o.comm, o.livePages])).toEqual([
        [1200, 1200, 'postgres', 4],
        [88, 88, '(sd-pam)', 2],
        [1201, 1200, 'postgres', 1],
        [89, 89, 'odd, name (x)', 1],
      ]);
      expect(s.anomalies).toEqual([]);
    }
  });

  it('gives the same figures whatever the chunk size', async () => {
    const text = layout6(Array.from({ length: 50 }, (_, k) => ({ order: k % 3, pfn: 0x1000 + k * 8, pid: 100 + (k % 4), comm: 'w', ts: 1000 + k })));
    const whole = await analyzeText(text, 'po.txt');
    expect(whole.counts.records).toBe(50);
    expect(whole.livePages).toBe(17 * 1 + 17 * 2 + 16 * 4);
    for (const chunk of [1, 7, 100]) {
      const s = await analyzeText(text, 'po.txt', {}, chunk);
      expect([s.counts, s.livePages, s.owners]).toEqual([whole.counts, whole.livePages, whole.owners]);
    }
  });

  it('names the line and what was expected for broken records, and keeps going', async () => {
    const text = [
      'Page allocated via order x, mask 0x0()',
      'PFN 1 type Movable Block 0 type Movable Flags 0x0()',
      '',
      'Page allocated via order 0, mask 0x0(), pid 3, ts 5 ns',
      ' frame+0x1/0x2',
      '',
      'Page allocated via order 1, mask 0x0(), pid 3, ts 6 ns',
      'PFN zz type Movable Block 0 type Movable Flags 0x0()',
      '',
      'Page allocated via order 0, mask 0x0(), pid 3, ts 7 ns',
      'PFN 64 type Movable Block 0 type Movable Flags 0x0()',
      '',
      'garbage',
    ].join('\n');
    const s = await analyzeText(text, 'bad.txt');
    expect(s.anomalies.map((a) => [a.line, a.message])).toEqual([
      [1, 'expected "Page allocated via order N" with N a page order (0..30), found "x"'],
      [2, 'expected "Page allocated via order N, mask M(...)" to start a page_owner record, or "N times, M pages" of page_owner_sort, found "PFN 1 type Movable Block 0 type Movable Flags 0x0()"'],
      [4, 'record has no "PFN N ..." line: expected one right after the "Page allocated via order" line'],
      [8, 'expected "PFN N" with N a decimal or 0x-hex frame number, found "zz"'],
      [7, 'record has no "PFN N ..." line: expected one right after the "Page allocated via order" line'],
      [13, 'expected "Page allocated via order N, mask M(...)" to start a page_owner record, or "N times, M pages" of page_owner_sort, found "garbage"'],
    ].sort((a, b) => (a[0] as number) - (b[0] as number)));
    expect(s.counts).toEqual({ records: 1 });
    expect(s.livePages).toBe(1);
  });
});

describe('page_owner owners and sites', () => {
  it('learns a pid\'s comm and tgid from a later record that has them, keeps the first comm, and tells pids of one cache slot apart', async () => {
    const text = [
      layout5([{ order: 0, pfn: 100, pid: 7, ts: 1000 }]),
      layout6([
        { order: 0, pfn: 101, pid: 7, comm: '', ts: 1001 },
        { order: 0, pfn: 102, pid: 7, tgid: 5, comm: 'late', ts: 1002 },
        { order: 1, pfn: 104, pid: 7, tgid: 6, comm: 'other', ts: 1003 },
        // 4103 and 8199 share pid 7's slot in the parser's owner cache (4096 slots).
        { order: 0, pfn: 106, pid: 4103, comm: 'x', ts: 1004 },
        { order: 0, pfn: 107, pid: 8199, comm: 'y', ts: 1005 },
        { order: 0, pfn: 108, pid: 7, tgid: 5, comm: 'late', ts: 1006 },
        { order: 0, pfn: 109, pid: 4103, comm: 'x', ts: 1007 },
      ]),
    ].join('\n');
    const m = await openText(text, 'owners.txt');
    const s = summarize(m);
    expect(s.counts).toEqual({ records: 8 });
    expect(s.owners.map((o) => [o.pid, o.tgid ?? null, o.comm ?? null, o.livePages])).toEqual([
      [7, 7, 'late', 6],
      [4103, 4103, 'x', 2],
      [8199, 8199, 'y', 1],
    ]);
    const ev = m.builder.events;
    const owners = Array.from({ length: ev.length }, (_, i) => m.builder.owners.get(ev.owner.get(i)).pid);
    expect(owners).toEqual([7, 7, 7, 7, 4103, 8199, 7, 4103]);
  });

  it('gives one site per mask, migratetype and stack, with its text, whatever the layout prints around them', async () => {
    const text = [
      layout6([
        { order: 0, pfn: 0x100, pid: 1, comm: 'a', ts: 1 },
        { order: 0, pfn: 0x101, pid: 2, comm: 'b', ts: 2, stack: ['a+0x1/0x2', 'b+0x3/0x4'] },
      ]),
      layout5([{ order: 0, pfn: 0x102, pid: 3, ts: 3, stack: ['a+0x1/0x2', 'b+0x3/0x4  '] }]),
      layout4([{ order: 0, pfn: 0x103, stack: ['a+0x1/0x2', 'b+0x3/0x4'] }]),
    ].join('\n');
    const m = await openText(text, 'sites.txt');
    const ev = m.builder.events;
    const sites = Array.from({ length: ev.length }, (_, i) => pageOwnerSite(m.builder, ev.arg.get(i)));
    expect(sites).toEqual([
      '0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP) type Movable\n __alloc_pages+0x1a6/0x340\n alloc_pages_vma+0xb3/0x260\n handle_mm_fault+0x1051/0x1620',
      '0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP) type Movable\n a+0x1/0x2\n b+0x3/0x4',
      '0x100cca(GFP_HIGHUSER_MOVABLE) type Movable\n a+0x1/0x2\n b+0x3/0x4',
      '0x14200ca(GFP_HIGHUSER_MOVABLE) type Movable\n a+0x1/0x2\n b+0x3/0x4',
    ]);
    // Same text, same site: the trailing blanks of a frame and the 4.x address column are not part of it.
    const again = await openText(layout6([{ order: 0, pfn: 0x200, pid: 9, comm: 'c', ts: 9, stack: ['a+0x1/0x2', 'b+0x3/0x4'] }]), 'again.txt');
    expect(again.builder.events.arg.get(0)).toBe(ev.arg.get(1));
  });
});

describe('page_owner allocation identity', () => {
  /** FNV-1a over the decimal digits of n, least significant first, then a comma: the reference. */
  const fnvDigits = (h: number, n: number): number => {
    for (const ch of [...String(n)].reverse()) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
    return Math.imul(h ^ 0x2c, 16777619) >>> 0;
  };

  it('hashes the site, order and timestamp digits, for timestamps below and above 10^9 and up to 2^53', async () => {
    const stamps = [0, 7, 999_999_999, 1_000_000_000, 1_000_000_007, 2_147_483_648, 86_400_000_000_123, 2 ** 53 - 1];
    const m = await openText(layout6(stamps.map((ts, k) => ({ order: k % 3, pfn: 0x1000 + 8 * k, pid: 5, comm: 'w', ts }))), 'ts.txt');
    const ev = m.builder.events;
    for (let i = 0; i < ev.length; i++) {
      const order = i % 3;
      expect(pageOwnerAllocId(ev.arg.get(i), ev.orderCol.get(i), ev.time.get(i))).toBe(fnvDigits(fnvDigits(ev.arg.get(i), order), stamps[i]));
      // Not stored: the store's arg2 column of a dump is constant.
      expect(ev.arg2.get(i)).toBe(0);
    }
  });

  it('hashes a 4.x record without a timestamp as NaN, and tells such records apart by site and order only', async () => {
    const m = await openText(
      [
        'Page allocated via order 1, mask 0x24201ca(GFP_HIGHUSER_MOVABLE|__GFP_COLD), pid 7, tgid 7 (a)',
        'PFN 4096 type Movable Block 8 type Movable Flags 0x1(locked)',
        ' [<ffffffff811b3ed6>] a+0x1/0x2',
        '',
        'Page allocated via order 1, mask 0x24201ca(GFP_HIGHUSER_MOVABLE|__GFP_COLD), pid 8, tgid 8 (b)',
        'PFN 4104 type Movable Block 8 type Movable Flags 0x1(locked)',
        ' [<ffffffff811b3ed6>] a+0x1/0x2',
        '',
      ].join('\n'),
      'old.txt',
    );
    const ev = m.builder.events;
    expect(ev.length).toBe(2);
    expect(ev.time.get(0)).toBeNaN();
    const id = pageOwnerAllocId(ev.arg.get(0), 1, ev.time.get(0));
    expect(id).toBe(Math.imul(fnvDigits(ev.arg.get(0), 1) ^ 0x4e, 16777619) >>> 0);
    expect(pageOwnerAllocId(ev.arg.get(1), 1, ev.time.get(1))).toBe(id);
    expect(pageOwnerAllocId(ev.arg.get(1), 0, ev.time.get(1))).not.toBe(id);
  });
});

describe('page_owner_sort output', () => {
  it('counts a summary\'s records and pages per pid, without pfns', async () => {
    const text = [
      '3 times, 3 pages, PID 7, TGID 7, task_comm_name: nginx: worker:',
      ' __alloc_pages+0x1a6/0x340',
      ' alloc_pages_vma+0xb3/0x260',
      '',
      '2 times, 8 pages, allocated by OTHERS :',
      'Page allocated via order 2, mask 0x0(), pid 9, tgid 9 (cron), ts 55 ns',
      ' __alloc_pages+0x1a6/0x340',
      '',
      '5 times, 5 pages:',
      'Page allocated via order 0, mask 0xcc0(GFP_KERNEL)',
      ' kmalloc_order+0x1/0x2',
      '',
    ].join('\n');
    const s = await analyzeText(text, 'sorted.txt');
    expect(s.format).toBe('page_owner');
    expect(s.counts).toEqual({ records: 10, summaryBlocks: 3 });
    expect(s.livePages).toBe(16);
    expect(s.owners.map((o) => [o.kind, o.pid ?? null, o.comm ?? null, o.livePages])).toEqual([
      ['process', 9, 'cron', 8],
      ['kernel', null, null, 5],
      ['process', 7, 'nginx: worker', 3],
    ]);
    expect(s.anomalies).toEqual([]);
  });
});

describe('two page_owner dumps', () => {
  const dump1 = layout6([
    { order: 0, pfn: 0x100, pid: 10, comm: 'a', ts: 100 },
    { order: 1, pfn: 0x102, pid: 20, comm: 'b', ts: 200 },
    { order: 0, pfn: 0x104, pid: 30, comm: 'c', ts: 300 },
    { order: 0, pfn: 0x105, pid: 10, comm: 'a', ts: 350 },
    { order: 2, pfn: 0x108, pid: 30, comm: 'c', ts: 360 },
  ]);
  const dump2 = layout6([
    { order: 0, pfn: 0x100, pid: 10, comm: 'a', ts: 100 }, // unchanged
    { order: 1, pfn: 0x102, pid: 40, comm: 'd', ts: 900 }, // owner changed (2 pages)
    // 0x104 missing: freed between the dumps
    { order: 0, pfn: 0x105, pid: 10, comm: 'a', ts: 950 }, // same owner, new allocation
    { order: 0, pfn: 0x109, pid: 50, comm: 'e', ts: 960 }, // inside the old order-2 block of pid 30
    { order: 0, pfn: 0x200, pid: 50, comm: 'e', ts: 1000 }, // added
  ]);

  it('merge into one timeline: what the later dump lacks is freed at its time', async () => {
    const m = await openTrace([memorySource('d1.txt', dump1), memorySource('d2.txt', dump2)]);
    const s = summarize(m);
    expect(s.counts).toEqual({ records: 10, free: 2, freedBetweenDumps: 4 });
    expect(s.livePages).toBe(1 + 2 + 1 + 1 + 1);
    expect(s.owners.map((o) => [o.pid, o.livePages])).toEqual([
      [10, 2],
      [40, 2],
      [50, 2],
      [30, 0],
      [20, 0],
    ]);
    expect(s.snapshots.map((x) => [x.name, x.time, x.file])).toEqual([
      ['page_owner dump 1', 360, 'd1.txt'],
      ['page_owner dump 2', 1000, 'd2.txt'],
    ]);
    expect(s.anomalies).toEqual([]);
  });

  it('pageledger diff gives exact classes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pl-po-'));
    const a = join(dir, 'a.txt');
    const b = join(dir, 'b.txt');
    writeFileSync(a, dump1);
    writeFileSync(b, dump2);
    let out = '';
    const code = await main(['diff', a, b, '--json', '--quiet'], (t) => (out += t), () => {});
    expect(code).toBe(0);
    const r = JSON.parse(out) as { key: string; classes: Record<string, number>; changes: { class: string; start: string; pages: number; ownerBefore: string | null; ownerAfter: string | null }[] };
    expect(r.key).toBe('pfn');
    // 0x100 unchanged; 0x102-0x103 pid 20 -> pid 40; 0x104 removed; 0x105 same pid, new allocation;
    // 0x108..0x10b: 0x109 now pid 50, the other three removed; 0x200 added.
    expect(r.classes).toMatchObject({ unchanged: 1, added: 1, removed: 4, ownerChanged: 4 });
    expect(r.changes.map((c) => [c.class, c.start, c.pages, c.ownerBefore, c.ownerAfter])).toEqual([
      ['ownerChanged', '0x102', 2, 'pid 20 (b)', 'pid 40 (d)'],
      ['removed', '0x104', 1, 'pid 30 (c)', null],
      ['ownerChanged', '0x105', 1, 'pid 10 (a)', 'pid 10 (a)'],
      ['removed', '0x108', 1, 'pid 30 (c)', null],
      ['ownerChanged', '0x109', 1, 'pid 30 (c)', 'pid 50 (e)'],
      ['removed', '0x10a', 2, 'pid 30 (c)', null],
      ['added', '0x200', 1, null, 'pid 50 (e)'],
    ]);
  });
});

describe('two page_owner dumps of the 4.x layout (no timestamps)', () => {
  it('free each block the later dump lacks, at its head pfn and order, once however often it was printed', async () => {
    const dump1 = layout4([
      { order: 2, pfn: 16 },
      { order: 0, pfn: 32 },
      { order: 1, pfn: 40 },
      { order: 0, pfn: 48 },
      { order: 0, pfn: 48 },
    ]);
    const dump2 = layout4([
      { order: 0, pfn: 32 },
      { order: 0, pfn: 64 },
    ]);
    const m = await openTrace([memorySource('d1.txt', dump1), memorySource('d2.txt', dump2)]);
    const s = summarize(m);
    expect(s.counts).toEqual({ records: 7, free: 3, freedBetweenDumps: 7 });
    expect(s.livePages).toBe(2);
    const ev = m.builder.events;
    const frees: number[][] = [];
    for (let i = 0; i < ev.length; i++) if (ev.kind.get(i) === 2) frees.push([ev.pfn.get(i), ev.orderCol.get(i)]);
    expect(frees).toEqual([
      [16, 2],
      [40, 1],
      [48, 0],
    ]);
  });

  it('free only the pages left over of a block the later dump partly reallocated, one by one, and keep the reallocated ones', async () => {
    // pfn 16-19 (order 2) in the first dump; the second holds pfn 17 alone (order 0) and pfn 64.
    const dump1 = layout4([{ order: 2, pfn: 16 }]);
    const dump2 = layout4([
      { order: 0, pfn: 17 },
      { order: 0, pfn: 64 },
    ]);
    const m = await openTrace([memorySource('d1.txt', dump1), memorySource('d2.txt', dump2)]);
    const s = summarize(m);
    expect(s.counts).toEqual({ records: 3, free: 3, freedBetweenDumps: 3 });
    expect(s.livePages).toBe(2);
    const ev = m.builder.events;
    const frees: number[][] = [];
    for (let i = 0; i < ev.length; i++) if (ev.kind.get(i) === 2) frees.push([ev.pfn.get(i), ev.orderCol.get(i), ev.time.get(i)]);
    // No free at time Infinity (it came after the reallocation and freed pfn 17 with the rest).
    expect(frees).toEqual([
      [16, 0, NaN],
      [18, 0, NaN],
      [19, 0, NaN],
    ]);
    expect(s.owners.map((o) => o.livePages)).toEqual([2]);
    // The head page freed alone is told apart from a whole-block free: nothing orders a block free
    // before the reallocation without timestamps.
    expect(s.anomalies.map((a) => [a.kind, a.file, a.pfn])).toEqual([['order-mismatch', 'd2.txt', '0x10']]);
  });

  it('leave a page_owner_sort summary out of what a dump holds', async () => {
    const sorted = ['3 times, 3 pages, PID 7, TGID 7, task_comm_name: nginx', ' __alloc_pages+0x1a6/0x340', ''].join('\n');
    const dump = layout6([{ order: 0, pfn: 0x100, pid: 10, comm: 'a', ts: 100 }]);
    const s = summarize(await openTrace([memorySource('s.txt', sorted), memorySource('d.txt', dump)]));
    expect(s.counts).toEqual({ records: 4, summaryBlocks: 1 });
  });
});

describe('page_owner dumps as snapshots', () => {
  it('counts the pages a dump holds as its snapshot pages, and skips comment lines between records', async () => {
    const text = [
      '# captured with: cat /sys/kernel/debug/page_owner',
      'Page allocated via order 1, mask 0x0(), pid 1, ts 460209702 ns, free_ts 0 ns',
      'PFN 16 type Unmovable Block 0 type Unmovable Flags 0x0()',
      ' get_page_from_freelist+0x1422/0x1540',
      '',
      'Page allocated via order 0, mask 0x0(), pid 2, ts 460209800 ns, free_ts 0 ns',
      'PFN 64 type Unmovable Block 0 type Unmovable Flags 0x0()',
      '',
    ].join('\n');
    const s = await analyzeText(text, 'dump.txt');
    expect(s.format).toBe('page_owner');
    expect(s.anomalies).toEqual([]);
    expect(s.counts.records).toBe(2);
    expect(s.snapshots.map((x) => [x.name, x.pages])).toEqual([['page_owner dump 1', 3]]);
  });
});

describe('page_owner record starts (where a dump is cut for two threads)', () => {
  const enc = (t: string): Uint8Array => new TextEncoder().encode(t);
  const rec = 'Page allocated via order 0, mask 0x0(), pid 1, ts 5 ns\nPFN 16 type Movable Block 0 type Movable Flags 0x0()\n get_page_from_freelist+0x1422/0x1540\n';

  it('finds the first record header after a blank line at or after the offset', () => {
    const t = enc(rec + '\n' + rec + '\n' + rec);
    const second = rec.length + 1;
    const third = 2 * (rec.length + 1);
    expect(pageOwnerRecordStart(t, 1)).toBe(second);
    expect(pageOwnerRecordStart(t, second - 1)).toBe(second);
    expect(pageOwnerRecordStart(t, second)).toBe(second);
    expect(pageOwnerRecordStart(t, second + 1)).toBe(third);
    expect(pageOwnerRecordStart(t, third + 1)).toBe(-1);
  });

  it('takes a blank line of spaces and tabs, with a CR before its newline; not one with other bytes', () => {
    for (const blank of [' \t', '\r', '  \r']) expect(pageOwnerRecordStart(enc(rec + blank + '\n' + rec), 1)).toBe(rec.length + blank.length + 1);
    for (const notBlank of ['x', '\r\r', ' \r ', '# note']) expect(pageOwnerRecordStart(enc(rec + notBlank + '\n' + rec), 1)).toBe(-1);
  });

  it('takes a header at the start of its line only, and only after a blank line', () => {
    expect(pageOwnerRecordStart(enc(rec + '\n ' + rec), 1)).toBe(-1);
    expect(pageOwnerRecordStart(enc(rec + rec), 1)).toBe(-1);
    expect(pageOwnerRecordStart(enc(rec + '\nPage allocated via orders\n'), 1)).toBe(-1);
  });

  it('does not take a header the window cuts off, nor one whose blank line starts before the window', () => {
    const t = enc(rec + '\n' + rec);
    expect(pageOwnerRecordStart(t.subarray(0, rec.length + 1 + 20), 1)).toBe(-1);
    expect(pageOwnerRecordStart(t.subarray(0, rec.length + 1 + 25), 1)).toBe(rec.length + 1);
    expect(pageOwnerRecordStart(t.subarray(rec.length), 0)).toBe(-1);
    expect(pageOwnerRecordStart(t.subarray(rec.length - 1), 0)).toBe(2);
  });
});

describe('the page table of a dump replay (held chunks)', () => {
  /** Every chunk of the replay's page table by base, as columns. */
  const pageColumns = (m: TraceModel) => [...m.result.pages.all()].sort((a, b) => a.base - b.base).map((c) => ({ base: c.base, ...c.columns() }));
  /** The summary without its timings. */
  const summary = (m: TraceModel) => ({ ...summarize(m), stats: { ...summarize(m).stats, parseMs: 0, analyzeMs: 0 } });
  /** The model of the dumps, with the page table made dense (no reservation) when `dense`. */
  const open = async (texts: string[], dense: boolean): Promise<TraceModel> => {
    const spy = dense ? vi.spyOn(PageTable.prototype, 'reserve').mockImplementation(() => undefined) : null;
    try {
      return await openTrace(texts.map((t, k) => memorySource(`d${k}.txt`, t)));
    } finally {
      spy?.mockRestore();
    }
  };
  /** A dump of random blocks (orders 0 to 10, some across a chunk border, some overlapping), in pfn order. */
  const randomDump = (r: () => number, withTs: boolean, pids: number): string => {
    const recs: Rec[] = [];
    let pfn = 0x3f00 + Math.floor(r() * 64);
    const n = 20 + Math.floor(r() * 80);
    for (let k = 0; k < n; k++) {
      const order = r() < 0.7 ? 0 : r() < 0.8 ? 1 + Math.floor(r() * 3) : 10;
      const head = pfn - (pfn % 2 ** order);
      recs.push({ order, pfn: head, pid: 1 + Math.floor(r() * pids), comm: 'w', ts: 1000 + Math.floor(r() * 5000) });
      // Mostly gaps, now and then a block inside the one before (a dump read while pages change).
      pfn = head + (r() < 0.1 ? 1 : 2 ** order + Math.floor(r() * 6));
      if (r() < 0.05) pfn += 4096 * Math.floor(1 + r() * 3);
    }
    return withTs ? layout6(recs) : layout4(recs);
  };

  it('gives the same model and page table as dense chunks, for one dump, two dumps merged and 4.x dumps', async () => {
    for (let seed = 1; seed <= 24; seed++) {
      const r = rng(seed);
      const withTs = seed % 4 !== 0;
      const texts = [randomDump(r, withTs, 5)];
      if (seed % 2 === 0) texts.push(randomDump(r, withTs, 5));
      const held = await open(texts, false);
      const dense = await open(texts, true);
      expect(summary(held)).toEqual(summary(dense));
      expect(pageColumns(held)).toEqual(pageColumns(dense));
      // The held form was used: some chunk keeps fewer than 4096 slots.
      expect([...held.result.pages.all()].some((c) => c.capacity < 4096)).toBe(true);
      expect([...dense.result.pages.all()].every((c) => c.capacity === 4096)).toBe(true);
    }
  });

  it('reads the time order in slices when nothing observes the replay, and gives the same model and order', async () => {
    for (let seed = 1; seed <= 6; seed++) {
      const r = rng(seed);
      // Timestamps over 2^31 ns: the 32-bit keys of the order in many high halves.
      const recs: Rec[] = Array.from({ length: 300 }, (_, k) => ({ order: k % 5 === 0 ? 2 : 0, pfn: 0x1000 + 4 * k, pid: 1 + (k % 7), comm: 'w', ts: 1e6 + Math.floor(r() * 2 ** 31) }));
      const texts = [layout6(recs)];
      if (seed % 2 === 0) texts.push(layout6(recs.slice(0, 200).map((x) => ({ ...x, pid: 9, ts: x.ts! + 7 }))));
      const took: (OrderSlices | null)[] = [];
      const real = EventStore.prototype.orderSlices;
      const spy = vi.spyOn(EventStore.prototype, 'orderSlices').mockImplementation(function (this: EventStore, most: number) {
        const s = real.call(this, most);
        took.push(s);
        return s;
      });
      let sliced: TraceModel;
      try {
        sliced = await open(texts, false);
      } finally {
        spy.mockRestore();
      }
      expect(took.length).toBe(1);
      expect(took[0]).not.toBeNull();
      const whole = vi.spyOn(EventStore.prototype, 'orderSlices').mockReturnValue(null);
      let plain: TraceModel;
      try {
        plain = await open(texts, false);
      } finally {
        whole.mockRestore();
      }
      expect(summary(sliced)).toEqual(summary(plain));
      expect(pageColumns(sliced)).toEqual(pageColumns(plain));
      // The order the result gives (made when asked) is the one the replay read.
      expect([...sliced.result.order!]).toEqual([...plain.result.order!]);
      expect([...sliced.result.order!]).toEqual([...sliced.builder.events.order()!]);
    }
  });

  it('writes each part of a block across a chunk border at once, the chunks staying held', async () => {
    // Blocks not aligned to their order (as a synthetic dump may list them): order 3 from 0x3ffc (4 pages in
    // chunk 3, 4 in chunk 4, a slot in each), and order 2 from 0x1ffd and from 0x1fff, which meet across the
    // border of chunks 1 and 2 (each of their pages a slot of its own).
    const recs: Rec[] = [
      { order: 2, pfn: 0x1ffd, pid: 3, comm: 'a', ts: 5000 },
      { order: 2, pfn: 0x1fff, pid: 4, comm: 'b', ts: 4000 },
      { order: 0, pfn: 0x2003, pid: 3, comm: 'a', ts: 100 },
      { order: 3, pfn: 0x3ffc, pid: 4, comm: 'b', ts: 3000 },
      { order: 1, pfn: 0x4004, pid: 5, comm: 'c', ts: 2000 },
    ];
    const held = await open([layout6(recs)], false);
    const dense = await open([layout6(recs)], true);
    expect(summary(held)).toEqual(summary(dense));
    expect(pageColumns(held)).toEqual(pageColumns(dense));
    const chunks = [...held.result.pages.all()];
    expect(chunks.map((c) => [c.base, c.capacity])).toEqual([
      [0x2000, 4],
      [0x4000, 2],
      [0x3000, 1],
      [0x1000, 3],
    ]);
    const pages = held.result.pages;
    expect([0x3ffc, 0x3fff, 0x4000, 0x4003].map((p) => pages.peek(p)!.headOrder(p & 0xfff))).toEqual([3, 255, 255, 255]);
    // pid 3's later record takes 0x1fff and 0x2000 from pid 4's.
    expect(Object.fromEntries(summarize(held).owners.map((o) => [o.pid, o.livePages]))).toEqual({ 3: 5, 4: 10, 5: 2 });
  });

  it('keeps the pages of an order-10 block across a chunk border, and a block freed in part by a later 4.x dump', async () => {
    // pfn 0x3e00-0x41ff (order 10) spans chunks 3 and 4; the later dump holds only pfn 0x3e01 of it.
    const d1 = layout4([
      { order: 10, pfn: 0x3c00 },
      { order: 0, pfn: 0x4400 },
    ]);
    const d2 = layout4([{ order: 0, pfn: 0x3c01 }]);
    const held = await open([d1, d2], false);
    expect(pageColumns(held)).toEqual(pageColumns(await open([d1, d2], true)));
    const pages = held.result.pages;
    expect(pages.peek(0x3c01)!.state(0xc01)).toBe(1);
    expect(pages.peek(0x3c02)!.state(0xc02)).toBe(2);
    expect(pages.peek(0x3fff)!.state(0xfff)).toBe(2);
    expect(pages.peek(0x4400)!.state(0x400)).toBe(2);
    expect(summarize(held).livePages).toBe(1);
  });
});

