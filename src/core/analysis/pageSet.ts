import { EventKind } from '../model/events';
import { ownerLabel, type Owner, type OwnerKind } from '../model/owners';
import type { TraceModel } from '../trace';
import { pageOwnerAllocId } from '../formats/pageOwner';

/** Bytes per page frame: every byte figure of a diff assumes 4 KiB pages. */
export const PAGE_BYTES = 4096;

/** An owner as a diff side knows it: matched across sides by `label`, so two models can be compared. */
export interface SideOwner {
  label: string;
  kind: OwnerKind;
  /** The process, or the process a snapshot was taken of; -1 when none. */
  pid: number;
}

/** Page state in a PageSet: held by an owner, or known free (live states only). */
export const HELD = 0;
/** See HELD. */
export const FREED = 1;

/**
 * One side of a diff: every page of a snapshot or of the ownership state at a time, one typed-array
 * column per field, sorted by `key` (1 million pages cost about 50 MB here, against several hundred as
 * one object per page).
 */
export interface PageSet {
  /** Display name, e.g. `snapshot 3`, `pid 10 at 5000 ns`. */
  name: string;
  /** Paths of the model's files (the `file` column indexes this). */
  files: string[];
  /** Where the side comes from: the snapshot's file, or the trace's files for a live state. */
  origin: string;
  /** What the key is: the pfn, or the virtual page number when the source has no pfns (CRIU). */
  keyKind: 'pfn' | 'vaddr';
  /** True for the ownership state of a trace (it knows freed pages and exits); false for a snapshot. */
  live: boolean;
  length: number;
  key: Float64Array;
  /** NaN when the source has none. */
  pfn: Float64Array;
  /** NaN when the source has none. */
  vaddr: Float64Array;
  /** Index into `owners`. */
  owner: Int32Array;
  owners: SideOwner[];
  /** NUMA node, -1 when unknown. */
  node: Int16Array;
  /** Allocation identity (page_owner: a hash of site, order and timestamp); NaN when the source has none. */
  allocId: Float64Array;
  /** Allocation order (page_owner), 255 when the source has none. */
  allocOrder: Uint8Array;
  /** 1 when a process maps the page and a snapshot references it too. */
  shared: Uint8Array;
  /** 1 when the owner is a process that has exited and nobody else references the page (a leak). */
  exited: Uint8Array;
  /** HELD or FREED. */
  state: Uint8Array;
  file: Uint16Array;
  line: Uint32Array;
}

/** Collects pages one by one, then sorts them by key into a PageSet. */
export class PageSetBuilder {
  private n = 0;
  private cap: number;
  private cols: Omit<PageSet, 'name' | 'files' | 'origin' | 'keyKind' | 'live' | 'length' | 'owners'>;
  private readonly ownerIndex = new Map<string, number>();
  private readonly owners: SideOwner[] = [];

  constructor(capacity = 1024) {
    this.cap = Math.max(16, capacity);
    this.cols = PageSetBuilder.alloc(this.cap);
  }

  private static alloc(n: number): PageSetBuilder['cols'] {
    return {
      key: new Float64Array(n),
      pfn: new Float64Array(n),
      vaddr: new Float64Array(n),
      owner: new Int32Array(n),
      node: new Int16Array(n),
      allocId: new Float64Array(n),
      allocOrder: new Uint8Array(n),
      shared: new Uint8Array(n),
      exited: new Uint8Array(n),
      state: new Uint8Array(n),
      file: new Uint16Array(n),
      line: new Uint32Array(n),
    };
  }

  /** Intern an owner of a model; returns its index in the set's owner list. */
  owner(o: Owner): number {
    const label = ownerLabel(o);
    let i = this.ownerIndex.get(label);
    if (i === undefined) {
      i = this.owners.length;
      this.owners.push({ label, kind: o.kind, pid: o.pid ?? -1 });
      this.ownerIndex.set(label, i);
    }
    return i;
  }

  /** Intern an owner by hand (e.g. "free"). */
  ownerOf(label: string, kind: OwnerKind, pid = -1): number {
    let i = this.ownerIndex.get(label);
    if (i === undefined) {
      i = this.owners.length;
      this.owners.push({ label, kind, pid });
      this.ownerIndex.set(label, i);
    }
    return i;
  }

  get length(): number {
    return this.n;
  }

  /** Append one page. */
  add(pfn: number, vaddr: number, owner: number, node: number, file: number, line: number, allocId = NaN, allocOrder = 255, shared = 0, exited = 0, state = HELD): void {
    if (this.n === this.cap) this.grow();
    const c = this.cols;
    const i = this.n++;
    c.pfn[i] = pfn;
    c.vaddr[i] = vaddr;
    c.owner[i] = owner;
    c.node[i] = node;
    c.file[i] = file;
    c.line[i] = line;
    c.allocId[i] = allocId;
    c.allocOrder[i] = allocOrder;
    c.shared[i] = shared;
    c.exited[i] = exited;
    c.state[i] = state;
  }

  private grow(): void {
    const next = PageSetBuilder.alloc(this.cap * 2);
    for (const k of Object.keys(next) as (keyof PageSetBuilder['cols'])[]) (next[k] as Float64Array).set(this.cols[k] as Float64Array);
    this.cols = next;
    this.cap *= 2;
  }

  /**
   * The finished set, keyed by pfn, or by virtual page when any page lacks a pfn. Pages are usually
   * appended in key order already (snapshot logs list them so), and then no sort is done.
   */
  finish(name: string, files: string[], live: boolean, origin = files.join(', ')): PageSet {
    const n = this.n;
    const c = this.cols;
    let byVaddr = false;
    for (let i = 0; i < n; i++) {
      if (c.pfn[i] !== c.pfn[i]) {
        byVaddr = true;
        break;
      }
    }
    for (let i = 0; i < n; i++) c.key[i] = byVaddr ? Math.floor(c.vaddr[i] / PAGE_BYTES) : c.pfn[i];
    let sorted = true;
    for (let i = 1; i < n; i++) {
      if (c.key[i] < c.key[i - 1]) {
        sorted = false;
        break;
      }
    }
    let cols = c;
    if (!sorted) {
      const perm = sortOrder(c.key.subarray(0, n));
      // One gather per element type: a single loop over all twelve columns saw six array kinds and ran
      // megamorphic (1 M pages: most of this function's 190 ms).
      cols = {
        key: gather64(c.key, perm),
        pfn: gather64(c.pfn, perm),
        vaddr: gather64(c.vaddr, perm),
        owner: gather32(c.owner, perm),
        node: gather16(c.node, perm),
        allocId: gather64(c.allocId, perm),
        allocOrder: gather8(c.allocOrder, perm),
        shared: gather8(c.shared, perm),
        exited: gather8(c.exited, perm),
        state: gather8(c.state, perm),
        file: gatherU16(c.file, perm),
        line: gatherU32(c.line, perm),
      };
    }
    return {
      name,
      files,
      origin,
      keyKind: byVaddr ? 'vaddr' : 'pfn',
      live,
      length: n,
      key: cols.key.subarray(0, n),
      pfn: cols.pfn.subarray(0, n),
      vaddr: cols.vaddr.subarray(0, n),
      owner: cols.owner.subarray(0, n),
      owners: this.owners,
      node: cols.node.subarray(0, n),
      allocId: cols.allocId.subarray(0, n),
      allocOrder: cols.allocOrder.subarray(0, n),
      shared: cols.shared.subarray(0, n),
      exited: cols.exited.subarray(0, n),
      state: cols.state.subarray(0, n),
      file: cols.file.subarray(0, n),
      line: cols.line.subarray(0, n),
    };
  }
}

/**
 * The pages of snapshot `id` of a model: the references of a native snapshot or snapshot log, the
 * records of a page_owner dump, or the entries of a CRIU pagemap (no pfn: keyed by virtual page).
 * A snapshot's pages are shared with its process by definition, so `shared` is 1 for references.
 */
export function snapshotPageSet(m: TraceModel, id: number): PageSet {
  const b = m.builder;
  const ev = b.events;
  const info = b.snapshot(id);
  if (!info) throw new Error(`no snapshot ${id} in ${b.files.map((f) => f.path).join(', ')}`);
  // Size the columns once: doubling 12 columns up to a million pages cost about a third of the build.
  // The second pass reads only from the first to the last event of the snapshot: two logs read as one
  // trace hold each other's pages.
  let pages = 0;
  let first = ev.length;
  let last = -1;
  for (let i = 0; i < ev.length; i++) {
    const k = ev.kind.get(i);
    if ((k === EventKind.SnapRef || k === EventKind.Record) && ev.ref.get(i) === id) {
      pages += 2 ** ev.orderCol.get(i);
      if (i < first) first = i;
      last = i;
    }
  }
  const set = new PageSetBuilder(pages);
  const snapPid = info.pid ?? -1;
  const snapOwnerId = snapPid >= 0 ? b.owners.findProcess(snapPid) : undefined;
  const fallback = snapOwnerId !== undefined ? set.owner(b.owners.get(snapOwnerId)) : snapPid >= 0 ? set.ownerOf(`pid ${snapPid}`, 'process', snapPid) : set.ownerOf(info.name, 'snapshot');
  // Owner ids of the model mapped to the set's owner indices, filled on first sight.
  const local = new Int32Array(b.owners.size).fill(-1);
  const localOf = (ownerId: number): number => {
    if (ownerId <= 0 || ownerId >= local.length) return fallback;
    if (local[ownerId] < 0) local[ownerId] = set.owner(b.owners.get(ownerId));
    return local[ownerId];
  };
  const byPid = new Map<number, number>();
  let lastPid = -1;
  let lastPidOwner = -1;
  const layout = b.layout;
  const hasLayout = layout.regions.length > 0;
  for (let i = first; i <= last; i++) {
    const k = ev.kind.get(i);
    if ((k !== EventKind.SnapRef && k !== EventKind.Record) || ev.ref.get(i) !== id) continue;
    const pfn = ev.pfn.get(i);
    const vaddr = ev.arg.get(i);
    const order = ev.orderCol.get(i);
    const n = 2 ** order;
    const file = ev.file.get(i);
    const line = ev.line.get(i);
    let owner: number;
    let allocId = NaN;
    let allocOrder = 255;
    let shared = 1;
    if (k === EventKind.Record) {
      // page_owner_sort summaries carry a page count but no frame: nothing to line up.
      if (pfn !== pfn) continue;
      owner = localOf(ev.owner.get(i));
      // A record's arg is its allocation site.
      allocId = pageOwnerAllocId(vaddr, order, ev.time.get(i));
      allocOrder = order;
      shared = 0;
    } else {
      const pid = ev.pid.get(i);
      // Neighbouring pages mostly share a process: one compare instead of a Map lookup a page.
      if (pid === lastPid) owner = lastPidOwner;
      else if (pid > 0 && pid !== snapPid) {
        let cached = byPid.get(pid);
        if (cached === undefined) {
          // Snapshot logs name a page's own process by pid alone; the trace may never have seen it.
          const pageOwner = b.owners.findProcess(pid);
          cached = pageOwner !== undefined ? localOf(pageOwner) : set.ownerOf(`pid ${pid}`, 'process', pid);
          byPid.set(pid, cached);
        }
        owner = cached;
        lastPid = pid;
        lastPidOwner = cached;
      } else owner = fallback;
    }
    const evNode = ev.node.get(i);
    for (let p = 0; p < n; p++) {
      const pf = pfn + p;
      const node = evNode >= 0 ? evNode : hasLayout && pf === pf ? (layout.regionOf(pf)?.node ?? -1) : -1;
      set.add(pf, vaddr + p * PAGE_BYTES, owner, node, file, line, allocId, allocOrder, shared);
    }
  }
  // A dump names its own process (comm) only sometimes; the trace's process table often knows it.
  const comm = info.comm ?? (snapOwnerId !== undefined ? b.owners.get(snapOwnerId).comm : undefined);
  return set.finish(snapshotSideName({ name: info.name, pid: info.pid, comm }), b.files.map((f) => f.path), false, b.files[info.file]?.path ?? '');
}

/**
 * How a snapshot reads as a diff side (CLI, diff tab title, diff webview): its name and, where known, the
 * process it was taken of, `snapshot 20 of pid 1006 (app)`; two snapshots of different processes look
 * alike by name alone.
 */
export function snapshotSideName(s: { name: string; pid?: number; comm?: string }): string {
  const pid = s.pid;
  if (pid === undefined || !Number.isInteger(pid) || pid < 0) return s.name;
  return `${s.name} of pid ${pid}${s.comm ? ` (${s.comm})` : ''}`;
}

function gather64(from: Float64Array, perm: Uint32Array): Float64Array {
  const to = new Float64Array(perm.length);
  for (let i = 0; i < perm.length; i++) to[i] = from[perm[i]];
  return to;
}

function gather32(from: Int32Array, perm: Uint32Array): Int32Array {
  const to = new Int32Array(perm.length);
  for (let i = 0; i < perm.length; i++) to[i] = from[perm[i]];
  return to;
}

function gatherU32(from: Uint32Array, perm: Uint32Array): Uint32Array {
  const to = new Uint32Array(perm.length);
  for (let i = 0; i < perm.length; i++) to[i] = from[perm[i]];
  return to;
}

function gather16(from: Int16Array, perm: Uint32Array): Int16Array {
  const to = new Int16Array(perm.length);
  for (let i = 0; i < perm.length; i++) to[i] = from[perm[i]];
  return to;
}

function gatherU16(from: Uint16Array, perm: Uint32Array): Uint16Array {
  const to = new Uint16Array(perm.length);
  for (let i = 0; i < perm.length; i++) to[i] = from[perm[i]];
  return to;
}

function gather8(from: Uint8Array, perm: Uint32Array): Uint8Array {
  const to = new Uint8Array(perm.length);
  for (let i = 0; i < perm.length; i++) to[i] = from[perm[i]];
  return to;
}

/**
 * The permutation that sorts `key` (stable). Integer keys whose span times the count fit in 53 bits are
 * packed with their index into one float and sorted natively: 1 million pfns in about 100 ms, against
 * 500-900 ms for a comparator sort of an index array.
 */
function sortOrder(key: Float64Array): Uint32Array {
  const n = key.length;
  const perm = new Uint32Array(n);
  let min = Infinity;
  let max = -Infinity;
  let integral = true;
  for (let i = 0; i < n; i++) {
    const k = key[i];
    if (k < min) min = k;
    if (k > max) max = k;
    if (k !== Math.floor(k)) integral = false;
  }
  if (integral && max - min < 2 ** 32) return radixOrder(key, min, max - min, perm);
  const shift = 2 ** Math.ceil(Math.log2(n + 1));
  if (integral && (max - min + 1) * shift <= Number.MAX_SAFE_INTEGER) {
    const packed = new Float64Array(n);
    for (let i = 0; i < n; i++) packed[i] = (key[i] - min) * shift + i;
    packed.sort();
    for (let i = 0; i < n; i++) perm[i] = packed[i] % shift;
    return perm;
  }
  for (let i = 0; i < n; i++) perm[i] = i;
  perm.sort((x, y) => key[x] - key[y] || x - y);
  return perm;
}

/**
 * Stable LSD radix sort of integer keys spanning less than 2^32, 16 bits a pass (one pass when the
 * span fits 16 bits): 1 M pfns in a fraction of the packed-float sort's 90 ms.
 */
function radixOrder(key: Float64Array, min: number, span: number, perm: Uint32Array): Uint32Array {
  const n = key.length;
  const lo = new Uint32Array(n);
  for (let i = 0; i < n; i++) lo[i] = key[i] - min;
  const count = new Uint32Array(65536);
  for (let i = 0; i < n; i++) count[lo[i] & 0xffff]++;
  let sum = 0;
  for (let d = 0; d < 65536; d++) {
    const c = count[d];
    count[d] = sum;
    sum += c;
  }
  for (let i = 0; i < n; i++) perm[count[lo[i] & 0xffff]++] = i;
  if (span < 65536) return perm;
  const out = new Uint32Array(n);
  count.fill(0);
  for (let i = 0; i < n; i++) count[lo[i] >>> 16]++;
  sum = 0;
  for (let d = 0; d < 65536; d++) {
    const c = count[d];
    count[d] = sum;
    sum += c;
  }
  for (let k = 0; k < n; k++) {
    const i = perm[k];
    out[count[lo[i] >>> 16]++] = i;
  }
  return out;
}
