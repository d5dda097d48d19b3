import { describe, expect, it } from 'vitest';
import type { TraceSummary } from '../../src/core/trace';
import { analyzeText, native } from '../helpers';

// Line numbers: native() puts the header on line 1, so its k-th argument is on line k + 1.

/** kind, line, pfn and related lines of every anomaly, in report order. */
function found(s: TraceSummary): [string, number, string | null, number[]][] {
  return s.anomalies.map((a) => [a.kind, a.line, a.pfn, a.related]);
}

async function run(...lines: string[]): Promise<TraceSummary> {
  return analyzeText(native(...lines));
}

/** A process page shared with snapshot 1 (lines 2..6). */
const SHARED = [
  '1 alloc pfn=0x10 order=0 pid=1 comm=app',
  '2 map pid=1 vaddr=0x7000 pfn=0x10',
  '3 snapshot-begin snap=1 pid=1',
  '4 snapref snap=1 vaddr=0x7000 pfn=0x10',
  '5 snapshot-end snap=1',
];

describe('double-free', () => {
  it('is reported at the second free, with the first free related', async () => {
    const s = await run('1 alloc pfn=0x10 order=0 pid=1', '2 free pfn=0x10 order=0', '3 free pfn=0x10 order=0');
    expect(found(s)).toEqual([['double-free', 4, '0x10', [3]]]);
    expect(s.anomalies[0].severity).toBe('error');
  });

  it('is reported once for a high-order free over several freed pages', async () => {
    const s = await run('1 alloc pfn=0x10 order=2', '2 free pfn=0x10 order=2', '3 free pfn=0x10 order=2');
    expect(found(s)).toEqual([['double-free', 4, '0x10', [3]]]);
  });

  it('is not reported for pages allocated before tracing began, nor for free, alloc, free', async () => {
    const s = await run('1 free pfn=0x99 order=3', '2 alloc pfn=0x10 pid=1', '3 free pfn=0x10', '4 alloc pfn=0x10 pid=2', '5 free pfn=0x10');
    expect(found(s)).toEqual([]);
    expect(s.livePages).toBe(0);
  });
});

describe('double-alloc', () => {
  it('is reported at the later alloc, which owns the page from then on', async () => {
    const s = await run('1 alloc pfn=0x10 order=0 pid=1', '2 alloc pfn=0x10 order=0 pid=2');
    expect(found(s)).toEqual([['double-alloc', 3, '0x10', [2]]]);
    expect(s.owners.map((o) => [o.pid, o.livePages, o.peakPages])).toEqual([[2, 1, 1], [1, 0, 1]]);
  });

  it('is reported when a copy-on-write break hands out a live page', async () => {
    const s = await run(...SHARED, '6 alloc pfn=0x20 owner=kernel', '7 cow snap=1 pid=1 old=0x10 new=0x20');
    expect(found(s)).toEqual([['double-alloc', 8, '0x20', [7]]]);
  });

  it('is not reported for an alloc after a free, nor for an alloc of a page seen only as mapped', async () => {
    const s = await run('1 alloc pfn=0x10 pid=1', '2 free pfn=0x10', '3 alloc pfn=0x10 pid=2', '4 alloc pfn=0x20 pid=3');
    expect(found(s)).toEqual([]);
  });
});

describe('owner-conflict', () => {
  it('is reported when a filesystem block lands on a process page', async () => {
    const s = await run('1 alloc pfn=0x10 pid=1 comm=app', '2 fsalloc dev=pmem0 ino=5 off=0 pfn=0x10');
    expect(found(s)).toEqual([['owner-conflict', 3, '0x10', [2]]]);
    expect(s.anomalies[0].message).toContain('pid 1 (app)');
  });

  it('is reported when the agent maps a filesystem block into a process', async () => {
    const s = await run('1 fsalloc dev=pmem0 ino=5 off=0 pfn=0x4000', '2 fault pid=7 vaddr=0x1000 devoff=0 pfn=0x4000 agent=numactlX');
    expect(found(s)).toEqual([['owner-conflict', 3, '0x4000', [2]]]);
    expect(s.anomalies[0].message).toContain('file pmem0/5');
  });

  it('is not reported for a kernel page given to the filesystem, a file page mapped by a process, or a re-fault by the owner', async () => {
    const s = await run(
      '1 alloc pfn=0x10 owner=kernel',
      '2 fsalloc dev=pmem0 ino=5 pfn=0x10', // kernel buffers are handed to filesystems with no event for the handoff
      '3 map pid=1 vaddr=0x1000 pfn=0x10', // mmap of a file: shared, not exclusive
      '4 fault pid=2 vaddr=0x2000 devoff=0 pfn=0x20',
      '5 fault pid=2 vaddr=0x2000 devoff=0 pfn=0x20',
      '6 fsalloc dev=pmem0 ino=6 pfn=0x30',
      '7 fsalloc dev=pmem0 ino=6 pfn=0x30',
    );
    expect(found(s)).toEqual([]);
  });
});

describe('use-after-free', () => {
  it('is reported for a write after the free', async () => {
    const s = await run('1 alloc pfn=0x10 pid=1', '2 map pid=1 vaddr=0x7000 pfn=0x10', '3 unmap pid=1 vaddr=0x7000 pfn=0x10', '4 free pfn=0x10', '5 write pid=1 vaddr=0x7000 pfn=0x10');
    expect(found(s)).toEqual([['use-after-free', 6, '0x10', [5]]]);
  });

  it('is reported for a map of a page handed to another process', async () => {
    const s = await run('1 alloc pfn=0x10 pid=1', '2 free pfn=0x10', '3 alloc pfn=0x10 pid=2', '4 map pid=1 vaddr=0x7000 pfn=0x10');
    expect(found(s)).toEqual([['use-after-free', 5, '0x10', [4]]]);
    expect(s.anomalies[0].message).toContain('handed to pid 2');
  });

  it('is reported for a write to the page a copy-on-write break left to the snapshot', async () => {
    const s = await run(...SHARED, '6 cow snap=1 pid=1 vaddr=0x7000 old=0x10 new=0x11', '7 write pid=1 vaddr=0x7000 pfn=0x10');
    expect(found(s)).toEqual([['use-after-free', 8, '0x10', [7]]]);
  });

  it('is not reported for pages never seen, kernel pages mapped, or a fault that reuses a freed page', async () => {
    const s = await run(
      '1 map pid=1 vaddr=0x7000 pfn=0x10',
      '2 write pid=1 vaddr=0x7000 pfn=0x10',
      '3 alloc pfn=0x20 owner=kernel',
      '4 map pid=1 vaddr=0x8000 pfn=0x20', // vDSO-like: the kernel keeps it
      '5 fault pid=2 vaddr=0x1000 devoff=0 pfn=0x30',
      '6 free pfn=0x30',
      '7 fault pid=3 vaddr=0x1000 devoff=0 pfn=0x30',
      '8 write pid=3 vaddr=0x1000 pfn=0x30',
    );
    expect(found(s)).toEqual([]);
  });
});

describe('snapshot-dangling', () => {
  it('is reported once at the free, not again when the page is reallocated', async () => {
    const s = await run(...SHARED, '6 unmap pid=1 vaddr=0x7000 pfn=0x10', '7 free pfn=0x10', '8 alloc pfn=0x10 pid=2', '9 free pfn=0x10', '10 fault pid=3 vaddr=0 devoff=0 pfn=0x10');
    expect(found(s)).toEqual([['snapshot-dangling', 8, '0x10', [5]]]);
  });

  it('is reported at a reference to a page already freed, with the free related', async () => {
    const s = await run('1 alloc pfn=0x10 pid=1', '2 free pfn=0x10', '3 snapshot-begin snap=4 pid=1', '4 snapref snap=4 pfn=0x10', '5 alloc pfn=0x10 pid=1');
    expect(found(s)).toEqual([['snapshot-dangling', 5, '0x10', [3]]]);
  });

  it('is reported when a referenced page migrates away, once per snapshot', async () => {
    const s = await run(...SHARED, '6 snapshot-begin snap=2 pid=1', '7 snapref snap=2 pfn=0x10', '8 migrate pfn=0x10 order=0 to=0x40');
    expect(found(s)).toEqual([
      ['snapshot-dangling', 9, '0x10', [5]],
      ['snapshot-dangling', 9, '0x10', [8]],
    ]);
  });

  it('is not reported for legal sharing, a free after the drop, or a free of the page the process got at a CoW break', async () => {
    const s = await run(
      ...SHARED,
      '6 cow snap=1 pid=1 vaddr=0x7000 old=0x10 new=0x11',
      '7 write pid=1 vaddr=0x7000 pfn=0x11',
      '8 free pfn=0x11',
      '9 snapshot-drop snap=1',
      '10 alloc pfn=0x10 pid=2',
    );
    expect(found(s)).toEqual([]);
    expect(s.livePages).toBe(1);
  });

  it('keeps a page pinned for a second snapshot when the first one that kept it is dropped', async () => {
    const s = await run(...SHARED, '6 snapshot-begin snap=2 pid=1', '7 snapref snap=2 pfn=0x10', '8 cow snap=1 pid=1 old=0x10 new=0x11', '9 snapshot-drop snap=1');
    expect(found(s)).toEqual([]);
    expect(s.owners.filter((o) => o.livePages > 0).map((o) => [o.kind, o.snap ?? o.pid, o.livePages])).toEqual([
      ['process', 1, 1],
      ['snapshot', 2, 1],
    ]);
  });
});

describe('cow-missed', () => {
  it('is reported once per snapshot and page, at the first write without a CoW break', async () => {
    const s = await run(...SHARED, '6 write pid=1 vaddr=0x7000 pfn=0x10', '7 write pid=1 vaddr=0x7000 pfn=0x10');
    expect(found(s)).toEqual([['cow-missed', 7, '0x10', [5]]]);
  });

  it('is reported for a write after a restore re-shared the page', async () => {
    const s = await run(
      ...SHARED,
      '6 cow snap=1 pid=1 vaddr=0x7000 old=0x10 new=0x11',
      '7 unmap pid=1 vaddr=0x7000 pfn=0x11',
      '8 free pfn=0x11',
      '9 restore snap=1 pid=1',
      '10 write pid=1 vaddr=0x7000 pfn=0x10',
    );
    expect(found(s)).toEqual([['cow-missed', 11, '0x10', [5]]]);
  });

  it('is not reported for a write after the CoW break, after a restore then CoW, or after the drop', async () => {
    const s = await run(
      ...SHARED,
      '6 cow snap=1 pid=1 vaddr=0x7000 old=0x10 new=0x11',
      '7 write pid=1 vaddr=0x7000 pfn=0x11',
      '8 unmap pid=1 vaddr=0x7000 pfn=0x11',
      '9 free pfn=0x11',
      '10 restore snap=1 pid=1',
      '11 cow snap=1 pid=1 vaddr=0x7000 old=0x10 new=0x12',
      '12 write pid=1 vaddr=0x7000 pfn=0x12',
      '13 snapshot-drop snap=1',
      '14 alloc pfn=0x20 pid=1',
      '15 snapshot-begin snap=2 pid=1',
      '16 snapref snap=2 pfn=0x20',
      '17 snapshot-drop snap=2',
      '18 write pid=1 vaddr=0x9000 pfn=0x20',
    );
    expect(found(s)).toEqual([]);
    expect(s.snapshots.map((x) => [x.id, x.cows, x.dropped])).toEqual([[1, 2, true], [2, 0, true]]);
  });
});

describe('membind-violation', () => {
  it('is reported for a bound process page on another node (from the event, else from the region)', async () => {
    const s = await run(
      'region name=ram0 node=0 start=0x0 pages=0x1000',
      'region name=dax node=1 start=0x1000 pages=0x1000 type=kmem dev=/dev/dax0.0',
      '1 membind pid=5 node=1',
      '2 alloc pfn=0x10 pid=5 node=0',
      '3 alloc pfn=0x20 pid=5',
      '4 alloc pfn=0x1010 pid=5',
    );
    expect(found(s)).toEqual([
      ['membind-violation', 5, '0x10', []],
      ['membind-violation', 6, '0x20', []],
    ]);
    expect(s.anomalies[0].severity).toBe('warning');
  });

  it('is inherited by a forked child', async () => {
    const s = await run('1 membind pid=5 node=1', '2 fork pid=5 child=6', '3 alloc pfn=0x10 pid=6 node=0', '4 alloc pfn=0x11 pid=6 node=1');
    expect(found(s)).toEqual([['membind-violation', 4, '0x10', []]]);
  });

  it('is reported for a DAX fault serviced from outside the device, and not for one inside it', async () => {
    const s = await run(
      'region name=dax0.0 node=3 start=0x4000000 pages=0x8000 type=devdax dev=/dev/dax0.0',
      '1 membind pid=7 node=3',
      '2 fault pid=7 vaddr=0x1000 devoff=0x0 pfn=0x4000010 node=3 agent=numactlX',
      '3 fault pid=7 vaddr=0x2000 devoff=0x1000 pfn=0x100 node=0 agent=numactlX',
      '4 fault pid=8 vaddr=0x2000 devoff=0x2000 pfn=0x4007fff agent=numactlX',
    );
    expect(found(s)).toEqual([['membind-violation', 5, '0x100', []]]);
    expect(s.anomalies[0].message).toContain('outside /dev/dax0.0');
  });

  it('is not reported for unbound processes, kernel pages, or faults with no device offset', async () => {
    const s = await run('region name=dax0.0 node=3 start=0x4000000 pages=0x8000 type=devdax dev=/dev/dax0.0', '1 alloc pfn=0x10 pid=1 node=0', '2 alloc pfn=0x11 owner=kernel node=2', '3 fault pid=9 vaddr=0x1000 pfn=0x200');
    expect(found(s)).toEqual([]);
  });
});

describe('offline-block', () => {
  const LAYOUT = [
    'region name=ram0 node=0 start=0x0 pages=0x8000',
    'region name=dax node=1 start=0x8000 pages=0x10000 type=kmem dev=/dev/dax0.0',
    'block id=0 start=0x0 pages=0x8000 node=0 state=online',
    'block id=1 start=0x8000 pages=0x8000 node=1 state=offline',
    'block id=2 start=0x10000 pages=0x8000 node=1 state=offline',
  ];

  it('is reported for an alloc, a multi-page alloc reaching in, and a map in an offline block', async () => {
    const s = await run(...LAYOUT, '1 alloc pfn=0x8010 owner=kernel', '2 alloc pfn=0x7ffe order=2 owner=kernel', '3 offline block=0', '4 map pid=1 vaddr=0x1000 pfn=0x20');
    expect(found(s)).toEqual([
      ['offline-block', 7, '0x8010', []],
      ['offline-block', 8, '0x8000', []],
      ['offline-block', 10, '0x20', []],
    ]);
  });

  it('is not reported once the block is onlined, nor for device-mapped DAX users', async () => {
    const s = await run(
      ...LAYOUT,
      'region name=devdax node=2 start=0x20000 pages=0x8000 type=devdax dev=/dev/dax1.0',
      'block id=4 start=0x20000 pages=0x8000 node=2 state=offline',
      '1 online block=1',
      '2 alloc pfn=0x8010 owner=kernel',
      '3 fault pid=7 vaddr=0x1000 devoff=0 pfn=0x20000',
      '4 alloc pfn=0x100 order=3 pid=1',
    );
    expect(found(s)).toEqual([]);
  });
});

describe('order-mismatch', () => {
  it('is a warning at a head free with another order; the split pages freed after it are not reported', async () => {
    const s = await run('1 alloc pfn=0x10 order=2 owner=kernel', '2 free pfn=0x10 order=0', '3 free pfn=0x11 order=0', '4 free pfn=0x12 order=0', '5 free pfn=0x13 order=0');
    expect(found(s)).toEqual([['order-mismatch', 3, '0x10', [2]]]);
    expect(s.anomalies[0].severity).toBe('warning');
    expect(s.livePages).toBe(0);
  });

  it('is reported for a free whose order covers an unknown head and a page allocated on its own', async () => {
    const s = await run('1 alloc pfn=0x21 order=0 pid=1', '2 free pfn=0x20 order=1');
    expect(found(s)).toEqual([['order-mismatch', 3, '0x21', [2]]]);
    expect(s.livePages).toBe(0);
  });

  it('is not reported for frees of non-head pages of a split allocation, matching orders, or filesystem frees', async () => {
    const s = await run(
      '1 alloc pfn=0x10 order=2 owner=kernel',
      '2 free pfn=0x11 order=0',
      '3 free pfn=0x12 order=1',
      '4 alloc pfn=0x40 order=3',
      '5 free pfn=0x40 order=3',
      '6 fsalloc dev=pmem0 ino=1 pfn=0x80 order=1',
      '7 fsfree dev=pmem0 ino=1 pfn=0x80',
    );
    expect(found(s)).toEqual([]);
  });
});

describe('leak', () => {
  it('is reported at the allocation line with the exit related, one per allocation', async () => {
    const s = await run('1 fork pid=1 child=9 comm=leaky', '2 alloc pfn=0x10 order=1 pid=9', '3 map pid=9 vaddr=0x1000 pfn=0x10', '4 alloc pfn=0x30 pid=9', '5 exit pid=9');
    expect(found(s)).toEqual([
      ['leak', 3, '0x10', [6]],
      ['leak', 5, '0x30', [6]],
    ]);
    expect(s.anomalies[0].message).toBe('2 pages from pfn 0x10 still owned by pid 9 after it exited at line 6');
  });

  it('is judged when the pid is reused, before the new process frees the page', async () => {
    const s = await run('1 alloc pfn=0x10 pid=9', '2 exit pid=9', '3 fork pid=1 child=9', '4 free pfn=0x10', '5 alloc pfn=0x20 pid=9', '6 exit pid=9');
    expect(found(s)).toEqual([
      ['leak', 2, '0x10', [3]],
      ['leak', 6, '0x20', [7]],
    ]);
  });

  it('is not reported after freeing, for a deferred free after the exit, for snapshot-pinned pages, or for kernel pages', async () => {
    const s = await run(
      ...SHARED,
      '6 alloc pfn=0x20 pid=1',
      '7 free pfn=0x20',
      '8 alloc pfn=0x30 pid=1',
      '9 alloc pfn=0x40 owner=kernel',
      '10 exit pid=1',
      '11 free pfn=0x30',
    );
    expect(found(s)).toEqual([]);
  });
});

describe('parse-error', () => {
  it('names the line and what was expected, and the rest is still read', async () => {
    const s = await run('1 alloc pfn=0x10 pid=1', '2 alloc pfn=0x10x', '3 free pfn=0x10');
    expect(found(s)).toEqual([['parse-error', 3, null, []]]);
    expect(s.anomalies[0].message).toContain('expected a number for pfn=');
    expect(s.livePages).toBe(0);
  });
});

describe('page frame numbers beyond 32 bits', () => {
  it('keeps exact pfns, chunk boundaries and counts at 2^40', async () => {
    const s = await run(
      '1 alloc pfn=0xfffffffffe order=2 pid=3',
      '2 free pfn=0x10000000000 order=0',
      '3 free pfn=0x10000000000 order=0',
      '4 exit pid=3',
    );
    expect(found(s)).toEqual([
      ['leak', 2, '0xfffffffffe', [5]],
      ['double-free', 4, '0x10000000000', [3]],
    ]);
    expect(s.livePages).toBe(3);
  });
});

describe('rule settings', () => {
  it('switches rules off and re-grades them', async () => {
    const text = native('1 alloc pfn=0x10 order=2', '2 free pfn=0x10 order=0', '3 free pfn=0x10 order=0');
    const s = await analyzeText(text, 't', { rules: { disabled: ['order-mismatch'], severity: { 'double-free': 'info' } } });
    expect(s.anomalies.map((a) => [a.kind, a.severity])).toEqual([['double-free', 'info']]);
  });
});
