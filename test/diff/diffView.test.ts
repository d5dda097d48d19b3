import { describe, expect, it } from 'vitest';
import { answerDiffRequest, diffViewInit } from '../../src/core/analysis/diffView';
import { diffSides } from '../../src/core/analysis/snapshotDiff';
import { renderDiffText, renderSnapshotText } from '../../src/core/analysis/snapshotText';
import { DIFF_CELL_EMPTY, DIFF_CLASS_NAMES } from '../../src/protocol/diffData';
import { openText } from '../helpers';

const A = ['pageledger-snapshot 1', 'snapshot id=1 pid=7 comm=app', 'page pfn=0x10 vaddr=0x1000 order=2 node=0', 'page pfn=0x20 vaddr=0x9000 node=0', ''].join('\n');
const B = ['pageledger-snapshot 1', 'snapshot id=2 pid=7 comm=app', 'page pfn=0x10 vaddr=0x1000 node=0', 'page pfn=0x11 vaddr=0x2000 pid=8 node=0', 'page pfn=0x12 vaddr=0x3000 order=1 node=0', 'page pfn=0x30 vaddr=0x5000 node=0', ''].join('\n');

async function diff() {
  return diffSides({ model: await openText(A, 'a.plsnap'), snapshot: 1 }, { model: await openText(B, 'b.plsnap'), snapshot: 2 });
}

const cls = (name: (typeof DIFF_CLASS_NAMES)[number]): number => DIFF_CLASS_NAMES.indexOf(name);

describe('diff view data', () => {
  it('summarises the diff for the first paint', async () => {
    const init = diffViewInit(await diff(), 'a ↔ b');
    expect(init).toMatchObject({ title: 'a ↔ b', key: 'pfn', rows: 6, changes: 3, pageBytes: 4096 });
    expect(init.a).toEqual({ name: 'snapshot 1 of pid 7 (app)', files: ['a.plsnap'], pages: 5 });
    expect(init.b.pages).toBe(5);
    // Rows: 0x10 unchanged, 0x11 ownerChanged, 0x12-0x13 unchanged, 0x20 removed, 0x30 added.
    expect(init.pages).toEqual([3, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
    expect(init.byOwner).toEqual([{ owner: 'pid 7 (app)', pages: [3, 1, 1, 1, 0, 0, 0, 0, 0, 0] }]);
  });

  it('answers map windows with the notable class of each cell, per side', async () => {
    const d = await diff();
    const one = answerDiffRequest(d, { kind: 'diffMap', start: 0, end: 6, cells: 6 });
    expect(one.kind).toBe('diffMap');
    if (one.kind !== 'diffMap') return;
    expect([...one.a]).toEqual([0, cls('ownerChanged'), 0, 0, cls('removed'), DIFF_CELL_EMPTY]);
    expect([...one.b]).toEqual([0, cls('ownerChanged'), 0, 0, DIFF_CELL_EMPTY, cls('added')]);
    // Two rows a cell: a change outweighs the unchanged page beside it.
    const two = answerDiffRequest(d, { kind: 'diffMap', start: 0, end: 6, cells: 3 });
    if (two.kind !== 'diffMap') throw new Error(two.kind);
    expect([...two.a]).toEqual([cls('ownerChanged'), 0, cls('removed')]);
  });

  it('pages through changes, filters them by class, and finds the change at a row', async () => {
    const d = await diff();
    const all = answerDiffRequest(d, { kind: 'diffChanges', offset: 1, limit: 1 });
    expect(all).toEqual({
      kind: 'diffChanges',
      offset: 1,
      total: 3,
      changes: [{ cls: cls('removed'), rowStart: 4, rowEnd: 5, start: '0x20', end: '0x20', startAfter: null, pages: 1, ownerBefore: 'pid 7 (app)', ownerAfter: null, a: { file: 0, line: 4 }, b: null }],
    });
    const added = answerDiffRequest(d, { kind: 'diffChanges', offset: 0, limit: 10, cls: cls('added') });
    expect(added.kind === 'diffChanges' && added.changes.map((c) => [c.start, c.b])).toEqual([['0x30', { file: 0, line: 6 }]]);
    const at = answerDiffRequest(d, { kind: 'diffAt', row: 2 });
    expect(at.kind === 'diffAt' && at.change?.start).toBe('0x20');
    expect(answerDiffRequest(d, { kind: 'diffAt', row: 6 })).toEqual({ kind: 'diffAt', change: null });
  });
});

describe('canonical snapshot text', () => {
  it('renders runs of pages, one line each', async () => {
    const m = await openText(A, 'a.plsnap');
    const d = diffSides({ model: m, snapshot: 1 }, { model: m, snapshot: 1 });
    const t = renderSnapshotText(d.a);
    expect(t.text).toBe(['# snapshot 1 of pid 7 (app)', '# a.plsnap', '# 5 pages held, keyed by pfn', '0x10-0x13  4 pages  pid 7 (app)  node 0  vaddr 0x1000  shared', '0x20  1 page  pid 7 (app)  node 0  vaddr 0x9000  shared', ''].join('\n'));
    expect([...t.firstPage]).toEqual([-1, -1, -1, 0, 4]);
  });

  it('cuts both sides at the same keys so unchanged ranges give equal lines', async () => {
    const { a, b } = renderDiffText(await diff());
    const body = (s: string): string[] => s.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(body(a.text)).toEqual(['0x10  1 page  pid 7 (app)  node 0  vaddr 0x1000  shared', '0x11  1 page  pid 7 (app)  node 0  vaddr 0x2000  shared', '0x12-0x13  2 pages  pid 7 (app)  node 0  vaddr 0x3000  shared', '0x20  1 page  pid 7 (app)  node 0  vaddr 0x9000  shared']);
    expect(body(b.text)).toEqual(['0x10  1 page  pid 7 (app)  node 0  vaddr 0x1000  shared', '0x11  1 page  pid 8  node 0  vaddr 0x2000  shared', '0x12-0x13  2 pages  pid 7 (app)  node 0  vaddr 0x3000  shared', '0x30  1 page  pid 7 (app)  node 0  vaddr 0x5000  shared']);
  });
});
