import { mkdtempSync, utimesSync, writeFileSync, appendFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openTrace, summarize } from '../../src/core/trace';
import { synthesize } from '../../src/core/synth/scenarios';
import { fileSource } from '../../src/node/fileSource';
import { indexKey, loadIndex, saveIndex } from '../../src/node/indexCache';
import { openTraceFiles } from '../../src/node/openFiles';
import { newEventRecord } from '../../src/core/model/events';
import { FIXTURES } from '../helpers';
import { OwnershipIndex } from '../../src/core/analysis/ownershipIndex';
import { ownershipIndexOf, viewInit } from '../../src/core/view/viewRequests';

const dir = mkdtempSync(join(tmpdir(), 'pl-index-'));

function trace(name: string, events: number): string {
  const parts: string[] = [];
  synthesize({ scenario: 'cow-snapshots', seed: 3, events }, (s) => parts.push(s));
  const path = join(dir, name);
  writeFileSync(path, parts.join(''));
  return path;
}

describe('index cache', () => {
  it('gives back the same summary, events, page table and snapshot pages', async () => {
    const path = trace('a.pltrace', 20000);
    const cache = join(dir, 'cache-a');
    const m = await openTrace([fileSource(path)]);
    expect(saveIndex(cache, [path], {}, m)).toMatch(/\.plidx$/);
    const back = loadIndex(cache, [path])!;
    expect(back).not.toBeNull();
    expect(summarize(back)).toEqual(summarize(m));
    const e1 = newEventRecord();
    const e2 = newEventRecord();
    for (let i = 0; i < m.builder.events.length; i += 7) expect(back.builder.events.read(i, e2)).toEqual(m.builder.events.read(i, e1));
    expect(back.builder.events.length).toBe(m.builder.events.length);
    expect([...back.result.snapshotPages]).toEqual([...m.result.snapshotPages]);
    let pages = 0;
    for (const c of m.result.pages.all()) {
      const d = back.result.pages.peek(c.base)!;
      expect(d.columns()).toEqual(c.columns());
      pages++;
    }
    expect(pages).toBeGreaterThan(0);
  });

  it('keeps the recorded page changes, so a reopen builds the same ownership index without a replay', async () => {
    const path = trace('r.pltrace', 20000);
    const cache = join(dir, 'cache-r');
    const m = await openTrace([fileSource(path)], { recordOwnership: true });
    saveIndex(cache, [path], {}, m);
    const back = loadIndex(cache, [path])!;
    expect(back.ownershipRecording).toBeDefined();
    const a = ownershipIndexOf(m);
    const b = ownershipIndexOf(back);
    const replayed = OwnershipIndex.build(m.builder, m.result.anomalies);
    const arrays = (ix: OwnershipIndex): unknown[] => [ix.pos, ix.owner, ix.prev, ix.pfns, ix.pageStart, ix.permPos, ix.permTime, ix.permState, ix.eventTimes, ix.order, ix.isProcess].map((x) => (x ? Array.from(x) : x));
    expect(a.changes).toBeGreaterThan(0);
    expect(arrays(b)).toEqual(arrays(a));
    expect(arrays(b)).toEqual(arrays(replayed));
    expect([b.segments, b.rows, b.blocks, b.placedAnomalies, b.checkpointEvery]).toEqual([a.segments, a.rows, a.blocks, a.placedAnomalies, a.checkpointEvery]);
    expect(viewInit(back)).toEqual(viewInit(m));
    // An index saved from a model that recorded nothing loads without a recording (the views replay).
    const plain = await openTrace([fileSource(path)]);
    const cache2 = join(dir, 'cache-r2');
    saveIndex(cache2, [path], {}, plain);
    expect(loadIndex(cache2, [path])!.ownershipRecording).toBeUndefined();
  });

  it('round-trips layout, NaN times and parse errors of the real fixtures', async () => {
    const paths = ['daxctl-2.txt', 'page_owner-1.txt', 'ftrace-kmem-1.txt', 'memory-hotplug-1.txt', 'numa_maps-1.txt'].map((f) => join(FIXTURES, 'real', f));
    const m = await openTrace(paths.map(fileSource), { recordOwnership: true });
    const cache = join(dir, 'cache-real');
    saveIndex(cache, paths, {}, m);
    const back = loadIndex(cache, paths)!;
    expect(summarize(back)).toEqual(summarize(m));
    // Offline intervals come from the recorded block toggles, -Infinity included.
    const blocks = ownershipIndexOf(m).blocks;
    expect(blocks.some((k) => k.offline.length > 0)).toBe(true);
    expect(ownershipIndexOf(back).blocks).toEqual(blocks);
    expect(viewInit(back)).toEqual(viewInit(m));
  });

  it('is not used once the file changes size or mtime, or the rules differ', async () => {
    const path = trace('b.pltrace', 3000);
    const cache = join(dir, 'cache-b');
    const first = await openTraceFiles([fileSource(path)], { cacheDir: cache });
    expect(first.fromCache).toBe(false);
    const again = await openTraceFiles([fileSource(path)], { cacheDir: cache });
    expect(again.fromCache).toBe(true);
    const { stats: s1, ...a } = summarize(first.model);
    const { stats: s2, ...b } = summarize(again.model);
    expect(b).toEqual(a);
    expect(s2.events).toBe(s1.events);
    expect(loadIndex(cache, [path], { rules: { disabled: ['leak'] } })).toBeNull();
    const key = indexKey([path]);
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    expect(indexKey([path])).not.toBe(key);
    expect(loadIndex(cache, [path])).toBeNull();
    expect((await openTraceFiles([fileSource(path)], { cacheDir: cache })).fromCache).toBe(false);
    appendFileSync(path, '# a comment\n');
    utimesSync(path, new Date(), new Date(Date.now() + 5000)); // same mtime as before: only the size differs
    expect(loadIndex(cache, [path])).toBeNull();
    expect(readdirSync(cache).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('writes the index only when asked, with saveIndexLater', async () => {
    const path = trace('later.pltrace', 2000);
    const cache = join(dir, 'cache-later');
    const first = await openTraceFiles([fileSource(path)], { cacheDir: cache, saveIndexLater: true });
    expect(first.saveIndex).toBeDefined();
    expect(loadIndex(cache, [path])).toBeNull();
    first.saveIndex!();
    const again = await openTraceFiles([fileSource(path)], { cacheDir: cache, saveIndexLater: true });
    expect(again.fromCache).toBe(true);
    expect(again.saveIndex).toBeUndefined();
    const { stats: s1, ...a } = summarize(first.model);
    const { stats: s2, ...b } = summarize(again.model);
    expect(b).toEqual(a);
    expect(s2.events).toBe(s1.events);
    expect((await openTraceFiles([fileSource(path)], { saveIndexLater: true })).saveIndex).toBeUndefined();
  });
});
