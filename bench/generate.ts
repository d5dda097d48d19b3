/**
 * Writes the benchmark inputs: a native trace (seed scenario), ftrace kmem text and a page_owner dump of
 * a given size. Bundled and run by bench/run.mjs; inputs are cached in bench/.data (git-ignored).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { synthesize } from '../src/core/synth/scenarios';
import { PagePool, Rng } from '../src/core/synth/rng';

type Sink = (s: string) => void;

// Synchronous writes: the generators produce text faster than a stream drains, and buffering a
// gigabyte of strings would measure the garbage collector instead.
function writer(path: string): { sink: Sink; close: () => Promise<void> } {
  const fd = openSync(path, 'w');
  return {
    sink: (s) => {
      writeSync(fd, s);
    },
    close: async () => closeSync(fd),
  };
}

/** Native trace with `events` events (about 60 bytes an event). */
async function native(path: string, events: number): Promise<void> {
  const w = writer(path);
  synthesize({ scenario: 'cow-snapshots', seed: 42, events }, w.sink);
  await w.close();
}

const COMMS = ['postgres', 'kworker/u16:2', 'Chrome_IOThread', '<...>', 'qemu-system-x86', 'java', 'kswapd0'];

/** ftrace kmem text (modern layout, hex pfn, tgid column off) of about `bytes` bytes. */
async function ftrace(path: string, bytes: number): Promise<void> {
  const w = writer(path);
  const rng = new Rng(7);
  const pool = new PagePool(0x100000, 1 << 20);
  const live: number[] = [];
  let t = 100_000_000; // µs
  let written = 0;
  w.sink('# tracer: nop\n#\n# entries-in-buffer/entries-written: 0/0   #P:2\n#\n#                                _-----=> irqs-off/BH-disabled\n#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n#              | |         |   |||||     |         |\n');
  while (written < bytes) {
    const lines: string[] = [];
    for (let k = 0; k < 4096; k++) {
      t += rng.range(1, 40);
      const pid = 1000 + rng.int(200);
      const comm = COMMS[pid % COMMS.length];
      const cpu = String(rng.int(8)).padStart(3, '0');
      const ts = `${Math.floor(t / 1e6)}.${String(t % 1e6).padStart(6, '0')}`;
      let line: string;
      if (live.length > 0 && (rng.chance(0.48) || pool.available === 0)) {
        const i = rng.int(live.length);
        const pfn = live[i];
        live[i] = live[live.length - 1];
        live.pop();
        pool.give(pfn);
        line = `${comm}-${pid} [${cpu}] d..1. ${ts}: mm_page_free: page=0000000000000000 pfn=0x${pfn.toString(16)} order=0`;
      } else {
        const pfn = pool.take(rng);
        live.push(pfn);
        line = `${comm}-${pid} [${cpu}] ..... ${ts}: mm_page_alloc: page=00000000${(pfn * 64).toString(16).padStart(8, '0')} pfn=0x${pfn.toString(16)} order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_ZERO`;
      }
      lines.push(line);
    }
    const s = lines.join('\n') + '\n';
    written += s.length;
    w.sink(s);
  }
  await w.close();
}

const STACK = [
  ' get_page_from_freelist+0x1422/0x1540',
  ' __alloc_pages+0x17e/0x340',
  ' alloc_pages_mpol+0x97/0x1a0',
  ' folio_alloc+0x18/0x50',
  ' filemap_alloc_folio+0xe2/0xf0',
  ' page_cache_ra_unbounded+0xfe/0x1e0',
  ' filemap_fault+0x5c5/0xb10',
  ' __do_fault+0x31/0x120',
];

/** page_owner dump (6.x layout) of about `bytes` bytes. */
async function pageOwner(path: string, bytes: number): Promise<void> {
  const w = writer(path);
  const rng = new Rng(9);
  let pfn = 0x100000;
  let written = 0;
  while (written < bytes) {
    const recs: string[] = [];
    for (let k = 0; k < 1024; k++) {
      const order = rng.chance(0.9) ? 0 : rng.range(1, 3);
      const pid = 1 + rng.int(3000);
      const ts = 1_000_000_000 + rng.int(1e9);
      recs.push(
        `Page allocated via order ${order}, mask 0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), pid ${pid}, tgid ${pid} (${COMMS[pid % COMMS.length]}), ts ${ts} ns\n` +
          `PFN 0x${pfn.toString(16)} type Movable Block ${pfn >> 9} type Movable Flags 0x17ffffc0020068(uptodate|lru|active|node=0|zone=2)\n` +
          STACK.slice(0, 4 + rng.int(4)).join('\n') +
          '\n',
      );
      pfn += 2 ** order + rng.int(3);
    }
    const s = recs.join('\n') + '\n';
    written += s.length;
    w.sink(s);
  }
  await w.close();
}

const [kind, path, size] = process.argv.slice(2);
const n = Number(size);
const job = kind === 'native' ? native(path, n) : kind === 'ftrace' ? ftrace(path, n) : kind === 'page_owner' ? pageOwner(path, n) : null;
if (!job) {
  process.stderr.write('usage: generate native|ftrace|page_owner PATH SIZE\n');
  process.exit(2);
}
await job;
