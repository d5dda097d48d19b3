// Proves the e2e harness itself: a real VS Code (code-server) opens a workspace file in headless chromium.
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import {
  type CodeServer, type Workbench, editorLines, ensureCodeServerInstalled, isCodeServerInstalled, openFile,
  openWorkbench, readProblems, screenshot, screenshotIfFailed, startCodeServer,
} from './codeServer';

const FIRST_LINE = 'Page Ledger e2e: first line of sample.txt';

let server: CodeServer | undefined;
let workbench: Workbench | undefined;

beforeAll(async () => {
  // globalSetup normally did this already; keeps the file runnable under a config without it.
  if (!isCodeServerInstalled()) ensureCodeServerInstalled();
  server = await startCodeServer({
    name: 'workbench',
    workspace: {
      'sample.txt': `${FIRST_LINE}\nsecond line\n`,
      'broken.json': '{ "a": 1,, }\n',
    },
  });
  workbench = await openWorkbench(server);
}, 180_000);

afterEach((ctx) => screenshotIfFailed(workbench?.page, ctx));

afterAll(async () => {
  await workbench?.close();
  await server?.stop();
}, 60_000);

test('opens a workspace file and shows its first line', async () => {
  const { page } = workbench!;
  await page.locator('.explorer-folders-view .monaco-list-row').filter({ hasText: 'sample.txt' })
    .waitFor({ timeout: 60_000 });
  await openFile(page, 'sample.txt');
  await expect.poll(async () => (await editorLines(page))[0], { timeout: 30_000 }).toBe(FIRST_LINE);
  const shot = await screenshot(page, 'workbench-sample');
  expect(shot).toMatch(/workbench-sample\.png$/);
}, 180_000);

test('reads the Problems panel (built-in JSON language server)', async () => {
  const { page } = workbench!;
  await openFile(page, 'broken.json');
  let problems: Awaited<ReturnType<typeof readProblems>> = [];
  await expect.poll(async () => (problems = await readProblems(page)).length, { timeout: 60_000 })
    .toBeGreaterThan(0);
  expect(problems[0]).toMatchObject({ severity: 'error', file: 'broken.json', source: 'json', line: 1 });
  await screenshot(page, 'workbench-problems');
}, 180_000);

test('no extension failed to activate; no uncaught workbench errors', () => {
  expect(server!.activationErrors()).toEqual([]);
  expect(workbench!.pageErrors).toEqual([]);
});
