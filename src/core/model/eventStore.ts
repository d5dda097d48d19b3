import { EventKind, type EventRecord } from './events';

// Columns grow in fixed chunks instead of doubling: a doubling typed array briefly holds old + new copies
// (3x the data at the copy), which is what sets peak memory on a 10-million-event trace.
const CHUNK_BITS = 16;
/** Events per column chunk. */
export const CHUNK = 1 << CHUNK_BITS;
const MASK = CHUNK - 1;

/** Read-only view of one column: value of event i. */
export interface ColumnView {
  get(i: number): number;
}

/** One byte per event (kind, order): fixed-size Uint8Array chunks. */
class ByteColumn implements ColumnView {
  readonly chunks: Uint8Array[] = [];
  grow(): Uint8Array {
    const c = new Uint8Array(CHUNK);
    this.chunks.push(c);
    return c;
  }
  get(i: number): number {
    return this.chunks[i >>> CHUNK_BITS][i & MASK];
  }
  /** Values of the events idx[from, to) into out[0, to - from) (see CompactColumn.gather). */
  gather(idx: Uint32Array, from: number, to: number, out: Uint8Array): void {
    const chunks = this.chunks;
    for (let k = from; k < to; k++) {
      const i = idx[k];
      out[k - from] = chunks[i >>> CHUNK_BITS][i & MASK];
    }
  }
  /** Values of the events [from, to) into out[0, to - from): a copy a chunk. */
  range(from: number, to: number, out: Uint8Array): void {
    for (let i = from; i < to; ) {
      const j0 = i & MASK;
      const j1 = Math.min(CHUNK, j0 + (to - i));
      out.set(this.chunks[i >>> CHUNK_BITS].subarray(j0, j1), i - from);
      i += j1 - j0;
    }
  }
  bytes(): number {
    return this.chunks.length * CHUNK;
  }
}

/** How one chunk of a CompactColumn holds its values. */
export const Rep = {
  /** Every value of the chunk is `base` (no array at all). */
  Const: 0,
  /** Uint16 offsets from `base`; 0xffff is NaN. */
  U16: 1,
  /** Uint32 offsets from `base`; 0xffffffff is NaN. */
  U32: 2,
  /** The values as they are. */
  F64: 3,
  /** Uint8 offsets from `base`; 0xff is NaN. */
  U8: 4,
  /** The value at slot j is `base + j` (no array): the line column when each line is one event. */
  Affine: 5,
  /**
   * Uint16 page numbers: the value is `base + code * 4096`; 0xffff is NaN, and the `ex.length` codes below
   * it index `ex`, the values that are not multiples of 4096 (virtual addresses mixed with a few pfns).
   */
  P16: 6,
  /** As P16 with Uint32 codes (0xffffffff is NaN). */
  P32: 7,
  /** Every slot holds `base` except the slots listed (ascending) in the Uint16 `data`, whose values are in `ex`. */
  Sparse: 8,
  /**
   * Uint8 offsets from a ramp: the value at slot j is `base + floor(j * step) + code`, `step` being
   * `ex[0]` (no NaN). Values that grow by a few a slot: the line of events of several lines each, the
   * pfns of a page_owner dump in frame order.
   */
  Ramp8: 9,
  /** As Ramp8 with Uint16 codes. */
  Ramp16: 10,
  /**
   * Uint8 codes into `ex`, the chunk's few distinct values (NaN among them if present): a column of a
   * handful of values far apart, like the allocation site hash of page_owner records.
   */
  Dict8: 11,
  /**
   * The U32 codes stored in 3 bytes a slot and a table (SPLIT_* layout in `data`): each code's low 16 bits,
   * and a byte naming its high 16 bits among the chunk's at most 256 distinct high halves. Owner ids and
   * pids of a 10 M-event trace span a few high halves a chunk, pfns of two memory ranges tens of them.
   */
  Split: 12,
  /** P32 codes stored as Split stores U32 codes (virtual addresses a few high halves of pages apart). */
  PSplit: 13,
  /**
   * Uint16 steps from the slot before (slot 0 is `base`), the value at every DELTA_EVERY-th slot in `ex`
   * for reads out of order: values that never decrease by steps below 65536 (times of a trace in time
   * order: 2 bytes an event instead of 4).
   */
  Delta16: 14,
  /** 4-bit offsets from `base`, two slots a byte (slot 2k in the low half); 15 is NaN. The node column: 0.5 bytes an event. */
  U4: 15,
  /**
   * As Sparse, the listed values being whole and less than 2^32 apart: `data` holds them as Uint32 offsets
   * from `ex[0]`, then the Uint16 slots (6 bytes a listed slot instead of 10: ref, arg2).
   */
  Sparse32: 16,
  /**
   * As Delta16 with Uint8 steps: the line column of a page_owner dump (a record of 8.5 lines on average,
   * its stack trace of varying depth, so no Ramp8), 1 byte an event instead of Ramp16's 2. Only in a
   * column made to allow it (CompactColumn's `steps`), one the replay does not read in time order.
   */
  Delta8: 17,
  /**
   * A value fixed by the event's value in another column of the store (the column's `key`): Uint32 codes
   * from `base`, one per key value from `ex[0]` on (`data[key - ex[0]]`), none a slot. A page_owner record's
   * pid is its owner's: 3,000 owners a chunk of the bench dump, 12 KB a chunk instead of 128 KB of U16.
   * Only in a column made with a key.
   */
  Keyed: 18,
} as const;

const NAN4 = 0xf;
const NAN8 = 0xff;
const NAN16 = 0xffff;
const NAN32 = 0xffffffff;
// Offsets from a chunk's minimum are exact while values stay below 2^53.
const EXACT = 2 ** 53;
const PAGE = 4096;
const PER_PAGE = 1 / PAGE;
// A ramp's values, base and steps stay exact integers within ±2^52.
const RAMP_LIMIT = 2 ** 52;
/** Bytes a Sparse chunk spends per value that differs from its base (a Uint16 slot and a float64). */
const SPARSE_COST = 10;
const NO_VALUES = new Float64Array(0);
// Scratch lists for a Sparse chunk being packed (copied out at their final length).
const SCRATCH_SLOTS = new Uint16Array(CHUNK);
const SCRATCH_VALUES = new Float64Array(CHUNK);
// Split and PSplit data: Uint16 low halves, then 256 Uint32 high halves (already shifted), then a byte a slot.
const SPLIT_GROUPS = 2 * CHUNK;
const SPLIT_CODES = SPLIT_GROUPS + 256 * 4;
const SPLIT_BYTES = SPLIT_CODES + CHUNK;
/** 32-bit codes of a chunk being packed (copied out when they stay as they are). */
const SCRATCH_U32 = new Uint32Array(CHUNK);
const SCRATCH_SPLIT = new Uint8Array(SPLIT_BYTES);
/** A high half's index in the chunk being split, -1 when not seen (reset after each chunk). */
const HIGH_INDEX = new Int16Array(65536).fill(-1);
/** A Delta16 chunk keeps the value of one slot in this many in `ex`: a read out of order adds at most 255 steps. */
const DELTA_BITS = 8;
const SCRATCH_U16 = new Uint16Array(CHUNK);
/** The key column's values of a chunk being packed Keyed, and the codes by key value (made on first use: 768 KB). */
let scratchKeys: Float64Array | null = null;
let scratchKeyed: Uint32Array | null = null;

/** One chunk of a CompactColumn as plain data (for the index cache and worker transfer). */
export interface CompactChunk {
  rep: number;
  base: number;
  data: Uint8Array | Uint16Array | Uint32Array | Float64Array | null;
  /** The values P16, P32, PSplit and Sparse chunks hold beside their codes, Delta16's checkpoints (absent or null for the other forms). */
  ex?: Float64Array | null;
}

type ChunkData = CompactChunk['data'];

/** Whether a and b are the same number, NaN equal to NaN. */
function same(a: number, b: number): boolean {
  return a === b || (a !== a && b !== b);
}

/**
 * Events idx[from, to) grouped by the store chunk they are in (a counting sort of their positions), for
 * CompactColumn.gather: the replay groups a block once for the up to nine columns it reads of it.
 */
export class ChunkGroups {
  /** After group(): count[c] is the end of chunk c's positions in pos, count[c - 1] its start. */
  count = new Int32Array(1);
  /** Positions (k - from) of the events, chunk by chunk, in their order within each chunk. */
  pos = new Int32Array(4096);
  /** Chunks the grouping spans. */
  chunks = 0;

  /** Group idx[from, to) into `chunks` chunks (every idx[k] below chunks * CHUNK). */
  group(idx: Uint32Array, from: number, to: number, chunks: number): void {
    const n = to - from;
    let count = this.count;
    if (count.length < chunks + 1) count = this.count = new Int32Array(chunks + 1);
    else count.fill(0, 0, chunks + 1);
    if (this.pos.length < n) this.pos = new Int32Array(n);
    const pos = this.pos;
    for (let k = from; k < to; k++) count[(idx[k] >>> CHUNK_BITS) + 1]++;
    for (let c = 0; c < chunks; c++) count[c + 1] += count[c];
    for (let k = from; k < to; k++) pos[count[idx[k] >>> CHUNK_BITS]++] = k - from;
    this.chunks = chunks;
  }
}

/** buf[0, m) += d (appendStore). */
function addTo(buf: Float64Array, m: number, d: number): void {
  for (let k = 0; k < m; k++) buf[k] += d;
}

/** buf[k] = map[buf[k]] for k in [0, m) (appendStore: owner ids). */
function mapAll(buf: Float64Array, m: number, map: Int32Array): void {
  for (let k = 0; k < m; k++) buf[k] = map[buf[k]];
}

/** As mapAll, only for the fault events among kinds[0, m) (appendStore: a fault's agent in ref). */
function mapFaults(buf: Float64Array, kinds: Uint8Array, m: number, map: Int32Array): void {
  for (let k = 0; k < m; k++) if (kinds[k] === EventKind.Fault) buf[k] = map[buf[k]];
}

/** rangeOf's answer: least and greatest value (NaN aside), and the count of NaNs. */
const RANGE = new Float64Array(3);

/**
 * The range of raw[0, n) into RANGE. A loop of its own, apart from the choice of form in pack: that
 * choice takes a new branch now and then and is compiled again each time (17 deoptimizations of pack on
 * the 103 MB native trace), and a loop inside it ran unoptimized for a while after each.
 */
function rangeOf(raw: Float64Array, n: number): void {
  // The run of slots equal to the first, with one compare a slot: most columns of most chunks are one
  // value (file, and on ftrace node, pid, ref, arg and arg2), and the range loop below costs three.
  const first = raw[0];
  let j0 = 1;
  if (first === first) while (j0 < n && raw[j0] === first) j0++;
  else while (j0 < n && raw[j0] !== raw[j0]) j0++;
  // Range and NaNs (comparisons with NaN are false, so NaN never moves lo or hi).
  let lo = first === first ? first : Infinity;
  let hi = first === first ? first : -Infinity;
  let nans = first === first ? 0 : j0;
  for (let j = j0; j < n; j++) {
    const x = raw[j];
    if (x < lo) lo = x;
    if (x > hi) hi = x;
    if (x !== x) nans++;
  }
  RANGE[0] = lo;
  RANGE[1] = hi;
  RANGE[2] = nans;
}

/**
 * A numeric column whose chunks each take the narrowest form their values allow: a constant or `base +
 * slot` (no array), 1-, 2- or 4-byte offsets from the chunk's minimum, page numbers (value / 4096) with
 * the few values that are not page multiples beside them, one value with the slots that differ listed
 * beside it, or 8-byte floats; exact for every value (NaN included; -0 reads back as 0). The chunk being
 * filled is a plain Float64Array (push is one store per value) and is packed when full, by typed loops
 * over it: packing per value on push cost 110 ns an event. On the 1-million-event native bench trace the
 * store takes 20.5 bytes an event instead of 39.7 (line is base + slot, node fits a byte, arg holds virtual
 * addresses as 32-bit page numbers and arg2 is 0 but for 4% of the events); on ftrace kmem 12.7 instead of 17.
 */
export class CompactColumn implements ColumnView {
  readonly rep: number[] = [];
  readonly base: number[] = [];
  readonly data: ChunkData[] = [];
  readonly ex: (Float64Array | null)[] = [];
  /** The chunk being filled (raw), -1 when none is. */
  private c = -1;
  /** Slots of chunk c written so far (known when packing a partial chunk). */
  private filled = 0;
  private spare: Float64Array | null = null;

  /**
   * `steps`: chunks whose values never decrease by steps below 256 may take Delta8, whose reads out of
   * order add up to 255 steps each (for a column read in store order, like the line). `key`: a column of
   * the same store (same chunks) whose value may fix this one's (Keyed: the owner fixes the pid of a
   * page_owner record); checked chunk by chunk when one is packed.
   */
  constructor(
    private readonly steps = false,
    private readonly key?: CompactColumn,
  ) {}

  /** Start a new chunk (packing the full one before it) and return its raw array to write slots into. */
  begin(): Float64Array {
    if (this.c >= 0) this.pack(this.c, CHUNK);
    const raw = this.spare ?? new Float64Array(CHUNK);
    this.spare = null;
    this.c = this.rep.length;
    this.rep.push(Rep.F64);
    this.base.push(0);
    this.data.push(raw);
    this.ex.push(null);
    this.filled = 0;
    return raw;
  }

  /** Tell the column how many slots of the current chunk hold values (before a pack of a partial chunk). */
  setFilled(n: number): void {
    this.filled = n;
  }

  /** Pack the chunk being filled now (a partial last chunk), e.g. before export. */
  finish(): void {
    if (this.c >= 0) this.pack(this.c, this.filled);
    this.c = -1;
  }

  /** Hand over the raw array kept for the next chunk (null when none is kept): a new one is made when needed. */
  takeSpare(): Float64Array | null {
    const s = this.spare;
    this.spare = null;
    return s;
  }

  /** Unpack the last chunk into a raw array again to append to it (after finish or fromData); returns it. */
  resume(filled: number): Float64Array {
    const c = this.rep.length - 1;
    const raw = new Float64Array(CHUNK);
    for (let j = 0; j < filled; j++) raw[j] = this.at(c, j);
    this.set(c, Rep.F64, 0, raw, null);
    this.c = c;
    this.filled = filled;
    return raw;
  }

  /** The raw array of the chunk being filled. */
  current(): Float64Array {
    return this.data[this.c] as Float64Array;
  }

  private set(c: number, rep: number, base: number, data: ChunkData, ex: Float64Array | null): void {
    this.rep[c] = rep;
    this.base[c] = base;
    this.data[c] = data;
    this.ex[c] = ex;
    this.rc = -1;
  }

  /** Replace the raw chunk c by its packed form (the raw array is kept for the next chunk). */
  private packed(c: number, rep: number, base: number, data: ChunkData, ex: Float64Array | null): void {
    this.spare = this.data[c] as Float64Array;
    this.set(c, rep, base, data, ex);
  }

  private pack(c: number, n: number): void {
    if (n === 0) return;
    const raw = this.data[c] as Float64Array;
    // The run of slots equal to the first, with one compare a slot: most columns of most chunks are one
    // value (file, and on ftrace node, pid, ref, arg and arg2), and the range loop below costs three.
    rangeOf(raw, n);
    const lo = RANGE[0];
    const hi = RANGE[1];
    const nans = RANGE[2];
    this.rc = -1;
    if (lo > hi || (lo === hi && nans === 0)) {
      // Every value the same (or every one NaN).
      this.packed(c, Rep.Const, lo > hi ? NaN : lo, null, null);
      return;
    }
    const whole = lo >= -EXACT && hi < EXACT && Math.floor(lo) === lo;
    if (whole && nans === 0 && raw[0] === lo && raw[n - 1] === hi && hi - lo === n - 1 && affine(raw, n, lo)) {
      this.packed(c, Rep.Affine, lo, null, null);
      return;
    }
    const span = hi - lo;
    const width = !whole ? 8 : span < NAN8 ? 1 : span < NAN16 ? 2 : span < NAN32 ? 4 : 8;
    if (this.key !== undefined && width < 8 && nans === 0 && this.packKeyed(c, raw, n, lo, width)) return;
    if (whole && nans === 0 && width > 1 && lo > -RAMP_LIMIT && hi < RAMP_LIMIT && this.packRamp(c, raw, n, width)) return;
    if (whole && nans === 0 && width > 2 && this.packDelta(c, raw, n)) return;
    if (width > 1 && this.packDict(c, raw, n)) return;
    if (width > 1 && this.packListed(c, raw, n, width)) return;
    if (width < 8 && this.packOffsets(c, raw, n, lo, width)) return;
    // A fraction (the offsets did not read back): float64 unless one value dominates.
    if (width < 8) this.packListed(c, raw, n, 8);
  }

  /**
   * The forms that list values beside codes, when they take fewer than `width` bytes a slot: Sparse (one
   * value nearly everywhere: arg2, ref) and, where offsets would need 4 or 8 bytes, page numbers (virtual
   * addresses). False when neither pays.
   */
  private packListed(c: number, raw: Float64Array, n: number, width: number): boolean {
    const common = sampledMode(raw, n, false);
    // NaN has a code of its own in the page form: its common value is the most frequent number.
    let pages = width >= 4 ? pageRange(raw, n, sampledMode(raw, n, true).value) : null;
    if (pages && pages.width * CHUNK + pages.ex * 8 >= width * CHUNK) pages = null;
    const bytes = pages ? pages.width * CHUNK + pages.ex * 8 : width * CHUNK;
    if (this.packSparse(c, raw, n, bytes, common)) return true;
    if (!pages) return false;
    this.packPages(c, raw, n, pages);
    return true;
  }

  /**
   * Offsets from lo in `width` bytes, each checked by reading it back (a fraction or an out-of-range value
   * does not round-trip); false, the chunk left raw, on the first that does not.
   */
  private packOffsets(c: number, raw: Float64Array, n: number, lo: number, width: number): boolean {
    // One loop per array type: a store through a union of typed arrays is several times slower.
    if (width === 1 && this.packNibbles(c, raw, n, lo)) return true;
    if (width === 1) {
      const a = new Uint8Array(CHUNK);
      for (let j = 0; j < n; j++) {
        const x = raw[j];
        if (x !== x) {
          a[j] = NAN8;
          continue;
        }
        const off = x - lo;
        a[j] = off;
        if (a[j] !== off) return false;
      }
      this.packed(c, Rep.U8, lo, a, null);
    } else if (width === 2) {
      const a = new Uint16Array(CHUNK);
      for (let j = 0; j < n; j++) {
        const x = raw[j];
        if (x !== x) {
          a[j] = NAN16;
          continue;
        }
        const off = x - lo;
        a[j] = off;
        if (a[j] !== off) return false;
      }
      this.packed(c, Rep.U16, lo, a, null);
    } else {
      const a = SCRATCH_U32;
      for (let j = 0; j < n; j++) {
        const x = raw[j];
        if (x !== x) {
          a[j] = NAN32;
          continue;
        }
        const off = x - lo;
        a[j] = off;
        if (a[j] !== off) return false;
      }
      this.packed32(c, Rep.U32, lo, a, n, null);
    }
    return true;
  }

  /** U4 when every offset from lo is a whole number below 15 (or NaN); false, the chunk left raw, otherwise. */
  private packNibbles(c: number, raw: Float64Array, n: number, lo: number): boolean {
    const a = new Uint8Array(CHUNK >>> 1);
    for (let j = 0; j < n; j++) {
      const x = raw[j];
      let code = NAN4;
      if (x === x) {
        code = x - lo;
        if (!(code >= 0 && code < NAN4 && Math.floor(code) === code)) return false;
      }
      a[j >>> 1] |= code << ((j & 1) << 2);
    }
    this.packed(c, Rep.U4, lo, a, null);
    return true;
  }

  /** Codes a[0, n) of a U32 or P32 chunk as they are, or split (3 bytes a slot) when they allow it. */
  private packed32(c: number, rep: number, base: number, a: Uint32Array, n: number, ex: Float64Array | null): void {
    const split = splitCodes(a, n);
    if (split) this.packed(c, rep === Rep.P32 ? Rep.PSplit : Rep.Split, base, split, ex);
    else {
      const out = new Uint32Array(CHUNK);
      out.set(a.subarray(0, n));
      this.packed(c, rep, base, out, ex);
    }
  }

  /**
   * Delta16 when every value is at least the one before and less than 65536 above it; false (on the first
   * step that is not) otherwise.
   */
  private packDelta(c: number, raw: Float64Array, n: number): boolean {
    const d = SCRATCH_U16;
    let prev = raw[0];
    d[0] = 0;
    for (let j = 1; j < n; j++) {
      const x = raw[j];
      const step = x - prev;
      d[j] = step;
      if (d[j] !== step) return false;
      prev = x;
    }
    const marks = new Float64Array(((n - 1) >>> DELTA_BITS) + 1);
    for (let k = 0; k < marks.length; k++) marks[k] = raw[k << DELTA_BITS];
    const a = new Uint16Array(CHUNK);
    a.set(d.subarray(0, n));
    this.packed(c, Rep.Delta16, raw[0], a, marks);
    return true;
  }

  /**
   * Ramp8 or Ramp16 when its codes are narrower than `width`: offsets from the line through the first
   * and last values. 64 sampled slots decide first, so a column that is no ramp costs no pass. On the
   * 2.5 M-record page_owner dump (8.5 lines a record, pfns in frame order) line and pfn take 1-2 bytes
   * an event instead of 4.
   */
  private packRamp(c: number, raw: Float64Array, n: number, width: number): boolean {
    if (n < 3) return false;
    const first = raw[0];
    const step = (raw[n - 1] - first) / (n - 1);
    const limit = width === 2 ? NAN8 : NAN16;
    let rlo = Infinity;
    let rhi = -Infinity;
    const every = sampleStep(n);
    for (let j = 0; j < n; j += every) {
      const r = raw[j] - first - Math.floor(j * step);
      if (r < rlo) rlo = r;
      if (r > rhi) rhi = r;
    }
    if (!(rhi - rlo < limit)) return false;
    for (let j = 0; j < n; j++) {
      const r = raw[j] - first - Math.floor(j * step);
      if (r < rlo) rlo = r;
      else if (r > rhi) rhi = r;
      else continue;
      if (!(rhi - rlo < limit)) return false;
    }
    const base = first + rlo;
    const ex = Float64Array.of(step);
    // One loop per array type, each code read back as packOffsets does.
    if (rhi - rlo < NAN8) {
      const a = new Uint8Array(CHUNK);
      for (let j = 0; j < n; j++) {
        const off = raw[j] - base - Math.floor(j * step);
        a[j] = off;
        if (a[j] !== off) return false;
      }
      this.packed(c, Rep.Ramp8, base, a, ex);
    } else {
      if (this.steps && this.packDelta8(c, raw, n)) return true;
      const a = new Uint16Array(CHUNK);
      for (let j = 0; j < n; j++) {
        const off = raw[j] - base - Math.floor(j * step);
        a[j] = off;
        if (a[j] !== off) return false;
      }
      this.packed(c, Rep.Ramp16, base, a, ex);
    }
    return true;
  }

  /**
   * Keyed when each value of the key column in this chunk goes with one value of this one, and the codes
   * by key value take at most half of the `width` bytes a slot of the chunk's array (whole even for a
   * partial last chunk); false (on the first key seen with a second value) otherwise. Values are whole, lo
   * the least, and less than 2^32 - 1 above it (width below 8).
   */
  private packKeyed(c: number, raw: Float64Array, n: number, lo: number, width: number): boolean {
    const keys = (scratchKeys ??= new Float64Array(CHUNK));
    this.key!.decode(c, n, keys);
    rangeOf(keys, n);
    const klo = RANGE[0];
    const span = RANGE[1] - klo;
    if (RANGE[2] !== 0 || !(klo >= -EXACT && RANGE[1] < EXACT) || (span + 1) * 8 > width * CHUNK) return false;
    const codes = (scratchKeyed ??= new Uint32Array(CHUNK));
    codes.fill(NAN32, 0, span + 1);
    for (let j = 0; j < n; j++) {
      // A key that is not whole reads undefined (no such index) and stops here.
      const k = keys[j] - klo;
      const x = raw[j] - lo;
      const t = codes[k];
      if (t === x) continue;
      if (t !== NAN32) return false;
      codes[k] = x;
      // A fraction does not read back.
      if (codes[k] !== x) return false;
    }
    this.packed(c, Rep.Keyed, lo, codes.slice(0, span + 1), Float64Array.of(klo));
    return true;
  }

  /** Delta8 when every value is at least the one before and less than 256 above it; false otherwise. */
  private packDelta8(c: number, raw: Float64Array, n: number): boolean {
    const a = new Uint8Array(CHUNK);
    let prev = raw[0];
    for (let j = 1; j < n; j++) {
      const x = raw[j];
      const step = x - prev;
      a[j] = step;
      if (a[j] !== step) return false;
      prev = x;
    }
    const marks = new Float64Array(((n - 1) >>> DELTA_BITS) + 1);
    for (let k = 0; k < marks.length; k++) marks[k] = raw[k << DELTA_BITS];
    this.packed(c, Rep.Delta8, raw[0], a, marks);
    return true;
  }

  /**
   * Dict8 when the chunk holds at most DICT_MAX distinct values, unless Sparse takes fewer bytes (one of
   * them nearly everywhere). The 64 sampled slots decide first. The 2.5 M-record page_owner dump has 4
   * sites a chunk: arg 4 bytes an event to 1.
   */
  private packDict(c: number, raw: Float64Array, n: number): boolean {
    const vals = SCRATCH_VALUES;
    let k = 0;
    const every = sampleStep(n);
    for (let j = 0; j < n; j += every) {
      if (dictCode(vals, k, raw[j]) < 0) {
        if (k === DICT_MAX) return false;
        vals[k++] = raw[j];
      }
    }
    const a = new Uint8Array(CHUNK);
    let last = 0;
    for (let j = 0; j < n; j++) {
      const x = raw[j];
      if (same(vals[last], x)) {
        a[j] = last;
        continue;
      }
      let code = dictCode(vals, k, x);
      if (code < 0) {
        if (k === DICT_MAX) return false;
        vals[k] = x;
        code = k++;
      }
      a[j] = last = code;
    }
    const dict = vals.slice(0, k); // before packSparse, which fills the same scratch list
    if (this.packSparse(c, raw, n, CHUNK + k * 8, sampledMode(raw, n, false))) return true;
    this.packed(c, Rep.Dict8, 0, a, dict);
    return true;
  }

  /** Sparse form around `common` when it takes fewer than `bytes`. */
  private packSparse(c: number, raw: Float64Array, n: number, bytes: number, common: Mode): boolean {
    const budget = Math.floor(bytes / SPARSE_COST) - 1; // most differing slots that still pay
    // Too few samples hold it for the chunk to fit the budget (with a margin for sampling error).
    if ((1 - common.share) * n > budget * 2) return false;
    const cand = common.value;
    // One pass into scratch lists, given up as soon as the budget is exceeded.
    const slotList = SCRATCH_SLOTS;
    const valList = SCRATCH_VALUES;
    let k = 0;
    for (let j = 0; j < n; j++) {
      const x = raw[j];
      if (same(x, cand)) continue;
      if (k === budget) return false;
      slotList[k] = j;
      valList[k++] = x;
    }
    let lo = Infinity;
    let hi = -Infinity;
    let whole = k > 0;
    for (let m = 0; m < k && whole; m++) {
      const x = valList[m];
      if (x < lo) lo = x;
      if (x > hi) hi = x;
      whole = Math.floor(x) === x && x >= -EXACT && x < EXACT;
    }
    if (whole && hi - lo < 2 ** 32) {
      const data = new Uint8Array(6 * k);
      const offs = new Uint32Array(data.buffer, 0, k);
      for (let m = 0; m < k; m++) offs[m] = valList[m] - lo;
      new Uint16Array(data.buffer, 4 * k, k).set(slotList.subarray(0, k));
      this.packed(c, Rep.Sparse32, cand, data, Float64Array.of(lo));
      return true;
    }
    const slots = slotList.slice(0, k);
    const vals = valList.slice(0, k);
    this.packed(c, Rep.Sparse, cand, slots, vals);
    return true;
  }

  /**
   * Write chunk c as page numbers from r.lo: values outside [r.lo, r.hi] or not page multiples go to `ex`
   * (r.common first when it is one of them, shared by every slot holding it).
   */
  private packPages(c: number, raw: Float64Array, n: number, r: PageRange): void {
    const vals = new Float64Array(r.ex);
    if (r.width === 4) {
      const a = SCRATCH_U32;
      pageCodes(raw, n, r, a, NAN32, vals);
      this.packed32(c, Rep.P32, r.lo, a, n, vals);
    } else {
      const a = new Uint16Array(CHUNK);
      pageCodes(raw, n, r, a, NAN16, vals);
      this.packed(c, Rep.P16, r.lo, a, vals);
    }
  }

  // Read cursor: the chunk last read, its form and its array in fields of one type each. Reads in order
  // (the replay) then skip three array loads per value: 1 M native events read in 2-3x less time.
  private rc = -1;
  private rRep: number = Rep.Const;
  private rBase = 0;
  /** 1 for offsets, 4096 for page numbers. */
  private rScale = 1;
  /** The first code that is not an offset (NaN or an index into rEx). */
  private rT = 0;
  /** Sparse: the index in rEx of the first listed slot after the last slot read. */
  private rPos = 0;
  /** Ramp8, Ramp16: the step. */
  private rStep = 0;
  private r8: Uint8Array = new Uint8Array(0);
  private r16: Uint16Array = new Uint16Array(0);
  private r32: Uint32Array = new Uint32Array(0);
  private r64: Float64Array = new Float64Array(0);
  private rEx: Float64Array = new Float64Array(0);
  /** Split, PSplit: the high halves, and each slot's index into them (the low halves are r16). */
  private rHigh: Uint32Array = new Uint32Array(0);
  /** Delta16: the slot read last and its value. */
  private rJ = -2;
  private rV = 0;

  private seek(c: number): void {
    this.rc = c;
    const rep = this.rep[c];
    this.rRep = rep;
    this.rBase = this.base[c];
    const d = this.data[c];
    const ex = this.ex[c];
    this.rEx = ex ?? NO_VALUES;
    const k = ex ? ex.length : 0;
    this.rScale = rep === Rep.P16 || rep === Rep.P32 || rep === Rep.PSplit ? PAGE : 1;
    this.rPos = 0;
    this.rJ = -2;
    if (rep === Rep.U8 || rep === Rep.Dict8 || rep === Rep.U4 || rep === Rep.Delta8) this.r8 = d as Uint8Array;
    else if (rep === Rep.Ramp8 || rep === Rep.Ramp16) {
      this.rStep = (ex as Float64Array)[0];
      if (rep === Rep.Ramp8) this.r8 = d as Uint8Array;
      else this.r16 = d as Uint16Array;
    } else if (rep === Rep.U16 || rep === Rep.P16 || rep === Rep.Sparse) {
      this.r16 = d as Uint16Array;
      this.rT = NAN16 - k;
    } else if (rep === Rep.U32 || rep === Rep.P32) {
      this.r32 = d as Uint32Array;
      this.rT = NAN32 - k;
    } else if (rep === Rep.Split || rep === Rep.PSplit) {
      const b = d as Uint8Array;
      this.r16 = new Uint16Array(b.buffer, b.byteOffset, CHUNK);
      this.rHigh = new Uint32Array(b.buffer, b.byteOffset + SPLIT_GROUPS, 256);
      this.r8 = b.subarray(SPLIT_CODES);
      this.rT = NAN32 - k;
    } else if (rep === Rep.Sparse32) {
      const b = d as Uint8Array;
      const k32 = b.byteLength / 6;
      this.r32 = new Uint32Array(b.buffer, b.byteOffset, k32);
      this.r16 = new Uint16Array(b.buffer, b.byteOffset + 4 * k32, k32);
    } else if (rep === Rep.Delta16) this.r16 = d as Uint16Array;
    else if (rep === Rep.Keyed) this.r32 = d as Uint32Array;
    else if (rep === Rep.F64) this.r64 = d as Float64Array;
  }

  /** Value at slot j of chunk c, through the read cursor. */
  at(c: number, j: number): number {
    if (c !== this.rc) this.seek(c);
    switch (this.rRep) {
      case Rep.Const:
        return this.rBase;
      case Rep.Affine:
        return this.rBase + j;
      case Rep.U8: {
        const x = this.r8[j];
        return x === NAN8 ? NaN : x + this.rBase;
      }
      case Rep.U16:
      case Rep.P16: {
        const x = this.r16[j];
        if (x < this.rT) return x * this.rScale + this.rBase;
        return x === NAN16 ? NaN : this.rEx[x - this.rT];
      }
      case Rep.U32:
      case Rep.P32: {
        const x = this.r32[j];
        if (x < this.rT) return x * this.rScale + this.rBase;
        return x === NAN32 ? NaN : this.rEx[x - this.rT];
      }
      case Rep.Sparse:
      case Rep.Sparse32:
        return this.sparseAt(j);
      case Rep.Ramp8:
        return this.rBase + Math.floor(j * this.rStep) + this.r8[j];
      case Rep.Dict8:
        return this.rEx[this.r8[j]];
      case Rep.Ramp16:
        return this.rBase + Math.floor(j * this.rStep) + this.r16[j];
      case Rep.Split:
      case Rep.PSplit: {
        const x = this.rHigh[this.r8[j]] + this.r16[j];
        if (x < this.rT) return x * this.rScale + this.rBase;
        return x === NAN32 ? NaN : this.rEx[x - this.rT];
      }
      case Rep.Delta16:
        return this.deltaAt(j);
      case Rep.Delta8:
        return this.delta8At(j);
      case Rep.U4: {
        const x = (this.r8[j >>> 1] >>> ((j & 1) << 2)) & NAN4;
        return x === NAN4 ? NaN : x + this.rBase;
      }
      case Rep.Keyed:
        return this.rBase + this.r32[this.key!.at(c, j) - this.rEx[0]];
      default:
        return this.r64[j];
    }
  }

  /** Slot j of the current Delta16 chunk: the next slot adds one step, others start from the mark before them. */
  private deltaAt(j: number): number {
    const d = this.r16;
    let v: number;
    if (j === this.rJ + 1) v = this.rV + d[j];
    else if (j === this.rJ) return this.rV;
    else {
      const k = j >>> DELTA_BITS;
      v = this.rEx[k];
      for (let m = (k << DELTA_BITS) + 1; m <= j; m++) v += d[m];
    }
    this.rJ = j;
    this.rV = v;
    return v;
  }

  /** deltaAt for the current Delta8 chunk. */
  private delta8At(j: number): number {
    const d = this.r8;
    let v: number;
    if (j === this.rJ + 1) v = this.rV + d[j];
    else if (j === this.rJ) return this.rV;
    else {
      const k = j >>> DELTA_BITS;
      v = this.rEx[k];
      for (let m = (k << DELTA_BITS) + 1; m <= j; m++) v += d[m];
    }
    this.rJ = j;
    this.rV = v;
    return v;
  }

  /** Listed value p of the current Sparse or Sparse32 chunk. */
  private listed(p: number): number {
    return this.rRep === Rep.Sparse32 ? this.rEx[0] + this.r32[p] : this.rEx[p];
  }

  /** Slot j of the current Sparse or Sparse32 chunk: in-order reads step through the list, others search it. */
  private sparseAt(j: number): number {
    const s = this.r16;
    let p = this.rPos;
    if (p < s.length && s[p] === j) {
      this.rPos = p + 1;
      return this.listed(p);
    }
    if ((p === 0 || s[p - 1] < j) && (p >= s.length || s[p] > j)) return this.rBase;
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid] < j) lo = mid + 1;
      else hi = mid;
    }
    p = lo;
    if (p < s.length && s[p] === j) {
      this.rPos = p + 1;
      return this.listed(p);
    }
    this.rPos = p;
    return this.rBase;
  }

  get(i: number): number {
    return this.at(i >>> CHUNK_BITS, i & MASK);
  }

  /** Chunks the column spans (the same for every column of a store). */
  get chunkCount(): number {
    return this.rep.length;
  }

  /**
   * Values of the events idx[from, to) into out[0, to - from): reads out of order one column at a
   * time, so that each value's load depends on nothing the loop did before and the CPU overlaps
   * their cache misses.
   */
  gather(idx: Uint32Array, from: number, to: number, out: Float64Array, groups?: ChunkGroups): void {
    const n = to - from;
    const chunks = this.rep.length;
    if (n < 64 || chunks < 2) {
      for (let k = from; k < to; k++) {
        const i = idx[k];
        out[k - from] = this.at(i >>> CHUNK_BITS, i & MASK);
      }
      return;
    }
    // The events grouped by chunk first, then read a chunk at a time: in time order the events of a
    // page_owner dump (in pfn order in the store) fall in another chunk nearly every time, and the cursor's
    // seek to a chunk for each value was the top of the replay's profile. The grouping is the caller's
    // when it reads several columns of the same events.
    let g = groups;
    if (g === undefined) (g = this.groups ??= new ChunkGroups()).group(idx, from, to, chunks);
    const { count, pos } = g;
    // count[c] is the end of chunk c's positions, count[c - 1] its start.
    let t = 0;
    for (let c = 0; c < g.chunks; c++) {
      const end = count[c];
      if (t < end) this.gatherChunk(c, idx, from, pos, t, end, out);
      t = end;
    }
  }

  /**
   * Values of the events idx[from + pos[t]] for t in [t0, t1), all in chunk c, into out[pos[t]]: one typed
   * loop per form, as decodeSlots (the cursor's at() for the rarer forms).
   */
  private gatherChunk(c: number, idx: Uint32Array, from: number, pos: Int32Array, t0: number, t1: number, out: Float64Array): void {
    const rep = this.rep[c];
    const base = this.base[c];
    const d = this.data[c];
    const ex = this.ex[c] ?? NO_VALUES;
    switch (rep) {
      case Rep.Const:
        for (let t = t0; t < t1; t++) out[pos[t]] = base;
        return;
      case Rep.Affine:
        for (let t = t0; t < t1; t++) {
          const p = pos[t];
          out[p] = base + (idx[from + p] & MASK);
        }
        return;
      case Rep.U8: {
        const a = d as Uint8Array;
        for (let t = t0; t < t1; t++) {
          const p = pos[t];
          const x = a[idx[from + p] & MASK];
          out[p] = x === NAN8 ? NaN : x + base;
        }
        return;
      }
      case Rep.U16:
      case Rep.P16: {
        const a = d as Uint16Array;
        const scale = rep === Rep.P16 ? PAGE : 1;
        const lim = NAN16 - ex.length;
        for (let t = t0; t < t1; t++) {
          const p = pos[t];
          const x = a[idx[from + p] & MASK];
          out[p] = x < lim ? x * scale + base : x === NAN16 ? NaN : ex[x - lim];
        }
        return;
      }
      case Rep.U32:
      case Rep.P32: {
        const a = d as Uint32Array;
        const scale = rep === Rep.P32 ? PAGE : 1;
        const lim = NAN32 - ex.length;
        for (let t = t0; t < t1; t++) {
          const p = pos[t];
          const x = a[idx[from + p] & MASK];
          out[p] = x < lim ? x * scale + base : x === NAN32 ? NaN : ex[x - lim];
        }
        return;
      }
      case Rep.Ramp8: {
        const a = d as Uint8Array;
        const step = ex[0];
        for (let t = t0; t < t1; t++) {
          const p = pos[t];
          const j = idx[from + p] & MASK;
          out[p] = base + Math.floor(j * step) + a[j];
        }
        return;
      }
      case Rep.Ramp16: {
        const a = d as Uint16Array;
        const step = ex[0];
        for (let t = t0; t < t1; t++) {
          const p = pos[t];
          const j = idx[from + p] & MASK;
          out[p] = base + Math.floor(j * step) + a[j];
        }
        return;
      }
      case Rep.Dict8: {
        const a = d as Uint8Array;
        for (let t = t0; t < t1; t++) {
          const p = pos[t];
          out[p] = ex[a[idx[from + p] & MASK]];
        }
        return;
      }
      case Rep.F64: {
        const a = d as Float64Array;
        for (let t = t0; t < t1; t++) {
          const p = pos[t];
          out[p] = a[idx[from + p] & MASK];
        }
        return;
      }
      case Rep.Keyed: {
        // The key's values first, then each mapped to this column's.
        this.key!.gatherChunk(c, idx, from, pos, t0, t1, out);
        const a = d as Uint32Array;
        const klo = ex[0];
        for (let t = t0; t < t1; t++) {
          const p = pos[t];
          out[p] = base + a[out[p] - klo];
        }
        return;
      }
      default:
        for (let t = t0; t < t1; t++) {
          const p = pos[t];
          out[p] = this.at(c, idx[from + p] & MASK);
        }
    }
  }

  /** Scratch of gather when its caller gives no grouping. */
  private groups: ChunkGroups | null = null;

  /** Values of the events [from, to) into out[0, to - from): a typed loop per chunk and form, as decode. */
  range(from: number, to: number, out: Float64Array): void {
    for (let i = from; i < to; ) {
      const c = i >>> CHUNK_BITS;
      const j0 = i & MASK;
      const j1 = Math.min(CHUNK, j0 + (to - i));
      this.decodeSlots(c, j0, j1, out, i - from);
      i += j1 - j0;
    }
  }

  /** Values of slots [0, n) of chunk c into out, one typed loop per form. */
  decode(c: number, n: number, out: Float64Array): void {
    this.decodeSlots(c, 0, n, out, 0);
  }

  /** Values of slots [j0, j1) of chunk c into out[at, at + j1 - j0), one typed loop per form. */
  private decodeSlots(c: number, j0: number, j1: number, out: Float64Array, at: number): void {
    const rep = this.rep[c];
    const base = this.base[c];
    const d = this.data[c];
    const ex = this.ex[c] ?? NO_VALUES;
    const o = at - j0;
    switch (rep) {
      case Rep.Const:
        out.fill(base, at, at + j1 - j0);
        return;
      case Rep.Affine:
        for (let j = j0; j < j1; j++) out[o + j] = base + j;
        return;
      case Rep.U8: {
        const a = d as Uint8Array;
        for (let j = j0; j < j1; j++) {
          const x = a[j];
          out[o + j] = x === NAN8 ? NaN : x + base;
        }
        return;
      }
      case Rep.U16:
      case Rep.P16: {
        const a = d as Uint16Array;
        const scale = rep === Rep.P16 ? PAGE : 1;
        const t = NAN16 - ex.length;
        for (let j = j0; j < j1; j++) {
          const x = a[j];
          out[o + j] = x < t ? x * scale + base : x === NAN16 ? NaN : ex[x - t];
        }
        return;
      }
      case Rep.U32:
      case Rep.P32: {
        const a = d as Uint32Array;
        const scale = rep === Rep.P32 ? PAGE : 1;
        const t = NAN32 - ex.length;
        for (let j = j0; j < j1; j++) {
          const x = a[j];
          out[o + j] = x < t ? x * scale + base : x === NAN32 ? NaN : ex[x - t];
        }
        return;
      }
      case Rep.Sparse: {
        out.fill(base, at, at + j1 - j0);
        const slots = d as Uint16Array;
        for (let m = 0; m < slots.length; m++) {
          const j = slots[m];
          if (j >= j0 && j < j1) out[o + j] = ex[m];
        }
        return;
      }
      case Rep.Sparse32: {
        out.fill(base, at, at + j1 - j0);
        const b = d as Uint8Array;
        const k = b.byteLength / 6;
        const offs = new Uint32Array(b.buffer, b.byteOffset, k);
        const slots = new Uint16Array(b.buffer, b.byteOffset + 4 * k, k);
        const lo = ex[0];
        for (let m = 0; m < k; m++) {
          const j = slots[m];
          if (j >= j0 && j < j1) out[o + j] = lo + offs[m];
        }
        return;
      }
      case Rep.Ramp8: {
        const a = d as Uint8Array;
        const step = ex[0];
        for (let j = j0; j < j1; j++) out[o + j] = base + Math.floor(j * step) + a[j];
        return;
      }
      case Rep.Ramp16: {
        const a = d as Uint16Array;
        const step = ex[0];
        for (let j = j0; j < j1; j++) out[o + j] = base + Math.floor(j * step) + a[j];
        return;
      }
      case Rep.Dict8: {
        const a = d as Uint8Array;
        for (let j = j0; j < j1; j++) out[o + j] = ex[a[j]];
        return;
      }
      case Rep.Split:
      case Rep.PSplit: {
        const b = d as Uint8Array;
        const low = new Uint16Array(b.buffer, b.byteOffset, CHUNK);
        const high = new Uint32Array(b.buffer, b.byteOffset + SPLIT_GROUPS, 256);
        const codes = b.subarray(SPLIT_CODES);
        const scale = rep === Rep.PSplit ? PAGE : 1;
        const t = NAN32 - ex.length;
        for (let j = j0; j < j1; j++) {
          const x = high[codes[j]] + low[j];
          out[o + j] = x < t ? x * scale + base : x === NAN32 ? NaN : ex[x - t];
        }
        return;
      }
      case Rep.U4: {
        const a = d as Uint8Array;
        for (let j = j0; j < j1; j++) {
          const x = (a[j >>> 1] >>> ((j & 1) << 2)) & NAN4;
          out[o + j] = x === NAN4 ? NaN : x + base;
        }
        return;
      }
      case Rep.Delta16: {
        const a = d as Uint16Array;
        // Each value is the one before plus its step: from the mark at or before j0 (a chunk read a block
        // at a time summed every step before the block: 7.5 additions an event in the replay of kmem-1).
        const k = j0 > 0 ? (j0 - 1) >>> DELTA_BITS : 0;
        let v = ex.length > k ? ex[k] : base;
        for (let j = ex.length > k ? (k << DELTA_BITS) + 1 : 1; j < j0; j++) v += a[j];
        let j = j0;
        if (j === 0 && j1 > 0) out[o + j++] = v;
        for (; j < j1; j++) out[o + j] = v += a[j];
        return;
      }
      case Rep.Delta8: {
        const a = d as Uint8Array;
        // As Delta16, from the mark at or before j0.
        const k = j0 > 0 ? (j0 - 1) >>> DELTA_BITS : 0;
        let v = ex[k];
        for (let j = (k << DELTA_BITS) + 1; j < j0; j++) v += a[j];
        let j = j0;
        if (j === 0 && j1 > 0) out[o + j++] = v;
        for (; j < j1; j++) out[o + j] = v += a[j];
        return;
      }
      case Rep.Keyed: {
        this.key!.decodeSlots(c, j0, j1, out, at);
        const a = d as Uint32Array;
        const klo = ex[0];
        for (let m = at; m < at + j1 - j0; m++) out[m] = base + a[out[m] - klo];
        return;
      }
      default:
        out.set((d as Float64Array).subarray(j0, j1), at);
    }
  }

  bytes(): number {
    let n = 0;
    for (const d of this.data) if (d) n += d.byteLength;
    for (const x of this.ex) if (x) n += x.byteLength;
    return n;
  }

  /**
   * Remove the first k chunks (all packed) and return them as plain data; the chunk being filled, if
   * any, becomes chunk c - k.
   */
  takeFront(k: number): CompactChunk[] {
    const out: CompactChunk[] = [];
    for (let c = 0; c < k; c++) out.push({ rep: this.rep[c], base: this.base[c], data: this.data[c], ex: this.ex[c] });
    this.rep.splice(0, k);
    this.base.splice(0, k);
    this.data.splice(0, k);
    this.ex.splice(0, k);
    if (this.c >= 0) this.c -= k;
    this.rc = -1;
    return out;
  }

  /** The chunks as plain data (arrays shared, not copied). */
  exportChunks(): CompactChunk[] {
    return this.rep.map((rep, c) => ({ rep, base: this.base[c], data: this.data[c], ex: this.ex[c] }));
  }

  /** Append chunks from `exportChunks` (read back from the index cache or a worker). */
  importChunks(chunks: readonly CompactChunk[]): void {
    for (const ch of chunks) {
      this.rep.push(ch.rep);
      this.base.push(ch.base);
      this.data.push(ch.data);
      this.ex.push(ch.ex ?? null);
    }
    this.rc = -1;
  }
}

/** The most frequent of 64 sampled values of a chunk and the share of the samples holding it. */
interface Mode {
  value: number;
  share: number;
}

/** Slots between samples: a prime, so that a value repeating with a short period is still sampled. */
function sampleStep(n: number): number {
  return n >= 64 * 1021 ? 1021 : Math.max(1, Math.floor(n / 64));
}

/** The common value of a chunk (NaN left out if `numbers`), found on 64 sampled slots instead of a pass. */
function sampledMode(raw: Float64Array, n: number, numbers: boolean): Mode {
  const step = sampleStep(n);
  const s = SAMPLES;
  let m = 0;
  for (let j = 0; j < n && m < s.length; j += step) s[m++] = raw[j];
  let value = numbers ? 0 : s[0];
  let hits = 0;
  for (let a = 0; a < m; a++) {
    const x = s[a];
    if (numbers && x !== x) continue;
    let h = 0;
    for (let b = 0; b < m; b++) if (same(s[b], x)) h++;
    if (h > hits) {
      hits = h;
      value = x;
    }
  }
  return { value, share: hits / m };
}
const SAMPLES = new Float64Array(65);

/** The page multiples a page-number chunk codes from lo, and how many other values it keeps in `ex`. */
interface PageRange {
  lo: number;
  hi: number;
  width: 2 | 4;
  /** Values kept in ex (the common value once, then each other exception). */
  ex: number;
  common: number;
  hasCommon: boolean;
}

// Half the span of page numbers a P32 chunk can code around its centre, less room for the exception codes.
const HALF_WINDOW = (2 ** 31 - CHUNK) * PAGE;

/**
 * The page-number form's range: page multiples within 2^31 pages of the median of the sampled ones
 * (the common value aside, which may be 0 among addresses), when at most one value in 16 besides NaN
 * and the common value falls outside it; null otherwise.
 */
function pageRange(raw: Float64Array, n: number, common: number): PageRange | null {
  const step = sampleStep(n);
  const sample: number[] = [];
  let samples = 0;
  let odd = 0;
  for (let j = 0; j < n; j += step) {
    const x = raw[j];
    samples++;
    if (x !== x || x === common) continue;
    const q = x * PER_PAGE;
    if (q === Math.floor(q) && x >= -EXACT && x < EXACT) sample.push(x);
    else odd++;
  }
  // At most one value in 16 may be kept beside the codes: time and pfn columns stop here.
  if (sample.length === 0 || odd * 8 > samples) return null;
  sample.sort((a, b) => a - b);
  const mid = sample[sample.length >>> 1];
  const from = Math.max(-EXACT, mid - HALF_WINDOW);
  const to = Math.min(EXACT - 1, mid + HALF_WINDOW);
  let lo = Infinity;
  let hi = -Infinity;
  let k = 0;
  let hasCommon = false;
  const most = n >>> 4;
  for (let j = 0; j < n; j++) {
    const x = raw[j];
    if (x !== x) continue;
    const q = x * PER_PAGE;
    if (q === Math.floor(q) && x >= from && x <= to) {
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    } else if (x === common) hasCommon = true;
    else if (++k > most) return null;
  }
  const ex = k + (hasCommon ? 1 : 0);
  const pages = (hi - lo) * PER_PAGE;
  if (pages < NAN16 - ex) return { lo, hi, width: 2, ex, common, hasCommon };
  if (pages < NAN32 - ex) return { lo, hi, width: 4, ex, common, hasCommon };
  return null;
}

/** Fill `a` with the page-number codes of raw[0, n) and `vals` with the values kept beside them. */
function pageCodes<A extends Uint16Array | Uint32Array>(raw: Float64Array, n: number, r: PageRange, a: A, nan: number, vals: Float64Array): void {
  const { lo, hi, common, hasCommon } = r;
  const t = nan - r.ex;
  let m = 0;
  if (hasCommon) vals[m++] = common;
  for (let j = 0; j < n; j++) {
    const x = raw[j];
    if (x !== x) {
      a[j] = nan;
      continue;
    }
    const q = x * PER_PAGE;
    if (q === Math.floor(q) && x >= lo && x <= hi) a[j] = (x - lo) * PER_PAGE;
    else if (hasCommon && x === common) a[j] = t;
    else {
      a[j] = t + m;
      vals[m++] = x;
    }
  }
}

/**
 * The Split layout of codes a[0, n) when they have at most 256 distinct high halves (a fresh array), else
 * null, found as soon as a 257th appears.
 */
function splitCodes(a: Uint32Array, n: number): Uint8Array | null {
  const out = SCRATCH_SPLIT;
  const low = new Uint16Array(out.buffer, 0, CHUNK);
  const high = new Uint32Array(out.buffer, SPLIT_GROUPS, 256);
  const codes = out.subarray(SPLIT_CODES);
  const index = HIGH_INDEX;
  let k = 0;
  let last = -1;
  let code = 0;
  let fits = true;
  for (let j = 0; j < n; j++) {
    const x = a[j];
    const h = x >>> 16;
    if (h !== last) {
      code = index[h];
      if (code < 0) {
        if (k === 256) {
          fits = false;
          break;
        }
        code = index[h] = k;
        high[k++] = h * 65536;
      }
      last = h;
    }
    low[j] = x;
    codes[j] = code;
  }
  for (let m = 0; m < k; m++) index[high[m] / 65536] = -1;
  if (!fits) return null;
  // Slots past n (a partial last chunk, never read) hold zeros, as in a fresh array.
  if (n < CHUNK) {
    low.fill(0, n);
    codes.fill(0, n);
  }
  high.fill(0, k);
  return out.slice();
}

/** Distinct values a Dict8 chunk may hold: few enough for a linear search per slot. */
const DICT_MAX = 16;

/** Index of x (NaN equal to NaN) in vals[0, k), or -1. */
function dictCode(vals: Float64Array, k: number, x: number): number {
  for (let m = 0; m < k; m++) if (same(vals[m], x)) return m;
  return -1;
}

/** Whether raw[j] is lo + j for every j < n. */
function affine(raw: Float64Array, n: number, lo: number): boolean {
  for (let j = 0; j < n; j++) if (raw[j] !== lo + j) return false;
  return true;
}

/**
 * Indices 0..n-1 (given in `idx`) ordered by t, ties in index order: an LSD radix sort over the bits of
 * each double made order-preserving, 16 bits a pass. A comparator sort of 750 k page_owner records took
 * 240 ms (and grew faster than n: 2.5 M records spent most of an 18 s replay sorting and reading out of
 * order); this is four linear passes.
 */
export function argsortStable(t: Float64Array, idx: Uint32Array): Uint32Array {
  const n = idx.length;
  if (n < 2) return idx;
  const bits = new Uint32Array(t.buffer, t.byteOffset, n * 2);
  // Little-endian halves: bits[2i] low, bits[2i+1] high. Flip so unsigned order is numeric order.
  const lo = new Uint32Array(n);
  const hi = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let h = bits[2 * i + 1];
    let l = bits[2 * i];
    if (h & 0x80000000) {
      h = ~h >>> 0;
      l = ~l >>> 0;
    } else h = (h | 0x80000000) >>> 0;
    hi[i] = h;
    lo[i] = l;
  }
  let src: Uint32Array = idx;
  let dst: Uint32Array = new Uint32Array(n);
  const count = new Uint32Array(65537);
  for (let pass = 0; pass < 4; pass++) {
    if (!radixPass(pass < 2 ? lo : hi, (pass & 1) * 16, src, dst, count)) continue;
    const tmp = src;
    src = dst;
    dst = tmp;
  }
  return src;
}

/**
 * One stable pass of an LSD radix sort: the indices in src, ordered by the 16-bit digit of key[i] at
 * `shift`, into dst (`count`: 65537 slots of scratch). False, and dst untouched, when every key shares
 * the digit: the pass would not move anything.
 */
function radixPass(key: Uint32Array, shift: number, src: Uint32Array, dst: Uint32Array, count: Uint32Array): boolean {
  const n = src.length;
  count.fill(0);
  for (let k = 0; k < n; k++) count[((key[src[k]] >>> shift) & 0xffff) + 1]++;
  if (count[((key[src[0]] >>> shift) & 0xffff) + 1] === n) return false;
  for (let d = 0; d < 65536; d++) count[d + 1] += count[d];
  for (let k = 0; k < n; k++) {
    const i = src[k];
    dst[count[(key[i] >>> shift) & 0xffff]++] = i;
  }
  return true;
}

/** Indices 0..n-1 ordered by key, ties in index order: argsortStable's radix passes over one 32-bit key. */
export function argsortStable32(key: Uint32Array, spare?: ArrayBuffer[]): Uint32Array {
  const n = key.length;
  let src = new Uint32Array(n);
  for (let i = 0; i < n; i++) src[i] = i;
  if (n < 2) return src;
  let dst = new Uint32Array(n);
  const count = new Uint32Array(65537);
  for (let shift = 0; shift < 32; shift += 16) {
    if (!radixPass(key, shift, src, dst, count)) continue;
    const tmp = src;
    src = dst;
    dst = tmp;
  }
  // The other array of the passes is no longer needed: given to the caller to use for something else.
  spare?.push(dst.buffer as ArrayBuffer);
  return src;
}

/** The names of an EventStore's numeric columns, in a fixed order (the index cache relies on it). */
export const COMPACT_COLUMNS = ['file', 'node', 'line', 'owner', 'pid', 'ref', 'time', 'pfn', 'arg', 'arg2'] as const;
/** One of COMPACT_COLUMNS. */
export type CompactColumnName = (typeof COMPACT_COLUMNS)[number];

/** An EventStore's columns as plain data: what the index cache writes and workers transfer. */
export interface EventStoreData {
  length: number;
  sorted: boolean;
  lastTime: number;
  kind: Uint8Array[];
  order: Uint8Array[];
  columns: Record<CompactColumnName, CompactChunk[]>;
}

/** One chunk of every numeric column but file, decoded (EventStore.read in order). */
interface DecodedChunk {
  node: Float64Array;
  line: Float64Array;
  owner: Float64Array;
  pid: Float64Array;
  ref: Float64Array;
  time: Float64Array;
  pfn: Float64Array;
  arg: Float64Array;
  arg2: Float64Array;
}

/**
 * All events of a trace, one column per field, each chunk in the narrowest form its values allow
 * (CompactColumn). Event i is the i-th pushed; the analysis visits them in time order through `order()`.
 */
export class EventStore {
  length = 0;
  readonly kind = new ByteColumn();
  readonly orderCol = new ByteColumn();
  readonly file = new CompactColumn();
  readonly node = new CompactColumn();
  readonly line = new CompactColumn(true);
  readonly owner = new CompactColumn();
  /** A page_owner record's pid is its owner's: Keyed by the owner column. */
  readonly pid = new CompactColumn(false, this.owner);
  readonly ref = new CompactColumn();
  readonly time = new CompactColumn();
  readonly pfn = new CompactColumn();
  readonly arg = new CompactColumn();
  readonly arg2 = new CompactColumn();
  /** True while every event was pushed with a time not smaller than the one before. */
  sorted = true;
  private lastTime = -Infinity;
  // The chunks being filled, held directly so push() does plain typed-array stores.
  private cKind!: Uint8Array;
  private cOrder!: Uint8Array;
  private cFile!: Float64Array;
  private cNode!: Float64Array;
  private cLine!: Float64Array;
  private cOwner!: Float64Array;
  private cPid!: Float64Array;
  private cRef!: Float64Array;
  private cTime!: Float64Array;
  private cPfn!: Float64Array;
  private cArg!: Float64Array;
  private cArg2!: Float64Array;
  /** The last chunk is packed (by exportData or fromData) and must be unpacked before a push into it. */
  private packedTail = false;
  // read(): the chunk last read, the event expected next when reading in order, and that chunk's columns
  // decoded (null when reads are not in order). Any push or append drops the decoded chunk.
  private readChunk = -1;
  private nextRead = 0;
  private decoded: DecodedChunk | null = null;
  private scratch: DecodedChunk | null = null;

  push(e: EventRecord, file: number): number {
    const i = this.length;
    this.readChunk = -1;
    const j = i & MASK;
    if (j === 0) this.grow();
    else if (this.packedTail) this.resumeTail();
    this.cKind[j] = e.kind;
    this.cOrder[j] = e.order;
    this.cFile[j] = file;
    this.cNode[j] = e.node;
    this.cLine[j] = e.line;
    this.cOwner[j] = e.owner;
    this.cPid[j] = e.pid;
    this.cRef[j] = e.ref;
    this.cTime[j] = e.time;
    this.cPfn[j] = e.pfn;
    this.cArg[j] = e.arg;
    this.cArg2[j] = e.arg2;
    const t = e.time;
    if (t < this.lastTime) this.sorted = false;
    else if (t === t) this.lastTime = t;
    this.length = i + 1;
    return i;
  }

  private grow(): void {
    this.packedTail = false;
    this.cKind = this.kind.grow();
    this.cOrder = this.orderCol.grow();
    this.cFile = this.file.begin();
    this.cNode = this.node.begin();
    this.cLine = this.line.begin();
    this.cOwner = this.owner.begin();
    this.cPid = this.pid.begin();
    this.cRef = this.ref.begin();
    this.cTime = this.time.begin();
    this.cPfn = this.pfn.begin();
    this.cArg = this.arg.begin();
    this.cArg2 = this.arg2.begin();
  }

  private resumeTail(): void {
    this.packedTail = false;
    const n = this.length & MASK;
    this.cKind = this.kind.chunks[this.kind.chunks.length - 1];
    this.cOrder = this.orderCol.chunks[this.orderCol.chunks.length - 1];
    this.cFile = this.file.resume(n);
    this.cNode = this.node.resume(n);
    this.cLine = this.line.resume(n);
    this.cOwner = this.owner.resume(n);
    this.cPid = this.pid.resume(n);
    this.cRef = this.ref.resume(n);
    this.cTime = this.time.resume(n);
    this.cPfn = this.pfn.resume(n);
    this.cArg = this.arg.resume(n);
    this.cArg2 = this.arg2.resume(n);
  }

  /** Pack the partly filled last chunk of every column (before the columns are exported). */
  private packTail(): void {
    const n = this.length & MASK;
    if (n === 0 || this.packedTail) return;
    for (const name of COMPACT_COLUMNS) {
      this[name].setFilled(n);
      this[name].finish();
    }
    this.packedTail = true;
  }

  /**
   * Pack the partly filled last chunk and give up each column's raw array kept for the next chunk, their
   * buffers put in `spare` for the caller to fill with something else (see order()): once the parse is
   * over, a raw last chunk and a kept array are 2 x 0.5 MB a column. A later push unpacks the last chunk
   * again. On the 2.5 M-record page_owner dump, 10.5 MB less alive during the replay.
   */
  compact(spare?: ArrayBuffer[]): void {
    if ((this.length & MASK) !== 0) this.packTail();
    else if (this.length > 0)
      // A full last chunk is still raw (a chunk is packed when the next one begins).
      for (const name of COMPACT_COLUMNS) {
        this[name].setFilled(CHUNK);
        this[name].finish();
      }
    for (const name of COMPACT_COLUMNS) {
      const raw = this[name].takeSpare();
      if (raw !== null) spare?.push(raw.buffer as ArrayBuffer);
    }
  }

  /**
   * Append every event of `src` as if pushed one by one, with its lines shifted by `lineOffset`, its file
   * set to `file` and its owner ids (and a fault's agent in ref) mapped through `ownerMap`. Column by
   * column, each source chunk decoded once: the two-thread parse merges a million events this way in a
   * fraction of what read + push took. The 2.5 M events of the 1 GB page_owner dump: 0.52 s with a `get`
   * per value, 0.32 s decoded a chunk at a time (second call in a process, most of the rest is packing).
   */
  appendStore(src: EventStore, file: number, lineOffset: number, ownerMap: Int32Array): void {
    const n = src.length;
    if (n === 0) return;
    this.readChunk = -1;
    const at = this.length;
    if ((at & MASK) !== 0 && this.packedTail) this.resumeTail();
    // Where each source chunk's first value goes in its destination chunk (the same for every chunk).
    const j0 = at & MASK;
    for (let c = 0; c * CHUNK < n; c++) {
      const m = Math.min(CHUNK, n - c * CHUNK);
      const p = Math.min(m, CHUNK - j0);
      if (j0 === 0) {
        this.cKind = this.kind.grow();
        this.cOrder = this.orderCol.grow();
      }
      this.cKind.set(src.kind.chunks[c].subarray(0, p), j0);
      this.cOrder.set(src.orderCol.chunks[c].subarray(0, p), j0);
      if (p < m) {
        this.cKind = this.kind.grow();
        this.cOrder = this.orderCol.grow();
        this.cKind.set(src.kind.chunks[c].subarray(p, m), 0);
        this.cOrder.set(src.orderCol.chunks[c].subarray(p, m), 0);
      }
    }
    // Each loop over a chunk's values is a function of its own: inline here, the first call took 190-535
    // ms on 4 chunks of kmem-1 against 27-33 ms warm (deoptimized from one column's branch to the next
    // and run unoptimized in between); the time order is judged in the time column's pass.
    const buf = new Float64Array(CHUNK);
    for (const name of COMPACT_COLUMNS) {
      const d = this[name];
      const s = src[name];
      let raw = j0 !== 0 ? d.current() : new Float64Array(0);
      for (let c = 0; c * CHUNK < n; c++) {
        const m = Math.min(CHUNK, n - c * CHUNK);
        if (name === 'file') buf.fill(file, 0, m);
        else s.decode(c, m, buf);
        if (name === 'line') addTo(buf, m, lineOffset);
        else if (name === 'owner') mapAll(buf, m, ownerMap);
        else if (name === 'ref') mapFaults(buf, src.kind.chunks[c], m, ownerMap);
        else if (name === 'time') this.noteTimes(buf, m);
        const p = Math.min(m, CHUNK - j0);
        if (j0 === 0) raw = d.begin();
        raw.set(buf.subarray(0, p), j0);
        if (p < m) {
          raw = d.begin();
          raw.set(buf.subarray(p, m), 0);
        }
      }
    }
    this.length = at + n;
    this.packedTail = false;
    this.cFile = this.file.current();
    this.cNode = this.node.current();
    this.cLine = this.line.current();
    this.cOwner = this.owner.current();
    this.cPid = this.pid.current();
    this.cRef = this.ref.current();
    this.cTime = this.time.current();
    this.cPfn = this.pfn.current();
    this.cArg = this.arg.current();
    this.cArg2 = this.arg2.current();
  }

  /** Judge the time order of times[0, m) appended after the events so far, as push() would. */
  private noteTimes(times: Float64Array, m: number): void {
    let last = this.lastTime;
    let sorted = this.sorted;
    for (let k = 0; k < m; k++) {
      const t = times[k];
      if (t < last) sorted = false;
      else if (t === t) last = t;
    }
    this.lastTime = last;
    this.sorted = sorted;
  }

  /**
   * Hand over the full chunks (at most `max` of them, the first) as plain data (the last one packed now if
   * it is full and taken) and keep the rest: a parse worker sends its events off a chunk at a time, with no
   * copy on either side (`adoptData`).
   */
  takeFullChunks(max = Infinity): EventStoreData {
    const all = this.length >>> CHUNK_BITS;
    // At most `max` chunks from the front (a part of bounded size).
    const full = Math.min(all, max);
    if (full === all && (this.length & MASK) === 0 && full > 0 && !this.packedTail) {
      // The last chunk is full but still raw (a chunk is packed when the next one begins).
      for (const name of COMPACT_COLUMNS) {
        this[name].setFilled(CHUNK);
        this[name].finish();
      }
    }
    const columns = {} as Record<CompactColumnName, CompactChunk[]>;
    for (const name of COMPACT_COLUMNS) columns[name] = this[name].takeFront(full);
    const data: EventStoreData = {
      length: full * CHUNK,
      sorted: this.sorted,
      lastTime: this.lastTime,
      kind: this.kind.chunks.splice(0, full),
      order: this.orderCol.chunks.splice(0, full),
      columns,
    };
    this.length -= full * CHUNK;
    return data;
  }

  /**
   * Append the events of `d` (from `takeFullChunks` or `exportData` of a store whose file, line numbers
   * and owner ids are already this store's) by taking its chunks as they are. Only when this store ends
   * on a chunk boundary; returns false (and appends nothing) when it does not.
   */
  adoptData(d: EventStoreData): boolean {
    if ((this.length & MASK) !== 0) return false;
    if (d.length === 0) return true;
    // Time order exactly as push() would have judged it, value by value (the data's own flags cover
    // events the sender kept back).
    const times = new CompactColumn();
    times.importChunks(d.columns.time);
    // A chunk at a time through decode: get() per value was 0.3 s of the main thread at 10 M events.
    const buf = new Float64Array(CHUNK);
    for (let c = 0; c * CHUNK < d.length; c++) {
      const n = Math.min(CHUNK, d.length - c * CHUNK);
      times.decode(c, n, buf);
      this.noteTimes(buf, n);
    }
    this.kind.chunks.push(...d.kind);
    this.orderCol.chunks.push(...d.order);
    for (const name of COMPACT_COLUMNS) this[name].importChunks(d.columns[name]);
    this.length += d.length;
    this.packedTail = (this.length & MASK) !== 0;
    this.readChunk = -1;
    return true;
  }

  /** Read event i back into a scratch record. */
  read(i: number, out: EventRecord): EventRecord {
    const c = i >>> CHUNK_BITS;
    const j = i & MASK;
    if (c !== this.readChunk) this.readEnter(c, i);
    this.nextRead = i + 1;
    out.kind = this.kind.chunks[c][j] as EventKind;
    out.order = this.orderCol.chunks[c][j];
    const d = this.decoded;
    if (d !== null) {
      out.node = d.node[j];
      out.line = d.line[j];
      out.owner = d.owner[j];
      out.pid = d.pid[j];
      out.ref = d.ref[j];
      out.time = d.time[j];
      out.pfn = d.pfn[j];
      out.arg = d.arg[j];
      out.arg2 = d.arg2[j];
      return out;
    }
    out.node = this.node.at(c, j);
    out.line = this.line.at(c, j);
    out.owner = this.owner.at(c, j);
    out.pid = this.pid.at(c, j);
    out.ref = this.ref.at(c, j);
    out.time = this.time.at(c, j);
    out.pfn = this.pfn.at(c, j);
    out.arg = this.arg.at(c, j);
    out.arg2 = this.arg2.at(c, j);
    return out;
  }

  /**
   * read() entering chunk c at event i: reads that go on in order from the end of the chunk before (the
   * replay of a trace in time order) decode the chunk's columns once into scratch arrays and read those;
   * others read through each column's cursor. 1 M native events read in order: 62 ms through the cursors,
   * 35 ms decoded (best of 5 CPU).
   */
  private readEnter(c: number, i: number): void {
    this.readChunk = c;
    if ((i & MASK) !== 0 || i !== this.nextRead) {
      this.decoded = null;
      return;
    }
    const n = Math.min(CHUNK, this.length - c * CHUNK);
    const d = (this.scratch ??= {
      node: new Float64Array(CHUNK),
      line: new Float64Array(CHUNK),
      owner: new Float64Array(CHUNK),
      pid: new Float64Array(CHUNK),
      ref: new Float64Array(CHUNK),
      time: new Float64Array(CHUNK),
      pfn: new Float64Array(CHUNK),
      arg: new Float64Array(CHUNK),
      arg2: new Float64Array(CHUNK),
    });
    this.node.decode(c, n, d.node);
    this.line.decode(c, n, d.line);
    this.owner.decode(c, n, d.owner);
    this.pid.decode(c, n, d.pid);
    this.ref.decode(c, n, d.ref);
    this.time.decode(c, n, d.time);
    this.pfn.decode(c, n, d.pfn);
    this.arg.decode(c, n, d.arg);
    this.arg2.decode(c, n, d.arg2);
    this.decoded = d;
  }

  /**
   * Event indices in time order, stable (ties keep file order, then line order). Events without a
   * time keep the time of the event before them in the same file. Null when pushes were already in order.
   * Given `spare`, the sort puts there the buffers of its scratch arrays, which nothing holds any more,
   * for the caller to fill with something else: a typed array's memory goes back only when the garbage
   * collector finds its wrapper dead, and a replay allocates too little on the heap to make it look.
   */
  order(spare?: ArrayBuffer[]): Uint32Array | null {
    if (this.sorted) return null;
    return this.orderByWholeTimes(spare) ?? this.orderByTimes();
  }

  /**
   * order() a slice at a time, for a reader that goes through it once (the replay): the same indices in
   * the same order, but never more than one slice of them at hand instead of 4 bytes an event (10 MB for
   * the 2.5 M records of the bench dump, alive beside the replay's page table). Each slice is the events
   * whose 32-bit key (orderByWholeTimes) falls in a range of high halves holding about `most` events,
   * collected by a pass over the times and sorted on their own. Null when order() is null, when the times
   * do not fit one 32-bit key, or when one range would hold more than half the events (order() then).
   */
  orderSlices(most: number): OrderSlices | null {
    if (this.sorted) return null;
    const lo = this.wholeTimesFrom();
    if (lo === null) return null;
    const count = new Uint32Array(65536);
    const keys = new KeyScan(this, lo);
    for (let c = 0; c < keys.chunks; c++) {
      const m = keys.chunk(c);
      const k = keys.keys;
      for (let j = 0; j < m; j++) count[k[j] >>> 16]++;
    }
    // Ranges of high halves of about `most` events each (one high half of more is a range of its own).
    const ends: number[] = [];
    let largest = 0;
    let sum = 0;
    for (let h = 0; h < 65536; h++) {
      if (sum > 0 && sum + count[h] > most) {
        ends.push(h);
        largest = Math.max(largest, sum);
        sum = 0;
      }
      sum += count[h];
    }
    ends.push(65536);
    largest = Math.max(largest, sum);
    if (largest * 2 > this.length) return null;
    return new OrderSlices(keys, ends, largest);
  }

  /**
   * The least whole time when every time is whole and they span less than 2^32 - 1 (keys 1 to span + 1;
   * 0 for events before the first time of their file), null otherwise (0 when no event has a time).
   */
  private wholeTimesFrom(): number | null {
    const n = this.length;
    const buf = new Float64Array(CHUNK);
    let lo = Infinity;
    let hi = -Infinity;
    for (let i0 = 0; i0 < n; i0 += CHUNK) {
      const m = Math.min(CHUNK, n - i0);
      this.time.decode(i0 >>> CHUNK_BITS, m, buf);
      for (let k = 0; k < m; k++) {
        const t = buf[k];
        if (t !== t) continue;
        if (t < lo) lo = t;
        if (t > hi) hi = t;
        if (Math.floor(t) !== t) return null;
      }
    }
    if (lo > hi) lo = hi = 0;
    return hi - lo <= NAN32 - 1 ? lo : null;
  }

  /**
   * order() when every time is a whole number and they span less than 2^32 - 1 (a page_owner dump's ns
   * since boot up to 4 s, or a capture of µs): one 32-bit key an event and two radix passes instead of
   * a float64, two 32-bit halves and four passes. 2.5 M page_owner records: the sort's arrays 24 to 12
   * bytes an event. Null when the times do not fit.
   */
  private orderByWholeTimes(spare?: ArrayBuffer[]): Uint32Array | null {
    // An event without a time keeps the time before it in its file; the first of a file without one sorts
    // before every time (key 0). Times a chunk at a time (a get per value through the cursor was 170 ms
    // of 270 for 2.5 M events).
    const lo = this.wholeTimesFrom();
    if (lo === null) return null;
    const key = new Uint32Array(this.length);
    const scan = new KeyScan(this, lo);
    for (let c = 0; c < scan.chunks; c++) key.set(scan.keys.subarray(0, scan.chunk(c)), c * CHUNK);
    const order = argsortStable32(key, spare);
    spare?.push(key.buffer as ArrayBuffer);
    return order;
  }

  private orderByTimes(): Uint32Array {
    const n = this.length;
    const idx = new Uint32Array(n);
    const t = new Float64Array(n);
    let last = -Infinity;
    let lastFile = -1;
    for (let i = 0; i < n; i++) {
      idx[i] = i;
      const f = this.file.get(i);
      if (f !== lastFile) {
        last = -Infinity;
        lastFile = f;
      }
      const ti = this.time.get(i);
      if (ti === ti) last = ti;
      t[i] = last;
    }
    return argsortStable(t, idx);
  }

  bytes(): number {
    let n = this.kind.bytes() + this.orderCol.bytes();
    for (const name of COMPACT_COLUMNS) n += this[name].bytes();
    return n;
  }

  /** The columns as plain data; the typed arrays are shared, not copied. */
  exportData(): EventStoreData {
    this.packTail();
    const columns = {} as Record<CompactColumnName, CompactChunk[]>;
    for (const name of COMPACT_COLUMNS) columns[name] = this[name].exportChunks();
    return { length: this.length, sorted: this.sorted, lastTime: this.lastTime, kind: this.kind.chunks, order: this.orderCol.chunks, columns };
  }

  /** A store over columns from `exportData` (read back from the index cache or a worker). */
  static fromData(d: EventStoreData): EventStore {
    const s = new EventStore();
    s.length = d.length;
    s.sorted = d.sorted;
    s.lastTime = d.lastTime;
    s.kind.chunks.push(...d.kind);
    s.orderCol.chunks.push(...d.order);
    for (const name of COMPACT_COLUMNS) s[name].importChunks(d.columns[name]);
    s.packedTail = (s.length & MASK) !== 0;
    return s;
  }
}

/**
 * The 32-bit time keys of a store's events a chunk at a time (orderByWholeTimes, orderSlices): time - lo + 1,
 * an event without a time taking the key of the event before it in its file (0 for the first of a file).
 */
class KeyScan {
  readonly keys = new Uint32Array(CHUNK);
  readonly chunks: number;
  private readonly times = new Float64Array(CHUNK);
  private readonly files = new Float64Array(CHUNK);
  private last = 0;
  private lastFile = -1;

  constructor(
    private readonly store: EventStore,
    private readonly lo: number,
  ) {
    this.chunks = Math.ceil(store.length / CHUNK);
  }

  /** The keys of chunk c into `keys` (chunks in order from 0: the carry goes from one to the next); its length. */
  chunk(c: number): number {
    if (c === 0) {
      this.last = 0;
      this.lastFile = -1;
    }
    const m = Math.min(CHUNK, this.store.length - c * CHUNK);
    const t = this.times;
    const f = this.files;
    const k = this.keys;
    this.store.time.decode(c, m, t);
    this.store.file.decode(c, m, f);
    const lo = this.lo;
    let last = this.last;
    let lastFile = this.lastFile;
    for (let j = 0; j < m; j++) {
      if (f[j] !== lastFile) {
        last = 0;
        lastFile = f[j];
      }
      const x = t[j];
      if (x === x) last = x - lo + 1;
      k[j] = last;
    }
    this.last = last;
    this.lastFile = lastFile;
    return m;
  }
}

/** EventStore.order() a slice at a time (EventStore.orderSlices). */
export class OrderSlices {
  private next = 0;
  private readonly key: Uint32Array;
  private readonly idx: Uint32Array;
  private readonly key2: Uint32Array;
  private readonly idx2: Uint32Array;
  private readonly count = new Uint32Array(65537);

  /** `ends`: the end (exclusive) of each slice's range of high halves; `largest`: the most events a slice holds. */
  constructor(
    private readonly scan: KeyScan,
    private readonly ends: readonly number[],
    largest: number,
  ) {
    this.key = new Uint32Array(largest);
    this.idx = new Uint32Array(largest);
    this.key2 = new Uint32Array(largest);
    this.idx2 = new Uint32Array(largest);
  }

  /** The next slice of the order (a view, overwritten by the next call), null after the last. */
  take(): Uint32Array | null {
    const s = this.next;
    if (s >= this.ends.length) return null;
    this.next = s + 1;
    const h0 = s === 0 ? 0 : this.ends[s - 1];
    const h1 = this.ends[s];
    const key = this.key;
    const idx = this.idx;
    // The slice's events in store order (so ties stay in it), with their keys.
    let m = 0;
    const scan = this.scan;
    for (let c = 0; c < scan.chunks; c++) {
      const n = scan.chunk(c);
      const k = scan.keys;
      const i0 = c * CHUNK;
      for (let j = 0; j < n; j++) {
        const h = k[j] >>> 16;
        if (h >= h0 && h < h1) {
          key[m] = k[j];
          idx[m++] = i0 + j;
        }
      }
    }
    // Two stable counting passes: by the low half into key2/idx2, then by the high half back.
    slicePass(key, idx, m, 0, 0, this.key2, this.idx2, this.count);
    slicePass(this.key2, this.idx2, m, 16, h0, key, idx, this.count);
    return idx.subarray(0, m);
  }
}

/**
 * One stable counting pass over pairs (key, idx)[0, m), by the digit (key >>> shift) - base (below 65536),
 * into (toKey, toIdx).
 */
function slicePass(key: Uint32Array, idx: Uint32Array, m: number, shift: number, base: number, toKey: Uint32Array, toIdx: Uint32Array, count: Uint32Array): void {
  count.fill(0);
  for (let k = 0; k < m; k++) count[(((key[k] >>> shift) & 0xffff) - base) + 1]++;
  for (let d = 0; d < 65536; d++) count[d + 1] += count[d];
  for (let k = 0; k < m; k++) {
    const at = count[((key[k] >>> shift) & 0xffff) - base]++;
    toKey[at] = key[k];
    toIdx[at] = idx[k];
  }
}
