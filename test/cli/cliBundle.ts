import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';

/** Bundle the CLI from src (as dist/cli.js is built) into a new temporary directory; the bundle's path. */
export async function bundleCli(prefix: string): Promise<string> {
  const cli = join(mkdtempSync(join(tmpdir(), prefix)), 'cli.js');
  await build({ entryPoints: [join(__dirname, '../../src/cli/index.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: cli, logLevel: 'warning' });
  return cli;
}
