/**
 * Test-side generator: one abstract stream of kernel events rendered as the four text styles Page Ledger
 * reads (modern ftrace, old ftrace with decimal pfn and tgid column, trace-cmd report, perf script), with
 * the line of every event in each rendering so tests can compare anomalies by event, not by line.
 */

import { rng } from '../helpers';

/** One event of the abstract stream. Times are in microseconds. */
export type StreamEvent =
  | { op: 'alloc'; us: number; pid: number; pfn: number; order: number; gfp?: string }
  | { op: 'allocFailed'; us: number; pid: number; order: number }
  | { op: 'free'; us: number; pid: number; pfn: number; order: number }
  | { op: 'freeBatched'; us: number; pid: number; pfn: number }
  | { op: 'cacheAdd' | 'cacheDelete'; us: number; pid: number; pfn: number; dev: string; ino: number; ofs: number }
  | { op: 'zoneLocked' | 'pcpuDrain' | 'extfrag'; us: number; pid: number; pfn: number }
  | { op: 'migrateSummary'; us: number; pid: number }
  | { op: 'unknown'; us: number; pid: number }
  | { op: 'fork'; us: number; pid: number; child: number }
  | { op: 'exit'; us: number; pid: number };

/** A task that appears on event lines. */
export interface Task {
  pid: number;
  comm: string;
  tgid?: number;
}

/** The text styles the generator writes. */
export type TextStyle = 'ftrace-modern' | 'ftrace-old' | 'trace-cmd' | 'perf-script';

/** Every style, in the order of the issue. */
export const STYLES: readonly TextStyle[] = ['ftrace-modern', 'ftrace-old', 'trace-cmd', 'perf-script'];

/** A rendered stream: the text and the 1-based line of each event. */
export interface Rendered {
  text: string;
  lineOf: number[];
}

const seconds = (us: number): string => `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;
const hashedPtr = (pfn: number): string => ((pfn * 2654435761) >>> 0).toString(16).padStart(16, '0');
const rawPtr = (pfn: number): string => '0xffffea' + (pfn * 64).toString(16).padStart(10, '0');

function subsystem(name: string): string {
  if (name.startsWith('mm_filemap')) return 'filemap';
  if (name.startsWith('sched')) return 'sched';
  if (name.startsWith('mm_migrate')) return 'migrate';
  return 'kmem';
}

/** Event name and fields as the kernel (or libtraceevent, for trace-cmd and perf) prints them. */
function body(ev: StreamEvent, style: TextStyle, tasks: Map<number, Task>, k: number): [string, string] {
  const old = style === 'ftrace-old';
  const raw = style === 'trace-cmd' || style === 'perf-script';
  const pfnText = (pfn: number): string => (old ? String(pfn) : '0x' + pfn.toString(16));
  const page = (pfn: number): string => (raw ? rawPtr(pfn) : hashedPtr(pfn));
  switch (ev.op) {
    case 'alloc':
      return ['mm_page_alloc', `page=${page(ev.pfn)} pfn=${pfnText(ev.pfn)} order=${ev.order} migratetype=1 ${old ? 'nr_free=3650 ' : ''}gfp_flags=${ev.gfp ?? 'GFP_KERNEL|__GFP_ZERO'}`];
    case 'allocFailed': {
      // Every spelling of the NULL page a failed allocation prints, rotating.
      const nulls = old ? ['(null)', ' (null)', '          (null)'] : raw ? ['(nil)', '0x0'] : ['0000000000000000'];
      return ['mm_page_alloc', `page=${nulls[k % nulls.length]} pfn=${old ? '0' : '0x0'} order=${ev.order} migratetype=0 gfp_flags=GFP_NOWAIT|__GFP_NOWARN`];
    }
    case 'free':
      return ['mm_page_free', `page=${page(ev.pfn)} pfn=${pfnText(ev.pfn)} order=${ev.order}`];
    case 'freeBatched':
      return ['mm_page_free_batched', `page=${page(ev.pfn)} pfn=${pfnText(ev.pfn)} order=0${old ? ' cold=0' : ''}`];
    case 'cacheAdd':
    case 'cacheDelete': {
      const name = ev.op === 'cacheAdd' ? 'mm_filemap_add_to_page_cache' : 'mm_filemap_delete_from_page_cache';
      const pagePart = old ? `page=${page(ev.pfn)} ` : '';
      return [name, `dev ${ev.dev} ino ${ev.ino.toString(16)} ${pagePart}pfn=${pfnText(ev.pfn)} ofs=${ev.ofs}${old ? '' : ' order=0'}`];
    }
    case 'zoneLocked':
      return ['mm_page_alloc_zone_locked', `page=${page(ev.pfn)} pfn=${pfnText(ev.pfn)} order=0 migratetype=1 percpu_refill=1`];
    case 'pcpuDrain':
      return ['mm_page_pcpu_drain', `page=${page(ev.pfn)} pfn=${pfnText(ev.pfn)} order=0 migratetype=1`];
    case 'extfrag':
      return ['mm_page_alloc_extfrag', `page=${page(ev.pfn)} pfn=${pfnText(ev.pfn)} alloc_order=0 fallback_order=3 pageblock_order=9 alloc_migratetype=0 fallback_migratetype=1 fragmenting=1 change_ownership=0`];
    case 'migrateSummary':
      return ['mm_migrate_pages', 'nr_succeeded=2 nr_failed=0 nr_thp_succeeded=0 nr_thp_failed=0 nr_thp_split=0 mode=MIGRATE_SYNC reason=compaction'];
    case 'unknown':
      return k % 2
        ? ['kmalloc', 'call_site=ffffffff8123abcd ptr=000000003c5d7e9f bytes_req=64 bytes_alloc=64 gfp_flags=GFP_KERNEL']
        : ['sched_switch', 'prev_comm=bash prev_pid=12 prev_prio=120 prev_state=S ==> next_comm=swapper/1 next_pid=0 next_prio=120'];
    case 'fork': {
      const t = tasks.get(ev.pid)!;
      const c = tasks.get(ev.child)!;
      return ['sched_process_fork', `comm=${t.comm} pid=${ev.pid} child_comm=${c.comm} child_pid=${ev.child}`];
    }
    case 'exit': {
      const t = tasks.get(ev.pid)!;
      const groupDead = t.tgid === undefined || t.tgid === ev.pid;
      return ['sched_process_exit', `comm=${t.comm} pid=${ev.pid} prio=120${old ? '' : ` group_dead=${groupDead}`}`];
    }
  }
}

const MODERN_HEADER = `# tracer: nop
#
# entries-in-buffer/entries-written: 4242/4242   #P:8
#
#                                _-----=> irqs-off/BH-disabled
#                               / _----=> need-resched
#                              | / _---=> hardirq/softirq
#                              || / _--=> preempt-depth
#                              ||| / _-=> migrate-disable
#                              |||| /     delay
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
#              | |         |   |||||     |         |`;

const OLD_HEADER = `# tracer: nop
#
# entries-in-buffer/entries-written: 4242/4242   #P:8
#
#                                      _-----=> irqs-off
#                                     / _----=> need-resched
#                                    | / _---=> hardirq/softirq
#                                    || / _--=> preempt-depth
#                                    ||| /     delay
#           TASK-PID    TGID   CPU#  ||||    TIMESTAMP  FUNCTION
#              | |        |      |   ||||       |         |`;

const FLAGS5 = ['d..1.', '.....', 'dN.2.', '...1.'];
const FLAGS4 = ['....', 'd..1', '...1', 'dN.2'];

/** Render the stream in one style. `tasks` names every pid the stream uses. */
export function render(stream: readonly StreamEvent[], tasks: readonly Task[], style: TextStyle): Rendered {
  const byPid = new Map(tasks.map((t) => [t.pid, t]));
  const out: string[] = [];
  const lineOf: number[] = [];
  if (style === 'ftrace-modern') out.push(...MODERN_HEADER.split('\n'));
  if (style === 'ftrace-old') out.push(...OLD_HEADER.split('\n'));
  if (style === 'trace-cmd') out.push('version = 6', 'CPU 2 is empty', 'CPU 5 is empty', 'cpus=8');
  stream.forEach((ev, k) => {
    const t = byPid.get(ev.pid) ?? { pid: ev.pid, comm: `task${ev.pid}` };
    const [name, fields] = body(ev, style, byPid, k);
    const cpu = String(k % 8).padStart(3, '0');
    const ts = seconds(ev.us);
    const comm = ev.pid === 0 ? (style === 'perf-script' ? 'swapper' : '<idle>') : t.comm;
    let line: string;
    switch (style) {
      case 'ftrace-modern':
        line = `${comm.padStart(16)}-${String(ev.pid).padEnd(7)} [${cpu}] ${FLAGS5[k % 4]} ${ts.padStart(12)}: ${name}: ${fields}`;
        break;
      case 'ftrace-old': {
        const tgid = t.tgid === undefined ? '-----' : String(t.tgid).padStart(5);
        line = `${comm.padStart(16)}-${String(ev.pid).padEnd(5)} (${tgid}) [${cpu}] ${FLAGS4[k % 4]} ${ts.padStart(12)}: ${name}: ${fields}`;
        break;
      }
      case 'trace-cmd':
        line = `${comm.padStart(16)}-${String(ev.pid).padEnd(5)} [${cpu}] ${ts.padStart(12)}: ${(name + ':').padEnd(22)} ${fields}`;
        break;
      case 'perf-script': {
        // perf knows no `<...>`: an unnamed task prints as `:PID`.
        const pc = comm === '<...>' ? `:${ev.pid}` : comm;
        line = `${pc.padStart(16)} ${String(ev.pid).padStart(6)} [${cpu}] ${ts}: ${subsystem(name)}:${name}: ${fields}`;
        break;
      }
    }
    out.push(line);
    lineOf.push(out.length);
    if (style === 'perf-script' && k % 3 === 0) {
      out.push('\tffffffff8123abcd __alloc_pages+0x1ed ([kernel.kallsyms])', '\tffffffff81234567 alloc_pages_vma+0x8a ([kernel.kallsyms])', '');
    }
  });
  return { text: out.join('\n') + '\n', lineOf };
}

/** Tasks with every awkward comm: dashes, spaces, slashes, `<...>`, parentheses. */
export const TASKS: readonly Task[] = [
  { pid: 0, comm: '<idle>' },
  { pid: 101, comm: 'bash', tgid: 101 },
  { pid: 202, comm: 'ld-linux-x86-64', tgid: 202 },
  { pid: 303, comm: 'Web Content', tgid: 300 },
  { pid: 404, comm: 'kworker/u16:3' },
  { pid: 505, comm: '<...>' },
  { pid: 606, comm: '(sd-pam)', tgid: 606 },
  { pid: 707, comm: 'a-1 b-2', tgid: 700 },
];

/** Figures a naive model of the stream predicts. */
export interface Expected {
  alloc: number;
  free: number;
  allocFailed: number;
  livePages: number;
  /** Live pages per process pid at the end (pid 0 is the kernel). */
  byPid: Map<number, number>;
  /** Indices of the events that are a double free / a double alloc. */
  doubleFree: number[];
  doubleAlloc: number[];
}

/**
 * A seeded stream of `n` events with allocations of orders 0..3 by every task, frees of live blocks,
 * batched frees, failed allocations, allocator-internal and unknown events, and `doubles` injected
 * double frees and double allocations. Alongside it, what a naive page map predicts.
 */
export function generate(seed: number, n: number, doubles = 3): { stream: StreamEvent[]; expected: Expected } {
  const r = rng(seed);
  const pids = TASKS.map((t) => t.pid);
  const stream: StreamEvent[] = [];
  const live: { pfn: number; order: number; pid: number }[] = [];
  const freed: { pfn: number; order: number }[] = [];
  const owner = new Map<number, number>();
  const exp: Expected = { alloc: 0, free: 0, allocFailed: 0, livePages: 0, byPid: new Map(), doubleFree: [], doubleAlloc: [] };
  let nextPfn = 0x10000;
  let us = 5_000_000_123;
  const injectAt = new Set<number>();
  for (let d = 0; d < doubles * 2; d++) injectAt.add(Math.floor(((d + 1) * n) / (doubles * 2 + 1)));
  let injected = 0;
  for (let k = 0; k < n; k++) {
    us += 1 + Math.floor(r() * 40);
    const pid = pids[Math.floor(r() * pids.length)];
    if (injectAt.has(k)) {
      if (injected++ % 2 === 0 && freed.length) {
        const f = freed[Math.floor(r() * freed.length)];
        exp.doubleFree.push(stream.length);
        stream.push({ op: 'free', us, pid, pfn: f.pfn, order: f.order });
        exp.free++;
        continue;
      }
      if (live.length) {
        const l = live[Math.floor(r() * live.length)];
        exp.doubleAlloc.push(stream.length);
        stream.push({ op: 'alloc', us, pid, pfn: l.pfn, order: 0 });
        exp.alloc++;
        owner.set(l.pfn, pid);
        continue;
      }
    }
    const x = r();
    if (x < 0.45 || live.length === 0) {
      const order = r() < 0.7 ? 0 : 1 + Math.floor(r() * 3);
      const pfn = nextPfn;
      nextPfn += (1 << order) + (r() < 0.3 ? 4 : 0);
      stream.push({ op: 'alloc', us, pid, pfn, order, gfp: r() < 0.2 ? '0x100cca' : undefined });
      exp.alloc++;
      live.push({ pfn, order, pid });
      for (let p = pfn; p < pfn + (1 << order); p++) owner.set(p, pid);
    } else if (x < 0.8) {
      const at = Math.floor(r() * live.length);
      const l = live[at];
      live.splice(at, 1);
      if (l.order === 0 && r() < 0.4) stream.push({ op: 'freeBatched', us, pid, pfn: l.pfn });
      else stream.push({ op: 'free', us, pid, pfn: l.pfn, order: l.order });
      exp.free++;
      freed.push({ pfn: l.pfn, order: l.order });
      for (let p = l.pfn; p < l.pfn + (1 << l.order); p++) owner.delete(p);
    } else if (x < 0.85) {
      stream.push({ op: 'allocFailed', us, pid, order: Math.floor(r() * 3) });
      exp.allocFailed++;
    } else if (x < 0.93) {
      const ops = ['zoneLocked', 'pcpuDrain', 'extfrag'] as const;
      stream.push({ op: ops[Math.floor(r() * 3)], us, pid, pfn: nextPfn + 100 });
    } else if (x < 0.96) {
      stream.push({ op: 'migrateSummary', us, pid });
    } else {
      stream.push({ op: 'unknown', us, pid });
    }
  }
  for (const [, pid] of owner) {
    exp.livePages++;
    exp.byPid.set(pid, (exp.byPid.get(pid) ?? 0) + 1);
  }
  return { stream, expected: exp };
}
