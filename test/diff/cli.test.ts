import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import type { DiffResult } from '../../src/core/analysis/snapshotDiff';
import { native } from '../helpers';

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, (s) => (out += s), (s) => (err += s));
  return { code, out, err };
}

async function diffJson(...args: string[]): Promise<DiffResult> {
  const r = await run('diff', ...args, '--json', '--quiet');
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as DiffResult;
}

function nonZero(r: DiffResult): Record<string, number> {
  return Object.fromEntries(Object.entries(r.classes).filter(([, v]) => v > 0));
}

function write(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

const dir = mkdtempSync(join(tmpdir(), 'pageledger-diff-'));

describe('pageledger diff', () => {
  it('compares two snapshot logs that use the same snapshot id', async () => {
    const a = write(dir, 'a.plsnap', 'pageledger-snapshot 1\nsnapshot id=1 pid=7 comm=app\npage pfn=0x10 vaddr=0x1000\npage pfn=0x11 vaddr=0x2000\n');
    const b = write(dir, 'b.plsnap', 'pageledger-snapshot 1\nsnapshot id=1 pid=7 comm=app\npage pfn=0x10 vaddr=0x1000\npage pfn=0x12 vaddr=0x3000\n');
    const r = await diffJson(a, b);
    expect(nonZero(r)).toEqual({ unchanged: 1, removed: 1, added: 1 });
    expect(r.classes).toHaveProperty('ownerChanged', 0);
    expect(r.changes.map((c) => [c.class, c.start, c.fileA, c.lineA, c.fileB, c.lineB])).toEqual([
      ['removed', '0x11', a, 4, null, null],
      ['added', '0x12', null, null, b, 4],
    ]);
    // The id B's snapshot had in its file still selects it.
    expect(nonZero(await diffJson(a, b, '--snapshot-a', '1', '--snapshot-b', '1'))).toEqual({ unchanged: 1, removed: 1, added: 1 });
  });

  it('compares ownership at two times and a snapshot against a time', async () => {
    const t = write(
      dir,
      't.pltrace',
      native(
        '10 alloc pfn=0x10 order=1 pid=7 comm=app',
        '11 map pid=7 vaddr=0x1000 pfn=0x10',
        '12 map pid=7 vaddr=0x2000 pfn=0x11',
        '20 snapshot-begin snap=5 pid=7',
        '21 snapref snap=5 vaddr=0x1000 pfn=0x10',
        '22 snapref snap=5 vaddr=0x2000 pfn=0x11',
        '30 cow snap=5 pid=7 vaddr=0x2000 old=0x11 new=0x20',
        '40 free pfn=0x10 order=0',
      ),
    );
    expect(nonZero(await diffJson(t, '--at', '15', '--at', 'end'))).toEqual({ cowSplit: 1, freed: 1 });
    expect(nonZero(await diffJson(t, '--at-a', '25', '--at-b', '35'))).toEqual({ unchanged: 1, cowSplit: 1 });
    const r = await diffJson(t, '--snapshot-a', '5', '--at', '35');
    expect(nonZero(r)).toEqual({ unchanged: 1, cowSplit: 1 });
    expect(r.b).toMatchObject({ name: 'pid 7 at 35 ns', time: 35, pages: 3 });
  });

  it('resolves CRIU PE_PARENT pages through the parent dump and matches pages by vaddr', async () => {
    const pagemap = (entries: string[]): string => `{\n  "magic": "PAGEMAP",\n  "entries": [\n    {"pages_id": 1},\n    ${entries.join(',\n    ')}\n  ]\n}\n`;
    const a = write(dir, 'criu/1/pagemap-42.img', pagemap(['{"vaddr": "0x400000", "nr_pages": 4, "flags": "PE_PRESENT"}', '{"vaddr": "0x500000", "nr_pages": 2, "flags": "PE_PRESENT"}']));
    const b = write(
      dir,
      'criu/2/pagemap-42.img',
      pagemap(['{"vaddr": "0x400000", "nr_pages": 2, "flags": "PE_PARENT"}', '{"vaddr": "0x402000", "nr_pages": 1, "flags": "PE_PRESENT"}', '{"vaddr": "0x600000", "nr_pages": 3, "flags": "PE_PRESENT"}']),
    );
    const r = await diffJson(a, b);
    expect(r.key).toBe('vaddr');
    expect(nonZero(r)).toEqual({ unchanged: 3, removed: 3, added: 3 });
    expect(r.changes.map((c) => [c.class, c.start, c.end, c.pages])).toEqual([
      ['removed', '0x403000', '0x403000', 1],
      ['removed', '0x500000', '0x501000', 2],
      ['added', '0x600000', '0x602000', 3],
    ]);
  });

  it('prints totals as text and rejects bad usage with exit code 2', async () => {
    const a = write(dir, 'c.plsnap', 'pageledger-snapshot 1\nsnapshot id=1 pid=7 comm=app\npage pfn=0x10 order=2\n');
    const r = await run('diff', a, a, '--quiet');
    expect(r.code).toBe(0);
    expect(r.out).toContain('unchanged                4 pages     16 KiB');
    // Each side names its snapshot's process.
    expect(r.out).toContain(`A: snapshot 1 of pid 7 (app) (${a}), 4 pages`);
    expect((await run('diff')).code).toBe(2);
    expect((await run('diff', a, '--at', 'soon')).err).toContain('--at takes a time in ns or "end", not "soon"');
    expect((await run('diff', a, a, '--snapshot-b', '9')).err).toContain('no snapshot 9 in');
  });

  it('names the lines it could not read on stderr and still compares the rest', async () => {
    const a = write(dir, 'd.plsnap', 'pageledger-snapshot 1\nsnapshot id=1 pid=7\npage pfn=0x10\npage vaddr=0x1000\n');
    const b = write(dir, 'e.plsnap', 'pageledger-snapshot 1\nsnapshot id=2 pid=7\npage pfn=0x10\npage pfn=0x11\n');
    const r = await run('diff', a, b, '--json', '--quiet');
    expect(r.code).toBe(0);
    expect(r.err).toBe(`${a}:4: page: missing pfn=\n`);
    expect((JSON.parse(r.out) as DiffResult).classes).toMatchObject({ unchanged: 1, added: 1 });
  });
});
