/**
 * The order in which the worker answers calls: the ownership view's (its init, its chart, map and page
 * requests) before everything else, first come first served within each. When a trace finishes loading,
 * Problems, the tree and CodeLens ask for their pages at the moment the view asks for its init and then its
 * chart; answered in arrival order, the first chart waited behind them.
 */
export class CallQueue<T> {
  private readonly first: T[] = [];
  private readonly rest: T[] = [];
  private scheduled = false;

  constructor(
    /** Whether a call goes before the others. */
    private readonly urgent: (call: T) => boolean,
    /** Start a call (an async handler runs until its first await). */
    private readonly run: (call: T) => void,
    /** Run later, after the calls that arrived meanwhile are pushed (setImmediate in the worker). */
    private readonly defer: (next: () => void) => void,
  ) {}

  push(call: T): void {
    (this.urgent(call) ? this.first : this.rest).push(call);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.defer(() => this.next());
  }

  private next(): void {
    this.scheduled = false;
    const call = this.first.length ? this.first.shift() : this.rest.shift();
    if (call === undefined) return;
    // One call per turn: messages that arrive while it runs are queued before the next is picked.
    if (this.first.length || this.rest.length) this.schedule();
    this.run(call);
  }
}
