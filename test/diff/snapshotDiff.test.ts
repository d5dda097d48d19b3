import { describe, expect, it } from 'vitest';
import { snapshotSideName } from '../../src/core/analysis/pageSet';
import { diffSides, toDiffResult, type DiffResult } from '../../src/core/analysis/snapshotDiff';
import { openTrace, type TraceModel } from '../../src/core/trace';
import { memorySource } from '../../src/core/io/memorySource';
import { native, openText } from '../helpers';

/** Pages per class, leaving out the classes with none (exact figures read better that way). */
function nonZero(r: DiffResult): Record<string, number> {
  return Object.fromEntries(Object.entries(r.classes).filter(([, v]) => v > 0));
}

function snapshotLog(...lines: string[]): string {
  return ['pageledger-snapshot 1', ...lines].join('\n') + '\n';
}

async function openFiles(files: [string, string][]): Promise<TraceModel> {
  return openTrace(files.map(([name, text]) => memorySource(name, text)));
}

/**
 * One process (pid 100, app) with four pages, a db process (pid 200) whose page migrates to node 1, a
 * kernel page freed, a tmp process (pid 300) that exits holding a page, a snapshot of app, a CoW break with
 * a vaddr and one without, and a page of db handed to app.
 */
const TRACE = native(
  'region name=ram0 node=0 start=0x1000 pages=4096 type=ram',
  'region name=far node=1 start=0x8000 pages=4096 type=kmem',
  '100 alloc pfn=0x1000 order=2 pid=100 comm=app',
  '101 map pid=100 vaddr=0x7f0000000000 pfn=0x1000',
  '102 map pid=100 vaddr=0x7f0000001000 pfn=0x1001',
  '103 map pid=100 vaddr=0x7f0000002000 pfn=0x1002',
  '104 map pid=100 vaddr=0x7f0000003000 pfn=0x1003',
  '105 alloc pfn=0x1100 order=1 pid=200 comm=db',
  '106 map pid=200 vaddr=0x7f1000000000 pfn=0x1100',
  '107 alloc pfn=0x1200 order=0 owner=kernel',
  '108 alloc pfn=0x1201 order=0 owner=kernel',
  '109 alloc pfn=0x1300 order=0 pid=300 comm=tmp',
  '300 snapshot-begin snap=1 pid=100',
  '301 snapref snap=1 vaddr=0x7f0000000000 pfn=0x1000',
  '302 snapref snap=1 vaddr=0x7f0000001000 pfn=0x1001',
  '303 snapref snap=1 vaddr=0x7f0000002000 pfn=0x1002',
  '304 snapref snap=1 vaddr=0x7f0000003000 pfn=0x1003',
  '305 snapshot-end snap=1',
  '400 cow snap=1 pid=100 vaddr=0x7f0000001000 old=0x1001 new=0x1010',
  '450 cow snap=1 pid=100 old=0x1003 new=0x1011',
  '500 migrate pfn=0x1100 to=0x8000',
  '550 free pfn=0x1101 order=0',
  '560 alloc pfn=0x1101 order=0 pid=100 comm=app',
  '600 free pfn=0x1200 order=0',
  '700 alloc pfn=0x1400 order=0 pid=100 comm=app',
  '800 exit pid=300',
);

describe('diff of two snapshot logs', () => {
  const A = snapshotLog(
    'snapshot id=1 pid=100 comm=app time=1000',
    'page vaddr=0x7f0000000000 pfn=0x1000 node=0',
    'page vaddr=0x7f0000001000 pfn=0x1001 node=0',
    'page vaddr=0x7f0000002000 pfn=0x1002 node=0',
    'page vaddr=0x7f0000003000 pfn=0x1003 node=0',
    'page vaddr=0x7f0000004000 pfn=0x1004 node=0 pid=200',
  );
  const B = snapshotLog(
    'snapshot id=2 pid=100 comm=app time=2000',
    'page vaddr=0x7f0000000000 pfn=0x1000 node=0',
    'page vaddr=0x7f0000004000 pfn=0x1004 node=0 pid=300',
    'page vaddr=0x7f0000001000 pfn=0x2000 node=0',
    'page vaddr=0x7f0000002000 pfn=0x3000 node=1',
    'page vaddr=0x7f0000005000 pfn=0x3001 order=1 node=1',
  );

  it('classes every page: unchanged, CoW split, migrated, removed, owner changed, added', async () => {
    const ma = await openText(A, 'a.plsnap');
    const mb = await openText(B, 'b.plsnap');
    const r = toDiffResult(diffSides({ model: ma, snapshot: 1 }, { model: mb, snapshot: 2 }), { a: { id: 1 }, b: { id: 2 } });
    expect(nonZero(r)).toEqual({ unchanged: 1, added: 2, removed: 1, ownerChanged: 1, cowSplit: 1, migrated: 1 });
    expect(r.bytes.added).toBe(2 * 4096);
    expect(r.key).toBe('pfn');
    expect([r.a.pages, r.b.pages]).toEqual([5, 6]);
    expect(r.changes.map((c) => [c.class, c.start, c.end, c.pages, c.startAfter, c.ownerBefore, c.ownerAfter, c.lineA, c.lineB])).toEqual([
      ['cowSplit', '0x1001', '0x1001', 1, '0x2000', 'pid 100 (app)', 'pid 100 (app)', 4, 5],
      ['migrated', '0x1002', '0x1002', 1, '0x3000', 'pid 100 (app)', 'pid 100 (app)', 5, 6],
      ['removed', '0x1003', '0x1003', 1, null, 'pid 100 (app)', null, 6, null],
      ['ownerChanged', '0x1004', '0x1004', 1, null, 'pid 200', 'pid 300', 7, 4],
      ['added', '0x3001', '0x3002', 2, null, null, 'pid 100 (app)', null, 7],
    ]);
    expect(r.byOwner.map((o) => [o.owner, o.pages.unchanged, o.pages.added, o.pages.removed, o.pages.ownerChanged, o.bytes.cowSplit])).toEqual([
      ['pid 100 (app)', 1, 2, 1, 0, 4096],
      ['pid 200', 0, 0, 0, 1, 0],
    ]);
    expect(r.byNode.map((n) => [n.node, n.pages.unchanged, n.pages.added, n.pages.migrated])).toEqual([
      [0, 1, 0, 1],
      [1, 0, 2, 0],
    ]);
  });

  it('finds nothing changed between a snapshot and itself', async () => {
    const m = await openText(A, 'a.plsnap');
    const r = toDiffResult(diffSides({ model: m, snapshot: 1 }, { model: m, snapshot: 1 }));
    expect(nonZero(r)).toEqual({ unchanged: 5 });
    expect(r.changes).toEqual([]);
  });
});

describe('diff of two snapshots inside one trace', () => {
  it('matches pages by pfn and pairs the CoW copy with the frame the first snapshot kept', async () => {
    const m = await openText(
      native(
        'region name=ram0 node=0 start=0x1000 pages=4096 type=ram',
        '100 alloc pfn=0x1000 order=2 pid=100 comm=app',
        '200 snapshot-begin snap=1 pid=100',
        '201 snapref snap=1 vaddr=0x7f0000000000 pfn=0x1000',
        '202 snapref snap=1 vaddr=0x7f0000001000 pfn=0x1001',
        '203 snapref snap=1 vaddr=0x7f0000002000 pfn=0x1002',
        '204 snapref snap=1 vaddr=0x7f0000003000 pfn=0x1003',
        '205 snapshot-end snap=1',
        '300 cow snap=1 pid=100 vaddr=0x7f0000001000 old=0x1001 new=0x1010',
        '400 snapshot-begin snap=2 pid=100',
        '401 snapref snap=2 vaddr=0x7f0000000000 pfn=0x1000',
        '402 snapref snap=2 vaddr=0x7f0000001000 pfn=0x1010',
        '403 snapref snap=2 vaddr=0x7f0000002000 pfn=0x1002',
        '404 alloc pfn=0x1020 order=0 pid=100 comm=app',
        '405 snapref snap=2 vaddr=0x7f0000005000 pfn=0x1020',
        '406 snapshot-end snap=2',
      ),
    );
    const r = toDiffResult(diffSides({ model: m, snapshot: 1 }, { model: m, snapshot: 2 }));
    expect(nonZero(r)).toEqual({ unchanged: 2, cowSplit: 1, removed: 1, added: 1 });
    expect(r.changes.map((c) => [c.class, c.start, c.startAfter, c.nodeBefore, c.nodeAfter, c.lineA, c.lineB])).toEqual([
      ['cowSplit', '0x1001', '0x1010', 0, 0, 6, 13],
      ['removed', '0x1003', null, 0, null, 8, null],
      ['added', '0x1020', null, null, 0, null, 16],
    ]);
  });
});

describe('diff of ownership at two times', () => {
  it('classes the whole machine between T1 and the end of the trace', async () => {
    const m = await openText(TRACE);
    const r = toDiffResult(diffSides({ model: m, time: 200 }, { model: m, time: Infinity }), { a: { time: 200 }, b: { time: Infinity } });
    expect(nonZero(r)).toEqual({ unchanged: 1, added: 2, ownerChanged: 1, cowSplit: 1, newlyShared: 2, migrated: 1, movedToSnapshot: 1, freed: 1, leaked: 1 });
    expect([r.a.time, r.b.time, r.a.pages, r.b.pages]).toEqual([200, null, 9, 11]);
    const byClass = Object.fromEntries(r.changes.map((c) => [c.class, [c.start, c.startAfter, c.ownerBefore, c.ownerAfter, c.lineA, c.lineB]]));
    expect(byClass).toEqual({
      newlyShared: ['0x1002', null, 'pid 100 (app)', 'pid 100 (app)', 4, 4],
      cowSplit: ['0x1001', '0x1010', 'pid 100 (app)', 'pid 100 (app)', 4, 20],
      movedToSnapshot: ['0x1003', null, 'pid 100 (app)', 'snapshot 1 of pid 100', 4, 21],
      added: ['0x1400', null, null, 'pid 100 (app)', null, 26],
      migrated: ['0x1100', '0x8000', 'pid 200 (db)', 'pid 200 (db)', 9, 22],
      ownerChanged: ['0x1101', null, 'pid 200 (db)', 'pid 100 (app)', 9, 24],
      freed: ['0x1200', null, 'kernel', null, 11, 25],
      leaked: ['0x1300', null, 'pid 300 (tmp)', 'pid 300 (tmp)', 13, 13],
    });
    expect(r.changes.filter((c) => c.class === 'newlyShared').map((c) => c.start)).toEqual(['0x1000', '0x1002']);
    expect(r.changes.filter((c) => c.class === 'added').map((c) => c.start)).toEqual(['0x1011', '0x1400']);
    expect(r.byNode.map((n) => [n.node, n.pages.migrated, n.pages.added])).toEqual([[0, 1, 2]]);
  });

  it('limits both times to one pid and still sees the frames it lost or took', async () => {
    const m = await openText(TRACE);
    const r = toDiffResult(diffSides({ model: m, time: 200, pid: 200 }, { model: m, time: Infinity, pid: 200 }));
    // db's 0x1100 migrated to 0x8000 (node 0 -> 1); 0x1101 went to app.
    expect(nonZero(r)).toEqual({ migrated: 1, ownerChanged: 1 });
    expect([r.a.name, r.b.name, r.a.pages, r.b.pages]).toEqual(['pid 200 at 200 ns', 'pid 200 at end', 2, 2]);
  });

  it('sees no change between a time and itself', async () => {
    const m = await openText(TRACE);
    const r = toDiffResult(diffSides({ model: m, time: 450 }, { model: m, time: 450 }));
    // Frames seen by then: app 4 + 2 CoW copies, db 2, kernel 2, tmp 1.
    expect(nonZero(r)).toEqual({ unchanged: 11 });
  });
});

describe('diff of a snapshot against the live state', () => {
  it('limits the live side to the snapshot process and its frames', async () => {
    const m = await openText(TRACE);
    const r = toDiffResult(diffSides({ model: m, snapshot: 1 }, { model: m, time: Infinity }));
    expect(nonZero(r)).toEqual({ unchanged: 2, cowSplit: 1, movedToSnapshot: 1, added: 3 });
    expect(r.b.name).toBe('pid 100 at end');
    expect(r.changes.filter((c) => c.class === 'added').map((c) => c.start)).toEqual(['0x1011', '0x1101', '0x1400']);
  });

  it('reports frames freed since the snapshot as freed', async () => {
    const m = await openText(TRACE + '900 free pfn=0x1000 order=0\n');
    const r = toDiffResult(diffSides({ model: m, snapshot: 1 }, { model: m, time: 900 }));
    expect(nonZero(r)).toEqual({ unchanged: 1, cowSplit: 1, movedToSnapshot: 1, added: 3, freed: 1 });
    expect(r.changes[0]).toMatchObject({ class: 'freed', start: '0x1000', ownerBefore: 'pid 100 (app)', ownerAfter: null, lineB: 28 });
  });
});

describe('diff of two page_owner dumps', () => {
  const rec = (order: number, pfn: number, pid: number, comm: string, ts: number): string =>
    [
      `Page allocated via order ${order}, mask 0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), pid ${pid}, tgid ${pid} (${comm}), ts ${ts} ns, free_ts 0 ns`,
      `PFN 0x${pfn.toString(16)} type Movable Block ${pfn >> 9} type Movable Flags 0x17ffffc0080014(uptodate|lru)`,
      ' __alloc_pages+0x1a6/0x340',
      ' handle_mm_fault+0x1051/0x1620',
      '',
    ].join('\n');
  const dumpA = [rec(0, 0x1000, 100, 'app', 1000), rec(1, 0x1002, 100, 'app', 1100), rec(0, 0x1010, 200, 'db', 1200), rec(0, 0x1020, 300, 'tmp', 1300), rec(0, 0x1040, 100, 'app', 1400)].join('\n');
  const dumpB = [rec(0, 0x1000, 100, 'app', 1000), rec(1, 0x1002, 100, 'app', 1100), rec(0, 0x1010, 300, 'tmp', 2000), rec(0, 0x1030, 100, 'app', 2100), rec(0, 0x1040, 100, 'app', 2200)].join('\n');

  it('unchanged for the same owner and allocation, ownerChanged otherwise, added and removed', async () => {
    const ma = await openText(dumpA, 'page_owner-a.txt');
    const mb = await openText(dumpB, 'page_owner-b.txt');
    expect(ma.format).toBe('page_owner');
    const sa = ma.builder.snapshots.get(0).id;
    const sb = mb.builder.snapshots.get(0).id;
    const r = toDiffResult(diffSides({ model: ma, snapshot: sa }, { model: mb, snapshot: sb }));
    // 0x1040: the same task holds it through a new allocation (another timestamp): counted as ownerChanged.
    expect(nonZero(r)).toEqual({ unchanged: 3, ownerChanged: 2, added: 1, removed: 1 });
    expect(r.changes.map((c) => [c.class, c.start, c.ownerBefore, c.ownerAfter, c.lineA, c.lineB])).toEqual([
      ['ownerChanged', '0x1010', 'pid 200 (db)', 'pid 300 (tmp)', 11, 11],
      ['removed', '0x1020', 'pid 300 (tmp)', null, 16, null],
      ['added', '0x1030', null, 'pid 100 (app)', null, 16],
      ['ownerChanged', '0x1040', 'pid 100 (app)', 'pid 100 (app)', 21, 21],
    ]);
  });

  it('compares two dumps read into one timeline', async () => {
    const m = await openFiles([
      ['page_owner-a.txt', dumpA],
      ['page_owner-b.txt', dumpB],
    ]);
    const [sa, sb] = m.builder.snapshots.map((s) => s.id);
    const r = toDiffResult(diffSides({ model: m, snapshot: sa }, { model: m, snapshot: sb }));
    expect(nonZero(r)).toEqual({ unchanged: 3, ownerChanged: 2, added: 1, removed: 1 });
    expect(r.changes[0]).toMatchObject({ fileA: 'page_owner-a.txt', fileB: 'page_owner-b.txt' });
  });
});

describe('names of diff sides', () => {
  it('names a snapshot with its process: its own comm, else the one the trace knows for its pid', async () => {
    const m = await openText(TRACE);
    const r = toDiffResult(diffSides({ model: m, snapshot: 1 }, { model: m, time: Infinity }));
    expect([r.a.name, r.b.name]).toEqual(['snapshot 1 of pid 100 (app)', 'pid 100 at end']);
    const log = await openText(snapshotLog('snapshot id=3 pid=9 comm=worker', 'page pfn=0x10', 'snapshot id=4 pid=9', 'page pfn=0x11'), 'w.plsnap');
    expect(toDiffResult(diffSides({ model: log, snapshot: 3 }, { model: log, snapshot: 4 })).a.name).toBe('snapshot 3 of pid 9 (worker)');
  });

  it('leaves a snapshot of no process (a page_owner dump) by its name alone', async () => {
    const dump = 'Page allocated via order 0, mask 0x0(), pid 100, tgid 100 (app), ts 1000 ns, free_ts 0 ns\nPFN 0x1000 type Movable Block 8 type Movable Flags 0x0()\n __alloc_pages+0x1a6/0x340\n\n';
    const m = await openText(dump, 'page_owner.txt');
    const id = m.builder.snapshots.get(0).id;
    expect(toDiffResult(diffSides({ model: m, snapshot: id }, { model: m, snapshot: id })).a.name).toBe('page_owner dump 1');
  });

  it('adds the pid only when it is one, and the comm only when known', () => {
    expect(snapshotSideName({ name: 'snapshot 20', pid: 1006, comm: 'app' })).toBe('snapshot 20 of pid 1006 (app)');
    expect(snapshotSideName({ name: 'snapshot 20', pid: 1006 })).toBe('snapshot 20 of pid 1006');
    expect(snapshotSideName({ name: 'snapshot 20', pid: 1006, comm: '' })).toBe('snapshot 20 of pid 1006');
    expect([undefined, -1, NaN].map((pid) => snapshotSideName({ name: 'snapshot 20', pid, comm: 'app' }))).toEqual(['snapshot 20', 'snapshot 20', 'snapshot 20']);
  });
});
