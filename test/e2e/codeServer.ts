// End-to-end harness: a REAL VS Code (code-server = VS Code server + web workbench) driven headless by
// playwright-core and Debian's chromium. code-server is installed by test/e2e/setup.sh into test/e2e/.cache/;
// every run gets fresh profile folders under test/e2e/.work/<run>/. See test/e2e/README.md.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Frame, type FrameLocator, type Page } from 'playwright-core';

export const E2E_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(E2E_DIR, '../..');
export const CODE_SERVER_VERSION = '4.100.3';
export const CACHE_DIR = join(E2E_DIR, '.cache');
export const WORK_DIR = join(E2E_DIR, '.work');
export const SCREENSHOT_DIR = join(E2E_DIR, 'screenshots');
export const CHROMIUM_PATH = process.env.E2E_CHROMIUM ?? '/usr/bin/chromium';

const CODE_SERVER_DIR = join(CACHE_DIR, `code-server-${CODE_SERVER_VERSION}`);
const CODE_SERVER_ENTRY = join(CODE_SERVER_DIR, 'node_modules/code-server/out/node/entry.js');
const INSTALL_STAMP = join(CODE_SERVER_DIR, '.installed');
const KEEP_RUNS = Number(process.env.E2E_KEEP_RUNS ?? 8);

/** Workbench settings for a quiet, deterministic profile: no welcome page, tips, telemetry, updates, trust prompts. */
export const DEFAULT_SETTINGS: Readonly<Record<string, unknown>> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'chat.disableAIFeatures': true,
};

// ---------------------------------------------------------------------------------------------- install

export function isCodeServerInstalled(): boolean {
  return existsSync(INSTALL_STAMP) && existsSync(CODE_SERVER_ENTRY);
}

/** Runs test/e2e/setup.sh (a no-op taking milliseconds when everything is installed); throws if it fails. */
export function ensureCodeServerInstalled(): void {
  const result = spawnSync('bash', [join(E2E_DIR, 'setup.sh')], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`test/e2e/setup.sh failed (exit ${result.status ?? result.signal}); see its output above`);
  }
  if (!isCodeServerInstalled()) throw new Error(`setup.sh succeeded but ${CODE_SERVER_ENTRY} is missing`);
}

// ---------------------------------------------------------------------------------------------- code-server

/** Files to create in a fresh workspace folder: relative path -> content. */
export type WorkspaceFiles = Readonly<Record<string, string | Uint8Array>>;

export interface CodeServerOptions {
  /** .vsix file(s) to install before start; relative paths are resolved against the repository root. */
  vsix?: string | readonly string[];
  /** Folder to open (used as is), or files to write into a fresh folder `<run>/workspace`. Default: empty folder. */
  workspace?: string | WorkspaceFiles;
  /** Merged over DEFAULT_SETTINGS into the user settings.json. */
  settings?: Readonly<Record<string, unknown>>;
  /** Prefix of the run folder under test/e2e/.work/ (default "run"). */
  name?: string;
  /** Extra environment for code-server and the extension host. */
  env?: Readonly<Record<string, string>>;
  /** Extra code-server command-line arguments. */
  args?: readonly string[];
  /** How long to wait for /healthz (default 60 s). */
  startTimeoutMs?: number;
}

export interface CodeServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly runDir: string;
  readonly workspace: string;
  readonly userDataDir: string;
  readonly extensionsDir: string;
  /** code-server's stdout+stderr. */
  readonly logFile: string;
  /** URL of the workbench with `folder` (default: the workspace) open. */
  workbenchUrl(folder?: string): string;
  /** code-server's own log text so far. */
  log(): string;
  /** Extension activation failures found in the code-server log and the extension-host logs. */
  activationErrors(extensionId?: string): string[];
  /** Stops code-server and every process it started. Safe to call twice. */
  stop(): Promise<void>;
}

/** Starts code-server on 127.0.0.1 with a free port and a fresh profile; resolves once /healthz answers. */
export async function startCodeServer(options: CodeServerOptions = {}): Promise<CodeServer> {
  if (!isCodeServerInstalled()) {
    throw new Error('code-server is not installed: run `bash test/e2e/setup.sh` (the e2e globalSetup does this)');
  }
  reapOrphans();
  pruneOldRuns();
  const runDir = makeRunDir(options.name ?? 'run');
  writeFileSync(join(runDir, 'owner.pid'), String(process.pid));
  const userDataDir = join(runDir, 'user-data');
  const extensionsDir = join(runDir, 'extensions');
  const xdg = join(runDir, 'xdg');
  for (const d of [join(userDataDir, 'User'), extensionsDir, xdg]) mkdirSync(d, { recursive: true });
  writeFileSync(join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({ ...DEFAULT_SETTINGS, ...options.settings }, null, 2));

  const workspace = prepareWorkspace(runDir, options.workspace);
  const { dir: socketDir, temporary: socketDirIsTemporary } = makeSocketDir(runDir);
  const env = childEnv(runDir, xdg, socketDir, options.env);
  const profileArgs = ['--config', '/dev/null', '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

  const vsixes = options.vsix === undefined ? [] : typeof options.vsix === 'string' ? [options.vsix] : options.vsix;
  for (const vsix of vsixes) installExtension(resolve(REPO_ROOT, vsix), profileArgs, env);

  const logFile = join(runDir, 'code-server.log');
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  let lastError: Error | undefined;
  // A port found free can be taken before code-server binds it; retry with another one.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    mkdirSync(socketDir, { recursive: true });   // a failed attempt's stop() removed a temporary one
    const logFd = openSync(logFile, 'a');
    const child = spawn(process.execPath, [
      CODE_SERVER_ENTRY, ...profileArgs,
      '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none',
      '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--session-socket', join(socketDir, 'cs.sock'),
      ...(options.args ?? []), workspace,
    ], { cwd: runDir, env, stdio: ['ignore', logFd, logFd], detached: true });
    closeSync(logFd);
    const server = new RunningCodeServer(child, port, runDir, workspace, userDataDir, extensionsDir, logFile,
      socketDirIsTemporary ? socketDir : undefined);
    try {
      await server.waitHealthy(startTimeoutMs);
      return server;
    } catch (e) {
      lastError = e instanceof Error ? e : new Error(String(e));
      await server.stop();
      if (!/EADDRINUSE/.test(server.log())) break;
    }
  }
  if (socketDirIsTemporary) rmSync(socketDir, { recursive: true, force: true });
  throw lastError ?? new Error('code-server did not start');
}

class RunningCodeServer implements CodeServer {
  readonly url: string;
  readonly pid: number;
  private exited = false;
  private stopping: Promise<void> | undefined;
  private readonly exitPromise: Promise<void>;
  private readonly killOnExit = (): void => this.killGroup('SIGKILL');

  constructor(
    child: ChildProcess,
    readonly port: number,
    readonly runDir: string,
    readonly workspace: string,
    readonly userDataDir: string,
    readonly extensionsDir: string,
    readonly logFile: string,
    private readonly temporarySocketDir: string | undefined,
  ) {
    child.once('error', (e) => console.warn(`[e2e] code-server process error: ${e.message}`));
    if (child.pid === undefined) throw new Error('could not spawn code-server');
    this.pid = child.pid;
    this.url = `http://127.0.0.1:${port}`;
    writeFileSync(join(runDir, 'code-server.pid'), String(this.pid));
    this.exitPromise = new Promise((res) => child.once('exit', () => { this.exited = true; res(); }));
    // Last resort if the test process dies without calling stop(): never leave code-server running.
    process.once('exit', this.killOnExit);
  }

  workbenchUrl(folder: string = this.workspace): string {
    return `${this.url}/?folder=${encodeURIComponent(folder)}`;
  }

  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  async waitHealthy(timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (this.exited) throw new Error(`code-server exited during start:\n${tail(this.log(), 40)}`);
      try {
        const res = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(2000) });
        if (res.ok) return;
      } catch { /* not listening yet */ }
      await sleep(100);
    }
    throw new Error(`code-server not healthy after ${timeoutMs} ms:\n${tail(this.log(), 40)}`);
  }

  activationErrors(extensionId?: string): string[] {
    const texts = [this.log(), ...listFiles(join(this.userDataDir, 'logs'))
      .filter((f) => /exthost|remoteagent/i.test(f) && f.endsWith('.log'))
      .map((f) => readFileSync(f, 'utf8'))];
    return findActivationErrors(texts.join('\n'), extensionId);
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.killGroup('SIGTERM');
    if (!(await this.waitExit(5000))) this.killGroup('SIGKILL');
    await this.waitExit(5000);
    // The leader may be gone while its children (extension host, pty host, file watcher) are still exiting.
    const end = Date.now() + 5000;
    while (this.survivors().length > 0 && Date.now() < end) await sleep(100);
    const left = this.survivors();
    for (const pid of left) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    process.removeListener('exit', this.killOnExit);
    if (this.temporarySocketDir) rmSync(this.temporarySocketDir, { recursive: true, force: true });
    if (left.length > 0) console.warn(`[e2e] had to SIGKILL leftover code-server processes ${left.join(', ')}`);
  }

  private killGroup(signal: NodeJS.Signals): void {
    try { process.kill(-this.pid, signal); } catch { /* group already empty */ }
  }

  private async waitExit(ms: number): Promise<boolean> {
    if (this.exited) return true;
    return Promise.race([this.exitPromise.then(() => true), sleep(ms).then(() => false)]);
  }

  /** Live processes of this run: in code-server's process group, or (if they left it, e.g. terminals started
   * with setsid) carrying this run's E2E_RUN_DIR in their environment. */
  private survivors(): number[] {
    return harnessProcesses()
      .filter((p) => p.pgid === this.pid || p.runDir === this.runDir)
      .map((p) => p.pid);
  }
}

interface HarnessProcess { pid: number; pgid: number; runDir: string | undefined }

/** Live (non-zombie) processes that this harness started, found through the E2E_RUN_DIR variable every
 * code-server process inherits; processes whose group leader is a code-server of ours are included too. */
function harnessProcesses(): HarnessProcess[] {
  const found: HarnessProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue;
      const marker = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0')
        .find((v) => v.startsWith('E2E_RUN_DIR='));
      found.push({ pid: Number(entry), pgid: Number(fields[2]), runDir: marker?.slice('E2E_RUN_DIR='.length) });
    } catch { /* exited meanwhile or not readable */ }
  }
  const leaders = new Set(found.filter((p) => p.runDir !== undefined).map((p) => p.pid));
  return found.filter((p) => p.runDir !== undefined || leaders.has(p.pgid));
}

/** Kills code-servers left behind by test processes that died without stop() (e.g. a killed vitest worker). */
function reapOrphans(): void {
  const orphans = harnessProcesses().filter((p) => {
    if (p.runDir === undefined || !p.runDir.startsWith(WORK_DIR)) return false;
    const ownerFile = join(p.runDir, 'owner.pid');
    return !existsSync(ownerFile) || !isAlive(Number(readFileSync(ownerFile, 'utf8')));
  });
  for (const p of orphans) {
    try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  if (orphans.length > 0) console.warn(`[e2e] killed ${orphans.length} orphaned code-server process(es)`);
}

function installExtension(vsix: string, profileArgs: readonly string[], env: NodeJS.ProcessEnv): void {
  if (!existsSync(vsix)) throw new Error(`vsix not found: ${vsix} (build it first, e.g. npm run package)`);
  const result = spawnSync(process.execPath, [CODE_SERVER_ENTRY, ...profileArgs, '--install-extension', vsix],
    { env, encoding: 'utf8', timeout: 120_000 });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  // code-server exits 0 even when VS Code refuses the extension (e.g. engines.vscode too new), so read the output.
  if (result.status !== 0 || !/successfully installed/i.test(output)) {
    throw new Error(`installing ${vsix} failed (exit ${result.status ?? result.signal}):\n${output}`);
  }
}

function makeRunDir(name: string): string {
  mkdirSync(WORK_DIR, { recursive: true });
  // Short names: unix sockets are created below the run folder (see makeSocketDir).
  const safe = name.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 16);
  for (let n = 0; ; n++) {
    const dir = join(WORK_DIR, `${safe}-${(Date.now() + n).toString(36).slice(-6)}`);
    try {
      mkdirSync(dir);
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/** Keeps the newest KEEP_RUNS run folders (their logs help after a failure) and deletes older ones. */
function pruneOldRuns(): void {
  if (!existsSync(WORK_DIR)) return;
  const runs = readdirSync(WORK_DIR)
    .map((n) => join(WORK_DIR, n))
    .filter((p) => statSync(p).isDirectory())
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  for (const old of runs.slice(Math.max(0, KEEP_RUNS - 1))) {
    // A run whose code-server is still alive (a parallel test file) is not ours to delete.
    const pidFile = join(old, 'code-server.pid');
    if (existsSync(pidFile) && isAlive(Number(readFileSync(pidFile, 'utf8')))) continue;
    rmSync(old, { recursive: true, force: true });
  }
}

function prepareWorkspace(runDir: string, workspace: CodeServerOptions['workspace']): string {
  if (typeof workspace === 'string') {
    const dir = resolve(REPO_ROOT, workspace);
    if (!existsSync(dir)) throw new Error(`workspace folder not found: ${dir}`);
    return dir;
  }
  const dir = join(runDir, 'workspace');
  mkdirSync(dir, { recursive: true });
  for (const [rel, content] of Object.entries(workspace ?? {})) {
    const file = resolve(dir, rel);
    if (relative(dir, file).startsWith('..') || isAbsolute(rel)) throw new Error(`workspace file outside: ${rel}`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  return dir;
}

/** VS Code creates unix sockets (vscode-ipc-<uuid>.sock, ~52 chars) in TMPDIR; a socket path is limited to
 * 107 bytes, so with a deep checkout the run folder is too long and a short folder in /tmp is used instead. */
function makeSocketDir(runDir: string): { dir: string; temporary: boolean } {
  const inRun = join(runDir, 'tmp');
  if (Buffer.byteLength(inRun) + 56 <= 107) {
    mkdirSync(inRun, { recursive: true });
    return { dir: inRun, temporary: false };
  }
  return { dir: mkdtempSync(join(tmpdir(), 'e2e-cs-')), temporary: true };
}

function childEnv(runDir: string, xdg: string, socketDir: string, extra: Readonly<Record<string, string>> = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // VSCODE_IPC_HOOK_CLI & co. (when run from a VS Code terminal) would make `--install-extension` talk to that
    // VS Code; NODE_OPTIONS/VITEST* from the test runner have no business in the extension host.
    if (/^(VSCODE_|ELECTRON_|VITEST|NODE_OPTIONS$|NODE_ENV$|TEST$)/.test(k)) continue;
    env[k] = v;
  }
  return {
    ...env,
    XDG_CONFIG_HOME: join(xdg, 'config'),
    XDG_DATA_HOME: join(xdg, 'data'),
    XDG_CACHE_HOME: join(xdg, 'cache'),
    XDG_STATE_HOME: join(xdg, 'state'),
    TMPDIR: socketDir,
    E2E_RUN_DIR: runDir,
    ...extra,
  };
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => (port ? res(port) : rej(new Error('no free port'))));
    });
  });
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try { process.kill(pid, 0); return true; } catch { return false; }
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((rel) => join(dir, rel))
    .filter((p) => statSync(p).isFile());
}

/** Lines (with the 3 following ones, which hold the stack) that report a failed extension activation or a
 * crashed extension host. With extensionId (publisher.name), only failures naming that extension. */
export function findActivationErrors(logText: string, extensionId?: string): string[] {
  const lines = logText.split('\n');
  const hits: string[] = [];
  const pattern = /Activating extension .* failed|Extension host .*terminated unexpectedly|Cannot find module|failed to activate/i;
  lines.forEach((line, i) => {
    if (!pattern.test(line)) return;
    if (extensionId && !line.toLowerCase().includes(extensionId.toLowerCase())) return;
    hits.push(lines.slice(i, i + 4).join('\n'));
  });
  return hits;
}

// ---------------------------------------------------------------------------------------------- browser

export interface BrowserOptions {
  /** Folder for the persistent chromium profile (default `<runDir>/chromium`). */
  profileDir: string;
  viewport?: { width: number; height: number };
  /** TMPDIR for chromium. */
  tmpDir?: string;
}

export const CHROMIUM_ARGS: readonly string[] = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];

/** Launches Debian's chromium through playwright-core (never a downloaded browser) with a persistent profile. */
export async function launchChromium(options: BrowserOptions): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} missing: run bash test/e2e/setup.sh`);
  // Persistent, non-incognito profile with third-party cookies allowed: otherwise chromium may deny service
  // workers inside the cross-origin webview iframes ("The user denied permission to use Service Worker").
  mkdirSync(join(options.profileDir, 'Default'), { recursive: true });
  writeFileSync(join(options.profileDir, 'Default', 'Preferences'),
    JSON.stringify({ profile: { cookie_controls_mode: 0, block_third_party_cookies: false } }));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  if (options.tmpDir) env.TMPDIR = options.tmpDir;
  return chromium.launchPersistentContext(options.profileDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport: options.viewport ?? { width: 1400, height: 850 },
    args: [...CHROMIUM_ARGS],
    env,
  });
}

export interface Workbench {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Uncaught errors of the workbench page (pageerror events). */
  readonly pageErrors: string[];
  close(): Promise<void>;
}

/** Opens the VS Code workbench of `server` in headless chromium with `folder` (default: the server's workspace)
 * and waits until the explorer shows the folder. */
export async function openWorkbench(
  server: CodeServer, options: { folder?: string; viewport?: { width: number; height: number } } = {},
): Promise<Workbench> {
  const tmp = join(server.runDir, 'tmp');
  const context = await launchChromium({
    profileDir: join(server.runDir, 'chromium'), viewport: options.viewport, tmpDir: existsSync(tmp) ? tmp : undefined,
  });
  const pageErrors: string[] = [];
  try {
    const page = context.pages()[0] ?? await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(server.workbenchUrl(options.folder), { waitUntil: 'domcontentloaded' });
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await page.locator('.explorer-folders-view').waitFor({ timeout: 60_000 });
    return { context, page, pageErrors, close: () => context.close() };
  } catch (e) {
    await context.close();
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------- workbench helpers

/** Runs a command by its palette title ("Category: Title" as shown in the palette), via F1. */
export async function runCommand(page: Page, title: string, timeoutMs = 30_000): Promise<void> {
  await pickFromQuickInput(page, `>${title}`, title, timeoutMs);
}

/** Opens a workspace file by its path relative to the workspace (Quick Open) and waits for its editor tab, and
 * (unless `textEditor` is false, e.g. for a file that opens in a custom editor) for its text editor. */
export async function openFile(
  page: Page, relativePath: string, timeoutMs = 30_000, options: { textEditor?: boolean } = {},
): Promise<void> {
  const base = relativePath.split('/').pop() ?? relativePath;
  // Without the leading '>' the palette is Quick Open (file search, ripgrep on code-server).
  await pickFromQuickInput(page, relativePath, base, timeoutMs);
  const group = page.locator('.editor-group-container.active');
  await group.locator('.tab.active').filter({ hasText: base }).waitFor({ timeout: timeoutMs });
  if (options.textEditor !== false) await group.locator('.monaco-editor .view-lines').waitFor({ timeout: timeoutMs });
}

/** Types `query` into the F1 quick input and picks the row labelled exactly `label` (else the first row whose
 * label contains it). */
async function pickFromQuickInput(page: Page, query: string, label: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  const rows = page.locator('.quick-input-list .monaco-list-row');
  for (;;) {
    const input = await openQuickInput(page);
    await input.fill(query);
    // The palette collects its commands when it opens, so commands of an extension host still starting up
    // only show after reopening it; the value typed right after opening can also be reset. Hence the loops.
    const attemptEnd = Math.min(end, Date.now() + 5000);
    while (Date.now() < attemptEnd) {
      if ((await input.inputValue().catch(() => query)) !== query) await input.fill(query).catch(() => {});
      const labels = (await rows.evaluateAll((els: DomElement[]) => els.map(
        (el) => el.querySelector('.label-name')?.textContent ?? ''))).map(normalizeText);
      let index = labels.indexOf(label);
      if (index < 0) index = labels.findIndex((l) => l.includes(label));
      if (index >= 0) {
        await rows.nth(index).click();
        await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
        return;
      }
      await sleep(200);
    }
    if (Date.now() >= end) {
      await page.keyboard.press('Escape');
      throw new Error(`quick input: no entry "${label}" for "${query}" within ${timeoutMs} ms`);
    }
    await page.keyboard.press('Escape');
  }
}

async function openQuickInput(page: Page): Promise<ReturnType<Page['locator']>> {
  const input = page.locator('.quick-input-widget input');
  for (let attempt = 0; attempt < 3; attempt++) {
    if (attempt > 0) {
      // Give the workbench the keyboard focus back: click an empty spot in the middle of the status bar.
      await page.keyboard.press('Escape');
      const bar = await page.locator('.monaco-workbench .part.statusbar').boundingBox();
      if (bar) await page.mouse.click(bar.x + bar.width / 2, bar.y + bar.height / 2);
    }
    await page.keyboard.press('F1');
    try {
      await input.waitFor({ state: 'visible', timeout: 5000 });
      return input;
    } catch { /* retry */ }
  }
  throw new Error('the command palette did not open');
}

/** Minimal DOM shapes used inside page functions (the project's tsconfig has no DOM lib). */
export interface DomElement {
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
  querySelector(selector: string): DomElement | null;
  readonly style: { readonly top: string };
}

/** The texts of the status bar items, left to right (icons are dropped, spaces normalised). */
export async function statusBarTexts(page: Page): Promise<string[]> {
  const texts = await page.locator('.part.statusbar .statusbar-item').evaluateAll((els: DomElement[]) =>
    els.map((el) => el.textContent ?? ''));
  return texts.map(normalizeText).filter((t) => t !== '');
}

/** The cursor of the active text editor as the status bar shows it ("Ln 12, Col 3"), 1-based; null if none. */
export async function cursorPosition(page: Page): Promise<{ line: number; column: number } | null> {
  const text = await page.locator('[id="status.editor.selection"]').first().textContent({ timeout: 2000 })
    .catch(() => null);
  const m = /Ln (\d+), Col (\d+)/.exec(text ?? '');
  return m ? { line: Number(m[1]), column: Number(m[2]) } : null;
}

/** One row of a tree view (custom tree views, the explorer): depth, label, description and expansion. */
export interface TreeRow {
  level: number;
  label: string;
  description: string;
  /** null for a leaf. */
  expanded: boolean | null;
}

/** The rendered rows of the tree in `container` (a locator of a view pane's body), top to bottom. */
export async function treeRows(container: ReturnType<Page['locator']>): Promise<TreeRow[]> {
  const rows = await container.locator('.monaco-list-row').evaluateAll((els: DomElement[]) => els.map((el) => ({
    index: Number(el.getAttribute('data-index')),
    level: Number(el.getAttribute('aria-level')),
    label: el.querySelector('.label-name')?.textContent ?? '',
    description: el.querySelector('.label-description')?.textContent ?? '',
    expanded: el.getAttribute('aria-expanded'),
  })));
  rows.sort((a, b) => a.index - b.index);
  return rows.map((r) => ({
    level: r.level, label: normalizeText(r.label), description: normalizeText(r.description),
    expanded: r.expanded === null ? null : r.expanded === 'true',
  }));
}

/** The lines the active text editor renders (only the visible ones), top to bottom. */
export async function editorLines(page: Page): Promise<string[]> {
  const lines = page.locator('.editor-group-container.active .monaco-editor .view-lines .view-line');
  const found = await lines.evaluateAll((els: DomElement[]) => els
    .map((el) => ({ top: parseFloat(el.style.top) || 0, text: el.textContent ?? '' }))
    .sort((a, b) => a.top - b.top)
    .map((l) => l.text));
  return found.map(normalizeText);
}

/** Monaco renders spaces as U+00A0. */
function normalizeText(s: string): string {
  return s.replace(/\u00a0/g, ' ').trim();
}

/** Content of the `index`-th ready webview: webviews are two nested iframes (host iframe -> #active-frame). */
export function webviewFrame(page: Page, index = 0): FrameLocator {
  return page.locator('iframe.webview.ready').nth(index).contentFrame().frameLocator('#active-frame');
}

/** Polls all frames (nested webview iframes included) for one having `selector` whose text passes `accept`. */
export async function findFrame(
  page: Page, selector: string, accept: (text: string) => boolean = () => true, timeoutMs = 60_000,
): Promise<Frame> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    for (const frame of page.frames()) {
      try {
        const el = await frame.$(selector);
        if (el && accept((await el.textContent()) ?? '')) return frame;
      } catch { /* frame detached or navigating */ }
    }
    await sleep(250);
  }
  throw new Error(`no frame has ${selector} with the expected text within ${timeoutMs} ms`);
}

/** Waits for a notification toast containing `text` and returns its text. */
export async function waitForNotification(page: Page, text: string | RegExp, timeoutMs = 30_000): Promise<string> {
  const toast = page.locator('.notification-toast').filter({ hasText: text }).first();
  await toast.waitFor({ timeout: timeoutMs });
  return toast.innerText();
}

/** Saves a full-window screenshot as test/e2e/screenshots/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = join(SCREENSHOT_DIR, `${name.replace(/[^A-Za-z0-9_.-]+/g, '-')}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** For vitest's afterEach: `afterEach((ctx) => screenshotIfFailed(page, ctx))` keeps a picture of a failure as
 * screenshots/FAILED-<test name>.png. */
export async function screenshotIfFailed(
  page: Page | undefined, context: { task: { name: string; result?: { state?: string } } },
): Promise<void> {
  if (page && !page.isClosed() && context.task.result?.state === 'fail') {
    const file = await screenshot(page, `FAILED-${context.task.name}`).catch(() => undefined);
    if (file) console.log(`[e2e] failure screenshot: ${relative(REPO_ROOT, file)}`);
  }
}

export interface Problem {
  severity: 'error' | 'warning' | 'info' | 'unknown';
  /** File name as the Problems tree shows it (e.g. "broken.json"). */
  file: string;
  message: string;
  /** Who reported it (e.g. "json", or the extension's diagnostic collection source). */
  source: string;
  code: string;
  line: number;
  column: number;
}

/** Opens the Problems panel and reads its entries. Empty when there are none. The tree is virtualised: only rows
 * that fit the panel are read, plenty for a scenario test's handful of diagnostics. */
export async function readProblems(page: Page): Promise<Problem[]> {
  await runCommand(page, 'View: Focus Problems (Errors, Warnings, Infos)');
  const panel = page.locator('.markers-panel');
  await panel.waitFor({ timeout: 15_000 });
  const rows = await panel.locator('.monaco-list-row').evaluateAll((els: DomElement[]) => els.map((el) => {
    const text = (sel: string): string => el.querySelector(sel)?.textContent ?? '';
    return {
      index: Number(el.getAttribute('data-index')),
      level: el.getAttribute('aria-level'),
      file: text('.label-name'),
      icon: el.querySelector('.marker-icon')?.getAttribute('class') ?? '',
      message: text('.marker-message'),
      source: text('.marker-source'),
      code: text('.marker-code'),
      position: text('.marker-line'),
    };
  }));
  rows.sort((a, b) => a.index - b.index);
  const problems: Problem[] = [];
  let file = '';
  for (const row of rows) {
    if (row.level === '1') { file = row.file; continue; }
    if (!row.icon) continue;   // related-information rows
    const pos = /Ln (\d+), Col (\d+)/.exec(row.position);
    problems.push({
      severity: /\berror\b/.test(row.icon) ? 'error' : /\bwarning\b/.test(row.icon) ? 'warning'
        : /\binfo\b/.test(row.icon) ? 'info' : 'unknown',
      file, message: row.message, source: row.source, code: row.code,
      line: pos ? Number(pos[1]) : 0, column: pos ? Number(pos[2]) : 0,
    });
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------- utilities

export function sleep(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}

function tail(text: string, lines: number): string {
  return text.split('\n').slice(-lines).join('\n');
}
