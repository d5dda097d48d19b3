#!/usr/bin/env node
import { main } from './main';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    // The reader went away (`pageledger analyze --json t | head`): stop quietly, with the status a
    // program killed by SIGPIPE has, as other command-line tools do.
    if ((e as NodeJS.ErrnoException | null)?.code === 'EPIPE') {
      process.exitCode = 141;
      return;
    }
    process.stderr.write(`pageledger: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exitCode = 70;
  },
);
