// Self-test of the harness pieces a Page Ledger scenario needs: install a .vsix, run its command from the
// palette, read its webview (both ways), see its notification, and detect a failed activation.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import {
  type CodeServer, type Workbench, E2E_DIR, REPO_ROOT, WORK_DIR, ensureCodeServerInstalled, findFrame,
  isCodeServerInstalled, openFile, openWorkbench, runCommand, screenshot, screenshotIfFailed, startCodeServer, waitForNotification,
  webviewFrame,
} from './codeServer';

const FIRST_LINE = 'probe sample first line';
let vsix = '';
let server: CodeServer | undefined;
let workbench: Workbench | undefined;

/** Packages the probe extension with the project's own vsce (works offline). */
function packageProbe(): string {
  mkdirSync(WORK_DIR, { recursive: true });
  const out = join(WORK_DIR, 'e2e-probe.vsix');
  const result = spawnSync(join(REPO_ROOT, 'node_modules/.bin/vsce'),
    ['package', '--no-dependencies', '-o', out],
    { cwd: join(E2E_DIR, 'fixtures/probe-extension'), encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) throw new Error(`vsce package failed:\n${result.stdout}${result.stderr}`);
  return out;
}

beforeAll(async () => {
  if (!isCodeServerInstalled()) ensureCodeServerInstalled();
  vsix = packageProbe();
  server = await startCodeServer({ name: 'probe', vsix, workspace: { 'sample.txt': `${FIRST_LINE}\n` } });
  workbench = await openWorkbench(server);
}, 180_000);

afterEach((ctx) => screenshotIfFailed(workbench?.page, ctx));

afterAll(async () => {
  await workbench?.close();
  await server?.stop();
}, 60_000);

test('installed extension runs a palette command that opens a webview', async () => {
  const { page } = workbench!;
  await openFile(page, 'sample.txt');
  await runCommand(page, 'E2E Probe: Show Webview');

  const view = webviewFrame(page);
  await expect.poll(() => view.locator('#js').textContent(), { timeout: 60_000 }).toBe('JS: ran');
  expect(await view.locator('#greeting').textContent()).toBe('Probe One');
  expect(await view.locator('#line').textContent()).toBe(`First line: ${FIRST_LINE}`);
  expect(await waitForNotification(page, 'Probe webview says: Probe One')).toContain('Probe One');

  // A second panel: with several webviews, polling all frames finds the one wanted.
  await openFile(page, 'sample.txt');
  await runCommand(page, 'E2E Probe: Show Webview Again');
  const second = await findFrame(page, '#greeting', (t) => t === 'Probe Two');
  expect(await second.locator('#js').textContent()).toBe('JS: ran');
  await screenshot(page, 'probe-webviews');
  expect(server!.activationErrors()).toEqual([]);
}, 180_000);

test('activationErrors() reports an extension whose activate() throws', async () => {
  const failing = await startCodeServer({
    name: 'probe-fail', vsix, workspace: { 'a.txt': 'x\n' }, env: { E2E_PROBE_FAIL_ACTIVATION: '1' },
  });
  try {
    const wb = await openWorkbench(failing);
    try {
      await runCommand(wb.page, 'E2E Probe: Show Webview');
      await expect.poll(() => failing.activationErrors('e2eprobe.probe').length, { timeout: 30_000 })
        .toBeGreaterThan(0);
      expect(failing.activationErrors('e2eprobe.probe')[0]).toContain('probe activation failure');
    } finally {
      await wb.close();
    }
  } finally {
    await failing.stop();
  }
}, 180_000);
