import { describe, expect, it } from 'vitest';
import { memorySource } from '../../src/core/io/memorySource';
import { openTrace, summarize } from '../../src/core/trace';
import { routeDiffMessage } from '../../src/extension/logic/diffMessages';
import { diffPairKey, diffPickItems, diffQuery, diffTitle, diffTotalsText, pairFromFiles, parseDiffQuery, parseDiffTime, pathsOfTraceId, type DiffTrace } from '../../src/extension/logic/diffPair';
import type { DiffViewInit } from '../../src/protocol/diffData';
import type { DiffPair } from '../../src/protocol/worker';
import { native, openText } from '../helpers';

const SNAPS = native(
  '1 alloc pfn=0x10 order=1 pid=7 comm=app',
  '2 snapshot-begin snap=4 pid=7',
  '3 snapref snap=4 pfn=0x10 vaddr=0x1000',
  '4 snapshot-end snap=4',
  '5 snapshot-begin snap=5 pid=7',
  '6 snapref snap=5 pfn=0x10 vaddr=0x1000',
  '7 snapref snap=5 pfn=0x11 vaddr=0x2000',
  '8 snapshot-end snap=5',
);

async function trace(traceId: string, title: string, text: string): Promise<DiffTrace> {
  return { traceId, title, summary: summarize(await openText(text, traceId)) };
}

describe('Compare Snapshots quick pick', () => {
  it('lists every snapshot of the loaded traces, then ownership at the end and at a typed time', async () => {
    const t = await trace('/t/s.pltrace', 's.pltrace', SNAPS);
    const loading: DiffTrace = { traceId: '/t/x.pltrace', title: 'x.pltrace', summary: null };
    const items = diffPickItems([t, loading]);
    expect(items.map((i) => [i.label, i.description, i.detail, i.side])).toEqual([
      ['$(device-camera) snapshot 4', 's.pltrace', '1 page · native · pid 7 · line 3', { traceId: '/t/s.pltrace', snapshot: 4 }],
      ['$(device-camera) snapshot 5', 's.pltrace', '2 pages · native · pid 7 · line 6', { traceId: '/t/s.pltrace', snapshot: 5 }],
      ['$(clock) Ownership at the end', 's.pltrace', 'every page as it stands after the last event (8 ns)', { traceId: '/t/s.pltrace', time: Infinity }],
      ['$(clock) Ownership at a time...', 's.pltrace', 'type a time between 1 and 8 ns', { traceId: '/t/s.pltrace', askTime: true }],
    ]);
    // The second pick leaves out the first side.
    expect(diffPickItems([t], { traceId: '/t/s.pltrace', snapshot: 4 }).map((i) => i.label)).toEqual(['$(device-camera) snapshot 5', '$(clock) Ownership at the end', '$(clock) Ownership at a time...']);
    expect(diffPickItems([t], { traceId: '/t/s.pltrace', time: Infinity }).map((i) => i.label)).toEqual(['$(device-camera) snapshot 4', '$(device-camera) snapshot 5', '$(clock) Ownership at a time...']);
    expect(diffPickItems([loading])).toEqual([]);
  });

  it('reads typed times and names the sides in titles', async () => {
    expect([parseDiffTime(' 1500 '), parseDiffTime('END'), parseDiffTime('1.5ms'), parseDiffTime('')]).toEqual([1500, Infinity, 'a time in ns (an integer), or "end"', 'a time in ns (an integer), or "end"']);
    const s = await trace('/t/s.pltrace', 's.pltrace', SNAPS);
    const o = await trace('/t/o.pltrace', 'o.pltrace', SNAPS);
    expect(diffTitle([s, o], { a: { traceId: '/t/s.pltrace', snapshot: 4 }, b: { traceId: '/t/s.pltrace', snapshot: 5 } })).toBe('snapshot 4 of pid 7 (app) ↔ snapshot 5 of pid 7 (app)');
    expect(diffTitle([s, o], { a: { traceId: '/t/s.pltrace', snapshot: 5 }, b: { traceId: '/t/o.pltrace', time: 3, pid: 7 } })).toBe('snapshot 5 of pid 7 (app) (s.pltrace) ↔ pid 7 ownership at 3 ns (o.pltrace)');
    expect(diffTitle([s], { a: { traceId: '/t/s.pltrace', time: 2 }, b: { traceId: '/t/s.pltrace', time: Infinity } })).toBe('ownership at 2 ns ↔ ownership at end');
  });

  it('takes the last snapshot of each of two Explorer files read as one timeline', async () => {
    const m = await openTrace([memorySource('/a.plsnap', native('1 snapshot-begin snap=1 pid=7', '2 snapref snap=1 pfn=0x10', '3 snapshot-end snap=1', '4 snapshot-begin snap=2 pid=7', '5 snapref snap=2 pfn=0x11', '6 snapshot-end snap=2')), memorySource('/b.plsnap', native('7 snapshot-begin snap=3 pid=7', '8 snapref snap=3 pfn=0x12', '9 snapshot-end snap=3')), memorySource('/c.pltrace', native('1 alloc pfn=0x1 order=0'))]);
    const s = summarize(m);
    expect(pairFromFiles('merged:/a.plsnap|/b.plsnap', s, '/a.plsnap', '/b.plsnap')).toEqual({ a: { traceId: 'merged:/a.plsnap|/b.plsnap', snapshot: 2 }, b: { traceId: 'merged:/a.plsnap|/b.plsnap', snapshot: 3 } });
    expect(pairFromFiles('m', s, '/a.plsnap', '/c.pltrace')).toBe('/c.pltrace has no snapshot to compare; use "Compare Snapshots..." to compare ownership at a time');
    expect(pathsOfTraceId('merged:/a.plsnap|/b.plsnap')).toEqual(['/a.plsnap', '/b.plsnap']);
    expect(pathsOfTraceId('/a.plsnap')).toEqual(['/a.plsnap']);
  });
});

describe('diff document URIs', () => {
  it('round-trip both sides through the query, end times and pids included', () => {
    const pairs: DiffPair[] = [
      { a: { traceId: '/t/a b&c.pltrace', snapshot: 4 }, b: { traceId: 'merged:/x|/y', snapshot: 12 } },
      { a: { traceId: '/t/s', time: 0 }, b: { traceId: '/t/s', time: Infinity, pid: 7 } },
    ];
    for (const p of pairs) for (const side of ['a', 'b'] as const) expect(parseDiffQuery(diffQuery(p, side))).toEqual({ pair: p, side });
    expect(diffQuery(pairs[1], 'b')).toBe('a.trace=%2Ft%2Fs&a.time=0&b.trace=%2Ft%2Fs&b.time=end&b.pid=7&side=b');
    expect(diffPairKey(pairs[1])).toBe('/t/s#t0\n/t/s#tendp7');
    expect(parseDiffQuery('a.trace=x&a.snapshot=1&b.trace=y&b.snapshot=z&side=a')).toBeNull();
    expect(parseDiffQuery('a.trace=x&a.snapshot=1&b.trace=y&b.time=5&side=c')).toBeNull();
    expect(parseDiffQuery('')).toBeNull();
  });
});

describe('diff webview messages', () => {
  const init: DiffViewInit = {
    title: 'a ↔ b', key: 'pfn',
    a: { name: 'a', files: ['/t/a.plsnap'], pages: 2 },
    b: { name: 'b', files: ['/t/a.plsnap', '/t/b.plsnap'], pages: 3 },
    rows: 3, pages: [1, 2, 1, 0, 0, 0, 0, 0, 0, 0], pageBytes: 4096, byOwner: [], byNode: [], changes: 2,
  };

  it('routes ready, data requests and reveals of either side', () => {
    expect(routeDiffMessage({ type: 'ready' }, null)).toEqual({ kind: 'init' });
    expect(routeDiffMessage({ type: 'diffRequest', requestId: 3, request: { kind: 'diffMap', start: 0, end: 3, cells: 10 } }, null)).toEqual({ kind: 'request', requestId: 3, request: { kind: 'diffMap', start: 0, end: 3, cells: 10 } });
    expect(routeDiffMessage({ type: 'reveal', side: 'b', file: 1, line: 9 }, init)).toEqual({ kind: 'reveal', file: '/t/b.plsnap', line: 9 });
    expect(routeDiffMessage({ type: 'reveal', side: 'a', file: 0, line: 2 }, init)).toEqual({ kind: 'reveal', file: '/t/a.plsnap', line: 2 });
  });

  it('ignores malformed messages and files outside the diff', () => {
    const ignored = (m: unknown, i: DiffViewInit | null = init): string => {
      const r = routeDiffMessage(m, i);
      return r.kind === 'ignore' ? r.reason : `routed as ${r.kind}`;
    };
    expect(ignored({ type: 'reveal', side: 'a', file: 1, line: 2 })).toBe('no file 1 on side a');
    expect(ignored({ type: 'reveal', file: 0, line: 2 })).toBe('malformed reveal');
    expect(ignored({ type: 'reveal', side: 'b', file: 0, line: 0 })).toBe('malformed reveal');
    expect(ignored({ type: 'reveal', side: 'b', file: 0, line: 1 }, null)).toBe('reveal before init');
    expect(ignored({ type: 'diffRequest', requestId: 1, request: { kind: 'series' } })).toBe('malformed diffRequest');
    expect(ignored({ type: 'diffRequest', requestId: -1, request: { kind: 'diffAt', row: 0 } })).toBe('malformed diffRequest');
    expect(ignored({ type: 'request', requestId: 1, request: {} })).toBe('unknown message type request');
    expect(ignored({ type: 'state', state: {} })).toBe('state');
    expect(ignored(null)).toBe('not a message');
  });

  it('sums up the classes for the status bar in class order', () => {
    expect(diffTotalsText(init)).toBe('unchanged 1, added 2, removed 1');
    expect(diffTotalsText({ ...init, pages: init.pages.map(() => 0) })).toBe('no pages');
  });
});
