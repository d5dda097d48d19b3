import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ANOMALY_KINDS, RULES } from '../../src/core/analysis/anomalies';

describe('docs/anomalies.md', () => {
  const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'anomalies.md'), 'utf8');

  it('has one section per rule with the explanation shown on hover, word for word', () => {
    const headings = [...doc.matchAll(/^### `([a-z-]+)` \((\w+)\): (.+)$/gm)].map((m) => [m[1], m[2], m[3]]);
    expect(headings).toEqual(ANOMALY_KINDS.map((k) => [k, RULES[k].severity, RULES[k].title]));
    for (const k of ANOMALY_KINDS) expect(doc).toContain(`\n${RULES[k].explanation}\n`);
  });
});
