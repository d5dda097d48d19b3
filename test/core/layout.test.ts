import { describe, expect, it } from 'vitest';
import { memorySource } from '../../src/core/io/memorySource';
import { AddressSpace } from '../../src/core/model/addressSpace';
import { EventKind, newEventRecord } from '../../src/core/model/events';
import { parseSize } from '../../src/core/formats/layoutValues';
import { openTrace, summarize, type TraceModel } from '../../src/core/trace';
import { analyzeText, native, openText, realFixture } from '../helpers';

/** Block events of a model as [kind, block, line]. */
function blockEvents(m: TraceModel): [string, number, number][] {
  const ev = m.builder.events;
  const e = newEventRecord();
  const out: [string, number, number][] = [];
  for (let i = 0; i < ev.length; i++) {
    ev.read(i, e);
    if (e.kind === EventKind.Online || e.kind === EventKind.Offline) out.push([e.kind === EventKind.Online ? 'online' : 'offline', e.ref, e.line]);
  }
  return out;
}

function parseErrors(s: { anomalies: { kind: string; line: number; message: string }[] }): [number, string][] {
  return s.anomalies.filter((a) => a.kind === 'parse-error').map((a) => [a.line, a.message]);
}

describe('sizes', () => {
  it('reads bytes, hex, lsmem suffixes and daxctl human sizes', () => {
    expect(parseSize('16777216000')).toBe(16777216000);
    expect(parseSize('0x80000000')).toBe(2 ** 31);
    expect(parseSize('128M')).toBe(128 * 2 ** 20);
    expect(parseSize('2G')).toBe(2 ** 31);
    expect(parseSize('1.5T')).toBe(1.5 * 2 ** 40);
    expect(parseSize('15.75 GiB')).toBe(15.75 * 2 ** 30);
    expect(parseSize('15.63 GiB (16.78 GB)')).toBe(Math.round(15.63 * 2 ** 30));
    expect(parseSize('16.78 GB')).toBe(16.78e9);
    expect(parseSize('lots')).toBeNaN();
  });
});

describe('daxctl / ndctl JSON', () => {
  it('reads the real man-page sample: the last word on each device wins, prose lines are counted', async () => {
    const s = await analyzeText(realFixture('daxctl-2.txt'), 'daxctl-2.txt');
    expect(s.format).toBe('daxctl');
    expect(s.counts).toEqual({ daxDevices: 4, proseLines: 3 });
    expect(s.layout.nodes.map((n) => n.id)).toEqual([2, 3]);
    expect(s.layout.regions).toEqual([
      { name: 'dax0.0', type: 'kmem', node: 2, pages: 4096000, device: '/dev/dax0.0' },
      { name: 'dax0.1', type: 'kmem', node: 3, pages: 4096000, device: '/dev/dax0.1' },
    ]);
    const m = await openText(realFixture('daxctl-2.txt'), 'daxctl-2.txt');
    expect(m.builder.layout.regions.map((r) => [r.name, r.line])).toEqual([['dax0.0', 19], ['dax0.1', 25]]);
    expect(m.builder.layout.regions.every((r) => Number.isNaN(r.start))).toBe(true);
    expect(s.anomalies).toEqual([]);
  });

  it('reads a single object in human form, and daxctl list fields', async () => {
    const one = await analyzeText('{\n  "chardev":"dax1.0",\n  "size":"15.75 GiB (16.91 GB)",\n  "target_node":1,\n  "mode":"devdax"\n}\n');
    expect(one.layout.regions).toEqual([{ name: 'dax1.0', type: 'devdax', node: 1, pages: 4128768, device: '/dev/dax1.0' }]);
    const list = await analyzeText(
      '[{"chardev":"dax1.0","size":34359738368,"target_node":1,"align":2097152,"mode":"system-ram","online_memblocks":30,"total_memblocks":32,"movable":true}]\n',
    );
    expect(list.layout.regions).toEqual([
      { name: 'dax1.0', type: 'kmem', node: 1, pages: 8388608, device: '/dev/dax1.0', onlineBlocks: 30, totalBlocks: 32, movable: true },
    ]);
  });

  it('reads ndctl namespaces: fsdax as a region, devdax through its daxregion devices', async () => {
    const text = [
      '# ndctl list -N',
      '[',
      '  {',
      '    "dev":"namespace0.0",',
      '    "mode":"fsdax",',
      '    "map":"dev",',
      '    "size":"7.87 GiB (8.45 GB)",',
      '    "uuid":"ed6dd3c6-6a8c-4a8e-a5c9-3a22e8d4f2d0",',
      '    "blockdev":"pmem0",',
      '    "numa_node":0',
      '  },',
      '  {',
      '    "dev":"namespace1.0",',
      '    "mode":"devdax",',
      '    "size":8453619712,',
      '    "daxregion":{',
      '      "id":1,',
      '      "size":8453619712,',
      '      "devices":[',
      '        { "chardev":"dax1.0", "size":8453619712, "target_node":1, "mode":"devdax" }',
      '      ]',
      '    }',
      '  }',
      ']',
    ].join('\n');
    const m = await openText(text);
    const s = summarize(m);
    expect(s.format).toBe('daxctl');
    expect(s.counts).toEqual({ namespaces: 2, daxDevices: 1 });
    expect(s.layout.regions).toEqual([
      { name: 'namespace0.0', type: 'fsdax', node: 0, pages: 2063073, device: '/dev/pmem0' },
      { name: 'dax1.0', type: 'devdax', node: 1, pages: 2063872, device: '/dev/dax1.0' },
    ]);
    expect(m.builder.layout.regions.map((r) => r.line)).toEqual([3, 20]);
  });

  it('names the line of each bad object, and of JSON that does not parse or close', async () => {
    const text = [
      '[',
      '  {"chardev":"dax0.0","size":"big","target_node":0,"mode":"devdax"},',
      '  {"chardev":"dax0.1","size":4096,"mode":"pmem"},',
      '  {"chardev":"dax0.2","size":8192,"target_node":0}',
      ']',
      '{"chardev": "dax9.9", "size": 1,,}',
      '[ {"chardev":"dax3.0",',
    ].join('\n');
    const s = await analyzeText(text);
    expect(parseErrors(s)).toEqual([
      [2, 'dax device dax0.0: expected "size" in bytes or as "15.63 GiB", found "big"'],
      [3, 'dax device dax0.1: mode "pmem" is not one of system-ram, devdax, fsdax'],
      [6, expect.stringContaining('invalid JSON in the value that starts here')],
      [7, 'the JSON value that starts here is not closed by line 7: expected a closing } or ]'],
    ]);
    // A device without a mode (older daxctl) is device-dax.
    expect(s.layout.regions).toEqual([{ name: 'dax0.2', type: 'devdax', node: 0, pages: 2, device: '/dev/dax0.2' }]);
  });

  it('gives the same layout whatever the chunk size', async () => {
    const text = realFixture('daxctl-2.txt');
    const whole = await analyzeText(text);
    for (const chunk of [1, 5, 17]) {
      const s = await analyzeText(text, 't', {}, chunk);
      expect({ r: s.layout.regions, c: s.counts }).toEqual({ r: whole.layout.regions, c: whole.counts });
    }
  });
});

describe('lsmem and memory block state', () => {
  it('reads the real before/after capture: the second table onlines blocks 129-192 at its line', async () => {
    const m = await openText(realFixture('memory-hotplug-1.txt'), 'memory-hotplug-1.txt');
    const s = summarize(m);
    expect(s.format).toBe('lsmem');
    expect(s.counts).toEqual({ online: 64, lsmemTables: 2, proseLines: 6, blockStateChanges: 64 });
    expect(s.layout.nodes.map((n) => n.id)).toEqual([0, 1, 2, 3, 4]);
    expect(s.layout.blocks).toHaveLength(224);
    // 2 GiB blocks (Memory block size: 2G) = 524288 pages; block ids follow the BLOCK column.
    expect(s.layout.blocks.filter((b) => b.state === 'offline').map((b) => b.id)).toEqual([...range(129, 192), ...range(193, 224)]);
    expect(s.layout.blocks.find((b) => b.id === 0)).toEqual({ id: 0, start: '0x0', pages: 524288, state: 'online', node: 0 });
    expect(s.layout.blocks.find((b) => b.id === 129)).toEqual({ id: 129, start: '0x4080000', pages: 524288, state: 'offline', node: 2, zones: ['Normal', 'Movable'] });
    expect(s.layout.blocks.find((b) => b.id === 224)).toMatchObject({ start: '0x7000000', node: 4 });
    const per = new Map<number, number>();
    for (const b of s.layout.blocks) per.set(b.node!, (per.get(b.node!) ?? 0) + 1);
    expect([...per].sort((a, b) => a[0] - b[0])).toEqual([[0, 32], [1, 64], [2, 64], [3, 32], [4, 32]]);
    const events = blockEvents(m);
    expect(events).toHaveLength(64);
    expect(events[0]).toEqual(['online', 129, 28]);
    expect(events[63]).toEqual(['online', 192, 28]);
    expect(s.anomalies).toEqual([]);
  });

  it('reads any column order, plain lsmem without BLOCK, and reports bad rows', async () => {
    const text = [
      'SIZE   STATE NODE RANGE',
      '384M  online    0 0x0000000000000000-0x0000000017ffffff',
      '128M offline    1 0x0000000018000000-0x000000001fffffff',
      '128M  online    x 0x0000000020000000-0x0000000027ffffff',
      '128M   bogus    1 0x0000000028000000-0x000000002fffffff',
      '',
      'Memory block size:       128M',
    ].join('\n');
    const s = await analyzeText(text);
    expect(s.format).toBe('lsmem');
    expect(s.layout.blocks).toEqual([
      { id: 0, start: '0x0', pages: 32768, state: 'online', node: 0 },
      { id: 1, start: '0x8000', pages: 32768, state: 'online', node: 0 },
      { id: 2, start: '0x10000', pages: 32768, state: 'online', node: 0 },
      { id: 3, start: '0x18000', pages: 32768, state: 'offline', node: 1 },
    ]);
    expect(parseErrors(s)).toEqual([
      [4, 'expected NODE as a number, found "x"'],
      [5, 'expected STATE online or offline, found "bogus"'],
    ]);
  });

  it('reads sysfs state listings: block_size_bytes (hex), later states as events, valid_zones', async () => {
    const text = [
      '/sys/devices/system/memory/block_size_bytes:8000000',
      '/sys/devices/system/memory/memory32/state:online',
      '/sys/devices/system/memory/memory33/state:offline',
      '/sys/devices/system/memory/memory33/valid_zones:Normal Movable',
      '/sys/devices/system/memory/memory34/state:going-offline',
      '# after: echo online > memory33/state',
      'memory33: online',
      'memory34 offline',
      'echo done',
    ].join('\n');
    const m = await openText(text);
    const s = summarize(m);
    expect(s.format).toBe('memory-state');
    expect(s.layout.blocks).toEqual([
      { id: 32, start: '0x100000', pages: 32768, state: 'online' },
      { id: 33, start: '0x108000', pages: 32768, state: 'offline', zones: ['Normal', 'Movable'] },
      { id: 34, start: '0x110000', pages: 32768, state: 'offline' },
    ]);
    expect(blockEvents(m)).toEqual([['online', 33, 7]]);
    expect(s.counts).toEqual({ online: 1, blockStateChanges: 1, proseLines: 1 });
  });

  it('reads lsmem -P pairs and lsmem -J JSON the same way as the table', async () => {
    const pairs = [
      'RANGE="0x0000000000000000-0x000000007fffffff" SIZE="2G" STATE="online" REMOVABLE="yes" BLOCK="0" NODE="0" ZONES="None"',
      'RANGE="0x0000000080000000-0x00000000ffffffff" SIZE="2G" STATE="offline" REMOVABLE="" BLOCK="1" NODE="1" ZONES="Normal/Movable"',
      'RANGE="0x0000000100000000-0x000000017fffffff" SIZE="2G" STATE="sleepy" REMOVABLE="" BLOCK="2" NODE="1"',
    ].join('\n');
    const p = await analyzeText(pairs);
    expect(p.format).toBe('lsmem');
    const expected = [
      { id: 0, start: '0x0', pages: 524288, state: 'online', node: 0 },
      { id: 1, start: '0x80000', pages: 524288, state: 'offline', node: 1, zones: ['Normal', 'Movable'] },
    ];
    expect(p.layout.blocks).toEqual(expected);
    expect(parseErrors(p)).toEqual([[3, 'expected STATE online or offline, found "sleepy"']]);
    const json = [
      '{',
      '   "memory": [',
      '      {"range": "0x0000000000000000-0x000000007fffffff", "size": "2G", "state": "online", "removable": true, "block": "0", "node": 0, "zones": "None"},',
      '      {"range": "0x0000000080000000-0x00000000ffffffff", "size": "2G", "state": "offline", "removable": false, "block": "1", "node": 1, "zones": "Normal/Movable"},',
      '      {"range": "0x0000000100000000-0x000000017fffffff", "size": "2G", "state": "online", "block": "x"}',
      '   ]',
      '}',
    ].join('\n');
    const j = await analyzeText(json);
    expect(j.format).toBe('lsmem');
    expect(j.layout.blocks).toEqual(expected);
    expect(parseErrors(j)).toEqual([[5, 'expected BLOCK as N or N-M, found "x"']]);
  });

  it('takes 128 MiB blocks when the listing does not say', async () => {
    const s = await analyzeText('memory0 online\nmemory1 offline\n');
    expect(s.layout.blocks.map((b) => [b.id, b.start, b.pages])).toEqual([[0, '0x0', 32768], [1, '0x8000', 32768]]);
  });
});

describe('numa_maps', () => {
  it('reads the real sample into a placement snapshot in 4 KiB pages', async () => {
    const s = await analyzeText(realFixture('numa_maps-1.txt'), 'numa_maps-1.txt');
    expect(s.format).toBe('numa_maps');
    expect(s.counts).toEqual({ vmas: 16, anonPages: 530, mappedPages: 87 });
    expect(s.stats.events).toBe(0);
    expect(s.layout.nodes.map((n) => n.id)).toEqual([0, 3]);
    // Node 3 holds 40 small pages and the 2 MiB hugetlb page (512 small pages).
    expect(s.layout.placements).toEqual([
      { name: 'numa_maps', file: 'numa_maps-1.txt', line: 1, vmas: 16, nodes: [{ node: 0, pages: 65 }, { node: 3, pages: 552 }], anonPages: 530, dirtyPages: 530, mappedPages: 87 },
    ]);
  });

  it('takes the pid from the path or from ==> headers, one snapshot per process, and reports bad lines', async () => {
    const byPath = await analyzeText('00400000 default file=/bin/x mapped=2 N1=2 kernelpagesize_kB=4\n', '/proc/4242/numa_maps');
    expect(byPath.layout.placements.map((p) => [p.name, p.pid])).toEqual([['numa_maps of pid 4242', 4242]]);
    const text = [
      '==> /proc/10/numa_maps <==',
      '00400000 bind:1 anon=4 dirty=4 N1=4 kernelpagesize_kB=4',
      '',
      '==> /proc/11/numa_maps <==',
      '7f0000000000 interleave:0-1 anon=6 N0=3 N1=3 kernelpagesize_kB=4',
      '7f0000200000 default anon=x N0=1 kernelpagesize_kB=4',
      'not a mapping',
    ].join('\n');
    const s = await analyzeText(text);
    expect(s.format).toBe('numa_maps');
    expect(s.layout.placements.map((p) => [p.pid, p.line, p.vmas, p.nodes, p.anonPages])).toEqual([
      [10, 1, 1, [{ node: 1, pages: 4 }], 4],
      [11, 4, 1, [{ node: 0, pages: 3 }, { node: 1, pages: 3 }], 6],
    ]);
    expect(parseErrors(s)).toEqual([
      [6, 'expected a number for anon=, found "x"'],
      [7, 'expected a numa_maps line "<address> <policy> [key=value...]", found "not a mapping"'],
    ]);
  });
});

describe('zoneinfo', () => {
  it('reads the real sample, cut short before start_pfn: a region with pages but no start', async () => {
    const m = await openText(realFixture('zoneinfo-1.txt'), 'zoneinfo-1.txt');
    const s = summarize(m);
    expect(s.format).toBe('zoneinfo');
    expect(s.counts).toEqual({ zones: 1 });
    expect(s.layout.nodes).toEqual([{ id: 0, pages: 3975 }]);
    expect(s.layout.regions).toEqual([{ name: 'node0/DMA', type: 'ram', node: 0, pages: 4095, present: 3975, managed: 3956 }]);
    expect(m.builder.layout.regionOf(100)).toBeUndefined();
  });

  it('reads zones of two nodes with start_pfn, skips empty zones, places pfns on their node', async () => {
    const zone = (node: number, name: string, spanned: number, present: number, start: number): string[] => [
      `Node ${node}, zone ${name.padStart(8)}`,
      `  pages free     100`,
      `        min      33`,
      `        spanned  ${spanned}`,
      `        present  ${present}`,
      `        managed  ${Math.max(0, present - 10)}`,
      `        protection: (0, 0, 0, 0)`,
      `      nr_free_pages 100`,
      `  pagesets`,
      `    cpu: 0`,
      `              count: 0`,
      `  node_unreclaimable:  0`,
      `  start_pfn:           ${start}`,
    ];
    const text = [
      ...zone(0, 'DMA', 4095, 3998, 1),
      ...zone(0, 'Normal', 1048576, 1040000, 1048576),
      ...zone(0, 'Movable', 0, 0, 0),
      ...zone(1, 'Normal', 2097152, 2097152, 2097152),
      'Node 1, zone Device',
      '        spanned  lots',
    ].join('\n');
    const m = await openText(text);
    const s = summarize(m);
    expect(s.counts).toEqual({ zones: 5, emptyZones: 1 });
    expect(s.layout.nodes).toEqual([{ id: 0, pages: 3998 + 1040000 }, { id: 1, pages: 2097152 }]);
    expect(s.layout.regions.map((r) => [r.name, r.start, r.pages])).toEqual([
      ['node0/DMA', '0x1', 4095],
      ['node0/Normal', '0x100000', 1048576],
      ['node1/Normal', '0x200000', 2097152],
    ]);
    expect(m.builder.layout.regionOf(0x250000)?.node).toBe(1);
    expect(parseErrors(s)).toEqual([
      [54, 'expected a page count after "spanned", found "lots"'],
      [53, 'zone Device of node 1 has no "spanned" line: expected spanned, present and managed page counts'],
    ].sort((a, b) => (a[0] as number) - (b[0] as number)));
  });
});

describe('layout merged with a trace', () => {
  it('an lsmem listing with an offline block + a native trace allocating in it: offline-block', async () => {
    const lsmem = [
      'RANGE                                 SIZE  STATE REMOVABLE BLOCK',
      '0x0000000000000000-0x0000000007ffffff 128M online       yes     0',
      '0x0000000008000000-0x000000000fffffff 128M offline              1',
    ].join('\n');
    const trace = native('100 alloc pfn=0x100 order=0 pid=1', '200 alloc pfn=0x8010 order=0 pid=1');
    const s = summarize(await openTrace([memorySource('lsmem.txt', lsmem), memorySource('t.pltrace', trace)]));
    expect(s.format).toBe('mixed');
    expect(s.layout.blocks.map((b) => [b.id, b.state])).toEqual([[0, 'online'], [1, 'offline']]);
    expect(s.anomalies.map((a) => [a.kind, a.file, a.line, a.pfn])).toEqual([['offline-block', 't.pltrace', 3, '0x8010']]);
  });

  it('a later lsmem table that onlines the block clears it, since layout lines come before timed events', async () => {
    const head = 'RANGE                                 SIZE  STATE REMOVABLE BLOCK';
    const lsmem = [head, '0x0000000008000000-0x000000000fffffff 128M offline              1', '', head, '0x0000000008000000-0x000000000fffffff 128M  online       yes     1'].join('\n');
    const trace = native('200 alloc pfn=0x8010 order=0 pid=1');
    const s = summarize(await openTrace([memorySource('lsmem.txt', lsmem), memorySource('t.pltrace', trace)]));
    expect(s.counts).toMatchObject({ online: 1, alloc: 1 });
    expect(s.anomalies).toEqual([]);
  });

  it('a daxctl region with no start never places a pfn, and no DAX fault is judged against it', async () => {
    const dax = '[{"chardev":"dax0.0","size":1073741824,"target_node":1,"mode":"devdax"}]';
    const trace = native('1 fault pid=5 vaddr=0x7f0000000000 pfn=0x123 devoff=0');
    const s = summarize(await openTrace([memorySource('dax.json', dax), memorySource('t.pltrace', trace)]));
    expect(s.layout.regions.map((r) => [r.device, r.start])).toEqual([['/dev/dax0.0', undefined]]);
    expect(s.anomalies).toEqual([]);
  });
});

describe('layout merged with real captures', () => {
  it('daxctl + ftrace + page_owner open as one timeline: the layout joins, the others count as alone', async () => {
    const files = ['daxctl-2.txt', 'ftrace-kmem-1.txt', 'page_owner-1.txt'];
    const alone = await Promise.all(files.slice(1).map((f) => analyzeText(realFixture(f), f)));
    const m = await openTrace(files.map((f) => memorySource(f, realFixture(f))));
    const s = summarize(m);
    expect(s.format).toBe('mixed');
    expect(s.files.map((f) => f.format)).toEqual(['daxctl', 'ftrace', 'page_owner']);
    expect(s.layout.regions.map((r) => r.name)).toEqual(['dax0.0', 'dax0.1']);
    const sum: Record<string, number> = { daxDevices: 4, proseLines: 3 };
    for (const a of alone) for (const [k, v] of Object.entries(a.counts)) sum[k] = (sum[k] ?? 0) + v;
    expect(s.counts).toEqual(sum);
    expect(s.stats.events).toBe(alone[0].stats.events + alone[1].stats.events);
  });
});

describe('AddressSpace', () => {
  it('ignores regions without a start when looking up a pfn', () => {
    const a = new AddressSpace();
    a.addRegion({ name: 'dax0.0', type: 'kmem', node: 2, start: NaN, pages: 1000 });
    a.addRegion({ name: 'ram', type: 'ram', node: 0, start: 0, pages: 100 });
    expect(a.regionOf(50)?.name).toBe('ram');
    expect(a.regionOf(500)).toBeUndefined();
    expect([...a.nodes.keys()]).toEqual([2, 0]);
    a.addRegion({ name: 'x', type: 'other', node: -1, start: 200, pages: 1 });
    expect([...a.nodes.keys()]).toEqual([2, 0]);
  });

  it('finds blocks by id, and a block declared again replaces the first in place', () => {
    const a = new AddressSpace();
    a.addBlock({ id: 5, start: 0x28000, pages: 0x8000, state: 'online' });
    a.addBlock({ id: 6, start: 0x30000, pages: 0x8000, state: 'online' });
    a.addBlock({ id: 5, start: 0x28000, pages: 0x8000, state: 'offline' });
    expect(a.blocks.map((b) => [b.id, b.state])).toEqual([[5, 'offline'], [6, 'online']]);
    expect(a.block(5)?.state).toBe('offline');
    expect(a.block(7)).toBeUndefined();
    expect(a.blockOf(0x30001)?.id).toBe(6);
  });
});

function range(a: number, b: number): number[] {
  const out: number[] = [];
  for (let i = a; i <= b; i++) out.push(i);
  return out;
}
