import { describe, expect, it } from 'vitest';
import { exactRange, type TracePrefix } from '../../src/core/analysis/prefixReplay';
import type { OwnershipSeries } from '../../src/core/analysis/ownershipIndex';
import { memorySource } from '../../src/core/io/memorySource';
import { SCENARIOS, synthesize } from '../../src/core/synth/scenarios';
import { openTrace, summarize, type OpenOptions, type TraceModel } from '../../src/core/trace';
import { ownershipIndexOf } from '../../src/core/view/viewRequests';
import { native, openText, realFixture, rng } from '../helpers';

// The ownership of the part of a trace read so far (OpenOptions.onPrefix) must be what the full analysis
// shows for the range it covers; and the model of an open that showed prefixes is the model of one that
// did not.

interface Seen {
  prefix: Omit<TracePrefix, 'series' | 'label' | 'range'> & { range: [number, number] | null };
  series: OwnershipSeries | null;
  labels: string[];
}

const N = 97;
const TOP = 6;

/**
 * Open `text` in chunks of `chunk` bytes, keeping the prefix of every `every`-th chunk (each asked for its
 * series: the replay catches up then) and every withdrawal (null).
 */
async function openWithPrefixes(text: string, name: string, chunk: number, opts: OpenOptions = {}, every = 1): Promise<{ model: TraceModel; seen: (Seen | null)[] }> {
  const seen: (Seen | null)[] = [];
  let k = 0;
  const model = await openTrace([memorySource(name, text, chunk)], {
    ...opts,
    recordOwnership: true,
    onPrefix: (p) => {
      if (!p) {
        seen.push(null);
        return;
      }
      if (k++ % every !== 0) return;
      const series = p.series(N, TOP);
      const { series: _s, label: _l, range, ...rest } = p;
      seen.push({ prefix: { ...rest, range: range() }, series, labels: series ? [...series.owners].map((o) => p.label(o)) : [] });
    },
  });
  return { model, seen };
}

/** The series of the whole model over a prefix's range, as the view asks for it. */
function fullSeries(model: TraceModel, range: [number, number]): OwnershipSeries {
  return ownershipIndexOf(model).series(range[0], range[1], N, TOP);
}

function plain(s: OwnershipSeries): Record<string, number[]> {
  return { times: [...s.times], owners: [...s.owners], values: [...s.values], other: [...s.other], free: [...s.free] };
}

/** Every prefix's series equals the full series over its range (unknown aside, which a prefix leaves at 0). */
function expectPrefixesHold(model: TraceModel, seen: (Seen | null)[]): number {
  let checked = 0;
  for (const s of seen) {
    if (!s || !s.prefix.range) continue;
    const want = fullSeries(model, s.prefix.range);
    expect(s.series).not.toBeNull();
    expect(plain(s.series!)).toEqual(plain(want));
    expect([...s.series!.unknown].every((v) => v === 0)).toBe(true);
    checked++;
  }
  return checked;
}

/** The same model as an open without prefixes: summary, recording, series over the whole trace. */
async function expectSameModel(text: string, name: string, model: TraceModel): Promise<void> {
  const ref = await openText(text, name, { recordOwnership: true });
  const strip = (m: TraceModel): unknown => ({ ...summarize(m), stats: { ...summarize(m).stats, parseMs: 0, analyzeMs: 0 } });
  expect(strip(model)).toEqual(strip(ref));
  const a = model.ownershipRecording!.saved();
  const b = ref.ownershipRecording!.saved();
  expect(a).toEqual(b);
  const t: [number, number] = [ref.result.timeStart, ref.result.timeEnd];
  expect(plain(fullSeries(model, t))).toEqual(plain(fullSeries(ref, t)));
}

/**
 * A native trace padded with 64 KiB of comments after its header: the format is detected from the first
 * 64 KiB, and nothing is parsed (so no prefix shown) before them.
 */
function padded(...lines: string[]): string {
  const pad = Array.from({ length: 1300 }, (_, k) => `# padding line ${k} to get past the format detection head`);
  return native(...pad, ...lines);
}

/** ftrace kmem text as `trace` prints it: `lines` allocations and frees, times non-decreasing, some equal. */
function ftraceText(lines: number): string {
  const r = rng(11);
  const out = ['# tracer: nop', '#', '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION', '#              | |         |   |||||     |         |'];
  const live: number[] = [];
  let t = 100_000_000;
  for (let k = 0; k < lines; k++) {
    t += Math.floor(r() * 3);
    const pid = 1000 + Math.floor(r() * 40);
    const ts = `${Math.floor(t / 1e6)}.${String(t % 1e6).padStart(6, '0')}`;
    const cpu = String(Math.floor(r() * 4)).padStart(3, '0');
    if (live.length > 0 && r() < 0.45) {
      const pfn = live.splice(Math.floor(r() * live.length), 1)[0];
      out.push(`task-${pid} [${cpu}] d..1. ${ts}: mm_page_free: page=0000000000000000 pfn=0x${pfn.toString(16)} order=0`);
    } else {
      const pfn = 0x10000 + Math.floor(r() * 8192);
      live.push(pfn);
      out.push(`task-${pid} [${cpu}] ..... ${ts}: mm_page_alloc: page=0000000000000000 pfn=0x${pfn.toString(16)} order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE`);
    }
  }
  return out.join('\n') + '\n';
}

function synth(scenario: (typeof SCENARIOS)[number], seed: number, events: number): string {
  let text = '';
  synthesize({ scenario, seed, events, injectEvery: 50 }, (c) => (text += c));
  return text;
}

describe('the part of a trace read so far (onPrefix)', () => {
  for (const [scenario, every] of SCENARIOS.map((s, k) => [s, 1 + (k % 3)] as const)) {
    it(`shows, on a generated ${scenario} trace, the full analysis restricted to the range read (one chunk in ${every} asked)`, async () => {
      const text = synth(scenario, 3, 20_000);
      const { model, seen } = await openWithPrefixes(text, 't.pltrace', 8192 / every, {}, every);
      expect(seen.length).toBeGreaterThan(20);
      expect(seen).not.toContain(null);
      await expectSameModel(text, 't.pltrace', model);
      // The ranges grow with the file, and every one is exact.
      const ends = seen.map((s) => s!.prefix.range?.[1] ?? -Infinity);
      expect(ends).toEqual([...ends].sort((x, y) => x - y));
      expect(expectPrefixesHold(model, seen)).toBeGreaterThan(20);
      expect(seen.at(-1)!.prefix.events).toBeLessThanOrEqual(model.builder.events.length);
      expect(seen.at(-1)!.prefix.bytesTotal).toBe(new TextEncoder().encode(text).length);
    });
  }

  it('names the owners of a prefix as the views do', async () => {
    const text = synth('cow-snapshots', 5, 5000);
    const { model, seen } = await openWithPrefixes(text, 't.pltrace', 4096);
    const last = seen.filter((s) => s?.series).at(-1)!;
    const owners = [...last.series!.owners];
    expect(owners.length).toBe(TOP);
    const { ownerLabel } = await import('../../src/core/model/owners');
    expect(last.labels).toEqual(owners.map((o) => ownerLabel(model.builder.owners.get(o))));
  });

  it('holds on ftrace text, two allocations in each microsecond of some', async () => {
    const text = ftraceText(3000);
    const { model, seen } = await openWithPrefixes(text, 'kmem.txt', 4096);
    expect(model.format).toBe('ftrace');
    expect(seen).not.toContain(null);
    await expectSameModel(text, 'kmem.txt', model);
    expect(expectPrefixesHold(model, seen)).toBeGreaterThan(50);
  });

  it('ends the range before the last time read: more events may come at that time', async () => {
    const lines = ['1 alloc pfn=0x10 pid=1', '2 alloc pfn=0x11 pid=1', '3 alloc pfn=0x12 pid=2', '3 alloc pfn=0x13 pid=2'];
    // One line a chunk: the prefix after "3 alloc pfn=0x12" must not show pid 2's second page at time 3.
    const text = padded(...lines, '3 alloc pfn=0x14 pid=2', '4 free pfn=0x10');
    const { model, seen } = await openWithPrefixes(text, 't.pltrace', 24);
    const ranges = seen.map((s) => s?.prefix.range ?? null);
    expect(ranges).toContainEqual([1, 2]);
    expect(ranges).toContainEqual([1, 3]);
    expect(ranges.filter((r) => r && r[1] === 3).length).toBeGreaterThan(0);
    for (const s of seen) if (s?.prefix.range?.[1] === 3) expect(s.prefix.events).toBeGreaterThanOrEqual(6);
    expectPrefixesHold(model, seen);
  });

  it('withdraws what it showed when an event goes back in time, and opens the same model', async () => {
    const body: string[] = [];
    for (let t = 1; t <= 400; t++) body.push(`${t * 10} alloc pfn=${0x100 + t} pid=${1 + (t % 3)}`);
    // Back in time: the prefixes shown up to here covered time 35, where this event belongs.
    body.push('35 free pfn=0x101');
    for (let t = 401; t <= 600; t++) body.push(`${t * 10} free pfn=${0x100 + t - 300}`);
    const text = padded(...body);
    const { model, seen } = await openWithPrefixes(text, 't.pltrace', 512);
    const at = seen.indexOf(null);
    expect(at).toBeGreaterThan(2);
    // Once withdrawn, nothing more is shown.
    expect(seen.length).toBe(at + 1);
    expect(model.result.order).not.toBeNull();
    await expectSameModel(text, 't.pltrace', model);
  });

  it('replays after the parse when no prefix was asked for anything, with the same model', async () => {
    const text = synth('cow-snapshots', 4, 5000);
    let calls = 0;
    const model = await openTrace([memorySource('t.pltrace', text, 4096)], { recordOwnership: true, onPrefix: () => void calls++ });
    expect(calls).toBeGreaterThan(10);
    await expectSameModel(text, 't.pltrace', model);
  });

  it('shows nothing for a page_owner dump, several files, or without recordOwnership', async () => {
    // The one record of the fixture a few hundred times over: past the detection head.
    const dump = realFixture('page_owner-1.txt').repeat(300);
    const calls: unknown[] = [];
    await openTrace([memorySource('po.txt', dump, 1024)], { recordOwnership: true, onPrefix: (p) => calls.push(p) });
    const text = synth('cow-snapshots', 1, 2000);
    await openTrace([memorySource('a.pltrace', text, 1024), memorySource('b.pltrace', text, 1024)], { recordOwnership: true, onPrefix: (p) => calls.push(p) });
    await openTrace([memorySource('a.pltrace', text, 1024)], { onPrefix: (p) => calls.push(p) });
    expect(calls).toEqual([]);
  });

  it('stops at a cancel like an open without prefixes', async () => {
    const text = synth('cow-snapshots', 2, 5000);
    let calls = 0;
    const open = openTrace([memorySource('t.pltrace', text, 2048)], { recordOwnership: true, onPrefix: () => void calls++, isCancelled: () => calls >= 3 });
    await expect(open).rejects.toThrow('cancelled');
    expect(calls).toBe(3);
  });
});

describe('exactRange', () => {
  const r = (...t: number[]): [number, number] | null => exactRange(Float64Array.from(t));
  it('spans from the first time to the last one before the latest', () => {
    expect(r()).toBeNull();
    expect(r(-Infinity, -Infinity)).toBeNull();
    expect(r(5, 5, 5)).toBeNull();
    // Two distinct times: the range would be the first time alone.
    expect(r(5, 7, 7)).toBeNull();
    expect(r(-Infinity, 5, 6, 7)).toEqual([5, 6]);
    expect(r(1, 2, 2, 3, 3, 3)).toEqual([1, 2]);
    expect(r(1, 2, 4, 4, 9)).toEqual([1, 4]);
  });
});
