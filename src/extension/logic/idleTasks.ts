/**
 * Work the analysis worker puts off until no call has come for a while: writing the index of a trace it
 * has just opened. The open's answer and the view's first calls (its init, its chart) go first; the write
 * (120-250 ms for a 103 MB trace) runs after `quietMs` without a call, or `maxDelayMs` after it was added
 * when calls keep coming.
 */
export class IdleTasks {
  private readonly tasks = new Map<string, { run: () => void; added: number }>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastCall = 0;

  constructor(
    private readonly quietMs: number,
    private readonly maxDelayMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Run `run` once the worker is quiet (from now on); replaces a task not yet run under the same key. */
  add(key: string, run: () => void): void {
    this.lastCall = this.now();
    this.tasks.set(key, { run, added: this.lastCall });
    this.arm();
  }

  /** A call arrived or was answered: the quiet period starts again. */
  touch(): void {
    this.lastCall = this.now();
    if (this.tasks.size) this.arm();
  }

  /** Run the task under `key` now, if one is waiting (the trace is closed or opened again). */
  flush(key: string): void {
    const t = this.tasks.get(key);
    if (!t) return;
    this.tasks.delete(key);
    t.run();
  }

  /** Run every waiting task now. */
  flushAll(): void {
    for (const key of [...this.tasks.keys()]) this.flush(key);
  }

  /** Keys of the tasks waiting. */
  pending(): string[] {
    return [...this.tasks.keys()];
  }

  private arm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.tasks.size) return;
    const now = this.now();
    let wait = Math.max(0, this.lastCall + this.quietMs - now);
    for (const t of this.tasks.values()) wait = Math.min(wait, Math.max(0, t.added + this.maxDelayMs - now));
    this.timer = setTimeout(() => this.fire(), wait);
  }

  private fire(): void {
    this.timer = undefined;
    const now = this.now();
    const quiet = now - this.lastCall >= this.quietMs;
    for (const [key, t] of [...this.tasks]) if (quiet || now - t.added >= this.maxDelayMs) this.flush(key);
    this.arm();
  }
}
