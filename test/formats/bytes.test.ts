import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseInt10, parseUint, ShortKeyTable, skipToken, UintScanner } from '../../src/core/formats/bytes';

const enc = new TextEncoder();

describe('UintScanner', () => {
  it('gives parseUint over skipToken, and that token end, for any bytes', () => {
    const chars = fc.constantFrom(...'0123456789abcdefABCDEFxXg-" \t');
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 24 }), fc.nat(30), (cs, cut) => {
        const b = enc.encode(cs.join(''));
        const end = Math.min(cut, b.length);
        const sc = new UintScanner();
        for (let i = 0; i <= end; i++) {
          const tokEnd = skipToken(b, i, end);
          expect(Object.is(sc.scan(b, i, end), parseUint(b, i, tokEnd))).toBe(true);
          expect(sc.end).toBe(tokEnd);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('reads the forms a trace holds', () => {
    const sc = new UintScanner();
    const b = enc.encode('0x7f00e0a04000 1234 0x 0xg 12a - 0X1F');
    const values: number[] = [];
    for (let i = 0; i < b.length; i = sc.end + 1) values.push(sc.scan(b, i, b.length));
    expect(values).toEqual([0x7f00e0a04000, 1234, NaN, NaN, NaN, NaN, 0x1f]);
    expect(parseInt10(enc.encode('-3'), 0, 2)).toBe(-3);
  });

  it('takes exactly 0-9, a-f and A-F as hex digits: every byte value, against a reference', () => {
    const sc = new UintScanner();
    for (let c = 0; c < 256; c++) {
      const b = new Uint8Array([0x30, 0x78, 0x31, c, 0x32]); // 0x1?2
      const ch = String.fromCharCode(c);
      const blank = c === 0x20 || c === 0x09;
      const want = blank ? 1 : /^[0-9a-fA-F]$/.test(ch) ? Number.parseInt(`1${ch}2`, 16) : NaN;
      expect(Object.is(sc.scan(b, 0, b.length), want)).toBe(true);
      expect(sc.end).toBe(blank ? 3 : 5);
      const wantWhole = blank ? NaN : want;
      expect(Object.is(parseUint(b, 0, b.length), wantWhole)).toBe(true);
      expect(Object.is(parseUint(b, 2, b.length, true), wantWhole)).toBe(true);
    }
  });
});

describe('ShortKeyTable', () => {
  /** Look up bytes packed as a scanner packs them. */
  function lookup(t: ShortKeyTable, key: string): number {
    const b = enc.encode(key);
    let lo = 0;
    let hi = 0;
    for (const c of b) {
      hi = (hi << 8) | (lo >>> 24);
      lo = (lo << 8) | c;
    }
    return t.get(lo, hi, b.length);
  }

  const names = ['pfn', 'o', 'order', 'owner', 'reserved', 'devoff', 'dev', 'pages', 'page', 'time', 'to'];
  const t = new ShortKeyTable(names);

  it('finds every name it was given, 1 to 8 bytes', () => {
    names.forEach((n, id) => expect(lookup(t, n)).toBe(id));
  });

  it('finds no other token: prefixes, extensions, longer tokens ending in a name, NUL-padded names', () => {
    for (const k of ['', 'p', 'pf', 'pfnx', 'xpfn', 'orde', 'orders', 'xreserved', 'zzreserved', 'reserve', 'ord\u0000r', '\u0000pfn', '\u0000\u0000reserved', 'PFN', 'tim', 'times', 'pagesx', 'Owner']) {
      expect(lookup(t, k)).toBe(-1);
    }
  });

  it('refuses names it cannot pack exactly', () => {
    expect(() => new ShortKeyTable(['ninebytes'])).toThrow();
    expect(() => new ShortKeyTable([''])).toThrow();
    expect(() => new ShortKeyTable(['caf\u00e9'])).toThrow();
  });

  it('agrees with a Map for random tokens over a small alphabet', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...'adefgnoprstv\u0000'), { maxLength: 11 }), (cs) => {
        const k = cs.join('');
        expect(lookup(t, k)).toBe(names.indexOf(k));
      }),
      { numRuns: 3000 },
    );
  });
});
