import { describe, expect, it } from 'vitest';
import type { OwnershipSeries } from '../../src/core/analysis/ownershipIndex';
import type { TracePrefix } from '../../src/core/trace';
import { PartialViews } from '../../src/extension/logic/partialViews';
import { PARTIAL_TOP, type PartialView } from '../../src/protocol/viewData';

/** A prefix of `read` of 1000 bytes whose series records what it was asked for. */
function prefix(read: number, asked: [number, number][], range = true): TracePrefix {
  return {
    bytesRead: read,
    bytesTotal: 1000,
    events: read * 2,
    range: () => (range ? [0, read] : null),
    series: (n, top): OwnershipSeries | null => {
      asked.push([n, top]);
      if (!range) return null;
      const z = new Float64Array(n);
      return { times: Float64Array.from({ length: n }, (_, i) => i), owners: Uint32Array.of(3, 9), values: new Float64Array(2 * n), other: z, free: z, unknown: z };
    },
    label: (o) => `owner #${o}`,
  };
}

describe('PartialViews', () => {
  it('sends the first view after the first wait, then at most one a period, none near the end', () => {
    let now = 0;
    const sent: (PartialView | null)[] = [];
    const asked: [number, number][] = [];
    const p = new PartialViews((v) => sent.push(v), { samples: 50, firstMs: 400, everyMs: 600 }, () => now);
    for (const [t, read] of [[100, 10], [399, 20], [400, 30], [900, 40], [1000, 50], [1500, 60], [2300, 860]] as const) {
      now = t;
      p.prefix(prefix(read, asked));
    }
    // Only the series sent are computed: each costs a pass over the changes read.
    expect(asked).toEqual([[50, PARTIAL_TOP], [50, PARTIAL_TOP]]);
    expect(sent.map((v) => v?.bytesRead)).toEqual([30, 50]);
    expect(sent[0]).toMatchObject({ bytesTotal: 1000, events: 60, labels: ['owner #3', 'owner #9'] });
    expect(sent[0]!.series.kind).toBe('series');
  });

  it('waits for a range, and passes a withdrawal on only when it sent a view', () => {
    const sent: (PartialView | null)[] = [];
    const asked: [number, number][] = [];
    const p = new PartialViews((v) => sent.push(v), { samples: 8, firstMs: 0, everyMs: 0 }, () => 0);
    p.prefix(null);
    p.prefix(prefix(10, asked, false));
    expect(sent).toEqual([]);
    p.prefix(prefix(20, asked));
    p.prefix(null);
    p.prefix(null);
    expect(sent.map((v) => v && v.bytesRead)).toEqual([20, null]);
  });

  it('by default sends none until a view asks, then one at the next prefix and the others a period apart', () => {
    let now = 0;
    const sent: (PartialView | null)[] = [];
    const asked: [number, number][] = [];
    const p = new PartialViews((v) => sent.push(v), { samples: 10, everyMs: 1000 }, () => now);
    for (const [t, read] of [[100, 10], [5000, 20]] as const) {
      now = t;
      p.prefix(prefix(read, asked));
    }
    expect(asked).toEqual([]);
    p.want();
    for (const [t, read] of [[5001, 30], [5500, 40], [6001, 50], [6500, 60]] as const) {
      now = t;
      p.prefix(prefix(read, asked));
    }
    expect(sent.map((v) => v?.bytesRead)).toEqual([30, 50]);
    // Asked again (another view got ready): at once.
    p.want();
    now = 6600;
    p.prefix(prefix(65, asked));
    expect(sent.map((v) => v?.bytesRead)).toEqual([30, 50, 65]);
  });
});
