import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { jsonPieces, LazyList } from '../../src/core/export/jsonPieces';
import { toSarif } from '../../src/core/export/sarif';
import { SCENARIOS, synthesize } from '../../src/core/synth/scenarios';
import { summarize, summaryJson } from '../../src/core/trace';
import { native, openText, realFixture } from '../helpers';

const dir = mkdtempSync(join(tmpdir(), 'pageledger-json-'));

function synthText(scenario: (typeof SCENARIOS)[number], events: number, seed = 1): string {
  let text = '';
  synthesize({ scenario, seed, events, injectEvery: 50 }, (c) => (text += c));
  return text;
}

/** The timings of a summary differ run to run; everything else must be byte for byte the same. */
function withoutTimes(json: string): string {
  return json.replace(/"(parseMs|analyzeMs)": \d+/g, '"$1": 0');
}

describe('jsonPieces', () => {
  const values: [string, unknown][] = [
    ['empty object', {}],
    ['empty array', []],
    ['primitives', [1, -0, 1.5e300, NaN, Infinity, null, true, 'a"b\n\\c\u2028', undefined]],
    ['holes and functions', { a: undefined, b: () => 1, c: [undefined, () => 1, Symbol('s')], d: 0 }],
    ['nested', { a: { b: { c: [{ d: [[], {}, [1, [2, { e: 'f\ng' }]]] }] } }, z: [{}] }],
    ['toJSON', { when: new Date(0), inner: { toJSON: () => ({ x: [1, 2] }) } }],
    ['typed arrays and maps', { t: new Uint8Array([1, 2]), m: new Map([[1, 2]]) }],
    ['long lists', { xs: Array.from({ length: 3000 }, (_, k) => ({ k, s: 'x'.repeat(k % 50), n: k % 7 ? null : [k] })) }],
    ['a bare primitive', 42],
    ['a bare string', 'text'],
  ];
  for (const [name, v] of values) {
    it(`writes the bytes of JSON.stringify(v, null, 2) at every depth: ${name}`, () => {
      for (const depth of [0, 1, 2, 3, 5]) expect([...jsonPieces(v, depth)].join('')).toBe(JSON.stringify(v, null, 2));
    });
  }

  it('makes the items of a LazyList as it writes them, in pieces', () => {
    const made: number[] = [];
    const list = new LazyList(100_000, (k) => {
      made.push(k);
      return { k, name: `item ${k}` };
    });
    const pieces = jsonPieces({ head: 1, list, empty: new LazyList(0, () => 0), tail: [new LazyList(2, (k) => k)] }, 2);
    const first = pieces.next();
    expect(first.done).toBe(false);
    // The first piece is out before most items exist.
    expect(made.length).toBeLessThan(5000);
    const text = (first.value as string) + [...pieces].join('');
    const expected = { head: 1, list: Array.from({ length: 100_000 }, (_, k) => ({ k, name: `item ${k}` })), empty: [], tail: [[0, 1]] };
    expect(text).toBe(JSON.stringify(expected, null, 2));
  });
});

describe('analyze --json written in pieces', () => {
  const traces: [string, string, string][] = [
    ...SCENARIOS.map((s, k): [string, string, string] => [s, synthText(s, 4000, k + 1), `${s}.pltrace`]),
    ['page_owner', realFixture('page_owner-1.txt'), 'page_owner.txt'],
    ['ftrace', realFixture('ftrace-kmem-1.txt'), 'kmem.txt'],
    ['layout', realFixture('numa_maps-1.txt'), 'numa_maps.txt'],
    ['parse errors', native('10 alloc pfn=0x10 order=0 pid=1', 'nonsense', '11 free pfn=0x99 order=0'), 'bad.pltrace'],
  ];
  for (const [name, text, file] of traces) {
    it(`summaryJson is JSON.stringify(summarize(m), null, 2): ${name}`, async () => {
      const m = await openText(text, file);
      expect([...summaryJson(m)].join('')).toBe(JSON.stringify(summarize(m), null, 2));
    });
  }

  it('prints the same bytes as the whole summary, and the same SARIF', async () => {
    const path = join(dir, 'cow.pltrace');
    writeFileSync(path, synthText('cow-snapshots', 20_000));
    const sarif = join(dir, 'out.sarif');
    let out = '';
    expect(await main(['analyze', '--json', '--quiet', '--threads', '1', '--sarif', sarif, path], (s) => (out += s), () => {})).toBe(0);
    let alone = '';
    expect(await main(['analyze', '--json', '--quiet', '--threads', '1', path], (s) => (alone += s), () => {})).toBe(0);
    const m = await openText(readFileSync(path, 'utf8'), path);
    const summary = summarize(m);
    const expected = withoutTimes(JSON.stringify(summary, null, 2) + '\n');
    expect(withoutTimes(out)).toBe(expected);
    expect(withoutTimes(alone)).toBe(expected);
    expect(readFileSync(sarif, 'utf8')).toBe(JSON.stringify(toSarif(summary), null, 2) + '\n');
  });

  it('waits for a full writer before the next piece', async () => {
    const path = join(dir, 'dax.pltrace');
    writeFileSync(path, synthText('dax-kmem-persistent', 30_000));
    let text = '';
    let pending = false;
    let overlapped = false;
    let waits = 0;
    const writer = (s: string): Promise<void> | void => {
      if (pending) overlapped = true;
      text += s;
      if (s.length < 1000) return;
      // A sink that is full after every long piece and drains a moment later.
      pending = true;
      waits++;
      return new Promise((resolve) =>
        setTimeout(() => {
          pending = false;
          resolve();
        }, 1),
      );
    };
    expect(await main(['analyze', '--json', '--quiet', '--threads', '1', path], writer, () => {})).toBe(0);
    expect(overlapped).toBe(false);
    expect(waits).toBeGreaterThan(1);
    const m = await openText(readFileSync(path, 'utf8'), path);
    expect(withoutTimes(text)).toBe(withoutTimes(JSON.stringify(summarize(m), null, 2) + '\n'));
  });
});
