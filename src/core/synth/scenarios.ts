import { ANOMALY_KINDS, type AnomalyKind } from '../analysis/anomalies';
import { NATIVE_HEADER } from '../formats/native';
import { PagePool, Rng } from './rng';

/** The seed scenarios. */
export const SCENARIOS = ['dax-kmem-persistent', 'cow-snapshots', 'numactlx-remap'] as const;
/** One of SCENARIOS. */
export type ScenarioName = (typeof SCENARIOS)[number];

/** Kinds the generator can inject (every rule but parse-error). */
export const INJECTABLE: readonly AnomalyKind[] = ANOMALY_KINDS.filter((k) => k !== 'parse-error');

/** Options for `synthesize`. */
export interface SynthOptions {
  scenario: ScenarioName;
  seed: number;
  /** Events to write (the last step may add a few more). */
  events: number;
  /** About one injected anomaly per this many events; 0 = a clean trace. Default 500. */
  injectEvery?: number;
  /** Kinds to inject, in turn. Default: all of INJECTABLE. */
  kinds?: readonly AnomalyKind[];
}

/** One injected anomaly: where analyze must report it. */
export interface TruthAnomaly {
  kind: AnomalyKind;
  line: number;
  pfn: string;
}

/** The truth file written next to a generated trace. */
export interface Truth {
  scenario: ScenarioName;
  seed: number;
  events: number;
  lines: number;
  anomalies: TruthAnomaly[];
}

interface UserPage {
  vaddr: number;
  pfn: number;
  /** Live snapshot sharing the page (0 = none). */
  snap: number;
}

interface Proc {
  pid: number;
  comm: string;
  /** NUMA node the process is bound to, -1 when unbound. */
  bound: number;
  pages: UserPage[];
  nextVaddr: number;
  snap: Snap | null;
}

interface SnapEntry {
  vaddr: number;
  pfn: number;
  cowed: boolean;
}

interface Snap {
  id: number;
  pid: number;
  entries: SnapEntry[];
}

const BLOCK_PAGES = 32768; // 128 MiB memory blocks, the x86-64 default
const RAM_START = 0x100000;
const DAX_START = 0x4000000;

const COMMS = ['postgres', 'redis-server', 'java', 'qemu-system-x86', 'kworker/u16:2', 'memcached', 'python3', 'nginx: worker', 'criu', 'app'];

/** Buffered line writer that knows the number of every line it writes. */
class Out {
  lines = 0;
  events = 0;
  private buf: string[] = [];
  constructor(private readonly sink: (chunk: string) => void) {}
  raw(s: string): number {
    this.buf.push(s);
    if (this.buf.length >= 8192) this.flush();
    return ++this.lines;
  }
  ev(t: number, s: string): number {
    this.events++;
    return this.raw(t + ' ' + s);
  }
  flush(): void {
    if (this.buf.length) this.sink(this.buf.join('\n') + '\n');
    this.buf = [];
  }
}

const hx = (n: number): string => '0x' + n.toString(16);
/** A field value, quoted when it holds a space. */
const q = (s: string): string => (/\s/.test(s) ? `"${s}"` : s);

/**
 * Write one seed scenario as a Page Ledger trace through `sink`, and return the truth: every injected
 * anomaly with its line. Deterministic for a given (scenario, seed, events, injectEvery). The clean part
 * of the trace follows every ownership rule; each injection is a short self-contained sequence on pages
 * of its own, so it yields exactly one anomaly of its kind.
 */
export function synthesize(opts: SynthOptions, sink: (chunk: string) => void): Truth {
  return new Generator(opts, sink).run();
}

class Generator {
  private readonly rng: Rng;
  private readonly out: Out;
  private t = 1_000_000;
  private readonly procs: Proc[] = [];
  private nextPid = 1000;
  private nextSnap = 1;
  private nextIno = 100;
  private readonly kernel: { pfn: number; order: number }[] = [];
  private readonly fsBlocks: { pfn: number; ino: number; off: number }[] = [];
  private readonly ram: PagePool;
  private readonly kbig: PagePool;
  private readonly dax: PagePool;
  private readonly fsPool: PagePool;
  private readonly daxNode: number;
  private readonly daxPages: number;
  private readonly reserved: number;
  private readonly offlineBlock: { id: number; start: number };
  private offlineNext = 0;
  private readonly truth: TruthAnomaly[] = [];
  private readonly kinds: readonly AnomalyKind[];
  private kindTurn = 0;
  private app: Proc | null = null;

  constructor(private readonly opts: SynthOptions, sink: (chunk: string) => void) {
    this.rng = new Rng(opts.seed * 2654435761 + SCENARIOS.indexOf(opts.scenario));
    this.out = new Out(sink);
    this.kinds = opts.kinds ?? INJECTABLE;
    // Size memory to the trace: enough that pages recycle, so ownership changes hands often.
    const userPages = clamp(pow2(opts.events / 6), 16384, 1 << 20);
    this.ram = new PagePool(RAM_START, userPages);
    this.kbig = new PagePool(RAM_START + userPages, Math.max(1024, userPages / 32), 8);
    this.daxNode = opts.scenario === 'numactlx-remap' ? 3 : 1;
    const daxBlocks = Math.max(3, Math.ceil(userPages / BLOCK_PAGES)) + 1;
    this.daxPages = daxBlocks * BLOCK_PAGES;
    this.reserved = 4096;
    this.fsPool = new PagePool(DAX_START, this.reserved);
    this.dax = new PagePool(DAX_START + this.reserved, (daxBlocks - 1) * BLOCK_PAGES - this.reserved);
    this.offlineBlock = { id: DAX_START / BLOCK_PAGES + daxBlocks - 1, start: DAX_START + (daxBlocks - 1) * BLOCK_PAGES };
  }

  run(): Truth {
    this.layout();
    const every = this.opts.injectEvery ?? 500;
    let nextInject = every > 0 ? this.rng.range(every / 2, every) : Infinity;
    while (this.out.events < this.opts.events) {
      if (this.out.events >= nextInject) {
        this.inject(this.kinds[this.kindTurn++ % this.kinds.length]);
        nextInject = this.out.events + this.rng.range(Math.ceil(every / 2), Math.ceil(every * 1.5));
        continue;
      }
      this.step();
    }
    this.out.flush();
    this.truth.sort((a, b) => a.line - b.line);
    return { scenario: this.opts.scenario, seed: this.opts.seed, events: this.out.events, lines: this.out.lines, anomalies: this.truth };
  }

  private tick(): number {
    this.t += this.rng.range(200, 4000);
    return this.t;
  }

  private ev(s: string): number {
    return this.out.ev(this.tick(), s);
  }

  // ---------------------------------------------------------------- layout and population

  private layout(): void {
    const o = this.out;
    o.raw(NATIVE_HEADER);
    o.raw(`# scenario=${this.opts.scenario} seed=${this.opts.seed} events=${this.opts.events}`);
    o.raw('node id=0 name=dram');
    o.raw(`node id=${this.daxNode} name=${this.opts.scenario === 'numactlx-remap' ? 'virtual-dax' : 'dax0.0-kmem'}`);
    o.raw(`region name=ram0 node=0 start=${hx(RAM_START)} pages=${this.ram.units + this.kbig.units * 8} type=ram`);
    const daxType = this.opts.scenario === 'numactlx-remap' ? 'devdax' : 'kmem';
    o.raw(`region name=dax0.0 node=${this.daxNode} start=${hx(DAX_START)} pages=${this.daxPages} type=${daxType} dev=/dev/dax0.0 reserved=${this.reserved}`);
    const blocks = this.daxPages / BLOCK_PAGES;
    for (let k = 0; k < blocks; k++) {
      o.raw(`block id=${DAX_START / BLOCK_PAGES + k} start=${hx(DAX_START + k * BLOCK_PAGES)} pages=${BLOCK_PAGES} node=${this.daxNode} state=offline`);
    }
    // Hot-plug: the DAX device is onlined block by block, all but the last one.
    for (let k = 0; k < blocks - 1; k++) this.ev(`online block=${DAX_START / BLOCK_PAGES + k}`);
    const n = this.opts.scenario === 'numactlx-remap' ? 6 : 10;
    for (let k = 0; k < n; k++) this.spawn(k < 2 || this.rng.chance(0.5) ? -1 : this.opts.scenario === 'dax-kmem-persistent' ? this.daxNode : -1);
    if (this.opts.scenario === 'numactlx-remap') {
      this.app = this.spawn(this.daxNode, 'app');
    }
  }

  private spawn(bound: number, comm?: string): Proc {
    const pid = this.nextPid++;
    const p: Proc = { pid, comm: comm ?? this.rng.pick(COMMS), bound, pages: [], nextVaddr: 0x7f0000000000 + this.rng.int(0x1000) * 0x100000, snap: null };
    this.ev(`fork pid=1 child=${pid} comm=${q(p.comm)}`);
    if (bound >= 0) this.ev(`membind pid=${pid} node=${bound}`);
    this.procs.push(p);
    return p;
  }

  private poolFor(p: Proc): PagePool {
    return p.bound >= 0 ? this.dax : this.ram;
  }

  private nodeOf(pfn: number): number {
    return pfn >= DAX_START ? this.daxNode : 0;
  }

  private giveBack(pfn: number): void {
    if (this.fsPool.contains(pfn)) this.fsPool.give(pfn);
    else if (this.dax.contains(pfn)) this.dax.give(pfn);
    else if (this.ram.contains(pfn)) this.ram.give(pfn);
    else if (this.kbig.contains(pfn)) this.kbig.give(pfn);
  }

  // ---------------------------------------------------------------- the clean part

  private step(): void {
    const r = this.rng.next();
    const sc = this.opts.scenario;
    const procs = this.procs;
    const p = procs[this.rng.int(procs.length)];
    if (sc === 'numactlx-remap') {
      const app = this.app!;
      if (r < 0.32) return this.userAlloc(app);
      if (r < 0.5) return this.userWrite(app);
      if (r < 0.6) return this.userFree(app);
      if (r < 0.63) return this.snapshotOrRestore(app);
      if (r < 0.75) return this.userAlloc(p);
      if (r < 0.82) return this.userFree(p);
      if (r < 0.9) return this.kernelStep();
      if (r < 0.93) return this.fsStep();
      return this.lifeStep();
    }
    if (sc === 'cow-snapshots') {
      if (r < 0.3) return this.userAlloc(p);
      if (r < 0.5) return this.userWrite(p);
      if (r < 0.6) return this.userFree(p);
      if (r < 0.66) return this.snapshotOrRestore(p);
      if (r < 0.8) return this.kernelStep();
      if (r < 0.85) return this.migrateStep(p);
      if (r < 0.9) return this.fsStep();
      return this.lifeStep();
    }
    if (r < 0.3) return this.userAlloc(p);
    if (r < 0.42) return this.userFree(p);
    if (r < 0.5) return this.userWrite(p);
    if (r < 0.7) return this.fsStep();
    if (r < 0.85) return this.kernelStep();
    if (r < 0.88) return this.migrateStep(p);
    if (r < 0.9) return this.snapshotOrRestore(p);
    return this.lifeStep();
  }

  private userAlloc(p: Proc): void {
    if (p.pages.length > 4096) return this.userFree(p);
    const pool = this.poolFor(p);
    const pfn = pool.take(this.rng);
    if (pfn < 0) return this.userFree(p);
    const vaddr = p.nextVaddr;
    p.nextVaddr += 0x1000;
    const node = this.nodeOf(pfn);
    if (p === this.app) {
      this.ev(`fault pid=${p.pid} vaddr=${hx(vaddr)} dev=/dev/dax0.0 devoff=${hx((pfn - DAX_START) * 4096)} pfn=${hx(pfn)} node=${node} agent=numactlX`);
    } else {
      this.ev(`alloc pfn=${hx(pfn)} order=0 pid=${p.pid} comm=${q(p.comm)} node=${node} gfp=GFP_HIGHUSER_MOVABLE`);
      this.ev(`map pid=${p.pid} vaddr=${hx(vaddr)} pfn=${hx(pfn)}`);
    }
    p.pages.push({ vaddr, pfn, snap: 0 });
  }

  private userFree(p: Proc): void {
    if (p.pages.length === 0) return;
    const k = this.rng.int(p.pages.length);
    const pg = p.pages[k];
    if (pg.snap) return; // shared with a live snapshot: freeing it would leave the snapshot dangling
    this.ev(`unmap pid=${p.pid} vaddr=${hx(pg.vaddr)} pfn=${hx(pg.pfn)}`);
    this.ev(`free pfn=${hx(pg.pfn)} order=0`);
    this.giveBack(pg.pfn);
    p.pages[k] = p.pages[p.pages.length - 1];
    p.pages.pop();
  }

  private userWrite(p: Proc): void {
    if (p.pages.length === 0) return this.userAlloc(p);
    const pg = p.pages[this.rng.int(p.pages.length)];
    if (pg.snap) {
      const snap = p.snap!;
      const np = this.poolFor(p).take(this.rng);
      if (np < 0) return;
      this.ev(`cow snap=${snap.id} pid=${p.pid} vaddr=${hx(pg.vaddr)} old=${hx(pg.pfn)} new=${hx(np)}`);
      const entry = snap.entries.find((e) => e.pfn === pg.pfn)!;
      entry.cowed = true;
      pg.pfn = np;
      pg.snap = 0;
    }
    this.ev(`write pid=${p.pid} vaddr=${hx(pg.vaddr)} pfn=${hx(pg.pfn)}`);
  }

  private snapshotOrRestore(p: Proc): void {
    if (!p.snap) {
      if (p.pages.length === 0) return this.userAlloc(p);
      const snap: Snap = { id: this.nextSnap++, pid: p.pid, entries: [] };
      this.ev(`snapshot-begin snap=${snap.id} pid=${p.pid}`);
      for (const pg of p.pages) {
        this.ev(`snapref snap=${snap.id} vaddr=${hx(pg.vaddr)} pfn=${hx(pg.pfn)}`);
        snap.entries.push({ vaddr: pg.vaddr, pfn: pg.pfn, cowed: false });
        pg.snap = snap.id;
      }
      this.ev(`snapshot-end snap=${snap.id}`);
      p.snap = snap;
      return;
    }
    if (this.rng.chance(0.5)) this.restore(p);
    else this.drop(p);
  }

  private restore(p: Proc): void {
    const snap = p.snap!;
    for (const e of snap.entries) {
      if (!e.cowed) continue;
      const k = p.pages.findIndex((pg) => pg.vaddr === e.vaddr);
      if (k >= 0) {
        const pg = p.pages[k];
        this.ev(`unmap pid=${p.pid} vaddr=${hx(pg.vaddr)} pfn=${hx(pg.pfn)}`);
        this.ev(`free pfn=${hx(pg.pfn)} order=0`);
        this.giveBack(pg.pfn);
        pg.pfn = e.pfn;
        pg.snap = snap.id;
      } else {
        p.pages.push({ vaddr: e.vaddr, pfn: e.pfn, snap: snap.id });
      }
      e.cowed = false;
    }
    this.ev(`restore snap=${snap.id} pid=${p.pid}`);
  }

  private drop(p: Proc): void {
    const snap = p.snap!;
    this.ev(`snapshot-drop snap=${snap.id}`);
    const byPfn = new Map<number, UserPage>();
    for (const pg of p.pages) if (pg.snap === snap.id) byPfn.set(pg.pfn, pg);
    for (const e of snap.entries) {
      if (e.cowed) this.giveBack(e.pfn);
      else {
        const pg = byPfn.get(e.pfn);
        if (pg) pg.snap = 0;
      }
    }
    p.snap = null;
  }

  private kernelStep(): void {
    if (this.kernel.length > 0 && (this.rng.chance(0.5) || this.kbig.available === 0)) {
      const k = this.rng.int(this.kernel.length);
      const a = this.kernel[k];
      this.ev(`free pfn=${hx(a.pfn)} order=${a.order}`);
      this.kbig.give(a.pfn);
      this.kernel[k] = this.kernel[this.kernel.length - 1];
      this.kernel.pop();
      return;
    }
    const pfn = this.kbig.take(this.rng);
    if (pfn < 0) return;
    const order = this.rng.chance(0.7) ? 0 : this.rng.range(1, 3);
    this.ev(`alloc pfn=${hx(pfn)} order=${order} owner=kernel node=0 gfp=GFP_KERNEL`);
    this.kernel.push({ pfn, order });
  }

  private fsStep(): void {
    if (this.fsBlocks.length > 0 && (this.rng.chance(0.4) || this.fsPool.available === 0)) {
      const k = this.rng.int(this.fsBlocks.length);
      const f = this.fsBlocks[k];
      this.ev(`fsfree dev=pmem0 ino=${f.ino} off=${hx(f.off)} pfn=${hx(f.pfn)}`);
      this.fsPool.give(f.pfn);
      this.fsBlocks[k] = this.fsBlocks[this.fsBlocks.length - 1];
      this.fsBlocks.pop();
      return;
    }
    const pfn = this.fsPool.take(this.rng);
    if (pfn < 0) return;
    const ino = this.rng.chance(0.3) ? this.nextIno++ : this.nextIno - 1 - this.rng.int(Math.min(8, this.nextIno - 100));
    const off = this.rng.int(4096) * 4096;
    this.ev(`fsalloc dev=pmem0 ino=${ino} off=${hx(off)} pfn=${hx(pfn)} node=${this.daxNode}`);
    this.fsBlocks.push({ pfn, ino, off });
  }

  private migrateStep(p: Proc): void {
    if (p.pages.length === 0 || p === this.app) return;
    const pg = p.pages[this.rng.int(p.pages.length)];
    if (pg.snap) return;
    const to = this.poolFor(p).take(this.rng);
    if (to < 0) return;
    this.ev(`migrate pfn=${hx(pg.pfn)} order=0 to=${hx(to)} node=${this.nodeOf(to)}`);
    this.giveBack(pg.pfn);
    pg.pfn = to;
  }

  private lifeStep(): void {
    if (this.procs.length < 6 || this.rng.chance(0.5)) {
      this.spawn(this.opts.scenario === 'dax-kmem-persistent' && this.rng.chance(0.3) ? this.daxNode : -1);
      return;
    }
    const k = this.rng.int(this.procs.length);
    const p = this.procs[k];
    if (p === this.app || p.pages.length > 200) return;
    this.exit(p);
    this.procs[k] = this.procs[this.procs.length - 1];
    this.procs.pop();
  }

  private exit(p: Proc): void {
    if (p.snap) this.drop(p);
    for (const pg of p.pages) {
      this.ev(`unmap pid=${p.pid} vaddr=${hx(pg.vaddr)} pfn=${hx(pg.pfn)}`);
      this.ev(`free pfn=${hx(pg.pfn)} order=0`);
      this.giveBack(pg.pfn);
    }
    p.pages = [];
    this.ev(`exit pid=${p.pid}`);
  }

  private unbound(): Proc {
    const free = this.procs.filter((p) => p.bound < 0 && p !== this.app);
    return free.length ? this.rng.pick(free) : this.spawn(-1);
  }

  // ---------------------------------------------------------------- injections

  private mark(kind: AnomalyKind, line: number, pfn: number): void {
    this.truth.push({ kind, line, pfn: hx(pfn) });
  }

  private inject(kind: AnomalyKind): void {
    const rng = this.rng;
    switch (kind) {
      case 'double-free': {
        const b = this.kbig.take(rng);
        if (b < 0) return;
        this.ev(`alloc pfn=${hx(b)} order=0 owner=kernel node=0 gfp=GFP_KERNEL`);
        this.ev(`free pfn=${hx(b)} order=0`);
        this.mark(kind, this.ev(`free pfn=${hx(b)} order=0`), b);
        this.kbig.give(b);
        return;
      }
      case 'double-alloc': {
        const w = this.unbound();
        const p = this.ram.take(rng);
        if (p < 0) return;
        this.ev(`alloc pfn=${hx(p)} order=0 owner=kernel node=0 gfp=GFP_KERNEL`);
        this.mark(kind, this.ev(`alloc pfn=${hx(p)} order=0 pid=${w.pid} comm=${q(w.comm)} node=0 gfp=GFP_HIGHUSER_MOVABLE`), p);
        const vaddr = w.nextVaddr;
        w.nextVaddr += 0x1000;
        this.ev(`map pid=${w.pid} vaddr=${hx(vaddr)} pfn=${hx(p)}`);
        w.pages.push({ vaddr, pfn: p, snap: 0 });
        return;
      }
      case 'owner-conflict': {
        if (this.app) {
          const p = this.fsPool.take(rng);
          if (p < 0) return;
          const ino = this.nextIno++;
          this.ev(`fsalloc dev=pmem0 ino=${ino} off=0x0 pfn=${hx(p)} node=${this.daxNode}`);
          const vaddr = this.app.nextVaddr;
          this.app.nextVaddr += 0x1000;
          this.mark(kind, this.ev(`fault pid=${this.app.pid} vaddr=${hx(vaddr)} dev=/dev/dax0.0 devoff=${hx((p - DAX_START) * 4096)} pfn=${hx(p)} node=${this.daxNode} agent=numactlX`), p);
          this.app.pages.push({ vaddr, pfn: p, snap: 0 });
          return;
        }
        const v = this.unbound();
        const p = this.dax.take(rng);
        if (p < 0) return;
        this.ev(`alloc pfn=${hx(p)} order=0 pid=${v.pid} comm=${q(v.comm)} node=${this.daxNode} gfp=GFP_HIGHUSER_MOVABLE`);
        const ino = this.nextIno++;
        this.mark(kind, this.ev(`fsalloc dev=pmem0 ino=${ino} off=0x0 pfn=${hx(p)} node=${this.daxNode}`), p);
        this.ev(`fsfree dev=pmem0 ino=${ino} off=0x0 pfn=${hx(p)}`);
        this.dax.give(p);
        return;
      }
      case 'use-after-free': {
        const v = this.unbound();
        const p = this.ram.take(rng);
        if (p < 0) return;
        const va = hx(v.nextVaddr);
        v.nextVaddr += 0x1000;
        this.ev(`alloc pfn=${hx(p)} order=0 pid=${v.pid} comm=${q(v.comm)} node=0 gfp=GFP_HIGHUSER_MOVABLE`);
        this.ev(`map pid=${v.pid} vaddr=${va} pfn=${hx(p)}`);
        this.ev(`unmap pid=${v.pid} vaddr=${va} pfn=${hx(p)}`);
        this.ev(`free pfn=${hx(p)} order=0`);
        this.mark(kind, this.ev(`write pid=${v.pid} vaddr=${va} pfn=${hx(p)}`), p);
        this.ram.give(p);
        return;
      }
      case 'snapshot-dangling':
      case 'cow-missed': {
        const v = this.unbound();
        const p = this.ram.take(rng);
        if (p < 0) return;
        const va = hx(v.nextVaddr);
        v.nextVaddr += 0x1000;
        const s = this.nextSnap++;
        this.ev(`alloc pfn=${hx(p)} order=0 pid=${v.pid} comm=${q(v.comm)} node=0 gfp=GFP_HIGHUSER_MOVABLE`);
        this.ev(`map pid=${v.pid} vaddr=${va} pfn=${hx(p)}`);
        this.ev(`snapshot-begin snap=${s} pid=${v.pid}`);
        this.ev(`snapref snap=${s} vaddr=${va} pfn=${hx(p)}`);
        this.ev(`snapshot-end snap=${s}`);
        if (kind === 'snapshot-dangling') {
          this.ev(`unmap pid=${v.pid} vaddr=${va} pfn=${hx(p)}`);
          this.mark(kind, this.ev(`free pfn=${hx(p)} order=0`), p);
          this.ev(`snapshot-drop snap=${s}`);
        } else {
          this.mark(kind, this.ev(`write pid=${v.pid} vaddr=${va} pfn=${hx(p)}`), p);
          this.ev(`snapshot-drop snap=${s}`);
          this.ev(`unmap pid=${v.pid} vaddr=${va} pfn=${hx(p)}`);
          this.ev(`free pfn=${hx(p)} order=0`);
        }
        this.ram.give(p);
        return;
      }
      case 'membind-violation': {
        if (this.app && rng.chance(0.5)) {
          const p = this.ram.take(rng);
          if (p < 0) return;
          const vaddr = this.app.nextVaddr;
          this.app.nextVaddr += 0x1000;
          this.mark(kind, this.ev(`fault pid=${this.app.pid} vaddr=${hx(vaddr)} dev=/dev/dax0.0 devoff=${hx(this.rng.int(this.daxPages) * 4096)} pfn=${hx(p)} node=0 agent=numactlX`), p);
          this.app.pages.push({ vaddr, pfn: p, snap: 0 });
          return;
        }
        const b = this.spawn(this.daxNode, 'bound-app');
        const p = this.ram.take(rng);
        if (p < 0) return;
        this.mark(kind, this.ev(`alloc pfn=${hx(p)} order=0 pid=${b.pid} comm=${q(b.comm)} node=0 gfp=GFP_HIGHUSER_MOVABLE`), p);
        this.ev(`free pfn=${hx(p)} order=0`);
        this.ram.give(p);
        this.procs.splice(this.procs.indexOf(b), 1);
        this.ev(`exit pid=${b.pid}`);
        return;
      }
      case 'offline-block': {
        const q = this.offlineBlock.start + (this.offlineNext++ % BLOCK_PAGES);
        this.mark(kind, this.ev(`alloc pfn=${hx(q)} order=0 owner=kernel node=${this.daxNode} gfp=GFP_KERNEL`), q);
        this.ev(`free pfn=${hx(q)} order=0`);
        return;
      }
      case 'order-mismatch': {
        const b = this.kbig.take(rng);
        if (b < 0) return;
        this.ev(`alloc pfn=${hx(b)} order=2 owner=kernel node=0 gfp=GFP_KERNEL`);
        this.mark(kind, this.ev(`free pfn=${hx(b)} order=0`), b);
        for (let k = 1; k < 4; k++) this.ev(`free pfn=${hx(b + k)} order=0`);
        this.kbig.give(b);
        return;
      }
      case 'leak': {
        const pid = this.nextPid++;
        this.ev(`fork pid=1 child=${pid} comm=leaky`);
        const p = this.ram.take(rng);
        if (p < 0) return;
        this.mark(kind, this.ev(`alloc pfn=${hx(p)} order=0 pid=${pid} comm=leaky node=0 gfp=GFP_HIGHUSER_MOVABLE`), p);
        this.ev(`map pid=${pid} vaddr=0x7f0000000000 pfn=${hx(p)}`);
        this.ev(`exit pid=${pid}`);
        return;
      }
      case 'parse-error':
        return;
    }
  }
}

function pow2(n: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, n)));
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, n));
}
