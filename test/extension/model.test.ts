import { describe, expect, it } from 'vitest';
import { synthesize } from '../../src/core/synth/scenarios';
import { memorySource } from '../../src/core/io/memorySource';
import { openTrace, ownerSummary, rankedOwnerIds, snapshotSummary, summarize, topOwnerIds, type TraceModel } from '../../src/core/trace';
import { eventAtLine } from '../../src/extension/logic/lineTime';
import { detectTraceLanguage, languageForFormat, wantsContentDetection } from '../../src/extension/logic/languages';
import { DOCUMENT_SYNC_MAX_BYTES, isLargeTraceTab, traceLanguageByName } from '../../src/extension/logic/tabTraces';
import { pageHistory } from '../../src/extension/logic/pageHistory';
import { renderSnapshotText } from '../../src/extension/logic/snapshotText';
import { DIGEST_HEAD, matchesFilter, pageOf, SummaryLists } from '../../src/extension/logic/summaryPages';
import { anomalyKindKeys, MAX_CHILDREN, OWNER_KINDS, ownerGroupKeys, treeChildren, treeItem, treeKeyId, treeKeysOfPage, treeListQuery, type TreeKey, type TreeTrace } from '../../src/extension/logic/treeModel';
import { native, openText, realFixture } from '../helpers';

function cowTrace(): string {
  let text = '';
  synthesize({ scenario: 'cow-snapshots', seed: 1, events: 20000, injectEvery: 500 }, (c) => (text += c));
  return text;
}

describe('page history', () => {
  it('follows alloc, free, reallocation, copy-on-write, restore and drop', async () => {
    const m = await openText(
      native(
        '100 alloc pfn=0x10 order=1 pid=7 comm=app', // line 2: 0x10 and 0x11
        '200 map pid=7 vaddr=0x1000 pfn=0x11',
        '300 snapshot-begin snap=1 pid=7',
        '310 snapref snap=1 pfn=0x11 vaddr=0x1000',
        '320 snapshot-end snap=1',
        '400 cow snap=1 pid=7 vaddr=0x1000 old=0x11 new=0x40', // line 7
        '500 restore snap=1 pid=7', // line 8
        '600 free pfn=0x11 order=0', // line 9
        '700 alloc pfn=0x11 order=0 owner=kernel', // line 10
      ),
    );
    const h = pageHistory(m, 0x11, 3);
    expect(h.spans.map((s) => [s.owner, s.from, s.to, s.line, s.cause])).toEqual([
      ['pid 7 (app)', 100, 400, 2, 'alloc'],
      ['snapshot 1 of pid 7', 400, 500, 7, 'cow'],
      ['pid 7 (app)', 500, 600, 8, 'restore'],
      ['free', 600, 700, 9, 'free'],
      ['kernel', 700, null, 10, 'alloc'],
    ]);
    expect(h.touches.map((t) => [t.kind, t.line])).toEqual([
      ['alloc', 2],
      ['map', 3],
      ['snapshotRef', 5],
    ]);
    expect(h.truncated).toBe(true);
    expect(pageHistory(m, 0x40).spans.map((s) => [s.owner, s.line])).toEqual([['pid 7 (app)', 7]]);
    expect(pageHistory(m, 0x99).spans).toEqual([]);
  });

  it('carries the owner of a migrated page to its new frame', async () => {
    const m = await openText(native('1 alloc pfn=0x10 order=0 pid=3 comm=db', '2 migrate pfn=0x10 to=0x20 order=0'));
    expect(pageHistory(m, 0x20).spans.map((s) => [s.owner, s.cause, s.line])).toEqual([['pid 3 (db)', 'migrate', 3]]);
    expect(pageHistory(m, 0x10).spans.map((s) => s.owner)).toEqual(['pid 3 (db)', 'free']);
  });
});

/** The tree as the provider shows it, with the worker's pages answered in this process. */
function treeOf(m: TraceModel, filter = ''): { traces: TreeTrace[]; children: (k: TreeKey | undefined) => TreeKey[] } {
  const lists = new SummaryLists(m);
  const traces: TreeTrace[] = [{ traceId: 'T', title: 'cow.pltrace', summary: lists.digest() }];
  const children = (key: TreeKey | undefined): TreeKey[] => {
    const q = treeListQuery(key);
    const page = { filter, offset: 0, limit: MAX_CHILDREN };
    if (key && q) return treeKeysOfPage('T', q, q.list === 'owners' ? lists.ownerPage({ ...page, kind: q.kind }) : q.list === 'snapshots' ? lists.snapshotPage(page) : lists.anomalyPage({ ...page, kind: q.kind }));
    if (key?.type === 'section' && filter && key.section === 'owners') return ownerGroupKeys('T', Object.fromEntries(OWNER_KINDS.map((kind) => [kind, lists.ownerPage({ ...page, kind }).total])));
    if (key?.type === 'section' && filter && key.section === 'anomalies') return anomalyKindKeys('T', Object.fromEntries(['double-free', 'leak', 'use-after-free'].map((kind) => [kind, lists.anomalyPage({ ...page, kind: kind as 'leak' }).total])));
    return treeChildren(traces, key, filter);
  };
  return { traces, children };
}

describe('digest of an open', () => {
  it('ranks the first owners as the whole ranking does, whatever k, ties included', async () => {
    const m = await openText(cowTrace(), 'cow.pltrace');
    const all = rankedOwnerIds(m);
    expect(all.length).toBeGreaterThan(DIGEST_HEAD);
    // Owners with equal live and peak counts are ranked by id: make sure the trace has such ties.
    const key = (id: number): string => `${m.result.ownerLive[id] ?? 0}/${m.result.ownerPeak[id] ?? 0}`;
    expect(new Set(all.map(key)).size).toBeLessThan(all.length);
    for (const k of [0, 1, 7, DIGEST_HEAD, all.length - 1, all.length, all.length + 5]) expect([k, topOwnerIds(m, k)]).toEqual([k, all.slice(0, k)]);
  });

  it('is the digest the whole ranking gives: top owners, counts by kind in rank order, snapshots with their comm', async () => {
    const m = await openText(cowTrace(), 'cow.pltrace');
    const d = new SummaryLists(m).digest();
    const all = rankedOwnerIds(m);
    expect(d.topOwners).toEqual(all.slice(0, DIGEST_HEAD).map((id) => ownerSummary(m, id)));
    expect(d.ownerCount).toBe(all.length);
    const kinds: Record<string, number> = {};
    for (const id of all) kinds[m.builder.owners.kindOf(id)] = (kinds[m.builder.owners.kindOf(id)] ?? 0) + 1;
    expect(Object.entries(d.ownerKindCounts)).toEqual(Object.entries(kinds));
    // A snapshot naming only a pid takes the comm of the best-ranked process owner with that pid.
    const comm = new Map<number, string>();
    for (const id of all) {
      const o = m.builder.owners.get(id);
      if (o.kind === 'process' && o.pid !== undefined && o.comm && !comm.has(o.pid)) comm.set(o.pid, o.comm);
    }
    const want = d.firstSnapshots.map((_, k) => {
      const s = snapshotSummary(m, k);
      return s.comm === undefined && s.pid !== undefined && comm.has(s.pid) ? { ...s, comm: comm.get(s.pid) } : s;
    });
    expect(d.firstSnapshots.some((s, k) => s.comm !== undefined && snapshotSummary(m, k).comm === undefined)).toBe(true);
    expect(d.firstSnapshots).toEqual(want);
    // Once the owners' pages have ranked them all, the digest is the same.
    const lists = new SummaryLists(m);
    lists.ownerPage({ offset: 0, limit: 1 });
    expect(lists.digest()).toEqual(d);
  });
});

describe("tree model over a seed-scenario digest and the worker's pages", () => {
  it('lists layout, owners, snapshots and anomalies grouped by kind with counts', async () => {
    const m = await openText(cowTrace(), '/t/cow.pltrace');
    const { traces, children } = treeOf(m);
    const roots = children(undefined);
    expect(roots).toEqual([{ type: 'trace', traceId: 'T' }]);
    expect(treeItem(traces, roots[0]).description).toBe('pageledger · 20001 events · 42 anomalies');
    const sections = children(roots[0]);
    expect(sections.map((k) => treeItem(traces, k).label)).toEqual(['Layout', 'Owners', 'Snapshots', 'Anomalies']);
    expect(treeItem(traces, sections[0]).description).toBe('2 nodes · 2 regions · 4 blocks');
    expect(treeItem(traces, sections[1]).description).toBe(`${summarize(m).owners.length} · 138 pages live`);
    expect(treeItem(traces, sections[2]).description).toBe('299 (5 live)');
    expect(treeItem(traces, sections[3]).description).toBe('42');

    const layout = children(sections[0]);
    const blocks = treeItem(traces, layout[2]);
    expect([blocks.label, blocks.description]).toEqual(['Memory blocks', '4 (4 offline at start)']);
    expect(children(layout[2]).map((k) => treeItem(traces, k).label)).toEqual(['block 2048', 'block 2049', 'block 2050', 'block 2051']);

    const kinds = children(sections[3]);
    expect(kinds.map((k) => `${treeItem(traces, k).label} ${treeItem(traces, k).description}`)).toEqual([
      'double-alloc 5',
      'double-free 5',
      'cow-missed 4',
      'leak 4',
      'membind-violation 4',
      'offline-block 4',
      'order-mismatch 4',
      'owner-conflict 4',
      'snapshot-dangling 4',
      'use-after-free 4',
    ]);
    const firstFree = treeItem(traces, children(kinds[1])[0]);
    expect(firstFree).toMatchObject({ label: 'line 508', contextValue: 'anomaly.page', location: { file: '/t/cow.pltrace', line: 508 }, pfn: '0x1045d8' });

    const ownerGroups = children(sections[1]);
    expect(ownerGroups.map((k) => treeItem(traces, k).label)).toEqual(['Processes', 'Files', 'Snapshots', 'Kernel']);
    const top = treeItem(traces, children(ownerGroups[0])[0]);
    expect([top.label, top.description]).toEqual(['pid 1445 (java)', '13 live · 13 peak']);

    const snaps = children(sections[2]);
    expect(snaps.length).toBe(299);
    expect(treeItem(traces, snaps[0])).toMatchObject({ label: 'snapshot 1', contextValue: 'snapshot' });
    expect(new Set([...roots, ...sections, ...kinds, ...snaps].map(treeKeyId)).size).toBe(1 + 4 + 10 + 299);
  });

  it('filters owners, snapshots and anomalies by text and caps long lists', async () => {
    const { traces, children } = treeOf(await openText(cowTrace(), '/t/cow.pltrace'), 'double-free');
    const anomalies: TreeKey = { type: 'section', traceId: 'T', section: 'anomalies' };
    const kinds = children(anomalies);
    expect(kinds.map((k) => (k.type === 'anomalyKind' ? `${k.kind} ${treeItem(traces, k).description}` : ''))).toEqual(['double-free 5']);
    expect(treeOf(await openText(cowTrace(), '/t/cow.pltrace'), 'snapshot 29').children({ type: 'section', traceId: 'T', section: 'snapshots' }).length).toBe(11);
    const page = pageOf(Array.from({ length: MAX_CHILDREN + 7 }, (_, k) => k), () => true, 0, MAX_CHILDREN);
    const list = treeKeysOfPage('T', { list: 'snapshots' }, { ...page, items: page.items.map(() => traces[0].summary!.firstSnapshots[0]) });
    expect(list.length).toBe(MAX_CHILDREN + 1);
    expect(treeItem(traces, list[MAX_CHILDREN]).label).toBe('… 7 more');
  });

  it('pages a list from an offset, counting every match', () => {
    expect(pageOf([5, 6, 7, 8, 9, 10], (x) => x % 2 === 0, 1, 1)).toEqual({ items: [8], indices: [3], total: 3 });
    expect(pageOf([5, 6], () => true, 0, 0)).toEqual({ items: [], indices: [], total: 2 });
    expect([matchesFilter('', 'x'), matchesFilter('JAVA', 'pid 1 (java)'), matchesFilter('x', 'a', 'b')]).toEqual([true, true, false]);
    expect(DIGEST_HEAD).toBe(200);
  });

  it('shows a trace that is loading or failed without children', () => {
    const traces: TreeTrace[] = [
      { traceId: 'A', title: 'a', summary: null, progress: 0.25 },
      { traceId: 'B', title: 'b', summary: null, error: 'boom' },
    ];
    expect(treeItem(traces, { type: 'trace', traceId: 'A' })).toMatchObject({ description: 'loading 25%', expandable: false });
    expect(treeItem(traces, { type: 'trace', traceId: 'B' })).toMatchObject({ description: 'failed to load', tooltip: 'boom' });
    expect(treeChildren(traces, { type: 'trace', traceId: 'A' })).toEqual([]);
  });
});

describe('language detection', () => {
  it('names the language of each kind of trace text by content', () => {
    expect(detectTraceLanguage(native('1 alloc pfn=0x1'))).toBe('pageledger');
    expect(detectTraceLanguage(realFixture('ftrace-kmem-1.txt'))).toBe('kmem-trace');
    expect(detectTraceLanguage(realFixture('ftrace-filemap-1.txt'))).toBe('kmem-trace');
    expect(detectTraceLanguage(realFixture('page_owner-1.txt'))).toBe('page-owner');
    expect(detectTraceLanguage('hello\nworld\n')).toBeUndefined();
  });

  it('maps format names and picks candidate files', () => {
    expect(['pageledger', 'ftrace', 'trace-cmd', 'perf-script', 'page_owner', 'criu'].map(languageForFormat)).toEqual(['pageledger', 'kmem-trace', 'kmem-trace', 'kmem-trace', 'page-owner', undefined]);
    expect(wantsContentDetection('/x/trace.TXT', 'plaintext')).toBe(true);
    expect(wantsContentDetection('/x/kmem.log', 'log')).toBe(true);
    expect(wantsContentDetection('/x/a.dat', 'plaintext')).toBe(true);
    expect(wantsContentDetection('/x/a.txt', 'pageledger')).toBe(false);
    expect(wantsContentDetection('/x/a.md', 'plaintext')).toBe(false);
  });
});

describe('snapshot rendering for the diff editor', () => {
  it('lists a snapshot one page per line by pfn', async () => {
    const m = await openText(native('1 alloc pfn=0x12 order=0 pid=7 comm=app', '2 alloc pfn=0x10 order=0 pid=7', '3 snapshot-begin snap=4 pid=7', '4 snapref snap=4 pfn=0x12 vaddr=0x2000', '5 snapref snap=4 pfn=0x10 vaddr=0x1000', '6 snapshot-end snap=4'), '/t/s.pltrace');
    expect(renderSnapshotText(m, 4)).toBe('# snapshot 4 (native) from /t/s.pltrace line 4\n# 2 pages by pfn\n0x10 pid 7 (app)\n0x12 pid 7 (app)\n');
    expect(() => renderSnapshotText(m, 99)).toThrow('no snapshot 99 in this trace');
  });
});

describe('time at a line', () => {
  it('finds the last timed event at or before a line in the right file of a merged trace', async () => {
    const m = await openTrace([memorySource('/a', native('100 alloc pfn=0x1 order=0', '# note', '300 free pfn=0x1 order=0')), memorySource('/b', native('50 alloc pfn=0x2 order=0', '70 free pfn=0x2 order=0'))]);
    expect(eventAtLine(m, '/a', 3)).toEqual({ time: 100, file: 0, line: 2 });
    expect(eventAtLine(m, '/a', 9)).toEqual({ time: 300, file: 0, line: 4 });
    expect(eventAtLine(m, '/b', 3)).toEqual({ time: 70, file: 1, line: 3 });
    expect(eventAtLine(m, '/b', 1)).toBeNull();
    expect(eventAtLine(m, '/c', 1)).toBeNull();
  });
});

describe('large trace tabs', () => {
  const big = DOCUMENT_SYNC_MAX_BYTES + 1;
  it('knows traces by the names the languages contribute', () => {
    expect(traceLanguageByName('/w/big.pltrace')).toBe('pageledger');
    expect(traceLanguageByName('/w/x.PLSNAP')).toBe('pageledger');
    expect(traceLanguageByName('/w/run.ftrace.txt')).toBe('kmem-trace');
    expect(traceLanguageByName('/w/page_owner_full.txt')).toBe('page-owner');
    expect(traceLanguageByName('/w/notes.txt')).toBeUndefined();
  });

  it('picks up only tabs over the document sync limit, by name or by the head of a generic name', () => {
    let reads = 0;
    const head = (text: string) => () => (reads++, text);
    expect(isLargeTraceTab('/w/big.pltrace', DOCUMENT_SYNC_MAX_BYTES, true, head(''))).toBe(false);
    expect(isLargeTraceTab('/w/big.pltrace', big, false, head(''))).toBe(true);
    expect(reads).toBe(0);
    expect(isLargeTraceTab('/w/capture.txt', big, true, head(native('1 alloc pfn=0x1')))).toBe(true);
    expect(isLargeTraceTab('/w/capture.txt', big, true, head('hello\n'))).toBe(false);
    expect(isLargeTraceTab('/w/capture.txt', big, false, head(native('1 alloc pfn=0x1')))).toBe(false);
    expect(isLargeTraceTab('/w/app.ts', big, true, head(native('1 alloc pfn=0x1')))).toBe(false);
    expect(reads).toBe(2);
  });
});
