// One esbuild entry per target: the extension host, the CLI, the analysis worker, and each webview.
import { build } from 'esbuild';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const prod = process.argv.includes('--production');
const common = { bundle: true, sourcemap: !prod, minify: prod, logLevel: 'warning', legalComments: 'none' };

const node = { ...common, platform: 'node', target: 'node20', format: 'cjs' };
const targets = [
  { ...node, entryPoints: ['src/cli/index.ts'], outfile: 'dist/cli.js'},
  // The second parse thread for big single files (src/node/parallelParse.ts finds it beside cli.js and worker.js).
  { ...node, entryPoints: ['src/node/parseWorker.ts'], outfile: 'dist/parseWorker.js' },
];
if (existsSync('src/extension/extension.ts')) {
  targets.push({ ...node, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] });
}
if (existsSync('src/extension/worker.ts')) {
  targets.push({ ...node, entryPoints: ['src/extension/worker.ts'], outfile: 'dist/worker.js' });
}
// Webview bundles are always minified (ownership.js 711 KB -> 316 KB): the webview parses them on every
// open. Their source maps stay beside them for the webview's developer tools; the .vsix leaves them out.
const web = { ...common, platform: 'browser', target: 'es2022', format: 'iife', minify: true };
for (const [name, entry] of [['ownership', 'webview/ownership/main.ts'], ['diff', 'webview/diff/main.ts'], ['harness', 'webview/harness/main.ts']]) {
  if (existsSync(entry)) targets.push({ ...web, entryPoints: [entry], outfile: `dist/webview/${name}.js` });
}

mkdirSync('dist', { recursive: true });
const t0 = Date.now();
await Promise.all(targets.map((t) => build(t)));
chmodSync('dist/cli.js', 0o755);
console.log(`built ${targets.length} bundles in ${Date.now() - t0} ms`);
if (watch) console.log('(--watch is not supported; rerun npm run build)');
