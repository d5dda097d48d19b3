import { describe, expect, it } from 'vitest';
import { INJECTABLE, SCENARIOS, synthesize, type SynthOptions, type Truth } from '../../src/core/synth/scenarios';
import { analyzeText } from '../helpers';

function generate(opts: SynthOptions): { text: string; truth: Truth } {
  const parts: string[] = [];
  const truth = synthesize(opts, (c) => parts.push(c));
  return { text: parts.join(''), truth };
}

const key = (a: { kind: string; line: number; pfn: string | null }): string => `${a.kind} ${a.line} ${a.pfn}`;

describe('synth -> analyze round trip', () => {
  for (const scenario of SCENARIOS) {
    for (const seed of [1, 2, 7]) {
      it(`${scenario} seed ${seed}: exactly the injected anomalies, every kind`, async () => {
        const { text, truth } = generate({ scenario, seed, events: 12_000 });
        const s = await analyzeText(text, `${scenario}.pltrace`);
        expect(s.anomalies.map(key).sort()).toEqual(truth.anomalies.map(key).sort());
        expect(new Set(truth.anomalies.map((a) => a.kind))).toEqual(new Set(INJECTABLE));
        expect(s.stats.lines).toBe(truth.lines);
      });
    }

    it(`${scenario}: a clean trace yields no anomaly`, async () => {
      for (const seed of [1, 2, 3]) {
        const { text, truth } = generate({ scenario, seed, events: 20_000, injectEvery: 0 });
        expect(truth.anomalies).toEqual([]);
        const s = await analyzeText(text);
        expect(s.anomalies).toEqual([]);
      }
    });
  }

  it('is deterministic for a seed', () => {
    const a = generate({ scenario: 'cow-snapshots', seed: 5, events: 3000 });
    const b = generate({ scenario: 'cow-snapshots', seed: 5, events: 3000 });
    expect(a.text).toBe(b.text);
    expect(a.truth).toEqual(b.truth);
  });
});
