import { closeSync, existsSync, openSync, readSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, join, normalize } from 'node:path';
import type { InputSource } from '../core/trace';
import { fileSource } from './fileSource';

/** What a CRIU dump directory expands to. */
export interface CriuDirInputs {
  /** The decoded pagemap and mm images of every dump, oldest dump first (parents before children). */
  sources: InputSource[];
  /** The dump directories of the chain, oldest first. */
  chain: string[];
  /** Files left out, each with why (binary images that need `crit decode`, other image kinds). */
  skipped: { path: string; reason: string }[];
}

const HEAD = 4096;
const MAGIC_RE = /"magic"\s*:\s*"([A-Z_]+)"/;
// A dump chain deeper than this is a link loop that realpath did not catch (e.g. a bind mount).
const MAX_CHAIN = 4096;

/** True when `path` is a directory (a CRIU dump directory, for the CLI). */
export function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/**
 * Expand a CRIU dump directory into its decoded images, following `parent` links (the symlink
 * `criu dump --prev-images-dir` leaves) up the chain so that every parent's pagemaps are read before
 * its children's: that order is what lets the parser resolve PE_PARENT ranges. The images must be JSON
 * (`crit decode -i pagemap-1.img --pretty -o pagemap-1.json`); the binary `.img` files are skipped and listed.
 */
export function criuDirInputs(dir: string): CriuDirInputs {
  const chain: string[] = [];
  const seen = new Set<string>();
  let cur: string | undefined = normalize(dir);
  while (cur !== undefined && chain.length < MAX_CHAIN) {
    const real = realpathSync(cur);
    if (seen.has(real)) break;
    seen.add(real);
    chain.push(cur);
    const parent = join(cur, 'parent');
    cur = isDirectory(parent) ? parent : undefined;
  }
  chain.reverse();
  const sources: InputSource[] = [];
  const skipped: { path: string; reason: string }[] = [];
  for (const d of chain) {
    const names = readdirSync(d).filter((n) => n !== 'parent').sort();
    for (const n of names) {
      const p = join(d, n);
      if (!statSync(p).isFile()) continue;
      const kind = imageKind(p);
      if (kind === 'PAGEMAP' || kind === 'MM') sources.push(fileSource(p));
      else if (kind === null) {
        if (/^(pagemap|mm)-\d+\.img$/.test(n)) skipped.push({ path: p, reason: `binary CRIU image: decode it with "crit decode -i ${n} --pretty -o ${basename(n, '.img')}.json"` });
        else skipped.push({ path: p, reason: 'not crit JSON' });
      } else skipped.push({ path: p, reason: `a ${kind} image: only PAGEMAP and MM images carry page ownership` });
    }
  }
  return { sources, chain, skipped };
}

/** The `magic` of a crit JSON file, or null when the file is not crit JSON. */
function imageKind(path: string): string | null {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(HEAD);
    const n = readSync(fd, buf, 0, HEAD, 0);
    const head = buf.subarray(0, n).toString('utf8');
    if (!head.trimStart().startsWith('{')) return null;
    return MAGIC_RE.exec(head)?.[1] ?? null;
  } finally {
    closeSync(fd);
  }
}
