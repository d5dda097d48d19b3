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
