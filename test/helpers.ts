import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { memorySource } from '../src/core/io/memorySource';
import { openTrace, summarize, type OpenOptions, type TraceModel, type TraceSummary } from '../src/core/trace';

export const FIXTURES = join(__dirname, 'fixtures');

/** Analyse text as one file named `name`. */
export async function analyzeText(text: string, name = 'test.pltrace', opts: OpenOptions = {}, chunkSize = 64 * 1024): Promise<TraceSummary> {
  return summarize(await openText(text, name, opts, chunkSize));
}

export async function openText(text: string, name = 'test.pltrace', opts: OpenOptions = {}, chunkSize = 64 * 1024): Promise<TraceModel> {
  return openTrace([memorySource(name, text, chunkSize)], opts);
}

/**
 * A fixture copied from a real capture: its first line names the source and is kept in the file; it is
 * stripped here before parsing (line numbers below are those of the file without that line).
 */
export function realFixture(name: string): string {
  const text = readFileSync(join(FIXTURES, 'real', name), 'utf8');
  const nl = text.indexOf('\n');
  if (!text.startsWith('# SOURCE:')) throw new Error(`${name}: expected a "# SOURCE:" first line`);
  return text.slice(nl + 1);
}

/** A native trace from event lines (the header is added). */
export function native(...lines: string[]): string {
  return ['pageledger-trace 1', ...lines].join('\n') + '\n';
}

/** A small seeded generator (mulberry32): the same seed gives the same values, so a failure can be replayed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
