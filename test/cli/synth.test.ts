import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthesize } from '../../src/core/synth/scenarios';
import { bundleCli } from './cliBundle';

let cli = '';
let dir = '';

beforeAll(async () => {
  cli = await bundleCli('pl-synth-');
  dir = dirname(cli);
}, 60_000);

describe('pageledger synth', () => {
  it('writes a trace larger than the stream buffer many times over, without warnings', async () => {
    const out = join(dir, 'big.pltrace');
    const child = spawn(process.execPath, [cli, 'synth', '--scenario', 'cow-snapshots', '--seed', '4', '--events', '150000', '-o', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^wrote .*big\.pltrace: 150000 events/);
    const parts: string[] = [];
    synthesize({ scenario: 'cow-snapshots', seed: 4, events: 150000, injectEvery: 500 }, (c) => parts.push(c));
    const expected = parts.join('');
    // Over 8 MB: hundreds of writes the 16 KB stream buffer refuses.
    expect(expected.length).toBeGreaterThan(8 * 2 ** 20);
    expect(readFileSync(out, 'utf8') === expected).toBe(true);
  }, 60_000);
});
