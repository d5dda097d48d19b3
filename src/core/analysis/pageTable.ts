/** Page state: never seen in the trace. */
export const UNKNOWN = 0;
/** Page state: allocated (owned) in the trace. */
export const LIVE = 1;
/** Page state: freed in the trace. */
export const FREE = 2;

const BITS = 12;
const SIZE = 1 << BITS;
const MASK = SIZE - 1;
/** 32-bit words of a chunk's page bitmap. */
const WORDS = SIZE >>> 5;
/** Chunks of pfns below 2^28 (1 TiB of 4 KiB pages) are found by index, the rest through a Map. */
const DENSE = 1 << 16;

/** Owner ids a page slot holds: 30 bits, the two above them are the page's state. */
const OWNER_BITS = 30;
const OWNER_MASK = (1 << OWNER_BITS) - 1;

/**
 * Chunks that hold at most this many blocks take the held form (PageTable.reserve): its 9 bytes a block plus
 * 1,536 bytes of bitmaps and counts pass the dense form's 36,864 bytes at 3,925 blocks.
 */
const HELD_MAX = 3924;

/**
 * The state of 4096 pages, two int32 per page side by side: owner (0 none) | state << 30, and the index of
 * the event that gave the page its current owner or freed it (-1 none); beside them one byte a page, the
 * order of the allocation when the page is its head page (255 otherwise). The replay visits pages at
 * random (every event of an ftrace capture touches another one), and a line profile of the replay of
 * bench kmem-0.1 put most of alloc and free at the first read of a page's state: as four arrays a visit
 * cost up to four cache misses, in one slot one. Nine bytes a page instead of twelve (state and head
 * order in a third int32): the 2.5 M-record page_owner dump sees 5.9 M pfns, 71 to 53 MB.
 *
 * This class is the dense form, a page's fields at its slot. The held form (HeldChunk, made by
 * PageTable.reserve) is a subclass, so that a replay that never meets one (every trace but a page_owner
 * dump) runs the dense accessors alone, with no test of the form per access: with the test in the dense
 * accessors the replay of ftrace kmem-1 took about 0.1 s more (of 1.2 s).
 */
export class PageChunk {
  slots: Int32Array;
  heads: Uint8Array;
  /** In PageTable.all(): a reserved chunk is listed when the replay first asks for it. */
  listed = true;
  /**
   * First and last snapshot reference of each page (-1 none), as nodes of a list the replay keeps; null
   * until a page of the chunk is referenced, so traces without snapshots pay nothing for them.
   */
  refHead: Int32Array | null = null;
  refTail: Int32Array | null = null;
  /**
   * A chunk of `pages` slots (the dense form: one a page), every one as a page never seen; in `store`'s
   * memory when given (its contents are overwritten).
   */
  constructor(
    readonly base: number,
    pages = SIZE,
    store?: SpareMemory,
  ) {
    if (store === undefined) {
      this.slots = new Int32Array(pages * 2);
      this.heads = new Uint8Array(pages);
    } else {
      this.slots = store.int32(pages * 2);
      this.heads = store.uint8(pages);
      this.slots.fill(0);
    }
    this.heads.fill(255);
    const a = this.slots;
    for (let o = 1; o < a.length; o += 2) a[o] = -1;
  }

  /** Pages this chunk keeps slots for: 4096 dense, the marked ones held. */
  get capacity(): number {
    return SIZE;
  }

  /** Where page slot s's fields are (slots at twice it, heads at it): s itself in the dense form. */
  at(s: number): number {
    return s;
  }

  /** at(s) for a write (a held chunk may turn dense first). */
  slotFor(s: number): number {
    return s;
  }

  /** Owner of page slot s (0 none). */
  owner(s: number): number {
    return this.slots[s * 2] & OWNER_MASK;
  }
  /** UNKNOWN, LIVE or FREE. */
  state(s: number): number {
    return this.slots[s * 2] >>> OWNER_BITS;
  }
  /** Index of the event that gave the page its current owner (or freed it), -1 none. */
  since(s: number): number {
    return this.slots[s * 2 + 1];
  }
  /** Order of the allocation when this page is its head page, 255 otherwise. */
  headOrder(s: number): number {
    return this.heads[s];
  }
  /** Set owner, state and since of page slot s (the head order stays). */
  set(s: number, owner: number, state: number, since: number): void {
    this.setAt(s, owner, state, since);
  }
  setHeadOrder(s: number, order: number): void {
    this.heads[s] = order;
  }

  // The same fields by where they are (at(s), or slotFor(s) before a write): a page visited for several
  // fields finds its place once.
  ownerAt(k: number): number {
    return this.slots[k * 2] & OWNER_MASK;
  }
  stateAt(k: number): number {
    return this.slots[k * 2] >>> OWNER_BITS;
  }
  sinceAt(k: number): number {
    return this.slots[k * 2 + 1];
  }
  /** set() at k, from slotFor(s). */
  setAt(k: number, owner: number, state: number, since: number): void {
    // An owner table of 2^30 entries would not fit in memory: a larger id is a bug, not a trace.
    if (owner > OWNER_MASK) throw new RangeError(`owner id ${owner} above ${OWNER_MASK}: the page table holds 30 bits`);
    const o = k * 2;
    this.slots[o] = owner | (state << OWNER_BITS);
    this.slots[o + 1] = since;
  }
  /** setHeadOrder() at k, from slotFor(s). */
  setHeadAt(k: number, order: number): void {
    this.heads[k] = order;
  }

  /**
   * The slot of pages [s, s + n) when they are one block of the held form (their fields in one slot: the
   * pages of a dump's record), for a write of all of them at once; -1 otherwise (always in the dense form).
   */
  blockSlot(_s: number, _n: number): number {
    return -1;
  }

  /** The chunk as one array per field (copies), for storage. */
  columns(): PageColumns {
    const c: PageColumns = { owner: new Int32Array(SIZE), state: new Uint8Array(SIZE), since: new Int32Array(SIZE), headOrder: new Uint8Array(SIZE) };
    const a = this.slots;
    for (let s = 0; s < SIZE; s++) {
      const k = this.at(s);
      const o = k * 2;
      c.owner[s] = a[o] & OWNER_MASK;
      c.state[s] = a[o] >>> OWNER_BITS;
      c.since[s] = a[o + 1];
      c.headOrder[s] = this.headOrder(s);
    }
    return c;
  }

  /** Take the chunk's state from one array per field (4096 values each), as columns() gives them. */
  load(c: PageColumns): void {
    const a = this.slots;
    for (let s = 0, o = 0; s < SIZE; s++, o += 2) {
      a[o] = c.owner[s] | (c.state[s] << OWNER_BITS);
      a[o + 1] = c.since[s];
    }
    this.heads.set(c.headOrder);
  }
}

/**
 * A chunk in the held form: it keeps slots only for the pages a bitmap marks (the pages a dump's records
 * cover), one slot a block (the pages of one record, which a replay of the dump gives an owner together,
 * `blockSlot`), at the block's rank among the chunk's blocks, and one more slot at the end that stays as a
 * page never seen reads. A page_owner dump lists 58% of the frames its chunks span (2.5 M records, 3.4 M
 * pages in 1445 chunks of 4096): 53 MB dense, 32 MB with a slot a page, 24 MB with a slot a block. A write
 * to one page of a block of several, or to a page the bitmap does not mark, turns the chunk dense
 * (`densify`: the same object, its accessors then take the dense path), so any event of any trace still
 * finds a slot of its own and every page reads as it would in a dense chunk.
 */
export class HeldChunk extends PageChunk {
  /**
   * For each 32 pages three words side by side (a page's lookups touch one cache line): the marked pages
   * (BIT_HELD), the first pages of blocks (BIT_STARTS: a marked page's slot is that of the nearest start
   * at or before it), and the starts in the words before (BIT_RANK); null once dense.
   */
  private bits: Int32Array | null;
  /** The index of the slot every unmarked page reads (the count of blocks). */
  private unseen: number;

  /** A held chunk of the pages and block starts marked in `bits` (PageMarks' layout), which it keeps; its slots in `store` if given. */
  constructor(base: number, bits: Int32Array, store?: SpareMemory) {
    let m = 0;
    for (let o = 0; o < bits.length; o += 3) {
      bits[o + BIT_RANK] = m;
      m += popcount(bits[o + BIT_STARTS]);
    }
    super(base, m + 1, store);
    this.bits = bits;
    this.unseen = m;
  }

  override get capacity(): number {
    return this.bits === null ? SIZE : this.unseen;
  }

  /** Held: the rank of the page's block, or the unseen slot when the page is not marked. */
  override at(s: number): number {
    const b = this.bits;
    if (b === null) return s;
    const o = (s >>> 5) * 3;
    const bit = 1 << (s & 31);
    if ((b[o] & bit) === 0) return this.unseen;
    // Starts up to and including s in its word (bit | bit - 1: the bits at and below s's).
    return b[o + BIT_RANK] + popcount(b[o + BIT_STARTS] & (bit | (bit - 1))) - 1;
  }

  /** at(s) for a write of page s alone: a page without a slot of its own turns the chunk dense first. */
  override slotFor(s: number): number {
    const b = this.bits;
    if (b === null) return s;
    const o = (s >>> 5) * 3;
    const bit = 1 << (s & 31);
    const held = b[o];
    const st = b[o + BIT_STARTS];
    // Marked, a block start, and the block ends with it: the next page is unmarked or starts a block.
    let alone = (held & st & bit) !== 0;
    if (alone && s + 1 < SIZE) {
      const t = s + 1;
      const q = (t >>> 5) * 3;
      const tb = 1 << (t & 31);
      alone = (b[q] & tb) === 0 || (b[q + BIT_STARTS] & tb) !== 0;
    }
    if (!alone) {
      this.densify();
      return s;
    }
    return b[o + BIT_RANK] + popcount(st & (bit | (bit - 1))) - 1;
  }

  override blockSlot(s: number, n: number): number {
    const b = this.bits;
    if (b === null || s + n > SIZE) return -1;
    if (!isSet(b, BIT_STARTS, s)) return -1;
    for (let t = s + 1; t < s + n; t++) if (!isSet(b, BIT_HELD, t) || isSet(b, BIT_STARTS, t)) return -1;
    const t = s + n;
    // A block longer than n pages is not this one.
    if (t < SIZE && isSet(b, BIT_HELD, t) && !isSet(b, BIT_STARTS, t)) return -1;
    return this.at(s);
  }

  /** Turn the chunk dense, keeping every page's fields. */
  private densify(): void {
    const slots = new Int32Array(SIZE * 2);
    const heads = new Uint8Array(SIZE);
    for (let s = 0; s < SIZE; s++) {
      const k = this.at(s);
      slots[s * 2] = this.slots[k * 2];
      slots[s * 2 + 1] = this.slots[k * 2 + 1];
      heads[s] = this.headOrder(s);
    }
    this.slots = slots;
    this.heads = heads;
    this.bits = null;
  }

  override owner(s: number): number {
    return this.ownerAt(this.at(s));
  }
  override state(s: number): number {
    return this.stateAt(this.at(s));
  }
  override since(s: number): number {
    return this.sinceAt(this.at(s));
  }
  /** A block's head order is its first page's; the others of the block read 255, as unmarked pages do. */
  override headOrder(s: number): number {
    const b = this.bits;
    if (b === null) return this.heads[s];
    return isSet(b, BIT_STARTS, s) ? this.heads[this.at(s)] : 255;
  }
  override set(s: number, owner: number, state: number, since: number): void {
    this.setAt(this.slotFor(s), owner, state, since);
  }
  override setHeadOrder(s: number, order: number): void {
    // slotFor first: it may replace this.heads (the chunk turning dense).
    const k = this.slotFor(s);
    this.heads[k] = order;
  }

  override load(c: PageColumns): void {
    if (this.bits !== null) this.densify();
    super.load(c);
  }
}

/**
 * Buffers nothing holds any more (the time sort's scratch, EventStore.order), handed out in pieces as typed
 * arrays, and new arrays once they are used up. The replay of a page_owner dump sorts its 2.5 M records
 * (two scratch arrays of 10 MB) and then reserves its page table (about 20 MB): without a collection
 * between them, which a replay's few heap objects do not bring, the table came on top of the scratch.
 */
export class SpareMemory {
  private k = 0;
  private off = 0;
  constructor(private readonly buffers: readonly ArrayBuffer[]) {}

  int32(n: number): Int32Array {
    const at = this.take(n * 4, 4);
    return at === null ? new Int32Array(n) : new Int32Array(this.buffers[this.k], at, n);
  }

  uint8(n: number): Uint8Array {
    const at = this.take(n, 1);
    return at === null ? new Uint8Array(n) : new Uint8Array(this.buffers[this.k], at, n);
  }

  /** The offset of `bytes` bytes aligned to `align` in buffer k (moving on to the next as needed), or null. */
  private take(bytes: number, align: number): number | null {
    while (this.k < this.buffers.length) {
      const at = Math.ceil(this.off / align) * align;
      if (at + bytes <= this.buffers[this.k].byteLength) {
        this.off = at + bytes;
        return at;
      }
      this.k++;
      this.off = 0;
    }
    return null;
  }
}

/** Set bits of a 32-bit word. */
function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/**
 * Pages a replay is going to visit, marked before it starts (a bitmap of 4096 bits per chunk), in blocks
 * (a second bitmap marks each block's first page), for PageTable.reserve to make held chunks of.
 */
export class PageMarks {
  /** By chunk key (pfn / 4096): HeldChunk's three words for each 32 pages (the marks and the block starts; ranks left 0). */
  readonly bits = new Map<number, Int32Array>();
  private lastKey = -1;
  private last: Int32Array | null = null;

  /**
   * Mark pages [pfn, pfn + pages) as one block (one in each chunk it spans). Where it meets pages marked
   * before (a dump read while pages changed, two dumps), the pages of both blocks are each a block of
   * their own.
   */
  add(pfn: number, pages: number): void {
    let meets = false;
    for (let p = pfn; p < pfn + pages && !meets; p++) {
      this.enter(p);
      meets = isSet(this.last!, BIT_HELD, slotOf(p));
    }
    for (let p = pfn; p < pfn + pages; p++) {
      this.enter(p);
      const b = this.last!;
      const s = slotOf(p);
      const o = (s >>> 5) * 3;
      const bit = 1 << (s & 31);
      if (meets && (b[o] & bit) !== 0) this.split(s);
      b[o] |= bit;
      if (meets || p === pfn || s === 0) b[o + BIT_STARTS] |= bit;
    }
  }

  /** Whether page pfn is marked. */
  has(pfn: number): boolean {
    const b = this.bits.get(Math.floor(pfn / SIZE));
    return b !== undefined && isSet(b, BIT_HELD, slotOf(pfn));
  }

  /** Make each page of the marked block holding slot s (in the current chunk) a block of its own. */
  private split(s: number): void {
    const b = this.last!;
    let a = s;
    while (!isSet(b, BIT_STARTS, a)) a--;
    for (let t = a + 1; t < SIZE && isSet(b, BIT_HELD, t) && !isSet(b, BIT_STARTS, t); t++) b[(t >>> 5) * 3 + BIT_STARTS] |= 1 << (t & 31);
  }

  /** Make the bits of pfn's chunk the current ones. */
  private enter(pfn: number): void {
    const key = Math.floor(pfn / SIZE);
    if (key === this.lastKey) return;
    let b = this.bits.get(key);
    if (b === undefined) this.bits.set(key, (b = new Int32Array(WORDS * 3)));
    this.lastKey = key;
    this.last = b;
  }
}

/** HeldChunk's and PageMarks' three words for each 32 pages: marked pages, block starts, starts before. */
const BIT_HELD = 0;
const BIT_STARTS = 1;
const BIT_RANK = 2;

/** Whether the bit of slot s is set in the `which` words of a HeldChunk layout. */
function isSet(b: Int32Array, which: number, s: number): boolean {
  return ((b[(s >>> 5) * 3 + which] >>> (s & 31)) & 1) === 1;
}

/** The fields of a chunk's 4096 pages, one array each. */
export interface PageColumns {
  owner: Int32Array;
  state: Uint8Array;
  since: Int32Array;
  headOrder: Uint8Array;
}

/**
 * Current state of every page frame seen, stored sparsely in 4096-page chunks of typed arrays: physical
 * address spaces have large holes (a DAX device can sit terabytes above RAM), and 1 million live pages
 * cost about 40 MB here against hundreds of MB as one object per page.
 */
export class PageTable {
  /** Chunks by key (pfn / 4096) below DENSE: an array index instead of a Map lookup per event. */
  private readonly dense: (PageChunk | undefined)[] = [];
  private readonly sparse = new Map<number, PageChunk>();
  /** Every chunk in the order it was made. */
  private readonly list: PageChunk[] = [];
  private lastKey = -1;
  private last: PageChunk | null = null;

  /** The chunk holding pfn, created on first use. */
  chunk(pfn: number): PageChunk {
    const key = Math.floor(pfn / SIZE);
    if (key === this.lastKey) return this.last!;
    let c = this.find(key);
    if (c === undefined) {
      c = new PageChunk(key * SIZE);
      this.place(key, c);
      this.list.push(c);
    } else if (!c.listed) {
      c.listed = true;
      this.list.push(c);
    }
    this.lastKey = key;
    this.last = c;
    return c;
  }

  private place(key: number, c: PageChunk): void {
    if (key >= 0 && key < DENSE) {
      while (this.dense.length <= key) this.dense.push(undefined);
      this.dense[key] = c;
    } else this.sparse.set(key, c);
  }

  /**
   * Make, before a replay, the chunks of the pages marked, each in the held form (slots for the marked
   * blocks only) unless it has nearly as many blocks as pages; chunks made already stay as they are. A reserved chunk joins
   * `all()` when `chunk()` first gives it out, so the order of `all()` is the one the replay makes. The
   * chunks' arrays are cut from `spare` (buffers nobody holds) while it lasts.
   */
  reserve(marks: PageMarks, spare: readonly ArrayBuffer[] = []): void {
    const store = new SpareMemory(spare);
    for (const [key, bits] of marks.bits) {
      if (this.find(key) !== undefined) continue;
      let m = 0;
      for (let o = BIT_STARTS; o < bits.length; o += 3) m += popcount(bits[o]);
      const c = m <= HELD_MAX ? new HeldChunk(key * SIZE, bits, store) : new PageChunk(key * SIZE, SIZE, store);
      c.listed = false;
      this.place(key, c);
    }
  }

  /**
   * Read the slot of each page pfns[0, n) that is in a chunk already made (below pfn 2^28), and return
   * the values xor-ed, for the caller to keep: a loop with nothing else in it, so the CPU has many of the
   * loads (each a likely cache miss: the pages of a capture come at random) in flight at once, and the
   * work on each page after it finds the slot in cache. Makes no chunk, so the order of `all()` stays.
   */
  touch(pfns: Float64Array, n: number): number {
    const dense = this.dense;
    const limit = dense.length * SIZE;
    let t = 0;
    for (let k = 0; k < n; k++) {
      const p = pfns[k];
      if (!(p >= 0 && p < limit)) continue;
      const c = dense[p >>> BITS];
      if (c !== undefined) t ^= c.slots[c.at(p & MASK) * 2];
    }
    return t;
  }

  /** The chunk holding pfn if any page of it was seen. */
  peek(pfn: number): PageChunk | undefined {
    return this.find(Math.floor(pfn / SIZE));
  }

  private find(key: number): PageChunk | undefined {
    return key >= 0 && key < DENSE ? this.dense[key] : this.sparse.get(key);
  }

  static slot(pfn: number): number {
    return slotOf(pfn);
  }

  /** Every chunk, in the order they were made. */
  all(): IterableIterator<PageChunk> {
    return this.list.values();
  }

  get size(): number {
    return this.list.length * SIZE;
  }
}

/**
 * The slot of pfn in its chunk, pfn % 4096. A pfn is a double, and `%` on doubles is a floating-point
 * remainder (a loop of x87 fprem on x64): in the replay of ftrace kmem-1 (7.9 M events) the three `% 4096`
 * of a page event were about 120 ms. Below 2^31 the value is an int32 and the slot one mask.
 */
export function slotOf(pfn: number): number {
  return pfn >= 0 && pfn < 2147483648 ? (pfn | 0) & MASK : pfn % SIZE;
}

export { MASK as PAGE_CHUNK_MASK };
