import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { entryLines } from '../../src/core/formats/criu';
import { openTrace, summarize, type TraceModel } from '../../src/core/trace';
import { criuDirInputs } from '../../src/node/criuDir';
import { analyzeText, openText, realFixture } from '../helpers';

/** A pagemap entry: vaddr, pages, flags as crit prints them. */
type Entry = [vaddr: number, pages: number, flags: string];

/** `crit decode --pretty` of a pagemap: python json indent=4 with its trailing spaces after commas. */
function pretty(entries: Entry[], pagesId = 1): string {
  const body = entries.map(([v, n, f]) => `        {\n            "vaddr": "0x${v.toString(16)}", \n            "nr_pages": ${n}, \n            "flags": "${f}"\n        }`);
  return `{\n    "magic": "PAGEMAP", \n    "entries": [\n        {\n            "pages_id": ${pagesId}\n        }, \n${body.join(', \n')}\n    ]\n}\n`;
}

/** `crit decode` without --pretty: one line, integers. */
function raw(entries: Entry[]): string {
  const bits: Record<string, number> = { PE_PARENT: 1, PE_LAZY: 2, PE_PRESENT: 4 };
  const flags = (f: string): number => f.split('|').reduce((v, p) => v | bits[p.trim()], 0);
  return JSON.stringify({ magic: 'PAGEMAP', entries: [{ pages_id: 3 }, ...entries.map(([v, n, f]) => ({ vaddr: v, nr_pages: n, flags: flags(f) }))] }) + '\n';
}

/** SnapRef events of snapshot `id`: [vaddr, order, holder snapshot, line]. */
function refs(m: TraceModel, id: number): [string, number, number, number][] {
  const ev = m.builder.events;
  const out: [string, number, number, number][] = [];
  for (let i = 0; i < ev.length; i++) {
    if (ev.kind.get(i) !== 11 || ev.ref.get(i) !== id) continue;
    out.push(['0x' + ev.arg.get(i).toString(16), ev.orderCol.get(i), ev.arg2.get(i), ev.line.get(i)]);
  }
  return out;
}

describe('CRIU pagemap JSON', () => {
  it('reads the real crit decode --pretty sample: every entry, its line, present and lazy pages', async () => {
    const m = await openText(realFixture('criu-pagemap-1.txt'), 'pagemap-1234.json');
    const s = summarize(m);
    expect(s.format).toBe('criu');
    expect(s.counts).toMatchObject({ pagemapEntries: 33, criuPages: 639, criuLazyPages: 584 });
    expect(s.counts.criuParentPages).toBeUndefined();
    expect(s.snapshots.map((x) => [x.id, x.name, x.source, x.pid, x.line])).toEqual([[1, 'pagemap-1234 (dump 1)', 'criu', 1234, 1]]);
    expect(s.anomalies).toEqual([]);
    const r = refs(m, 1);
    // 0x400000 (1 page, line 5); 0x8ea000 (2 pages from an even page: one order-1 block, line 6);
    // 0x8f7000 (2 pages from an odd page: two order-0 blocks, line 7).
    expect(r.slice(0, 4)).toEqual([
      ['0x400000', 0, 1, 5],
      ['0x8ea000', 1, 1, 6],
      ['0x8f7000', 0, 1, 7],
      ['0x8f8000', 0, 1, 7],
    ]);
    expect(r.reduce((n, x) => n + 2 ** x[1], 0)).toBe(639);
    expect(r[r.length - 1]).toEqual(['0x7ffcbd13a000', 1, 1, 37]);
  });

  it('reads raw integers, the pretty "A | B" flags and the old in_parent form alike', async () => {
    const entries: Entry[] = [
      [0x10000, 16, 'PE_PRESENT'],
      [0x20000, 3, 'PE_PRESENT | PE_LAZY'],
    ];
    for (const text of [pretty(entries), raw(entries)]) {
      const s = await analyzeText(text, 'pagemap-7.img.json');
      expect(s.counts).toMatchObject({ pagemapEntries: 2, criuPages: 19, criuLazyPages: 3 });
      expect(s.anomalies).toEqual([]);
    }
    const old = JSON.stringify({ magic: 'PAGEMAP', entries: [{ pages_id: 1 }, { vaddr: 4096, nr_pages: 2, in_parent: false }, { vaddr: 65536, nr_pages: 1, in_parent: true }] });
    const s = await analyzeText(old, 'pagemap-7.json');
    expect(s.counts).toMatchObject({ pagemapEntries: 2, criuPages: 3, criuUnresolvedPages: 1 });
    expect(s.anomalies.map((a) => [a.kind, a.line, a.message])).toEqual([
      ['parse-error', 1, 'PE_PARENT entry at vaddr 0x10000 (1 pages) cannot be resolved: no parent dump of this process was read (open the dump directory, or the parent pagemap first)'],
    ]);
  });

  it('names the line of a bad entry and of broken JSON', async () => {
    const text = pretty([
      [0x1000, 1, 'PE_PRESENT'],
      [0x2000, 1, 'PE_BOGUS'],
    ]).replace('"vaddr": "0x1000"', '"vaddr": "0x1001"');
    const s = await analyzeText(text, 'pagemap-1.json');
    expect(s.anomalies.map((a) => [a.line, a.message.slice(0, 60)])).toEqual([
      [7, 'expected a pagemap entry with "vaddr" (page-aligned, hex str'],
      [12, 'unknown pagemap flag "PE_BOGUS": expected PE_PRESENT, PE_LAZ'],
    ]);
    const broken = await analyzeText('{\n  "magic": "PAGEMAP",\n  "entries": [\n    {"vaddr": 1,,}\n  ]\n}\n', 'pagemap-1.json');
    expect(broken.anomalies.map((a) => a.line)).toEqual([4]);
    expect(broken.anomalies[0].message).toContain('expected crit decode JSON');
  });

  it('counts the VMAs of an mm image', async () => {
    const mm = JSON.stringify({ magic: 'MM', entries: [{ mm_start_code: '0x400000', vmas: [{ start: '0x400000', end: '0x401000' }, { start: '0x7f0000000000', end: '0x7f0000010000' }] }] }, null, 4);
    const s = await analyzeText(mm, 'mm-7.json');
    expect(s.format).toBe('criu');
    expect(s.counts).toEqual({ vmas: 2, vmaPages: 17 });
  });

  it('finds the start line of each entry, skipping brackets inside strings', () => {
    expect(entryLines('{"magic": "X [", "entries": [\n{"a": "{["},\n{"b": 1}\n,{"c": [1,\n2]}]}')).toEqual([2, 3, 4]);
  });
});

describe('CRIU dump directories', () => {
  // dump1 <- dump2 <- dump3 (each `parent` a symlink to the previous dump, as criu --prev-images-dir makes it)
  const root = mkdtempSync(join(tmpdir(), 'pl-criu-'));
  const d1 = join(root, 'dump1');
  const d2 = join(root, 'dump2');
  const d3 = join(root, 'dump3');
  for (const d of [d1, d2, d3]) mkdirSync(d);
  symlinkSync('../dump1', join(d2, 'parent'));
  symlinkSync('../dump2', join(d3, 'parent'));
  writeFileSync(join(d1, 'pagemap-42.json'), pretty([[0x1000, 4, 'PE_PRESENT'], [0x10000, 2, 'PE_PRESENT']]));
  writeFileSync(join(d2, 'pagemap-42.json'), pretty([[0x1000, 4, 'PE_PARENT'], [0x20000, 1, 'PE_PRESENT']]));
  writeFileSync(join(d3, 'pagemap-42.json'), raw([[0x1000, 2, 'PE_PARENT'], [0x3000, 2, 'PE_PARENT'], [0x20000, 1, 'PE_PARENT'], [0x50000, 1, 'PE_PARENT']]));
  writeFileSync(join(d3, 'pagemap-42.img'), new Uint8Array([0x54, 0x50, 0x00, 0x01, 0xff]));
  writeFileSync(join(d3, 'inventory.json'), '{"magic": "INVENTORY", "entries": []}');

  it('expands a directory into its chain, parents first, and lists what it skipped', () => {
    const r = criuDirInputs(d3);
    expect(r.chain).toEqual([join(d3, 'parent', 'parent'), join(d3, 'parent'), d3]);
    expect(r.sources.map((s) => s.path)).toEqual([join(d3, 'parent', 'parent', 'pagemap-42.json'), join(d3, 'parent', 'pagemap-42.json'), join(d3, 'pagemap-42.json')]);
    expect(r.skipped.map((s) => [s.path, s.reason])).toEqual([
      [join(d3, 'inventory.json'), 'a INVENTORY image: only PAGEMAP and MM images carry page ownership'],
      [join(d3, 'pagemap-42.img'), 'binary CRIU image: decode it with "crit decode -i pagemap-42.img --pretty -o pagemap-42.json"'],
    ]);
  });

  it('resolves PE_PARENT pages through the parent chain to the dump that holds their data', async () => {
    const m = await openTrace(criuDirInputs(d3).sources);
    const s = summarize(m);
    expect(s.snapshots.map((x) => [x.id, x.name])).toEqual([
      [1, 'pagemap-42 (dump 1)'],
      [2, 'pagemap-42 (dump 2)'],
      [3, 'pagemap-42 (dump 3)'],
    ]);
    expect(m.builder.snapshots.map((x) => x.parent)).toEqual([undefined, 1, 2]);
    expect(refs(m, 2)).toEqual([
      ['0x1000', 0, 1, 7],
      ['0x2000', 1, 1, 7],
      ['0x4000', 0, 1, 7],
      ['0x20000', 0, 2, 12],
    ]);
    // dump 3: 0x1000-0x4fff come from dump 1 through dump 2; 0x20000 from dump 2; 0x50000 from nowhere.
    const r3 = refs(m, 3);
    expect(r3.map((x) => [x[0], x[1], x[2]])).toEqual([
      ['0x1000', 0, 1],
      ['0x2000', 0, 1],
      ['0x3000', 0, 1],
      ['0x4000', 0, 1],
      ['0x20000', 0, 2],
      ['0x50000', 0, NaN],
    ]);
    expect(s.counts).toMatchObject({ pagemapEntries: 8, criuPages: 17, criuParentPages: 9, criuUnresolvedPages: 1 });
    expect(s.anomalies.map((a) => [a.file, a.line, a.message])).toEqual([
      [join(d3, 'pagemap-42.json'), 1, 'PE_PARENT entry at vaddr 0x50000 (1 pages) cannot be resolved: the parent dump pagemap-42 (dump 2) does not hold page 0x50000'],
    ]);
  });

  it('pageledger analyze DIR and diff DIR1 DIR2 work on dump directories', async () => {
    let out = '';
    let err = '';
    expect(await main(['analyze', d2, '--json'], (t) => (out += t), (t) => (err += t))).toBe(0);
    const s = JSON.parse(out) as { format: string; counts: Record<string, number>; snapshots: unknown[] };
    expect(s.format).toBe('criu');
    expect(s.counts).toMatchObject({ pagemapEntries: 4, criuPages: 11, criuParentPages: 4 });
    expect(s.snapshots).toHaveLength(2);
    expect(err).toBe('');
    out = '';
    expect(await main(['diff', d2, d3, '--json'], (t) => (out += t), (t) => (err += t))).toBe(0);
    const d = JSON.parse(out) as { key: string; classes: Record<string, number>; changes: { class: string; start: string; pages: number }[] };
    expect(d.key).toBe('vaddr');
    expect(d.classes).toMatchObject({ unchanged: 5, added: 1, removed: 0, ownerChanged: 0 });
    expect(d.changes.map((c) => [c.class, c.start, c.pages])).toEqual([['added', '0x50000', 1]]);
    expect(err).toContain('skipped 2 files');
    const empty = mkdtempSync(join(tmpdir(), 'pl-criu-empty-'));
    err = '';
    expect(await main(['analyze', empty], () => {}, (t) => (err += t))).toBe(2);
    expect(err).toContain('no crit JSON pagemap or mm image');
  });
});
