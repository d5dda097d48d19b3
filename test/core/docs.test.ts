import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeText } from '../helpers';

/** The fenced code blocks of a Markdown file, in order. */
function codeBlocks(file: string): string[] {
  const md = readFileSync(join(__dirname, '../../docs', file), 'utf8');
  return [...md.matchAll(/^```\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

describe('docs/trace-format.md', () => {
  const blocks = codeBlocks('trace-format.md');

  it('has a complete example trace that reads without errors and with the documented outcome', async () => {
    const s = await analyzeText(blocks[0], 'example.pltrace');
    expect(s.anomalies).toEqual([]);
    expect(s.counts).toMatchObject({ alloc: 1, free: 2, cow: 1, restore: 1, snapshotDrop: 1, exit: 1 });
    // Only the filesystem block is still held at the end.
    expect(s.livePages).toBe(1);
    expect(s.owners.filter((o) => o.livePages > 0).map((o) => o.kind)).toEqual(['file']);
    expect(s.layout.regions.map((r) => r.type)).toEqual(['ram', 'kmem']);
  });

  it('has a snapshot log example that reads as one snapshot of four pages', async () => {
    const s = await analyzeText(blocks[1], 'example.plsnap');
    expect(s.anomalies).toEqual([]);
    expect(s.snapshots).toHaveLength(1);
    expect(s.snapshots[0]).toMatchObject({ id: 7, name: 'before-upgrade', pid: 100, pages: 4 });
  });
});
