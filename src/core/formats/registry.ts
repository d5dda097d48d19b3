import type { TraceFormat } from './format';
import { nativeFormat } from './native';
import { LAYOUT_FORMATS } from './layout';
import { ftraceFormat, perfScriptFormat, traceCmdFormat } from './ftrace';
import { pageOwnerFormat } from './pageOwner';
import { criuFormat } from './criu';

/** Every format Page Ledger reads, tried in this order when scores tie. */
export const FORMATS: TraceFormat[] = [nativeFormat, pageOwnerFormat, criuFormat, ftraceFormat, traceCmdFormat, perfScriptFormat, ...LAYOUT_FORMATS];

/** Register a format (each format module adds itself here through `formats/index.ts`). */
export function registerFormat(f: TraceFormat): void {
  if (!FORMATS.some((x) => x.name === f.name)) FORMATS.push(f);
}

/** The format that claims `head` most strongly, or undefined when none does. */
export function detectFormat(head: string): TraceFormat | undefined {
  let best: TraceFormat | undefined;
  let bestScore = 0;
  for (const f of FORMATS) {
    const s = f.detect(head);
    if (s > bestScore) {
      best = f;
      bestScore = s;
    }
  }
  return best;
}

/** Format by name (for `--format` overrides). */
export function formatByName(name: string): TraceFormat | undefined {
  return FORMATS.find((f) => f.name === name);
}
