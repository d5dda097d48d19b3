import { daxctlFormat } from './daxctl';
import type { TraceFormat } from './format';
import { lsmemFormat, memoryStateFormat } from './memoryBlocks';
import { numaMapsFormat } from './numaMaps';
import { zoneinfoFormat } from './zoneinfo';

/**
 * Layout sources: listings that describe the physical address space (regions, nodes, memory blocks,
 * per-node placement) rather than events. Opened with event traces, they fill `builder.layout` of the
 * same timeline. See docs/formats.md, "Layout".
 */
export const LAYOUT_FORMATS: readonly TraceFormat[] = [daxctlFormat, lsmemFormat, memoryStateFormat, numaMapsFormat, zoneinfoFormat];
