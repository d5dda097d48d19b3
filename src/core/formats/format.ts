import type { TraceBuilder } from '../model/traceBuilder';

/** A parser for one file: fed line by line, writes into the builder. */
export interface LineParser {
  /** bytes[start, end) is line `lineNo` (1-based) without its terminator. */
  line(bytes: Uint8Array, start: number, end: number, lineNo: number): void;
  /** No more lines; `lines` is how many the file had. */
  end(lines: number): void;
}

/** What a parser is given. */
export interface ParseContext {
  builder: TraceBuilder;
  /** The file's path as the user named it (for messages). */
  path: string;
}

/** A trace format Page Ledger reads. */
export interface TraceFormat {
  /** Stable name, reported as `format` by `analyze --json`. */
  name: string;
  /** One line for `--help` and the docs. */
  description: string;
  /**
   * How sure this format is that a file starting with `head` (its first lines, at most 64 KiB, decoded)
   * is its own: 0 = not mine, 1 = certain. Detection is by content, never by file name.
   */
  detect(head: string): number;
  create(ctx: ParseContext): LineParser;
  /**
   * Set when the tools that write the format list events in time order (the native format asks for it;
   * ftrace, trace-cmd and perf script merge their per-CPU buffers by time): the extension then replays a
   * file of it while reading and shows the ownership of the part read so far (OpenOptions.onPrefix).
   * page_owner lists pages in frame order, not time order.
   */
  timeOrdered?: boolean;
  /**
   * For a format whose records span several lines (page_owner): where a file may be cut so that two
   * parsers, each over its own byte range, make together what one parser makes; unset when the format is
   * line-local or cannot be cut.
   */
  rangeSplit?: RangeSplit;
}

/**
 * How a file of a multi-line format is parsed in two ranges, each by its own parser into its own
 * builder, and merged into one builder (the second range's events, owners and errors appended after the
 * first's by the generic part stream; what the parser keeps beside the builder's tables merged here).
 */
export interface RangeSplit {
  /**
   * Offset in `bytes` of the first line starting at or after `from` at which a parser started afresh is
   * in the state one parser reading on from the file's start is in there; -1 when `bytes` shows none.
   * `bytes` is a window of the file: a line that starts in it but is cut off by its end does not count.
   */
  findStart(bytes: Uint8Array, from: number): number;
  /** What the parser of a finished range keeps beside the builder's tables, as plain data (it crosses threads). */
  rangeState(builder: TraceBuilder): unknown;
  /**
   * Merge a range's `state` into `builder`, just after the range's events were appended at `first`,
   * and its owners, snapshots and errors merged (the ranges come in file order).
   */
  mergeRange(builder: TraceBuilder, state: unknown, first: number): void;
}

/** Split a head into its first `max` non-empty lines. */
export function headLines(head: string, max = 50): string[] {
  const out: string[] = [];
  for (const l of head.split('\n')) {
    const t = l.replace(/\r$/, '');
    if (t.trim() === '') continue;
    out.push(t);
    if (out.length >= max) break;
  }
  return out;
}
