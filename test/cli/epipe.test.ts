import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthesize } from '../../src/core/synth/scenarios';
import { bundleCli } from './cliBundle';

let cli = '';
let dir = '';

beforeAll(async () => {
  cli = await bundleCli('pl-epipe-');
  dir = dirname(cli);
}, 60_000);

describe('CLI output into a reader that stops early', () => {
  it('ends quietly with the SIGPIPE status when the reader closes the pipe', async () => {
    const parts: string[] = [];
    synthesize({ scenario: 'cow-snapshots', seed: 3, events: 60000 }, (c) => parts.push(c));
    const trace = join(dir, 't.pltrace');
    writeFileSync(trace, parts.join(''));
    const child = spawn(process.execPath, [cli, 'analyze', '--json', '--quiet', '--threads', '1', trace], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Like `head -c 100`: read a little, then close our end while the CLI still has megabytes to write.
    const first = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString())));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(first.startsWith('{')).toBe(true);
    expect(stderr).toBe('');
    expect(code).toBe(141);
  }, 60_000);
});
