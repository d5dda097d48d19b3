/**
 * Which load's init each ownership view was sent. A view's `ready` and the store's "trace loaded" both
 * want to send the init; before this, a first open sent it twice, and the webview built the whole view
 * (and asked for its chart, its anomalies and its map) twice. The init of a load is asked for once and
 * shared by every view of that trace; a reload is a new load (a new digest object).
 */
export class ViewInits<View extends object, Load extends object, Init> {
  private readonly inits = new WeakMap<Load, Promise<Init>>();
  private readonly sent = new WeakMap<View, Load>();

  constructor(private readonly fetch: (load: Load) => Promise<Init>) {}

  /** The init of a load: asked for on the first call, shared after; asked again if it failed. */
  initOf(load: Load): Promise<Init> {
    let p = this.inits.get(load);
    if (!p) {
      p = this.fetch(load);
      this.inits.set(load, p);
      p.catch(() => this.inits.delete(load));
    }
    return p;
  }

  /** The view starts over (its webview loaded again, after being hidden): it needs an init again. */
  reset(view: View): void {
    this.sent.delete(view);
  }

  /**
   * Post this load's init to the view unless it was already posted (or is on its way). Resolves to
   * whether this call posted it; a newer load or a reset while the init was being computed wins.
   */
  async send(view: View, load: Load, post: (init: Init) => void): Promise<boolean> {
    if (this.sent.get(view) === load) return false;
    this.sent.set(view, load);
    try {
      const init = await this.initOf(load);
      if (this.sent.get(view) !== load) return false;
      post(init);
      return true;
    } catch (e) {
      // Not sent after all: the next `ready` or load may try again.
      if (this.sent.get(view) === load) this.sent.delete(view);
      throw e;
    }
  }
}
