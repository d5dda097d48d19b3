/** A small deterministic PRNG (mulberry32): the same seed gives the same trace on every machine. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
}

/** A pool of free page frames (or of fixed-size blocks), taken in random order. */
export class PagePool {
  private readonly free: Float64Array;
  private count = 0;
  constructor(readonly start: number, readonly units: number, readonly unitPages = 1) {
    this.free = new Float64Array(units);
    for (let k = 0; k < units; k++) this.free[k] = start + k * unitPages;
    this.count = units;
  }
  get available(): number {
    return this.count;
  }
  /** Take a random free unit (its first pfn), or -1 when empty. */
  take(rng: Rng): number {
    if (this.count === 0) return -1;
    const k = rng.int(this.count);
    const v = this.free[k];
    this.free[k] = this.free[--this.count];
    return v;
  }
  give(pfn: number): void {
    this.free[this.count++] = pfn;
  }
  contains(pfn: number): boolean {
    return pfn >= this.start && pfn < this.start + this.units * this.unitPages;
  }
}
