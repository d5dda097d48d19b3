// vitest globalSetup for the e2e tests: installs chromium + code-server (test/e2e/setup.sh) once before any
// e2e test file runs. Fast (a stamp check) when everything is installed; throws, failing the run, otherwise.
import { ensureCodeServerInstalled } from './codeServer';

export default function setup(): void {
  if (process.env.E2E_SKIP_SETUP === '1') return;
  ensureCodeServerInstalled();
}
