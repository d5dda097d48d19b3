import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerDiffRequest, diffViewInit } from '../../src/core/analysis/diffView';
import { diffSides } from '../../src/core/analysis/snapshotDiff';
import { renderDiffText } from '../../src/core/analysis/snapshotText';
import { openTrace, summarize } from '../../src/core/trace';
import { diffSideName } from '../../src/extension/logic/diffPair';
import { WorkerCancelledError, WorkerClient } from '../../src/extension/workerClient';
import { fileSource } from '../../src/node/fileSource';
import { PARTIAL_TOP, type PartialView } from '../../src/protocol/viewData';
import { native } from '../helpers';

// The worker runs as its own bundle in the extension; the test builds it the same way (scripts/build.mjs)
// into a temporary directory, so it exercises the real message loop, not a stub.
let dir = '';
let client: WorkerClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pl-worker-'));
  await build({ entryPoints: [join(__dirname, '../../src/extension/worker.ts')], outfile: join(dir, 'worker.js'), bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'error' });
  client = new WorkerClient(join(dir, 'worker.js'));
});

afterAll(() => {
  client?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('analysis worker', () => {
  it('opens a trace from disk and answers page history and excerpt calls', async () => {
    const file = join(dir, 'a.pltrace');
    writeFileSync(file, native('100 alloc pfn=0x10 order=0 pid=7 comm=app', '200 free pfn=0x10 order=0', '300 free pfn=0x10 order=0'));
    const progress: number[] = [];
    client.onProgress(file, (done) => progress.push(done));
    const s = await client.call('open', { traceId: file, paths: [file], rules: {} });
    expect(s.format).toBe('pageledger');
    expect(s.firstAnomalies.map((a) => [a.kind, a.line, a.relatedLocations])).toEqual([['double-free', 4, [{ file, line: 3 }]]]);
    const h = await client.call('pageHistory', { traceId: file, pfn: 0x10, maxTouches: 10 });
    // The second free starts a span of its own: a double free stays visible in the history.
    expect(h.spans.map((x) => [x.owner, x.line])).toEqual([
      ['pid 7 (app)', 2],
      ['free', 3],
      ['free', 4],
    ]);
    expect(await client.call('excerpt', { path: file, line: 3, before: 1, after: 1 })).toEqual({ firstLine: 2, lines: ['100 alloc pfn=0x10 order=0 pid=7 comm=app', '200 free pfn=0x10 order=0', '300 free pfn=0x10 order=0'], totalLines: null });
  });

  it('keeps a persisted index in the cache folder it is given and answers a reopen from it alike', async () => {
    const file = join(dir, 'cached.pltrace');
    const cacheDir = join(dir, 'index');
    writeFileSync(file, native('100 alloc pfn=0x10 order=0 pid=7 comm=app', '200 free pfn=0x10 order=0', '300 free pfn=0x10 order=0'));
    const first = await client.call('open', { traceId: 'c1', paths: [file], rules: {}, cacheDir });
    // The index is written once the worker has had no call for a second, after the open was answered.
    expect(existsSync(cacheDir) ? readdirSync(cacheDir).length : 0).toBe(0);
    for (let waited = 0; !(existsSync(cacheDir) && readdirSync(cacheDir).length > 0) && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync(cacheDir).length).toBe(1);
    const again = await client.call('open', { traceId: 'c2', paths: [file], rules: {}, cacheDir });
    expect({ ...again, stats: null }).toEqual({ ...first, stats: null });
    const h = await client.call('pageHistory', { traceId: 'c2', pfn: 0x10, maxTouches: 10 });
    expect(h.pfn).toBe(0x10);
  });

  it('writes an index still waiting before the next open, and when its trace is closed', async () => {
    const cacheDir = join(dir, 'index-waiting');
    const a = join(dir, 'waiting-a.pltrace');
    const b = join(dir, 'waiting-b.pltrace');
    writeFileSync(a, native('100 alloc pfn=0x10 order=0 pid=7 comm=app'));
    writeFileSync(b, native('100 alloc pfn=0x20 order=0 pid=8 comm=other'));
    await client.call('open', { traceId: 'w1', paths: [a], rules: {}, cacheDir });
    expect(existsSync(cacheDir)).toBe(false);
    await client.call('open', { traceId: 'w2', paths: [b], rules: {}, cacheDir });
    expect(readdirSync(cacheDir).length).toBe(1);
    await client.call('close', { traceId: 'w2' });
    expect(readdirSync(cacheDir).length).toBe(2);
  });

  it('writes the indexes it put off before it stops', async () => {
    const cacheDir = join(dir, 'index-stop');
    const file = join(dir, 'stop.pltrace');
    writeFileSync(file, native('100 alloc pfn=0x10 order=0 pid=7 comm=app'));
    const own = new WorkerClient(join(dir, 'worker.js'));
    await own.call('open', { traceId: 's1', paths: [file], rules: {}, cacheDir });
    expect(existsSync(cacheDir)).toBe(false);
    await own.stop();
    expect(readdirSync(cacheDir).length).toBe(1);
    // Stopping twice, or a stopped client, is harmless.
    await own.stop();
    own.dispose();
  });

  it('answers open with a digest and pages the long lists the summary holds', async () => {
    const file = join(dir, 'paged.pltrace');
    await client.call('synth', { scenario: 'cow-snapshots', seed: 1, events: 20000, path: file });
    const d = await client.call('open', { traceId: 'paged', paths: [file], rules: {} });
    const full = summarize(await openTrace([fileSource(file)]));
    expect([d.ownerCount, d.snapshotCount, d.liveSnapshotCount, d.anomalyCount]).toEqual([full.owners.length, 299, 5, 42]);
    expect(d.topOwners).toEqual(full.owners.slice(0, 200));
    expect(d.firstAnomalies).toEqual(full.anomalies.slice(0, 200));
    expect(d.firstSnapshots.map((x) => x.id)).toEqual(full.snapshots.slice(0, 200).map((x) => x.id));
    expect(d.ownerKindCounts.process).toBe(full.owners.filter((o) => o.kind === 'process').length);
    const { owners, snapshots, anomalies, stats, ...rest } = full;
    expect({ ...d, topOwners: owners, firstSnapshots: snapshots, firstAnomalies: anomalies, stats: { ...d.stats, parseMs: stats.parseMs, analyzeMs: stats.analyzeMs } }).toMatchObject({ ...rest, stats });

    const procs = await client.call('owners', { traceId: 'paged', kind: 'process', offset: 2, limit: 3 });
    const all = full.owners.filter((o) => o.kind === 'process');
    expect(procs.items).toEqual(all.slice(2, 5));
    expect(procs.total).toBe(all.length);
    expect(procs.indices).toEqual(procs.items.map((o) => full.owners.findIndex((x) => x.id === o.id)));
    const frees = await client.call('anomalies', { traceId: 'paged', kind: 'double-free', offset: 0, limit: 100 });
    expect(frees.items).toEqual(full.anomalies.filter((a) => a.kind === 'double-free'));
    const at = full.anomalies[3];
    expect((await client.call('anomalies', { traceId: 'paged', file, line: at.line, offset: 0, limit: 20 })).items).toEqual(full.anomalies.filter((a) => a.line === at.line));
    expect((await client.call('snapshots', { traceId: 'paged', filter: 'snapshot 29', offset: 0, limit: 0 })).total).toBe(11);
    const next = await client.call('stepAnomaly', { traceId: 'paged', from: { file, line: at.line }, direction: 1 });
    expect(next).toEqual({ index: 4, total: 42, anomaly: full.anomalies[4] });
    expect(await client.call('stepAnomaly', { traceId: 'paged', from: null, direction: -1 })).toMatchObject({ index: 41 });
  });

  it('applies rule settings passed with open', async () => {
    const file = join(dir, 'b.pltrace');
    writeFileSync(file, native('1 alloc pfn=0x10 order=2 pid=7', '2 free pfn=0x10 order=0', '3 free pfn=0x20 order=0', '4 free pfn=0x20 order=0'));
    const s = await client.call('open', { traceId: file, paths: [file], rules: { disabled: ['order-mismatch'], severity: { 'double-free': 'info' } } });
    expect(s.firstAnomalies.map((a) => [a.kind, a.severity, a.line])).toEqual([['double-free', 'info', 5]]);
  });

  it('writes a seed scenario and diffs two of its snapshots', async () => {
    const file = join(dir, 'cow.pltrace');
    expect(await client.call('synth', { scenario: 'cow-snapshots', seed: 1, events: 20000, path: file })).toEqual({ events: 20001, lines: 20011, anomalies: 42 });
    const s = await client.call('open', { traceId: 'cow', paths: [file], rules: {} });
    expect([s.stats.events, s.anomalyCount, s.snapshotCount]).toEqual([20001, 42, 299]);
    const [x, y] = (await client.call('snapshots', { traceId: 'cow', offset: 297, limit: 5 })).items;
    // The worker keeps the diff and answers the webview's requests and the diff editor's texts from it;
    // the same core run in this process gives the expected figures.
    const model = await openTrace([fileSource(file)]);
    const d = diffSides({ model, snapshot: x.id }, { model, snapshot: y.id });
    const pair = { a: { traceId: 'cow', snapshot: x.id }, b: { traceId: 'cow', snapshot: y.id } };
    const init = await client.call('diffInit', { ...pair, title: 'x ↔ y' });
    expect(init).toEqual(diffViewInit(d, 'x ↔ y'));
    // Each side named with its snapshot's process, as the diff editor's tab title names it.
    expect([init.a.name, init.b.name]).toEqual(['snapshot 298 of pid 1484 (kworker/u16:2)', 'snapshot 299 of pid 1480 (criu)']);
    const snapshots = (await client.call('snapshots', { traceId: 'cow', offset: 0, limit: 1000 })).items;
    const traces = [{ traceId: 'cow', title: 'cow.pltrace', summary: { snapshots, owners: s.topOwners, time: s.time } }];
    expect([diffSideName(traces, pair.a), diffSideName(traces, pair.b)]).toEqual([init.a.name, init.b.name]);
    const map = await client.call('diffRequest', { ...pair, request: { kind: 'diffMap', start: 0, end: init.rows, cells: 64 } });
    expect(map).toEqual(answerDiffRequest(d, { kind: 'diffMap', start: 0, end: init.rows, cells: 64 }));
    const changes = await client.call('diffRequest', { ...pair, request: { kind: 'diffChanges', offset: 0, limit: 5 } });
    expect(changes).toEqual(answerDiffRequest(d, { kind: 'diffChanges', offset: 0, limit: 5 }));
    const text = renderDiffText(d);
    expect(await client.call('diffText', { ...pair, side: 'a' })).toBe(text.a.text);
    expect(await client.call('diffText', { ...pair, side: 'b' })).toBe(text.b.text);
    // Ownership at the end (Infinity crosses to the worker intact) against the last snapshot.
    const atEnd = await client.call('diffInit', { a: pair.b, b: { traceId: 'cow', time: Infinity }, title: 't' });
    expect(atEnd).toEqual(diffViewInit(diffSides({ model, snapshot: y.id }, { model, time: Infinity }), 't'));
  });

  it('reports a missing trace, a missing file and an unknown scenario as errors', async () => {
    await expect(client.call('diffInit', { a: { traceId: 'nope', snapshot: 1 }, b: { traceId: 'nope', snapshot: 2 }, title: '' })).rejects.toThrow('trace nope is not loaded');
    await expect(client.call('pageHistory', { traceId: 'nope', pfn: 1, maxTouches: 0 })).rejects.toThrow('trace nope is not loaded');
    await expect(client.call('open', { traceId: 'gone', paths: [join(dir, 'gone.pltrace')], rules: {} })).rejects.toThrow('ENOENT');
    await expect(client.call('synth', { scenario: 'nope', seed: 1, events: 1, path: join(dir, 'x') })).rejects.toThrow('unknown scenario "nope"');
  });

  it('stops loading when cancelled', async () => {
    const file = join(dir, 'big.pltrace');
    const lines = ['pageledger-trace 1'];
    for (let k = 0; k < 400_000; k++) lines.push(`${k} alloc pfn=${k} order=0 pid=7`);
    writeFileSync(file, lines.join('\n') + '\n');
    const loading = client.call('open', { traceId: 'big', paths: [file], rules: {} });
    client.cancel('big');
    await expect(loading).rejects.toBeInstanceOf(WorkerCancelledError);
    await expect(client.call('pageHistory', { traceId: 'big', pfn: 1, maxTouches: 0 })).rejects.toThrow('trace big is not loaded');
  });

  it('sends the view of the part read so far while it reads, exact over its range, and none on a reopen', async () => {
    const file = join(dir, 'partial.pltrace');
    // About 7 MB: seven chunks of the file read, each one a partial view when the timing allows all.
    await client.call('synth', { scenario: 'cow-snapshots', seed: 2, events: 120_000, path: file });
    const views: (PartialView | null)[] = [];
    let resultBefore = true;
    client.onPartial('p1', (v) => {
      expect(resultBefore).toBe(true);
      views.push(v);
    });
    const d = await client.call('open', { traceId: 'p1', paths: [file], rules: {}, threads: 1, partial: { samples: 64, firstMs: 0, everyMs: 0 } });
    resultBefore = false;
    client.onPartial('p1', undefined);
    expect(views.length).toBeGreaterThan(2);
    expect(views).not.toContain(null);
    const bytes = d.files[0].bytes;
    for (const v of views) {
      const p = v!;
      expect([p.bytesTotal, p.series.times.length, p.labels.length]).toEqual([bytes, 64, p.series.owners.length]);
      expect(p.bytesRead).toBeLessThanOrEqual(bytes * 0.85);
      const n = p.series.times.length;
      const full = await client.call('view', { traceId: 'p1', request: { kind: 'series', t0: p.series.times[0], t1: p.series.times[n - 1], n, top: PARTIAL_TOP } });
      if (full.kind !== 'series') throw new Error(full.kind);
      const { unknown: _u, ...shown } = full;
      expect(p.series).toMatchObject(shown);
      const labels = await client.call('view', { traceId: 'p1', request: { kind: 'owners', ids: [...p.series.owners] } });
      expect(labels.kind === 'owners' && labels.labels).toEqual(p.labels);
    }
    // The ranges grow; the last covers most of the part of the file it was sent at.
    const ends = views.map((v) => v!.series.times.at(-1)!);
    expect(ends).toEqual([...ends].sort((a, b) => a - b));
    expect(ends[0]).toBeLessThan(ends.at(-1)!);

    // The same trace opened from its index: no partial view (the load takes no parse).
    const cacheDir = join(dir, 'index-partial');
    await client.call('open', { traceId: 'p2', paths: [file], rules: {}, cacheDir, threads: 1 });
    await client.call('flushIndexes', {});
    const again: unknown[] = [];
    client.onPartial('p3', (v) => again.push(v));
    await client.call('open', { traceId: 'p3', paths: [file], rules: {}, cacheDir, threads: 1, partial: { samples: 64, firstMs: 0, everyMs: 0 } });
    client.onPartial('p3', undefined);
    expect(again).toEqual([]);
  });

  it('sends a partial view when a view asks for one, even before the open began', async () => {
    const file = join(dir, 'partial-want.pltrace');
    await client.call('synth', { scenario: 'cow-snapshots', seed: 4, events: 120_000, path: file });
    const views: (PartialView | null)[] = [];
    client.onPartial('pw', (v) => views.push(v));
    // Asked right away: the worker gets the request before the open's turn comes.
    const opening = client.call('open', { traceId: 'pw', paths: [file], rules: {}, threads: 1, partial: { samples: 16 } });
    client.wantPartial('pw');
    await opening;
    client.onPartial('pw', undefined);
    // The first from the first chunk parsed (the first 1 MiB is read with the format detection, then 1 MiB at a time); the next a second later, if the read lasts.
    expect(views.length).toBeGreaterThanOrEqual(1);
    expect(views[0]!.events).toBeGreaterThan(0);
    expect(views[0]!.bytesRead).toBeLessThanOrEqual(2 * 2 ** 20);
    expect(views[0]!.series.times.length).toBe(16);
    // Without asking: none.
    const none: unknown[] = [];
    client.onPartial('pn', (v) => none.push(v));
    await client.call('open', { traceId: 'pn', paths: [file], rules: {}, threads: 1, partial: { samples: 16 } });
    client.onPartial('pn', undefined);
    expect(none).toEqual([]);
  });

  it('stops loading when cancelled after a partial view', async () => {
    const file = join(dir, 'partial-cancel.pltrace');
    await client.call('synth', { scenario: 'cow-snapshots', seed: 3, events: 200_000, path: file });
    let views = 0;
    client.onPartial('pc', () => {
      if (views++ === 0) client.cancel('pc');
    });
    const loading = client.call('open', { traceId: 'pc', paths: [file], rules: {}, threads: 1, partial: { samples: 32, firstMs: 0, everyMs: 0 } });
    await expect(loading).rejects.toBeInstanceOf(WorkerCancelledError);
    client.onPartial('pc', undefined);
    expect(views).toBeGreaterThanOrEqual(1);
    await expect(client.call('pageHistory', { traceId: 'pc', pfn: 1, maxTouches: 0 })).rejects.toThrow('trace pc is not loaded');
  });
});
