/**
 * `npm start`'s last step when no local `code` is installed: the project's code-server (VS Code 1.100)
 * on 127.0.0.1 with the packaged extension and the sample folder open, until Ctrl-C.
 */
import { resolve } from 'node:path';
import { ensureCodeServerInstalled, startCodeServer } from '../test/e2e/codeServer';

const [vsix, folder, file] = process.argv.slice(2);
ensureCodeServerInstalled();
const server = await startCodeServer({ vsix: resolve(vsix), workspace: resolve(folder), name: 'start' });
const url = server.workbenchUrl();
process.stdout.write(`\nPage Ledger is open in VS Code (code-server) at:\n\n  ${url}\n\nOpen ${file} there (it opens in the Page Ledger view). Ctrl-C stops the server.\n`);
const stop = (): void => {
  void server.stop().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
await new Promise(() => undefined);
