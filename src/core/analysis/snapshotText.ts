import { FREED, PAGE_BYTES, type PageSet } from './pageSet';
import type { SnapshotDiff } from './snapshotDiff';
import { countHeld } from './snapshotDiff';

/** A canonical text rendering of one side, and where each text line's pages are in the set. */
export interface SnapshotText {
  text: string;
  /** For each text line (0-based), the index in the set of its first page; -1 for header lines. */
  firstPage: Int32Array;
}

/**
 * One page set as text, one line per run of pages that follow each other with the same owner, node,
 * sharing and allocation: `0x100000-0x100003  4 pages  pid 7 (app)  node 0  vaddr 0x7f00..  shared`.
 * Source lines are left out on purpose: they differ between two files even where the pages do not, and
 * VS Code's diff editor matches equal lines. `breaks` forces a new line at those keys.
 */
export function renderSnapshotText(s: PageSet, breaks?: Set<number>): SnapshotText {
  const lines: string[] = [`# ${s.name}`, `# ${s.origin}`, `# ${countHeld(s)} pages held, keyed by ${s.keyKind}`];
  const first: number[] = [-1, -1, -1];
  const width = Math.max(1, Math.ceil(Math.log2((s.length ? keyAddr(s, s.key[s.length - 1]) : 0) + 1) / 4));
  let start = 0;
  for (let i = 1; i <= s.length; i++) {
    if (i < s.length && continues(s, i - 1, i) && !breaks?.has(s.key[i])) continue;
    lines.push(runLine(s, start, i, width));
    first.push(start);
    start = i;
  }
  const firstPage = new Int32Array(first.length);
  firstPage.set(first);
  return { text: lines.join('\n') + '\n', firstPage };
}

/**
 * Both sides of a diff as text, with runs cut at the union of both sides' run boundaries, so that a page
 * range unchanged between A and B gives the same line on both sides and the diff editor lines them up.
 */
export function renderDiffText(d: SnapshotDiff): { a: SnapshotText; b: SnapshotText } {
  const breaks = new Set<number>();
  collectBreaks(d.a, breaks);
  collectBreaks(d.b, breaks);
  return { a: renderSnapshotText(d.a, breaks), b: renderSnapshotText(d.b, breaks) };
}

function collectBreaks(s: PageSet, out: Set<number>): void {
  for (let i = 0; i < s.length; i++) {
    if (i === 0 || !continues(s, i - 1, i)) out.add(s.key[i]);
    // The key after a run's end starts a new run on the other side too.
    if (i === s.length - 1 || !continues(s, i, i + 1)) out.add(s.key[i] + 1);
  }
}

function continues(s: PageSet, p: number, i: number): boolean {
  if (s.key[i] !== s.key[p] + 1) return false;
  if (s.owner[i] !== s.owner[p] || s.node[i] !== s.node[p] || s.shared[i] !== s.shared[p] || s.state[i] !== s.state[p] || s.exited[i] !== s.exited[p]) return false;
  const va = s.vaddr[p];
  const vb = s.vaddr[i];
  if (va === va || vb === vb) {
    if (s.keyKind === 'pfn' && vb !== va + PAGE_BYTES) return false;
  }
  const ta = s.allocId[p];
  const tb = s.allocId[i];
  if (ta === ta || tb === tb) {
    // A page_owner record covers 2^order pages with one identity: a new identity is a new allocation.
    if (ta !== tb || s.allocOrder[i] !== s.allocOrder[p]) return false;
  }
  return true;
}

function keyAddr(s: PageSet, key: number): number {
  return s.keyKind === 'vaddr' ? key * PAGE_BYTES : key;
}

function hexPad(n: number, width: number): string {
  return '0x' + n.toString(16).padStart(width, '0');
}

function runLine(s: PageSet, start: number, end: number, width: number): string {
  const n = end - start;
  const from = hexPad(keyAddr(s, s.key[start]), width);
  const to = hexPad(keyAddr(s, s.key[end - 1]), width);
  const parts = [n === 1 ? from : `${from}-${to}`, `${n} page${n === 1 ? '' : 's'}`];
  parts.push(s.state[start] === FREED ? 'free' : s.owners[s.owner[start]].label);
  if (s.node[start] >= 0) parts.push(`node ${s.node[start]}`);
  if (s.keyKind === 'pfn' && s.vaddr[start] === s.vaddr[start]) parts.push(`vaddr 0x${s.vaddr[start].toString(16)}`);
  if (s.keyKind === 'vaddr' && s.pfn[start] === s.pfn[start]) parts.push(`pfn 0x${s.pfn[start].toString(16)}`);
  if (s.allocId[start] === s.allocId[start]) parts.push(`order ${s.allocOrder[start]} alloc ${s.allocId[start].toString(16)}`);
  if (s.shared[start]) parts.push('shared');
  if (s.exited[start]) parts.push('owner exited');
  return parts.join('  ');
}
