import { describe, expect, it } from 'vitest';
import { Replay, type ReplayObserver } from '../../src/core/analysis/replay';
import { EventKind, newEventRecord } from '../../src/core/model/events';
import { TraceBuilder } from '../../src/core/model/traceBuilder';
import { rng } from '../helpers';

/** Events of several kinds pushed out of time order (as a page_owner dump's are), some without a time. */
function shuffledTrace(n: number, seed: number): TraceBuilder {
  const r = rng(seed);
  const int = (m: number) => Math.floor(r() * m);
  const b = new TraceBuilder();
  b.beginFile('t', 'native', 0);
  const owners = [b.owners.kernel(), b.owners.process(10, 'a'), b.owners.process(20, 'b'), b.owners.process(30, 'c')];
  const snap = b.addSnapshot({ source: 'page_owner', name: 'dump', time: NaN, line: 1 });
  const e = newEventRecord();
  for (let k = 0; k < n; k++) {
    const kinds = [EventKind.Alloc, EventKind.Free, EventKind.Record, EventKind.Map, EventKind.Record];
    e.kind = kinds[int(kinds.length)];
    e.line = k + 1;
    e.time = r() < 0.02 ? NaN : int(1e6);
    e.pfn = 0x1000 + int(5000);
    e.order = int(3);
    e.owner = owners[int(owners.length)];
    e.pid = [10, 20, 30][int(3)];
    e.node = int(2) - 1;
    e.ref = e.kind === EventKind.Record ? snap.id : 0;
    e.arg = int(100);
    e.arg2 = int(100);
    b.push(e);
  }
  b.endFile(n);
  return b;
}

/** What a replay gives that the CLI prints or the views read. */
function figures(b: TraceBuilder, observer?: ReplayObserver) {
  const r = new Replay(b, {}, observer).run();
  const pages: number[][] = [];
  for (const c of r.pages.all()) for (let s = 0; s < 4096; s += 17) pages.push([c.base + s, c.owner(s), c.state(s), c.since(s), c.headOrder(s)]);
  return { anomalies: r.anomalies, counts: r.counts, live: r.livePages, ownerLive: [...r.ownerLive], ownerPeak: [...r.ownerPeak], t: [r.timeStart, r.timeEnd], pages };
}

describe('replay of events out of store order', () => {
  it('reads a block of events a column at a time and gets what reading each event whole gets, across blocks', () => {
    for (const [n, seed] of [
      [3, 1],
      [4096, 2],
      [4097, 3],
      [20000, 4],
    ]) {
      const b = shuffledTrace(n, seed);
      expect(b.events.order()).not.toBeNull();
      const seen: number[] = [];
      // An observer makes the replay read each event whole (EventStore.read) in step().
      const whole = figures(b, { event: (i) => void seen.push(i), page: () => undefined });
      const gathered = figures(b);
      expect(gathered).toEqual(whole);
      expect(seen.length).toBe(n);
      expect(gathered.anomalies.length).toBeGreaterThan(n > 100 ? 10 : -1);
    }
  });
});
