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
      expect([d.owner, d.state, d.since, d.headOrder]).toEqual([c.owner, c.state, c.since, c.headOrder]);
      pages++;
    }
    expect(pages).toBeGreaterThan(0);
  });

  it('round-trips layout, NaN times and parse errors of the real fixtures', async () => {
    const paths = ['daxctl-2.txt', 'page_owner-1.txt', 'ftrace-kmem-1.txt', 'memory-hotplug-1.txt', 'numa_maps-1.txt'].map((f) => join(FIXTURES, 'real', f));
    const m = await openTrace(paths.map(fileSource));
    const cache = join(dir, 'cache-real');
    saveIndex(cache, paths, {}, m);
    expect(summarize(loadIndex(cache, paths)!)).toEqual(summarize(m));
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
});
