import { describe, expect, it } from 'vitest';
import { LineReader } from '../../src/core/formats/lineReader';

interface Got {
  lines: [number, string][];
  classes: Set<string>;
  long: [number, number][];
}

/** Feed `chunks` (made by `make` from each piece) and collect the lines, their numbers and the array classes the sink saw. */
function read(pieces: string[], make: (s: string) => Uint8Array, maxLineBytes?: number): Got {
  const got: Got = { lines: [], classes: new Set(), long: [] };
  const r = new LineReader(
    (b, s, e, n) => {
      got.classes.add(b.constructor.name);
      got.lines.push([n, new TextDecoder().decode(b.subarray(s, e))]);
    },
    { maxLineBytes, onLongLine: (n, len) => got.long.push([n, len]) },
  );
  for (const p of pieces) r.feed(make(p));
  r.end();
  return got;
}

const asUint8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const asBuffer = (s: string): Uint8Array => Buffer.from(s);

describe('LineReader', () => {
  const text = 'first\r\nsecond\n\nfourth line with words\r\nlast without end';
  const want: [number, string][] = [
    [1, 'first'],
    [2, 'second'],
    [3, ''],
    [4, 'fourth line with words'],
    [5, 'last without end'],
  ];

  it('splits LF and CRLF lines, numbers them from 1, keeps empty lines and a last line with no terminator', () => {
    expect(read([text], asUint8).lines).toEqual(want);
  });

  it('gives the same lines for every split of the text into two chunks, Buffers or Uint8Arrays', () => {
    for (const make of [asUint8, asBuffer]) {
      for (let cut = 0; cut <= text.length; cut++) {
        expect(read([text.slice(0, cut), text.slice(cut)], make).lines).toEqual(want);
      }
    }
  });

  it('hands the sink plain Uint8Arrays when it is fed Node Buffers (one array class for the parsers)', () => {
    const got = read(['alpha\nbe', 'ta\ngamma\n'], asBuffer);
    expect(got.lines).toEqual([
      [1, 'alpha'],
      [2, 'beta'],
      [3, 'gamma'],
    ]);
    expect([...got.classes]).toEqual(['Uint8Array']);
  });

  it('reads Buffer chunks that are views into a larger buffer at an offset', () => {
    const big = Buffer.from('xxxxone\ntwo\nyyyy');
    const got: string[] = [];
    const r = new LineReader((b, s, e) => got.push(new TextDecoder().decode(b.subarray(s, e))));
    r.feed(big.subarray(4, 12));
    r.end();
    expect(got).toEqual(['one', 'two']);
  });

  it('skips an over-long line, reports its number and length, and goes on with the next', () => {
    const long = 'x'.repeat(50);
    for (const make of [asUint8, asBuffer]) {
      const got = read(['ok\n' + long.slice(0, 20), long.slice(20) + '\nafter\n'], make, 16);
      expect(got.lines).toEqual([
        [1, 'ok'],
        [3, 'after'],
      ]);
      expect(got.long).toEqual([[2, 50]]);
    }
  });

  it('tells how many bytes of a line begun it holds, so a second reader from there reads on, its lines numbered from startLine', () => {
    const all = 'one\ntwo two\n' + 'x'.repeat(40) + '\nfour\nfive';
    const whole = read([all], asUint8, 16);
    for (let cut = 0; cut <= all.length; cut++) {
      const first: Got = { lines: [], classes: new Set(), long: [] };
      const a = new LineReader((b, s, e, n) => first.lines.push([n, new TextDecoder().decode(b.subarray(s, e))]), { maxLineBytes: 16, onLongLine: (n, len) => first.long.push([n, len]) });
      a.feed(asUint8(all.slice(0, cut)));
      // Over-long lines being measured count as held too: the second reader measures them again.
      const from = cut - a.pending;
      expect(all.slice(0, from).split('\n').length - 1).toBe(a.lines);
      const second: Got = { lines: [], classes: new Set(), long: [] };
      const b = new LineReader((bb, s, e, n) => second.lines.push([n, new TextDecoder().decode(bb.subarray(s, e))]), {
        maxLineBytes: 16,
        onLongLine: (n, len) => second.long.push([n, len]),
        startLine: a.lines,
      });
      b.feed(asUint8(all.slice(from)));
      b.end();
      expect({ cut, lines: [...first.lines, ...second.lines], long: [...first.long, ...second.long] }).toEqual({ cut, lines: whole.lines, long: whole.long });
      expect(a.lines + b.lines).toBe(5);
    }
  });
});
