/** Page state: never seen in the trace. */
export const UNKNOWN = 0;
/** Page state: allocated (owned) in the trace. */
export const LIVE = 1;
/** Page state: freed in the trace. */
export const FREE = 2;

const BITS = 12;
const SIZE = 1 << BITS;
const MASK = SIZE - 1;
/** Chunks of pfns below 2^28 (1 TiB of 4 KiB pages) are found by index, the rest through a Map. */
const DENSE = 1 << 16;

/** Owner ids a page slot holds: 30 bits, the two above them are the page's state. */
const OWNER_BITS = 30;
const OWNER_MASK = (1 << OWNER_BITS) - 1;

/**
 * The state of 4096 pages, two int32 per page side by side: owner (0 none) | state << 30, and the index of
 * the event that gave the page its current owner or freed it (-1 none); beside them one byte a page, the
 * order of the allocation when the page is its head page (255 otherwise). The replay visits pages at
 * random (every event of an ftrace capture touches another one), and a line profile of the replay of
 * bench kmem-0.1 put most of alloc and free at the first read of a page's state: as four arrays a visit
 * cost up to four cache misses, in one slot one. Nine bytes a page instead of twelve (state and head
 * order in a third int32): the 2.5 M-record page_owner dump sees 5.9 M pfns, 71 to 53 MB.
 */
export class PageChunk {
  readonly slots = new Int32Array(SIZE * 2);
  readonly heads = new Uint8Array(SIZE).fill(255);
  /**
   * First and last snapshot reference of each page (-1 none), as nodes of a list the replay keeps; null
   * until a page of the chunk is referenced, so traces without snapshots pay nothing for them.
   */
  refHead: Int32Array | null = null;
  refTail: Int32Array | null = null;
  constructor(readonly base: number) {
    const a = this.slots;
    for (let o = 1; o < a.length; o += 2) a[o] = -1;
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
    // An owner table of 2^30 entries would not fit in memory: a larger id is a bug, not a trace.
    if (owner > OWNER_MASK) throw new RangeError(`owner id ${owner} above ${OWNER_MASK}: the page table holds 30 bits`);
    const o = s * 2;
    this.slots[o] = owner | (state << OWNER_BITS);
    this.slots[o + 1] = since;
  }
  setHeadOrder(s: number, order: number): void {
    this.heads[s] = order;
  }

  /** The chunk as one array per field (copies), for storage. */
  columns(): PageColumns {
    const c: PageColumns = { owner: new Int32Array(SIZE), state: new Uint8Array(SIZE), since: new Int32Array(SIZE), headOrder: this.heads.slice() };
    const a = this.slots;
    for (let s = 0, o = 0; s < SIZE; s++, o += 2) {
      c.owner[s] = a[o] & OWNER_MASK;
      c.state[s] = a[o] >>> OWNER_BITS;
      c.since[s] = a[o + 1];
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
      if (key >= 0 && key < DENSE) {
        while (this.dense.length <= key) this.dense.push(undefined);
        this.dense[key] = c;
      } else this.sparse.set(key, c);
      this.list.push(c);
    }
    this.lastKey = key;
    this.last = c;
    return c;
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
      if (c !== undefined) t ^= c.slots[(p & MASK) * 2];
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
