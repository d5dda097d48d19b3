/**
 * Owner labels, fetched on demand. The init carries only the top owners' labels (INIT_OWNERS): all 74 k
 * of a 103 MB trace were 1.9 MB of JSON before the first chart. The rest are asked for, in one
 * `owners` request per batch, when a series, a page history or a hovered map cell needs them.
 */
import { MAX_OWNERS_ASKED, type OwnersRequest, type ViewInit, type ViewReply } from '../../src/protocol/viewData';

/** The labels known so far, and a way to get the others. */
export class OwnerLabels {
  private readonly known = new Map<number, string>([[0, 'free']]);

  constructor(init: ViewInit, private readonly ask: (req: OwnersRequest) => Promise<ViewReply>) {
    init.topOwners.forEach((o, k) => this.known.set(o, init.topLabels[k] ?? `owner ${o}`));
  }

  has(owner: number): boolean {
    return this.known.has(owner);
  }

  /** The owner's label, or `owner N` until it has arrived. */
  get(owner: number): string {
    return this.known.get(owner) ?? `owner ${owner}`;
  }

  /** Fetch the labels not known yet among `owners`; resolves once they are known (or the host failed). */
  async want(owners: Iterable<number>): Promise<void> {
    const missing = [...new Set(owners)].filter((o) => o >= 0 && !this.known.has(o));
    for (let k = 0; k < missing.length; k += MAX_OWNERS_ASKED) {
      const r = await this.ask({ kind: 'owners', ids: missing.slice(k, k + MAX_OWNERS_ASKED) });
      if (r.kind !== 'owners') return;
      r.ids.forEach((o, j) => this.known.set(o, r.labels[j]));
    }
  }
}
