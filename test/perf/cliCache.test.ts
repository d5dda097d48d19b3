import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main, EXIT_OK, EXIT_USAGE } from '../../src/cli/main';
import { synthesize } from '../../src/core/synth/scenarios';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, (s) => (out += s), (s) => (err += s));
  return { code, out, err };
}

describe('analyze --cache and --threads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pl-cli-cache-'));
  const file = join(dir, 't.pltrace');
  const parts: string[] = [];
  synthesize({ scenario: 'cow-snapshots', seed: 11, events: 4000 }, (s) => parts.push(s));
  writeFileSync(file, parts.join(''));

  it('prints the same analysis from the index as from the parse, and writes one index file', async () => {
    const cache = join(dir, 'cache');
    const first = await run(['analyze', '--json', '--quiet', '--cache', cache, file]);
    const again = await run(['analyze', '--json', '--quiet', '--cache', cache, file]);
    expect([first.code, again.code]).toEqual([EXIT_OK, EXIT_OK]);
    const strip = (s: string): unknown => {
      const j = JSON.parse(s) as { stats: Record<string, number> };
      const { parseMs: _p, analyzeMs: _a, ...stats } = j.stats;
      return { ...j, stats };
    };
    expect(strip(again.out)).toEqual(strip(first.out));
    expect(readdirSync(cache).filter((f) => f.endsWith('.plidx'))).toHaveLength(1);
    const plain = await run(['analyze', '--json', '--quiet', '--threads', '1', file]);
    expect(strip(plain.out)).toEqual(strip(first.out));
  });

  it('rejects a thread count other than 1 or 2', async () => {
    const r = await run(['analyze', '--threads', '3', file]);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.err).toContain('--threads takes 1 or 2, not "3"');
  });
});
