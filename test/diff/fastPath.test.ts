import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main';
import { Replay } from '../../src/core/analysis/replay';
import { diffResultJson, diffSides, toDiffResult, type DiffSideIds, type DiffSideSpec } from '../../src/core/analysis/snapshotDiff';
import { openTrace, summarize, type TraceModel } from '../../src/core/trace';
import { fileSource } from '../../src/node/fileSource';
import { native } from '../helpers';

const dir = mkdtempSync(join(tmpdir(), 'pageledger-fast-diff-'));

function write(name: string, text: string): string {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

async function cliDiff(...args: string[]): Promise<string> {
  let out = '';
  let err = '';
  const code = await main(['diff', ...args, '--json', '--quiet'], (s) => (out += s), (s) => (err += s));
  expect(err).toBe('');
  expect(code).toBe(0);
  return out;
}

/** What the CLI printed before the analysis was deferred: a model analysed at open, the result as one string. */
async function eager(files: string[], a: (m: TraceModel) => DiffSideSpec, b: (m: TraceModel) => DiffSideSpec, ids: DiffSideIds): Promise<string> {
  const m = await openTrace(files.map((f) => fileSource(f)));
  return JSON.stringify(toDiffResult(diffSides(a(m), b(m)), ids), null, 2) + '\n';
}

/** The last snapshot read from file `file` of the model. */
function lastOf(m: TraceModel, file: number): number {
  return m.builder.snapshots.filter((s) => s.file === file).at(-1)!.id;
}

const rec = (pfn: number, pid: number, comm: string, ts: number): string =>
  [
    `Page allocated via order 0, mask 0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), pid ${pid}, tgid ${pid} (${comm}), ts ${ts} ns, free_ts 0 ns`,
    `PFN 0x${pfn.toString(16)} type Movable Block ${pfn >> 9} type Movable Flags 0x17ffffc0080014(uptodate|lru)`,
    ' __alloc_pages+0x1a6/0x340',
    '',
  ].join('\n');

const pagemap = (entries: string[]): string => `{\n  "magic": "PAGEMAP",\n  "entries": [\n    {"pages_id": 1},\n    ${entries.join(',\n    ')}\n  ]\n}\n`;

const trace = native(
  '10 alloc pfn=0x10 order=1 pid=7 comm=app',
  '11 map pid=7 vaddr=0x1000 pfn=0x10',
  '12 map pid=7 vaddr=0x2000 pfn=0x11',
  '20 snapshot-begin snap=5 pid=7',
  '21 snapref snap=5 vaddr=0x1000 pfn=0x10',
  '22 snapref snap=5 vaddr=0x2000 pfn=0x11',
  '30 cow snap=5 pid=7 vaddr=0x2000 old=0x11 new=0x20',
  '40 free pfn=0x10 order=0',
  '50 alloc pfn=0x40 order=2 pid=8 comm=db',
);

/** The CLI's diff of the last snapshots of two files equals the JSON of a model analysed at open, with no replay run. */
async function expectSameWithoutReplay(a: string, b: string): Promise<void> {
  const m = await openTrace([fileSource(a), fileSource(b)]);
  const ids = { a: { id: lastOf(m, 0) }, b: { id: lastOf(m, 1) } };
  const expected = await eager([a, b], (mm) => ({ model: mm, snapshot: ids.a.id }), (mm) => ({ model: mm, snapshot: ids.b.id }), ids);
  const run = vi.spyOn(Replay.prototype, 'run');
  expect(await cliDiff(a, b)).toBe(expected);
  expect(run).not.toHaveBeenCalled();
}

describe('pageledger diff without the analysis it does not read', () => {
  afterEach(() => vi.restoreAllMocks());

  it('snapshot logs: the same JSON as with the analysis run at open, and no replay', async () => {
    const a = write('a.plsnap', 'pageledger-snapshot 1\nsnapshot id=1 pid=7 comm=app\npage pfn=0x10 vaddr=0x1000\npage pfn=0x11 vaddr=0x2000 node=1\npage pfn=0x30 vaddr=0x5000 pid=9\n');
    const b = write('b.plsnap', 'pageledger-snapshot 1\nsnapshot id=1 pid=7 comm=app\npage pfn=0x10 vaddr=0x1000\npage pfn=0x21 vaddr=0x2000 node=0\npage pfn=0x12 vaddr=0x3000\nsnapshot id=2 pid=7\npage pfn=0x10\n');
    const m = await openTrace([fileSource(a), fileSource(b)]);
    // B's snapshot 1 is renumbered on reading (A has that id); the JSON prints the new id.
    const ids = { a: { id: lastOf(m, 0) }, b: { id: lastOf(m, 1) } };
    expect(ids.b.id).not.toBe(1);
    const expected = await eager([a, b], (mm) => ({ model: mm, snapshot: ids.a.id }), (mm) => ({ model: mm, snapshot: ids.b.id }), ids);
    const run = vi.spyOn(Replay.prototype, 'run');
    expect(await cliDiff(a, b)).toBe(expected);
    expect(run).not.toHaveBeenCalled();
    // Two snapshots of one log.
    const one = await cliDiff(b);
    expect(one).toBe(await eager([b], (mm) => ({ model: mm, snapshot: mm.builder.snapshots.get(0).id }), (mm) => ({ model: mm, snapshot: mm.builder.snapshots.get(1).id }), { a: { id: 1 }, b: { id: 2 } }));
  });

  it('page_owner dumps: the same JSON, and no replay', async () => {
    const a = write('po-a.txt', [rec(0x1000, 100, 'app', 1000), rec(0x1001, 100, 'app', 1100), rec(0x1010, 200, 'db', 1200)].join('\n'));
    const b = write('po-b.txt', [rec(0x1000, 100, 'app', 1000), rec(0x1010, 300, 'tmp', 2000), rec(0x1030, 100, 'app', 2100)].join('\n'));
    await expectSameWithoutReplay(a, b);
  });

  it('CRIU pagemaps with parent pages: the same JSON, and no replay', async () => {
    const a = write('criu/1/pagemap-42.img', pagemap(['{"vaddr": "0x400000", "nr_pages": 4, "flags": "PE_PRESENT"}', '{"vaddr": "0x500000", "nr_pages": 2, "flags": "PE_PRESENT"}']));
    const b = write('criu/2/pagemap-42.img', pagemap(['{"vaddr": "0x400000", "nr_pages": 2, "flags": "PE_PARENT"}', '{"vaddr": "0x402000", "nr_pages": 1, "flags": "PE_PRESENT"}', '{"vaddr": "0x600000", "nr_pages": 3, "flags": "PE_PRESENT"}']));
    await expectSameWithoutReplay(a, b);
  });

  it('--at: the analysis runs when a side reads it, with the same JSON', async () => {
    const t = write('t.pltrace', trace);
    const run = vi.spyOn(Replay.prototype, 'run');
    expect(await cliDiff(t, '--at', '15', '--at', 'end')).toBe(await eager([t], (m) => ({ model: m, time: 15 }), (m) => ({ model: m, time: Infinity }), { a: { time: 15 }, b: { time: Infinity } }));
    expect(await cliDiff(t, '--snapshot-a', '5', '--at', '35')).toBe(await eager([t], (m) => ({ model: m, snapshot: 5 }), (m) => ({ model: m, time: 35 }), { a: { id: 5 }, b: { time: 35 } }));
    expect(await cliDiff(t, '--at-a', '25', '--at-b', '45', '--pid', '7')).toBe(
      await eager([t], (m) => ({ model: m, time: 25, pid: 7 }), (m) => ({ model: m, time: 45, pid: 7 }), { a: { time: 25 }, b: { time: 45 } }),
    );
    expect(run).toHaveBeenCalled();
  });

  it('a deferred model analyses on first read, as an eager one does', async () => {
    const t = write('t2.pltrace', trace);
    const deferred = await openTrace([fileSource(t)], { deferAnalysis: true });
    const run = vi.spyOn(Replay.prototype, 'run');
    const eagerModel = await openTrace([fileSource(t)]);
    expect(run).toHaveBeenCalledTimes(1);
    const s = summarize(deferred);
    expect(run).toHaveBeenCalledTimes(2);
    summarize(deferred);
    expect(run).toHaveBeenCalledTimes(2);
    const norm = (x: ReturnType<typeof summarize>): unknown => ({ ...x, stats: { ...x.stats, parseMs: 0, analyzeMs: 0 } });
    expect(norm(s)).toEqual(norm(summarize(eagerModel)));
    // With recordOwnership the analysis is not deferred: the recording is made during it.
    const recorded = await openTrace([fileSource(t)], { deferAnalysis: true, recordOwnership: true });
    expect(run).toHaveBeenCalledTimes(3);
    expect(recorded.ownershipRecording).toBeDefined();
  });

  it('diffResultJson is JSON.stringify(toDiffResult(d), null, 2)', async () => {
    const t = write('t3.pltrace', trace);
    const m = await openTrace([fileSource(t)]);
    for (const [a, b] of [
      [{ model: m, snapshot: 5 }, { model: m, time: 35 }],
      [{ model: m, time: 0 }, { model: m, time: Infinity }],
    ] as [DiffSideSpec, DiffSideSpec][]) {
      const d = diffSides(a, b);
      const ids = { a: { id: 5 }, b: { time: Infinity } };
      expect([...diffResultJson(d, ids)].join('')).toBe(JSON.stringify(toDiffResult(d, ids), null, 2));
    }
  });
});
