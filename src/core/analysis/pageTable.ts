/** Page state: never seen in the trace. */
export const UNKNOWN = 0;
/** Page state: allocated (owned) in the trace. */
export const LIVE = 1;
/** Page state: freed in the trace. */
export const FREE = 2;

const BITS = 12;
const SIZE = 1 << BITS;
const MASK = SIZE - 1;

/** The per-page columns of one 4096-page chunk. */
export class PageChunk {
  readonly owner = new Int32Array(SIZE);
  readonly state = new Uint8Array(SIZE);
  /** Index of the event that gave the page its current owner (or freed it), -1 none. */
  readonly since = new Int32Array(SIZE).fill(-1);
  /** Order of the allocation when this page is its head page, 255 otherwise. */
  readonly headOrder = new Uint8Array(SIZE).fill(255);
  constructor(readonly base: number) {}
}

/**
 * Current state of every page frame seen, stored sparsely in 4096-page chunks of typed arrays: physical
 * address spaces have large holes (a DAX device can sit terabytes above RAM), and 1 million live pages
 * cost about 40 MB here against hundreds of MB as one object per page.
 */
export class PageTable {
  private readonly chunks = new Map<number, PageChunk>();
  private lastKey = -1;
  private last: PageChunk | null = null;

  /** The chunk holding pfn, created on first use. */
  chunk(pfn: number): PageChunk {
    const key = Math.floor(pfn / SIZE);
    if (key === this.lastKey) return this.last!;
    let c = this.chunks.get(key);
    if (!c) {
      c = new PageChunk(key * SIZE);
      this.chunks.set(key, c);
    }
    this.lastKey = key;
    this.last = c;
    return c;
  }

  /** The chunk holding pfn if any page of it was seen. */
  peek(pfn: number): PageChunk | undefined {
    return this.chunks.get(Math.floor(pfn / SIZE));
  }

  static slot(pfn: number): number {
    return pfn % SIZE;
  }

  /** Every chunk, in no particular order. */
  all(): IterableIterator<PageChunk> {
    return this.chunks.values();
  }

  get size(): number {
    return this.chunks.size * SIZE;
  }
}

export { MASK as PAGE_CHUNK_MASK };
