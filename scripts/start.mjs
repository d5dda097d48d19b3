// `npm start`: build, generate a seed-scenario trace, analyze it and show the result.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

const dir = '.cache/sample';
mkdirSync(dir, { recursive: true });
const trace = `${dir}/cow-snapshots.pltrace`;
const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit' });
run('node', ['scripts/build.mjs']);
run('node', ['dist/cli.js', 'synth', '--scenario', 'cow-snapshots', '--seed', '1', '--events', '200000', '-o', trace, '--truth', `${dir}/cow-snapshots.truth.json`]);
run('node', ['dist/cli.js', 'analyze', trace]);
