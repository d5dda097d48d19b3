/**
 * Byte-level helpers for line parsers. Lines arrive as (bytes, start, end) views into a chunk; parsers
 * scan them without making a string per line. On a 10-million-event native trace this is what keeps the
 * parser ahead of the disk (see docs/performance.md).
 */

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Decode bytes[start, end) as text (UTF-8, invalid bytes replaced). */
export function text(b: Uint8Array, start: number, end: number): string {
  if (end - start < 24) {
    let ascii = true;
    for (let i = start; i < end; i++) if (b[i] > 0x7e) { ascii = false; break; }
    if (ascii) return String.fromCharCode.apply(null, b.subarray(start, end) as unknown as number[]);
  }
  return utf8.decode(b.subarray(start, end));
}

export const SPACE = 0x20;
export const TAB = 0x09;

export function isSpace(c: number): boolean {
  return c === SPACE || c === TAB;
}

/** Index of the first non-blank byte at or after i. */
export function skipSpaces(b: Uint8Array, i: number, end: number): number {
  while (i < end && (b[i] === SPACE || b[i] === TAB)) i++;
  return i;
}

/** Index of the first blank byte at or after i (or end). */
export function skipToken(b: Uint8Array, i: number, end: number): number {
  while (i < end && b[i] !== SPACE && b[i] !== TAB) i++;
  return i;
}

/** Index of byte c at or after i, or -1. */
export function indexOfByte(b: Uint8Array, c: number, i: number, end: number): number {
  for (; i < end; i++) if (b[i] === c) return i;
  return -1;
}

/** Whether bytes at i spell `lit` (ASCII). */
export function startsWith(b: Uint8Array, i: number, end: number, lit: string): boolean {
  const n = lit.length;
  if (end - i < n) return false;
  for (let k = 0; k < n; k++) if (b[i + k] !== lit.charCodeAt(k)) return false;
  return true;
}

/** Index of the first occurrence of `lit` in bytes[i, end), or -1. */
export function indexOf(b: Uint8Array, lit: string, i: number, end: number): number {
  const n = lit.length;
  const c0 = lit.charCodeAt(0);
  const last = end - n;
  outer: for (; i <= last; i++) {
    if (b[i] !== c0) continue;
    for (let k = 1; k < n; k++) if (b[i + k] !== lit.charCodeAt(k)) continue outer;
    return i;
  }
  return -1;
}

/**
 * The value of each byte as a hex digit (0-15), HEX_END for a blank (the end of a token) and -1 for any
 * other byte. One load instead of a chain of range tests: the tests mispredict on every switch between
 * a digit and a letter, and parsing random 47-bit hex numbers took 2.5-3x as long with them (bench in
 * the commit that added this table).
 */
export const HEX_DIGIT = new Int8Array(256).fill(-1);
/** HEX_DIGIT's code for a space or a tab. */
export const HEX_END = 16;
for (let c = 0x30; c <= 0x39; c++) HEX_DIGIT[c] = c - 0x30;
for (let c = 0x61; c <= 0x66; c++) HEX_DIGIT[c] = c - 0x57;
for (let c = 0x41; c <= 0x46; c++) HEX_DIGIT[c] = c - 0x37;
HEX_DIGIT[SPACE] = HEX_END;
HEX_DIGIT[TAB] = HEX_END;

/**
 * Parse an unsigned integer at bytes[i, end): `0x`-prefixed hex, or decimal; `hex` forces hex without
 * prefix. Returns NaN when there is no digit or a byte that is not a digit. Values above 2^53 lose
 * precision (physical frame numbers and user addresses stay below it).
 */
export function parseUint(b: Uint8Array, i: number, end: number, hex = false): number {
  if (i >= end) return NaN;
  if (end - i > 2 && b[i] === 0x30 && (b[i + 1] === 0x78 || b[i + 1] === 0x58)) {
    i += 2;
    hex = true;
  }
  let v = 0;
  if (hex) {
    for (; i < end; i++) {
      const d = HEX_DIGIT[b[i]];
      if (d < 0 || d === HEX_END) return NaN;
      v = v * 16 + d;
    }
    return v;
  }
  for (; i < end; i++) {
    const d = b[i] - 0x30;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return v;
}

/**
 * parseUint fused with skipToken: parses the token at i (up to a blank or `end`) in one pass and leaves
 * its end in `end`, so a parser does not scan each value twice. Same results as
 * `parseUint(b, i, skipToken(b, i, end))`.
 */
export class UintScanner {
  /** End of the token last scanned. */
  end = 0;

  scan(b: Uint8Array, i: number, end: number): number {
    const s = i;
    let v = 0;
    let ok = true;
    if (b[i] === 0x30 && i + 2 < end && (b[i + 1] === 0x78 || b[i + 1] === 0x58) && b[i + 2] !== SPACE && b[i + 2] !== TAB) {
      for (i += 2; i < end; i++) {
        const d = HEX_DIGIT[b[i]];
        if (d === HEX_END) break;
        if (d < 0) ok = false;
        else v = v * 16 + d;
      }
    } else {
      for (; i < end; i++) {
        const c = b[i];
        if (c === SPACE || c === TAB) break;
        const d = c - 0x30;
        if (d < 0 || d > 9) ok = false;
        else v = v * 10 + d;
      }
    }
    this.end = i;
    return ok && i > s ? v : NaN;
  }
}

/** Parse a signed decimal integer (leading `-` allowed). NaN if malformed. */
export function parseInt10(b: Uint8Array, i: number, end: number): number {
  if (i < end && b[i] === 0x2d) return -parseUint(b, i + 1, end);
  return parseUint(b, i, end);
}

/**
 * Parse a decimal number with an optional fraction (`12.000345`), returning value * scale exactly for
 * up to 9 fraction digits: `parseDecimalScaled(b,i,e,1e9)` turns ftrace seconds into nanoseconds
 * without floating-point drift. NaN if malformed.
 */
export function parseDecimalScaled(b: Uint8Array, i: number, end: number, scale: number): number {
  let whole = 0;
  let digits = 0;
  for (; i < end && b[i] !== 0x2e; i++) {
    const d = b[i] - 0x30;
    if (d < 0 || d > 9) return NaN;
    whole = whole * 10 + d;
    digits++;
  }
  let frac = 0;
  let div = 1;
  if (i < end) {
    i++;
    for (; i < end; i++) {
      const d = b[i] - 0x30;
      if (d < 0 || d > 9) return NaN;
      if (div < 1e9) {
        frac = frac * 10 + d;
        div *= 10;
      }
      digits++;
    }
  }
  if (digits === 0) return NaN;
  return whole * scale + Math.round((frac * scale) / div);
}

/** Encode a string as bytes (tests and small inputs). */
export function bytesOf(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/**
 * Looks up byte ranges in a fixed set of ASCII names without making a string: parsers use it for event
 * names and field keys, which made up most of the per-line cost when they were decoded and looked up in a
 * Map (native parser: 1.7 s to 0.9 s on a 120 MB trace).
 */
export class ByteKeyTable {
  private readonly slots: Int32Array;
  private readonly names: string[];
  private readonly mask: number;

  constructor(names: readonly string[]) {
    this.names = [...names];
    let size = 16;
    while (size < names.length * 4) size *= 2;
    this.mask = size - 1;
    this.slots = new Int32Array(size).fill(-1);
    names.forEach((n, id) => {
      const bytes = new TextEncoder().encode(n);
      let h = ByteKeyTable.hash(bytes, 0, bytes.length) & this.mask;
      while (this.slots[h] >= 0) h = (h + 1) & this.mask;
      this.slots[h] = id;
    });
  }

  /** FNV-1a over the bytes; callers that scan a key anyway compute it inline with `step`. */
  static hash(b: Uint8Array, s: number, e: number): number {
    let h = ByteKeyTable.SEED;
    for (let i = s; i < e; i++) h = Math.imul(h ^ b[i], 0x01000193);
    return h;
  }

  static readonly SEED = 0x811c9dc5 | 0;

  /** Index of the name spelled by bytes[s, e) in the constructor's list, or -1. */
  get(b: Uint8Array, s: number, e: number): number {
    return this.getHashed(ByteKeyTable.hash(b, s, e), b, s, e);
  }

  /** As `get`, with the hash of bytes[s, e) already computed. */
  getHashed(hash: number, b: Uint8Array, s: number, e: number): number {
    let h = hash & this.mask;
    for (;;) {
      const id = this.slots[h];
      if (id < 0) return -1;
      const n = this.names[id];
      if (n.length === e - s) {
        let k = 0;
        while (k < n.length && n.charCodeAt(k) === b[s + k]) k++;
        if (k === n.length) return id;
      }
      h = (h + 1) & this.mask;
    }
  }
}

/**
 * Looks up names of at most 8 ASCII bytes by their bytes packed into two int32s, with no byte compare:
 * a scanner keeps the last 8 bytes of a token as it reads it (`hi = (hi << 8) | (lo >>> 24); lo = (lo
 * << 8) | c`) and the pair and the length identify the token exactly. The native parser's field keys:
 * hashing each key and comparing it byte by byte against the name found took 390 ms of the 8.4 s of
 * `analyze` on the 10 M-event native trace.
 */
export class ShortKeyTable {
  private readonly lo: Int32Array;
  private readonly hi: Int32Array;
  /** Name length per slot, 0 for an empty slot. */
  private readonly len: Uint8Array;
  private readonly id: Int32Array;
  private readonly mask: number;

  constructor(names: readonly string[]) {
    let size = 16;
    while (size < names.length * 4) size *= 2;
    this.mask = size - 1;
    this.lo = new Int32Array(size);
    this.hi = new Int32Array(size);
    this.len = new Uint8Array(size);
    this.id = new Int32Array(size);
    names.forEach((n, id) => {
      if (n.length === 0 || n.length > 8 || !/^[\x01-\x7f]+$/.test(n)) throw new Error(`ShortKeyTable: "${n}" is not 1-8 ASCII bytes`);
      const [lo, hi] = ShortKeyTable.pack(n);
      let h = ShortKeyTable.slot(lo, hi) & this.mask;
      while (this.len[h] !== 0) h = (h + 1) & this.mask;
      this.lo[h] = lo;
      this.hi[h] = hi;
      this.len[h] = n.length;
      this.id[h] = id;
    });
  }

  /** The last 8 bytes of an ASCII string packed as a scanner packs them: [lo, hi]. */
  static pack(name: string): [number, number] {
    let lo = 0;
    let hi = 0;
    for (let k = 0; k < name.length; k++) {
      hi = (hi << 8) | (lo >>> 24);
      lo = (lo << 8) | name.charCodeAt(k);
    }
    return [lo, hi];
  }

  private static slot(lo: number, hi: number): number {
    return Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) >>> 20;
  }

  /** Index in the constructor's list of the name of `len` bytes packed as lo, hi; -1 when none is. */
  get(lo: number, hi: number, len: number): number {
    if (len > 8) return -1;
    for (let h = ShortKeyTable.slot(lo, hi) & this.mask; ; h = (h + 1) & this.mask) {
      const l = this.len[h];
      if (l === 0) return -1;
      if (l === len && this.lo[h] === lo && this.hi[h] === hi) return this.id[h];
    }
  }
}

/** Whether the string t spells bytes[s, e) (ASCII). */
export function sameAscii(t: string, b: Uint8Array, s: number, e: number): boolean {
  if (t.length !== e - s) return false;
  for (let k = 0; k < t.length; k++) if (t.charCodeAt(k) !== b[s + k]) return false;
  return true;
}

/**
 * Strings for byte ranges that repeat (event names, devices, layout words): a hash of the bytes finds the
 * cached string, so a repeated name costs no decoding. Holds at most `limit` names.
 */
export class NameCache {
  private readonly names = new Map<number, string>();
  constructor(private readonly limit: number) {}

  get(b: Uint8Array, s: number, e: number): string {
    let h = e - s;
    for (let k = s; k < e; k++) h = (h * 31 + b[k]) | 0;
    const hit = this.names.get(h);
    if (hit !== undefined && sameAscii(hit, b, s, e)) return hit;
    const t = text(b, s, e);
    if (hit === undefined && this.names.size < this.limit) this.names.set(h, t);
    return t;
  }
}
