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
      const c = b[i];
      let d: number;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
      else return NaN;
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
