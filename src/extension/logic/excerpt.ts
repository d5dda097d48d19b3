import type { LineExcerpt } from '../../protocol/worker';

/** Lines of context kept on each side of the target line in an excerpt. */
export const EXCERPT_CONTEXT = 200;

/**
 * Lines [from, to] (1-based, inclusive) of a byte stream. Stops reading once `to` is passed, so a jump
 * near the start of a 1 GB trace reads a few chunks, not the file.
 */
export async function collectLines(chunks: AsyncIterable<Uint8Array>, from: number, to: number): Promise<LineExcerpt> {
  const decoder = new TextDecoder('utf-8');
  const lines: string[] = [];
  let lineNo = 1;
  let partial: Uint8Array[] = [];
  const take = (parts: Uint8Array[]): void => {
    if (lineNo >= from && lineNo <= to) {
      let text = parts.length === 1 ? decoder.decode(parts[0]) : decoder.decode(joinBytes(parts));
      if (text.endsWith('\r')) text = text.slice(0, -1);
      lines.push(text);
    }
  };
  for await (const chunk of chunks) {
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] !== 0x0a) continue;
      if (lineNo >= from) take([...partial, chunk.subarray(start, i)]);
      partial = [];
      start = i + 1;
      lineNo++;
      if (lineNo > to) return { firstLine: from, lines, totalLines: null };
    }
    if (lineNo >= from && start < chunk.length) partial.push(chunk.slice(start));
  }
  if (partial.length) {
    take(partial);
    return { firstLine: from, lines, totalLines: lineNo };
  }
  return { firstLine: from, lines, totalLines: lineNo - 1 };
}

function joinBytes(parts: Uint8Array[]): Uint8Array {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Width of the line-number gutter for an excerpt (the widest number it shows). */
function gutterWidth(x: LineExcerpt): number {
  return String(x.firstLine + Math.max(0, x.lines.length - 1)).length;
}

/** Lines before the first excerpt line in the rendered text (the header). */
export const EXCERPT_HEADER_LINES = 2;

/**
 * The excerpt as a read-only document: a header naming the file and range, then each line prefixed with
 * its original number, so what the user reads matches the line numbers in Problems and in the tree.
 */
export function renderExcerpt(path: string, x: LineExcerpt): string {
  const last = x.firstLine + x.lines.length - 1;
  const total = x.totalLines !== null ? ` of ${x.totalLines}` : '';
  const header = x.lines.length
    ? `# ${path}: lines ${x.firstLine}-${last}${total} (excerpt: the file is too large for the text editor)`
    : `# ${path}: no line ${x.firstLine}${total}`;
  const w = gutterWidth(x);
  const body = x.lines.map((l, k) => `${String(x.firstLine + k).padStart(w)} | ${l}`);
  return [header, '', ...body].join('\n') + '\n';
}

/** The 0-based line of the rendered excerpt that shows original line `line`. */
export function excerptDocumentLine(x: LineExcerpt, line: number): number {
  const k = Math.min(Math.max(line - x.firstLine, 0), Math.max(x.lines.length - 1, 0));
  return EXCERPT_HEADER_LINES + k;
}

/** Column where the original text starts on an excerpt line (after the number gutter). */
export function excerptTextColumn(x: LineExcerpt): number {
  return gutterWidth(x) + 3;
}
