import type { MemoryBlock } from '../model/addressSpace';
import { EventKind, newEventRecord } from '../model/events';
import type { TraceBuilder } from '../model/traceBuilder';

/** Bytes in one page frame: layout sources give bytes, the model counts 4 KiB frames (x86-64, arm64 4K). */
export const PAGE_BYTES = 4096;

/** Memory block size when a listing does not say (x86-64 default: 128 MiB = 32768 pages). */
export const DEFAULT_BLOCK_BYTES = 128 * 1024 * 1024;

const UNIT_POWER: Record<string, number> = { '': 0, K: 1, M: 2, G: 3, T: 4, P: 5, E: 6 };

/**
 * Bytes in a size as layout tools print it: a plain or `0x` integer, lsmem's `128M`/`2G`/`1.5T`
 * (binary units), or daxctl's `--human` form `15.63 GiB (16.78 GB)` (the first figure is read; `GiB` is
 * binary, `GB` decimal). NaN when it is none of these. Human forms are rounded by the tool, so the result
 * is within 0.5% of the true size, not exact.
 */
export function parseSize(s: string): number {
  const t = s.trim();
  if (/^\d+$/.test(t)) return Number(t);
  if (/^0x[0-9a-f]+$/i.test(t)) return Number.parseInt(t.slice(2), 16);
  const m = /^(\d+(?:\.\d+)?)\s*([KMGTPE]?)(i?)B?\b/i.exec(t);
  if (!m) return NaN;
  const unit = m[2].toUpperCase();
  // lsmem's bare suffixes (2G) are binary; only an explicit "GB" without "i" is decimal.
  const decimal = m[3] === '' && /^[\d.]+\s*[KMGTPE]B/i.test(t);
  const base = decimal ? 1000 : 1024;
  return Math.round(Number(m[1]) * base ** UNIT_POWER[unit]);
}

/** Pages in `bytes`, rounded to the nearest page. */
export function pagesOf(bytes: number): number {
  return Math.round(bytes / PAGE_BYTES);
}

/** log2(n) when n is a power of two, else 0 (events carry 2^order pages). */
export function orderOf(pages: number): number {
  const o = Math.log2(pages);
  return Number.isInteger(o) && o <= 30 ? o : 0;
}

/** The latest state of each memory block seen by any layout file of a builder (a merged timeline). */
const latestBlockState = new WeakMap<TraceBuilder, Map<number, 'online' | 'offline'>>();

/**
 * Declare a block as seen at `line`: the first sighting adds it to the layout with that state (the state at
 * the start of the timeline); a later sighting with another state is a hot-plug: an Online or Offline event
 * at that line. Returns 1 when an event was pushed.
 */
export function sawBlock(builder: TraceBuilder, block: MemoryBlock, line: number): number {
  let states = latestBlockState.get(builder);
  if (!states) latestBlockState.set(builder, (states = new Map()));
  const known = states.get(block.id) ?? builder.layout.block(block.id)?.state;
  if (known === undefined) {
    builder.layout.addBlock(block);
    states.set(block.id, block.state);
    return 0;
  }
  if (known === block.state) return 0;
  states.set(block.id, block.state);
  const e = scratch;
  e.kind = block.state === 'online' ? EventKind.Online : EventKind.Offline;
  e.time = NaN;
  e.line = line;
  e.pfn = block.start;
  e.order = orderOf(block.pages);
  e.ref = block.id;
  e.node = block.node ?? -1;
  builder.push(e);
  return 1;
}

// Block events are rare (a few per hot-plug listing): one shared scratch is enough.
const scratch = newEventRecord();
