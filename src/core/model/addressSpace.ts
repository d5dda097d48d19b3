/** How a range of physical memory is used. */
export type RegionType =
  /** Ordinary system RAM. */
  | 'ram'
  /** A DAX device onlined as system RAM (the kmem driver). */
  | 'kmem'
  /** A DAX device in device-dax mode (`/dev/daxX.Y`), not RAM. */
  | 'devdax'
  /** A DAX namespace used by a filesystem (fsdax). */
  | 'fsdax'
  /** Anything else a layout source reports (reserved, ACPI, ...). */
  | 'other';

/** A contiguous range of page frames. */
export interface Region {
  name: string;
  type: RegionType;
  /** NUMA node, -1 when the source does not say. */
  node: number;
  /** First pfn; NaN when the source gives no physical address (daxctl JSON, a zoneinfo zone cut short). */
  start: number;
  /** Number of pages. */
  pages: number;
  /** The character device backing it (`/dev/dax0.0`). */
  device?: string;
  /** Pages at the start of the region that a persistence driver keeps for itself (MHP_ALLOCATE-style). */
  reserved?: number;
  /** Pages physically present and pages the buddy allocator manages (zoneinfo). */
  present?: number;
  managed?: number;
  /** Memory blocks of a DAX device onlined as RAM, and how many it has (daxctl `online_memblocks`). */
  onlineBlocks?: number;
  totalBlocks?: number;
  /** Onlined into ZONE_MOVABLE (daxctl `movable`). */
  movable?: boolean;
  /** File and line that declared it. */
  file?: number;
  line?: number;
}

/** A hot-plug memory block (`/sys/devices/system/memory/memoryN`). */
export interface MemoryBlock {
  id: number;
  start: number;
  pages: number;
  /** State as first declared; online/offline events change it over time. */
  state: 'online' | 'offline';
  node?: number;
  /** Zones the block can be onlined to or belongs to (lsmem ZONES, sysfs valid_zones). */
  zones?: string[];
  file?: number;
  line?: number;
}

/**
 * Where a process's pages sit, node by node, at one moment (`/proc/PID/numa_maps`). There are no pfns
 * in it, so it creates no events: it is a layout snapshot shown next to the timeline.
 */
export interface Placement {
  /** Display name, e.g. `numa_maps of pid 1234`. */
  name: string;
  pid?: number;
  /** Mappings (VMAs) listed. */
  vmas: number;
  /** 4 KiB pages per node (huge pages counted as the 4 KiB pages they span). */
  pagesByNode: Map<number, number>;
  /** 4 KiB pages counted as anonymous, dirty, and mapped from files. */
  anonPages: number;
  dirtyPages: number;
  mappedPages: number;
  file?: number;
  line?: number;
}

/** A NUMA node and what is known of it. */
export interface NumaNode {
  id: number;
  name?: string;
  /** Pages known to be on the node (from layout sources). */
  pages?: number;
}

/** Regions, nodes and memory blocks of the physical address space, as declared by layout sources. */
export class AddressSpace {
  readonly regions: Region[] = [];
  readonly blocks: MemoryBlock[] = [];
  readonly nodes = new Map<number, NumaNode>();
  readonly placements: Placement[] = [];
  private sortedRegions: Region[] | null = null;
  private sortedBlocks: MemoryBlock[] | null = null;
  // Index into `blocks` by block id: a 4 TB machine has 32768 blocks of 128 MiB, and a linear search per
  // added block made an lsmem listing of that size take 1.6 s.
  private readonly blockIndex = new Map<number, number>();

  addRegion(r: Region): void {
    this.regions.push(r);
    this.sortedRegions = null;
    if (r.node >= 0) this.addNode(r.node);
  }

  addBlock(b: MemoryBlock): void {
    const existing = this.blockIndex.get(b.id);
    if (existing !== undefined) this.blocks[existing] = b;
    else {
      this.blockIndex.set(b.id, this.blocks.length);
      this.blocks.push(b);
    }
    this.sortedBlocks = null;
    if (b.node !== undefined) this.addNode(b.node);
  }

  addNode(id: number, name?: string): NumaNode {
    let n = this.nodes.get(id);
    if (!n) {
      n = { id };
      this.nodes.set(id, n);
    }
    if (name && !n.name) n.name = name;
    return n;
  }

  /** The region holding pfn, if any layout declared it. */
  regionOf(pfn: number): Region | undefined {
    // A region with no known start has no place on the pfn axis: it cannot hold a given pfn.
    const rs = (this.sortedRegions ??= this.regions.filter((r) => r.start === r.start).sort((a, b) => a.start - b.start));
    return findRange(rs, pfn);
  }

  /** The block with this id, if declared. */
  block(id: number): MemoryBlock | undefined {
    const k = this.blockIndex.get(id);
    return k === undefined ? undefined : this.blocks[k];
  }

  /** The memory block holding pfn, if declared. */
  blockOf(pfn: number): MemoryBlock | undefined {
    const bs = (this.sortedBlocks ??= [...this.blocks].sort((a, b) => a.start - b.start));
    return findRange(bs, pfn);
  }

  get empty(): boolean {
    return this.regions.length === 0 && this.blocks.length === 0 && this.nodes.size === 0 && this.placements.length === 0;
  }
}

function findRange<T extends { start: number; pages: number }>(sorted: T[], pfn: number): T | undefined {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const r = sorted[mid];
    if (pfn < r.start) hi = mid - 1;
    else if (pfn >= r.start + r.pages) lo = mid + 1;
    else return r;
  }
  return undefined;
}
