import { describe, expect, it } from 'vitest';
import { renderText, textReport, type TextReport } from '../../src/cli/main';
import { SCENARIOS, synthesize } from '../../src/core/synth/scenarios';
import { summarize, type TraceSummary } from '../../src/core/trace';
import { openText, realFixture } from '../helpers';

/** The text report as read from the whole summary, the way the report was made before it read the model. */
function fromSummary(s: TraceSummary): TextReport {
  return {
    files: s.files,
    counts: s.counts,
    events: s.stats.events,
    livePages: s.livePages,
    layout: s.layout,
    topOwners: s.owners.slice(0, 10),
    snapshots: s.snapshots.length,
    liveSnapshots: s.snapshots.filter((x) => !x.dropped).length,
    anomalies: s.anomalies.length,
    anomalyCounts: s.anomalyCounts,
    firstAnomalies: s.anomalies.slice(0, 20),
    stats: { bytes: s.stats.bytes, lines: s.stats.lines, parseMs: s.stats.parseMs, analyzeMs: s.stats.analyzeMs },
  };
}

describe('analyze text report', () => {
  const traces: [string, string, string][] = [
    ...SCENARIOS.map((sc, k): [string, string, string] => {
      let text = '';
      synthesize({ scenario: sc, seed: k + 3, events: 6000, injectEvery: 40 }, (c) => (text += c));
      return [sc, text, `${sc}.pltrace`];
    }),
    ['page_owner', realFixture('page_owner-1.txt'), 'page_owner.txt'],
    ['layout', realFixture('memory-hotplug-1.txt'), 'lsmem.txt'],
  ];
  for (const [name, text, file] of traces) {
    it(`reads the model and prints what the whole summary printed: ${name}`, async () => {
      const m = await openText(text, file);
      const report = textReport(m);
      expect(renderText(report)).toBe(renderText(fromSummary(summarize(m))));
      if (name === 'cow-snapshots') {
        // The cases the report cuts short are there.
        expect(report.anomalies).toBeGreaterThan(20);
        expect(report.snapshots).toBeGreaterThan(report.liveSnapshots);
        expect(m.builder.owners.size).toBeGreaterThan(10);
      }
    });
  }
});
