// `npm start`: build, generate a seed-scenario trace, analyse it and show the result, then open it in a
// real VS Code: the local `code` when there is one, else the project's code-server on 127.0.0.1.
// PAGELEDGER_NO_OPEN=1 stops after the analysis (CI, or a machine where VS Code is not wanted).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { build } from 'esbuild';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const dir = '.cache/sample';
mkdirSync(dir, { recursive: true });
const trace = `${dir}/cow-snapshots.pltrace`;
const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit' });
run('node', ['scripts/build.mjs']);
run('node', ['dist/cli.js', 'synth', '--scenario', 'cow-snapshots', '--seed', '1', '--events', '200000', '-o', trace, '--truth', `${dir}/cow-snapshots.truth.json`]);
run('node', ['dist/cli.js', 'analyze', trace]);
if (process.env.PAGELEDGER_NO_OPEN === '1') process.exit(0);

run('npx', ['vsce', 'package', '--no-dependencies', '--no-rewrite-relative-links', '-o', 'dist/pageledger.vsix']);
const hasCode = spawnSync('code', ['--version'], { stdio: 'ignore' }).status === 0;
if (hasCode) {
  run('code', ['--install-extension', 'dist/pageledger.vsix', '--force']);
  run('code', [dir, trace]);
  console.log(`\nOpened ${trace} in VS Code.`);
} else {
  await build({ entryPoints: ['scripts/openInCodeServer.ts'], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: 'dist/open-in-code-server.mjs', external: ['playwright-core'], define: { 'import.meta.url': JSON.stringify(pathToFileURL(resolve('test/e2e/codeServer.ts')).href) }, logLevel: 'warning', banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" } });
  run('node', ['dist/open-in-code-server.mjs', 'dist/pageledger.vsix', dir, trace]);
}
