// Page Ledger in a real VS Code: the packaged .vsix installed into code-server, driven the way a person uses it.
// One code-server and one browser serve every scenario of this file (a start costs ~5 s on 2 cores); the
// scenarios run in order and build on each other (the trace opened in 1 is the one navigated in 2 and 3).
// A trace opens as text, and the extension shows its ownership view (a webview) beside it.
// Expected values come from the CLI (`analyze --json`, `diff --json`) and the core run on the same files.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { RULES } from '../../src/core/analysis/anomalies';
import type { TraceSummary } from '../../src/core/trace';
import { openTrace } from '../../src/core/trace';
import { formatTime } from '../../src/extension/logic/hoverText';
import { pageHistory } from '../../src/extension/logic/pageHistory';
import { renderSnapshotText } from '../../src/extension/logic/snapshotText';
import { fileSource } from '../../src/node/fileSource';
import {
  type CodeServer, type Problem, type TreeRow, type Workbench, REPO_ROOT, cursorPosition, editorLines,
  ensureCodeServerInstalled, findFrame, isCodeServerInstalled, openFile, openWorkbench, readProblems, runCommand,
  screenshot, screenshotIfFailed, sleep, startCodeServer, statusBarTexts, treeRows,
} from './codeServer';

const EXTENSION_ID = 'pageledger.pageledger';
const CLI = join(REPO_ROOT, 'dist/cli.js');
const TRACE = 'cow-snapshots.pltrace';
const PAGE_OWNER = 'page_owner-1.txt';
const FTRACE = 'ftrace-kmem-1.txt';
const MALFORMED = 'malformed.pltrace';
const MALFORMED_TEXT = 'pageledger-trace 1\nthis is not an event\nalloc t=5 pfn=zz\n';
/** The two snapshots compared in scenario 4: both of pid 1021, 6 and 7 pages (seed 1, 5,000 events). */
const SNAP_A = 18;
const SNAP_B = 19;
/** Their process, as the diff names each side. */
const SNAP_PROCESS = 'pid 1021 (qemu-system-x86)';

let server: CodeServer | undefined;
let workbench: Workbench | undefined;
let cow: TraceSummary;

function cli(args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`pageledger ${args.join(' ')} failed (${r.status}):\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

function analyze(file: string): TraceSummary {
  return JSON.parse(cli(['analyze', file, '--json'])) as TraceSummary;
}

/** The real samples start with a `# SOURCE:` provenance comment that no capture has; the workspace gets the
 * capture as the kernel printed it. */
function realSample(name: string): string {
  const text = readFileSync(join(REPO_ROOT, 'test/fixtures/real', name), 'utf8');
  return text.startsWith('# SOURCE:') ? text.slice(text.indexOf('\n') + 1) : text;
}

function ws(name: string): string {
  return join(server!.workspace, name);
}

function page(): Page {
  return workbench!.page;
}

beforeAll(async () => {
  if (!isCodeServerInstalled()) ensureCodeServerInstalled();
  const tmp = join(REPO_ROOT, 'test/e2e/.work');
  spawnSync('mkdir', ['-p', tmp]);
  const generated = join(tmp, `e2e-${process.pid}.pltrace`);
  cli(['synth', '--scenario', 'cow-snapshots', '--seed', '1', '--events', '5000', '-o', generated]);
  const traceText = readFileSync(generated);
  spawnSync('rm', ['-f', generated]);
  server = await startCodeServer({
    name: 'pageledger',
    vsix: 'dist/pageledger.vsix',
    // The diff editor must stay side by side in the half-width group it opens in.
    settings: { 'diffEditor.useInlineViewWhenSpaceIsLimited': false },
    workspace: {
      [TRACE]: traceText,
      [PAGE_OWNER]: realSample('page_owner-1.txt'),
      [FTRACE]: realSample('ftrace-kmem-1.txt'),
      [MALFORMED]: MALFORMED_TEXT,
    },
  });
  cow = analyze(ws(TRACE));
  workbench = await openWorkbench(server, { viewport: { width: 1600, height: 1100 } });
}, 180_000);

afterEach((ctx) => screenshotIfFailed(workbench?.page, ctx));

afterAll(async () => {
  await workbench?.close();
  await server?.stop();
}, 60_000);

// ------------------------------------------------------------------------------------------------ helpers

/** The Page Ledger tree (its own activity-bar container), focused. */
async function pageLedgerTree(): Promise<ReturnType<Page['locator']>> {
  await runCommand(page(), 'Page Ledger: Focus on Traces View');
  const body = page().locator('[id="workbench.parts.sidebar"] .pane-body').first();
  await body.waitFor({ timeout: 15_000 });
  return body;
}

/** Collapses every node of the Page Ledger tree (its title bar's Collapse All), so each trace is one row. */
async function collapseAll(): Promise<void> {
  // Title actions only show while the title bar is hovered; a click that waits for them can wait forever.
  const sidebar = page().locator('[id="workbench.parts.sidebar"]');
  const button = sidebar.locator('.action-label[aria-label="Collapse All"]').first();
  for (let tries = 0; ; tries++) {
    await sidebar.locator('.composite.title').hover();
    try {
      await button.click({ timeout: 3000 });
      return;
    } catch (e) {
      if (tries >= 3) throw e;
    }
  }
}

/** The ownership view (webview) of the trace file `name`, once it has drawn its title. */
async function ownershipView(name: string): Promise<Frame> {
  return findFrame(page(), '.pl-title', (t) => t.trim() === name, 60_000);
}

/** Puts the keyboard focus in the text editor showing `name` (the ownership view may be the active editor). */
async function focusText(name: string): Promise<void> {
  const group = page().locator('.editor-group-container')
    .filter({ has: page().locator('.tab.active', { hasText: name }) })
    .filter({ has: page().locator('.monaco-editor .view-lines') }).first();
  await group.locator('.monaco-editor .view-lines').click();
  await expect.poll(async () => (await page().locator('.editor-group-container.active .tab.active').textContent())?.includes(name),
    { timeout: 10_000 }).toBe(true);
}

/** Right-clicks `target` and picks `action` from its context menu. A menu ignores a click that comes right
 * after it opened (so that the right-click's release does not pick an item): when the menu is still there,
 * the highlighted item is taken with Enter. */
async function contextMenu(target: ReturnType<Page['locator']>, action: string): Promise<void> {
  const menu = page().locator('.context-view .monaco-menu');
  await target.click({ button: 'right' });
  const item = menu.locator('.action-item').filter({ hasText: action }).first();
  await item.waitFor({ timeout: 10_000 });
  await sleep(200);
  await item.hover();
  await item.click();
  for (let tries = 0; tries < 3 && await menu.isVisible(); tries++) {
    await sleep(300);
    if (!(await menu.isVisible())) break;
    await item.hover();
    await page().keyboard.press('Enter');
  }
  await expect.poll(() => menu.isVisible(), { timeout: 5000 }).toBe(false);
}

async function closePanel(): Promise<void> {
  if (await page().locator('[id="workbench.parts.panel"]').isVisible()) await runCommand(page(), 'View: Hide Panel');
}

async function rowsOf(tree: ReturnType<Page['locator']>): Promise<TreeRow[]> {
  return treeRows(tree);
}

/** The tree row at depth `level` (1 = a trace, 2 = its sections) whose label is `label`. */
function treeRow(tree: ReturnType<Page['locator']>, label: string, level: number): ReturnType<Page['locator']> {
  return tree.locator(`.monaco-list-row[aria-level="${level}"]`).filter({
    has: page().locator('.label-name', { hasText: new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }),
  }).first();
}

async function expand(tree: ReturnType<Page['locator']>, label: string, level = 2): Promise<void> {
  const row = treeRow(tree, label, level);
  await row.waitFor({ timeout: 15_000 });
  if ((await row.getAttribute('aria-expanded')) === 'false') await row.locator('.monaco-tl-twistie').click();
  await expect.poll(() => row.getAttribute('aria-expanded'), { timeout: 10_000 }).toBe('true');
}

/** Rows from the trace row `title` down to the next trace (level 1) row. */
function traceRows(rows: TreeRow[], title: string): TreeRow[] {
  const start = rows.findIndex((r) => r.level === 1 && r.label === title);
  if (start < 0) return [];
  const end = rows.findIndex((r, k) => k > start && r.level === 1);
  return rows.slice(start, end < 0 ? undefined : end);
}

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? '' : 's'}`;
}

/** How the tree describes a loaded trace: "format · N events · M anomalies". */
function traceDescription(s: TraceSummary): string {
  return `${s.format} · ${s.stats.events} event${s.stats.events === 1 ? '' : 's'} · ${s.anomalies.length} ${s.anomalies.length === 1 ? 'anomaly' : 'anomalies'}`;
}

/** How the status bar item sums a loaded trace up. */
function statusText(s: TraceSummary): string {
  const n = s.anomalies.length;
  return `${s.stats.events.toLocaleString('en-US')} event${s.stats.events === 1 ? '' : 's'} · ${s.livePages.toLocaleString('en-US')} pages · ${n} anomal${n === 1 ? 'y' : 'ies'}`;
}

async function pageLedgerStatus(): Promise<string | undefined> {
  return (await statusBarTexts(page())).find((t) => / events? · .* pages · /.test(t));
}

/** Problems of one file, sorted by line. The panel is maximized while reading: the Problems tree only renders the
 * rows it shows, and each anomaly takes two (its message, then its related line). It is restored afterwards:
 * a maximized panel hides the editors, and a hidden custom editor never loads its trace. */
async function problemsOf(file: string): Promise<Problem[]> {
  await readProblems(page());
  const panel = await page().locator('[id="workbench.parts.panel"]').boundingBox();
  const viewport = page().viewportSize();
  const maximize = panel !== null && viewport !== null && panel.height < viewport.height * 0.6;
  if (maximize) await runCommand(page(), 'View: Toggle Maximized Panel');
  const all = await readProblems(page());
  if (maximize) await runCommand(page(), 'View: Toggle Maximized Panel');
  return all.filter((p) => p.file === file).sort((a, b) => a.line - b.line || a.message.localeCompare(b.message));
}

interface CanvasPixels { width: number; height: number; painted: number; colors: number }

/** For every canvas of the frame: how many pixels are painted (not transparent) and how many colours are used. */
async function canvasPixels(frame: Frame, selector: string): Promise<CanvasPixels[]> {
  interface Canvas2D {
    readonly width: number;
    readonly height: number;
    getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
  }
  return frame.locator(selector).evaluateAll((els: Canvas2D[]) => els.map((c) => {
    const g = c.width && c.height ? c.getContext('2d') : null;
    if (!g) return { width: c.width, height: c.height, painted: 0, colors: 0 };
    const d = g.getImageData(0, 0, c.width, c.height).data;
    const colors = new Set<number>();
    let painted = 0;
    for (let k = 0; k < d.length; k += 4) {
      if (d[k + 3] === 0) continue;
      painted++;
      if (colors.size < 64) colors.add((d[k] << 16) | (d[k + 1] << 8) | d[k + 2]);
    }
    return { width: c.width, height: c.height, painted, colors: colors.size };
  }));
}

// ------------------------------------------------------------------------------------------------ scenarios

test('the .vsix installs and activates without errors', async () => {
  // Activation happens on the first trace opened; the log is checked again at the end of the file.
  await openFile(page(), TRACE);
  await expect.poll(() => page().locator('.part.activitybar [aria-label="Page Ledger"]').count(), { timeout: 30_000 })
    .toBeGreaterThan(0);
  expect(server!.activationErrors(EXTENSION_ID)).toEqual([]);
});

test('1. a generated cow-snapshots trace: ownership chart, page map, and the tree with counts', async () => {
  expect(cow.stats.events).toBe(5000);
  expect(cow.anomalies.length).toBeGreaterThanOrEqual(2);
  // Opened by the previous test.
  const frame = await ownershipView(TRACE);
  await expect.poll(async () => (await frame.locator('.pl-status').textContent())?.trim(), { timeout: 30_000 })
    .toMatch(new RegExp(`^${cow.stats.events.toLocaleString('en-US')} events · [\\d,]+ frames in \\d+ segments? · ${cow.anomalies.length} anomalies$`));
  // Chart.js draws asynchronously (animation), the map draws tiles as replies arrive.
  let chart: CanvasPixels[] = [];
  await expect.poll(async () => (chart = await canvasPixels(frame, '.pl-chart canvas'))
    .reduce((n, c) => n + c.painted, 0), { timeout: 30_000 }).toBeGreaterThan(2000);
  let map: CanvasPixels[] = [];
  await expect.poll(async () => Math.max(0, ...(map = await canvasPixels(frame, '.pl-map canvas')).map((c) => c.colors)),
    { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
  expect(chart[0]!.width).toBeGreaterThan(200);
  expect(map[0]!.width).toBeGreaterThan(200);

  const tree = await pageLedgerTree();
  await treeRow(tree, TRACE, 1).waitFor({ timeout: 30_000 });
  await expect.poll(async () => traceRows(await rowsOf(tree), TRACE)[0]?.description, { timeout: 30_000 })
    .toBe(traceDescription(cow));
  await expand(tree, 'Anomalies');
  await expand(tree, 'Owners');
  let rows = traceRows(await rowsOf(tree), TRACE);
  const described = (label: string): string | undefined => rows.find((r) => r.level === 2 && r.label === label)?.description;
  const liveSnapshots = cow.snapshots.filter((x) => !x.dropped).length;
  expect(described('Owners')).toBe(`${cow.owners.length} · ${cow.livePages} pages live`);
  expect(described('Snapshots')).toBe(`${cow.snapshots.length} (${liveSnapshots} live)`);
  expect(described('Anomalies')).toBe(String(cow.anomalies.length));
  expect(described('Layout')).toBe(`${plural(cow.layout.nodes.length, 'node')} · ${plural(cow.layout.regions.length, 'region')} · ${plural(cow.layout.blocks.length, 'block')}`);

  // Owner groups with their counts, and anomaly kinds with theirs (most frequent first).
  const level3 = (section: string): TreeRow[] => {
    const k = rows.findIndex((r) => r.level === 2 && r.label === section);
    const out: TreeRow[] = [];
    for (let j = k + 1; j < rows.length && rows[j]!.level > 2; j++) if (rows[j]!.level === 3) out.push(rows[j]!);
    return out;
  };
  const kindLabel: Record<string, string> = { process: 'Processes', file: 'Files', snapshot: 'Snapshots', agent: 'Agents', kernel: 'Kernel' };
  const ownerGroups = ['process', 'file', 'snapshot', 'agent', 'kernel']
    .map((kind) => ({ kind, n: cow.owners.filter((o) => o.kind === kind).length }))
    .filter((g) => g.n > 0)
    .map((g) => `${kindLabel[g.kind]} ${g.n}`);
  const kinds = Object.entries(cow.anomalyCounts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([kind, n]) => `${kind} ${n}`);
  // Children render a moment after their parent shows as expanded.
  await expect.poll(async () => {
    rows = traceRows(await rowsOf(tree), TRACE);
    return [level3('Owners'), level3('Anomalies')].map((list) => list.map((r) => `${r.label} ${r.description}`));
  }, { timeout: 10_000 }).toEqual([ownerGroups, kinds]);
  await screenshot(page(), 'pageledger-1-ownership-and-tree');
});

test('2. Problems lists the anomalies; Next Anomaly goes to the first one, then the second', async () => {
  const expected = cow.anomalies.map((a) => ({ severity: a.severity, line: a.line, message: a.message, source: 'pageledger' }))
    .sort((a, b) => a.line - b.line || a.message.localeCompare(b.message));
  let problems: Problem[] = [];
  await expect.poll(async () => (problems = await problemsOf(TRACE)).length, { timeout: 30_000 }).toBe(expected.length);
  expect(problems.map((p) => ({ severity: p.severity, line: p.line, message: p.message, source: p.source })))
    .toEqual(expected);
  expect(problems.map((p) => p.code).sort()).toEqual(cow.anomalies.map((a) => a.kind).sort());
  await screenshot(page(), 'pageledger-2-problems');
  await closePanel();

  // From the top of the trace text.
  await focusText(TRACE);
  await page().keyboard.press('Control+Home');
  await expect.poll(async () => (await cursorPosition(page()))?.line, { timeout: 30_000 }).toBe(1);

  const byLine = [...cow.anomalies].sort((a, b) => a.line - b.line);
  for (const a of byLine.slice(0, 2)) {
    await runCommand(page(), 'Page Ledger: Next Anomaly');
    await expect.poll(async () => (await cursorPosition(page()))?.line, { timeout: 15_000 }).toBe(a.line);
    const text = readFileSync(ws(TRACE), 'utf8').split('\n')[a.line - 1]!;
    await expect.poll(async () => (await editorLines(page())).includes(text), { timeout: 10_000 }).toBe(true);
  }
  await screenshot(page(), 'pageledger-2-next-anomaly');
  // The maximized Problems panel hid the ownership view for a moment; shown again, it draws again.
  const view = await ownershipView(TRACE);
  await expect.poll(async () => (await view.locator('.pl-status').textContent())?.trim(), { timeout: 20_000 })
    .toMatch(/ events? · /);
  await expect.poll(async () => (await canvasPixels(view, '.pl-chart canvas')).reduce((n, c) => n + c.painted, 0),
    { timeout: 20_000 }).toBeGreaterThan(2000);
});

test('3. hovering a pfn shows its ownership history', async () => {
  // The cursor is on the second anomaly; go back to the first, whose line names its pfn.
  await runCommand(page(), 'Page Ledger: Previous Anomaly');
  const first = [...cow.anomalies].sort((a, b) => a.line - b.line)[0]!;
  await expect.poll(async () => (await cursorPosition(page()))?.line, { timeout: 15_000 }).toBe(first.line);
  expect(first.pfn).toMatch(/^0x[0-9a-f]+$/);
  const pfn = first.pfn!;

  const model = await openTrace([fileSource(ws(TRACE))]);
  const history = pageHistory(model, parseInt(pfn.slice(2), 16), 0);
  expect(history.spans.length).toBeGreaterThan(0);
  const expectedRows = history.spans.map((s) => [s.owner, formatTime(s.from), s.to === null ? 'end' : formatTime(s.to), s.cause, `line ${s.line}`]);

  const editor = page().locator('.editor-group-container.active .monaco-editor');
  const token = editor.locator('.view-line span span').filter({ hasText: new RegExp(`^(pfn=)?${pfn}$`) }).first();
  await token.waitFor({ timeout: 10_000 });
  const hover = page().locator('.monaco-hover:not(.hidden) .monaco-hover-content, .workbench-hover .hover-contents').first();
  await expect.poll(async () => {
    await token.hover();
    await sleep(300);
    return (await hover.textContent({ timeout: 1500 }).catch(() => '')) ?? '';
  }, { timeout: 30_000, interval: 500 }).toContain(`pfn ${pfn}`);
  const text = (await hover.textContent()) ?? '';
  expect(text).toContain(`${history.spans.length} ownership span${history.spans.length === 1 ? '' : 's'}`);
  const rows = await hover.locator('table tbody tr').evaluateAll((trs: { textContent: string | null; querySelectorAll(s: string): ArrayLike<{ textContent: string | null }> }[]) =>
    trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => (td.textContent ?? '').trim())));
  expect(rows).toEqual(expectedRows);
  await sleep(600);   // the hover fades in
  await screenshot(page(), 'pageledger-3-hover');
  await page().keyboard.press('Escape');

  // Elsewhere on the line, the hover explains the anomaly found there: the rule's title and explanation.
  const time = editor.locator('.view-line span span').filter({ hasText: new RegExp(`^${String(first.time)}$`) }).first();
  const explained = page().locator('.monaco-hover').filter({ hasText: RULES[first.kind].title }).first();
  await expect.poll(async () => {
    await time.hover();
    await sleep(300);
    return explained.isVisible();
  }, { timeout: 20_000, interval: 500 }).toBe(true);
  expect((await explained.textContent()) ?? '').toContain(RULES[first.kind].explanation.slice(0, 40));
  await sleep(600);   // the hover fades in
  await screenshot(page(), 'pageledger-3-hover-anomaly');
  await page().keyboard.press('Escape');
});

test('4. comparing two snapshots opens a diff editor with both sides and the class totals', async () => {
  const model = await openTrace([fileSource(ws(TRACE))]);
  // Each side lists the snapshot's pages, one per line keyed by pfn, in pfn order (the rest of a line is the
  // renderer's to choose).
  const pfnsOf = (text: string): string[] => text.split('\n').filter((l) => /^0x[0-9a-f]+\b/.test(l)).map((l) => l.split(/\s+/)[0]!);
  const left = pfnsOf(renderSnapshotText(model, SNAP_A));
  const right = pfnsOf(renderSnapshotText(model, SNAP_B));
  expect(left.length).toBe(cow.snapshots.find((x) => x.id === SNAP_A)!.pages);
  expect(right.length).toBe(cow.snapshots.find((x) => x.id === SNAP_B)!.pages);
  const diff = JSON.parse(cli(['diff', ws(TRACE), '--snapshot-a', String(SNAP_A), '--snapshot-b', String(SNAP_B), '--json'])) as
    { classes: Record<string, number> };
  const totals = Object.entries(diff.classes).filter(([, v]) => v).map(([c, v]) => `${c} ${v}`).join(', ');

  const tree = await pageLedgerTree();
  await expand(tree, 'Snapshots');
  for (const [id, action] of [[SNAP_A, 'Select for Compare'], [SNAP_B, 'Compare with Selected']] as const) {
    const row = treeRow(tree, `snapshot ${id}`, 3);
    await row.scrollIntoViewIfNeeded({ timeout: 15_000 }).catch(() => undefined);
    for (let tries = 0; !(await row.isVisible()) && tries < 40; tries++) {
      await tree.hover();
      await page().mouse.wheel(0, 200);
      await sleep(100);
    }
    await contextMenu(row, action);
  }

  const diffEditor = page().locator('.editor-group-container.active .monaco-diff-editor');
  await diffEditor.waitFor({ timeout: 30_000 });
  await expect.poll(async () => (await page().locator('.editor-group-container.active .tab.active').textContent())?.trim(),
    { timeout: 15_000 }).toContain(`snapshot ${SNAP_A} of ${SNAP_PROCESS} ↔ snapshot ${SNAP_B} of ${SNAP_PROCESS}`);
  const sideLines = async (side: 'original' | 'modified'): Promise<string[]> => {
    const els = diffEditor.locator(`.editor.${side} .view-lines .view-line`);
    const found = await els.evaluateAll((ls: { textContent: string | null; style: { top: string } }[]) => ls
      .map((l) => ({ top: parseFloat(l.style.top) || 0, text: l.textContent ?? '' }))
      .sort((a, b) => a.top - b.top).map((l) => l.text));
    return found.map((t) => t.replace(/\u00a0/g, ' ').trim()).filter((t) => t !== '');
  };
  const side = async (which: 'original' | 'modified'): Promise<{ header: string; pfns: string[] }> => {
    const lines = await sideLines(which);
    return { header: lines[0] ?? '', pfns: pfnsOf(lines.join('\n')) };
  };
  await expect.poll(() => side('original'), { timeout: 15_000 })
    .toEqual({ header: expect.stringMatching(new RegExp(`^# snapshot ${SNAP_A}\\b`)), pfns: left });
  await expect.poll(() => side('modified'), { timeout: 15_000 })
    .toEqual({ header: expect.stringMatching(new RegExp(`^# snapshot ${SNAP_B}\\b`)), pfns: right });
  await expect.poll(async () => (await statusBarTexts(page())).find((t) => t.startsWith('Page Ledger diff:')), { timeout: 10_000 })
    .toBe(`Page Ledger diff: ${totals}`);
  await screenshot(page(), 'pageledger-4-snapshot-diff');

  // The diff webview (a tab beside the text diff): both page maps drawn, and the totals per change class.
  await runCommand(page(), 'Page Ledger: Show Diff Map');
  const map = await findFrame(page(), 'table th', (t) => t.trim() === 'class', 60_000);
  const classRows = async (): Promise<string[][]> => map.locator('table').first().locator('tr')
    .evaluateAll((trs: { querySelectorAll(s: string): ArrayLike<{ textContent: string | null }> }[]) =>
      trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => (td.textContent ?? '').trim()))
        .filter((cells) => cells.length > 0));
  const expectedRows = Object.entries(diff.classes).filter(([, v]) => v > 0).map(([c, v]) => [c, v.toLocaleString('en-US')]);
  await expect.poll(async () => (await classRows()).map((r) => r.slice(0, 2)), { timeout: 30_000 }).toEqual(expectedRows);
  let maps: CanvasPixels[] = [];
  await expect.poll(async () => (maps = await canvasPixels(map, 'canvas')).filter((c) => c.painted > 0).length,
    { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
  // Side B holds a class side A lacks (added): more colours.
  expect(maps[1]!.colors).toBeGreaterThan(maps[0]!.colors);
  await screenshot(page(), 'pageledger-4-diff-map');
  // The ownership view in the other group still shows its trace.
  const view = await ownershipView(TRACE);
  await expect.poll(async () => (await canvasPixels(view, '.pl-chart canvas')).reduce((n, c) => n + c.painted, 0),
    { timeout: 20_000 }).toBeGreaterThan(2000);
});

test('6. a malformed file: a clear error in Problems, and the extension keeps working', async () => {
  await openFile(page(), MALFORMED);
  const bad = analyze(ws(MALFORMED));
  expect(bad.anomalies.length).toBeGreaterThan(0);
  // It loads (into an empty model) and says what it found in the status bar and in its ownership view.
  await expect.poll(pageLedgerStatus, { timeout: 30_000 }).toBe(statusText(bad));
  const view = await ownershipView(MALFORMED);
  await expect.poll(async () => (await view.locator('.pl-status').textContent())?.trim(), { timeout: 30_000 })
    .toMatch(new RegExp(`^0 events · .* · ${bad.anomalies.length} anomalies$`));
  // In place of a chart and a map over nothing: why the view is empty.
  expect((await view.locator('.pl-empty').textContent())?.trim()).toBe(`No events in this trace (${bad.anomalies.length} lines could not be read: see Problems).`);
  expect(await view.locator('canvas').count()).toBe(0);
  await screenshot(page(), 'pageledger-6-malformed-view');
  const expected = bad.anomalies.map((a) => ({ severity: 'error', line: a.line, message: a.message }))
    .sort((a, b) => a.line - b.line);
  let problems: Problem[] = [];
  await expect.poll(async () => (problems = await problemsOf(MALFORMED)).length, { timeout: 30_000 }).toBe(expected.length);
  expect(problems.map((p) => ({ severity: p.severity, line: p.line, message: p.message }))).toEqual(expected);
  expect(problems.every((p) => p.code === 'parse-error')).toBe(true);
  // Problems filtered to the file for the picture; the good trace is untouched.
  const filter = page().locator('.viewpane-filter input').first();
  const filtered = page().locator('.viewpane-filter .viewpane-filter-badge');
  await filter.fill(MALFORMED);
  await expect.poll(async () => (await filtered.textContent())?.trim(), { timeout: 10_000 })
    .toBe(`Showing ${expected.length} of ${expected.length + cow.anomalies.length}`);
  await screenshot(page(), 'pageledger-6-malformed');
  // Typed away, as a person would: the filter only re-applies on keyboard input.
  await filter.click();
  await page().keyboard.press('Control+A');
  await page().keyboard.press('Backspace');
  await expect.poll(() => filtered.isVisible(), { timeout: 10_000 }).toBe(false);
  await closePanel();
  await expect.poll(async () => (await problemsOf(TRACE)).length, { timeout: 10_000 }).toBe(cow.anomalies.length);
  expect(workbench!.pageErrors).toEqual([]);
});

test('5. real page_owner and ftrace samples load with the right format and counts', async () => {
  for (const [name, format, language] of [
    [PAGE_OWNER, 'page_owner', 'page_owner Dump'],
    [FTRACE, 'ftrace', 'Kernel Memory Trace (ftrace, trace-cmd, perf script)'],
  ] as const) {
    const s = analyze(ws(name));
    expect(s.format).toBe(format);
    expect(s.stats.events).toBeGreaterThan(0);
    await openFile(page(), name);
    // Content detection gives the text its trace language (the status bar's language picker shows it).
    await expect.poll(async () => (await page().locator('[id="status.editor.mode"]').textContent())?.trim(), { timeout: 30_000 })
      .toBe(language);
    await expect.poll(pageLedgerStatus, { timeout: 30_000 }).toBe(statusText(s));
    // Its ownership view, beside the text, counts the same events.
    const view = await ownershipView(name);
    await expect.poll(async () => (await view.locator('.pl-status').textContent())?.trim(), { timeout: 30_000 })
      .toMatch(new RegExp(`^${s.stats.events} events? · .* · ${s.anomalies.length} anomal(y|ies)$`));
    const tree = await pageLedgerTree();
    await collapseAll();
    await expect.poll(async () => traceRows(await rowsOf(tree), name)[0]?.description, { timeout: 30_000 })
      .toBe(traceDescription(s));
    await screenshot(page(), `pageledger-5-${format}`);
  }
});

test('no activation errors and no uncaught workbench errors after all scenarios', () => {
  expect(server!.activationErrors(EXTENSION_ID)).toEqual([]);
  expect(server!.activationErrors()).toEqual([]);
  expect(workbench!.pageErrors).toEqual([]);
});
