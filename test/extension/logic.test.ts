import { describe, expect, it } from 'vitest';
import type { AnomalySummary } from '../../src/core/trace';
import { anomalyToDiagnostic, fileDiagnostics, ruleMarkdown } from '../../src/extension/logic/diagnostics';
import { collectLines, excerptDocumentLine, excerptTextColumn, renderExcerpt } from '../../src/extension/logic/excerpt';
import { anomalyHoverMarkdown, findPfnAt, formatTime, pageHistoryMarkdown, revealLink } from '../../src/extension/logic/hoverText';
import { stepAnomaly } from '../../src/extension/logic/navigation';
import { analysisThreads, chartResolutionFromSettings, DEFAULT_SETTINGS, ownerColorsFromSettings, ruleConfigFromSettings, threadsFromSettings, viewSettingsMessage } from '../../src/extension/logic/settings';
import { outlineSymbols } from '../../src/extension/logic/symbols';
import { finiteForWebview } from '../../src/extension/logic/webviewTransport';
import { parseHostMessage } from '../../webview/ownership/messages';

function anomaly(over: Partial<AnomalySummary>): AnomalySummary {
  return { kind: 'double-free', severity: 'error', file: '/t/a.pltrace', line: 1, pfn: '0x10', time: 0, message: 'm', related: [], relatedLocations: [], ...over };
}

function chunksOf(text: string, size: number): AsyncIterable<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  return (async function* () {
    for (let k = 0; k < bytes.length; k += size) yield bytes.subarray(k, k + size);
  })();
}

describe('anomaly → diagnostic', () => {
  it('puts the anomaly on its 0-based line with its related lines and rule code', () => {
    const d = anomalyToDiagnostic(anomaly({ line: 508, severity: 'warning', kind: 'leak', message: 'leaked', related: [507], relatedLocations: [{ file: '/t/b.pltrace', line: 507 }] }));
    expect(d).toEqual({
      line: 507,
      severity: 'warning',
      message: 'leaked',
      code: 'leak',
      related: [{ file: '/t/b.pltrace', line: 506, message: 'Pages still owned after the process exited: related event at line 507' }],
    });
  });

  it('falls back to the anomaly file for related lines without locations', () => {
    expect(anomalyToDiagnostic(anomaly({ related: [3], relatedLocations: [] })).related).toEqual([{ file: '/t/a.pltrace', line: 2, message: 'Page freed twice: related event at line 3' }]);
  });

  it("keeps a file's first anomalies up to the limit and counts the rest", () => {
    const first = [anomaly({ line: 1 }), anomaly({ line: 2 }), anomaly({ line: 3 })];
    const out = [fileDiagnostics('/t/a.pltrace', first, 7, 2), fileDiagnostics('/t/empty.pltrace', [], 0, 2), fileDiagnostics('/t/b.pltrace', first.slice(0, 1), 1, 2)];
    expect(out.map((f) => [f.file, f.diagnostics.map((d) => d.line), f.omitted])).toEqual([
      ['/t/a.pltrace', [0, 1], 5],
      ['/t/empty.pltrace', [], 0],
      ['/t/b.pltrace', [0], 0],
    ]);
  });

  it('explains a rule as markdown', () => {
    expect(ruleMarkdown('order-mismatch').split('\n').slice(0, 3)).toEqual(['# Free with a different order than the allocation (`order-mismatch`)', '', 'Default severity: warning.']);
  });
});

describe('pfn tokens and hover text', () => {
  it('finds pfn tokens in native, ftrace and page_owner lines', () => {
    const ftrace = '  <...>-22275 [006] ....   889.213383: mm_page_alloc: page=00000000d2be5665 pfn=970744 order=0';
    expect(findPfnAt(ftrace, ftrace.indexOf('970744') + 2)).toEqual({ pfn: 970744, start: ftrace.indexOf('pfn='), end: ftrace.indexOf('pfn=') + 10 });
    expect(findPfnAt(ftrace, ftrace.indexOf('page='))).toBeNull();
    expect(findPfnAt('1032747 alloc pfn=0x102c22 order=0', 16)).toEqual({ pfn: 0x102c22, start: 14, end: 26 });
    expect(findPfnAt('PFN 16 type Unmovable Block 0', 4)).toEqual({ pfn: 16, start: 0, end: 6 });
    expect(findPfnAt('5 cow snap=3 pid=9 old=0x20 new=0x21', 33)?.pfn).toBe(0x21);
    expect(findPfnAt('5 migrate pfn=0x20 to=0x4000', 25)?.pfn).toBe(0x4000);
  });

  it('formats times in the unit people read', () => {
    expect([formatTime(812), formatTime(3250), formatTime(1001396), formatTime(2.5e9), formatTime(null)]).toEqual(['812 ns', '3.250 µs', '1.001 ms', '2.500000 s', '—']);
  });

  it('renders a page history as a table with reveal links', () => {
    const md = pageHistoryMarkdown(
      {
        pfn: 0x10,
        spans: [
          { owner: 'pid 7 (app)', ownerKind: 'process', from: 100, to: 300, file: 0, line: 2, cause: 'alloc' },
          { owner: 'free', ownerKind: 'free', from: 300, to: null, file: 0, line: 4, cause: 'free' },
        ],
        touches: [],
        truncated: false,
      },
      ['/t/a.pltrace'],
    );
    expect(md).toBe(
      [
        '**pfn 0x10**: 2 ownership spans, now free',
        '',
        '| owner | from | to | by | at |',
        '|---|---|---|---|---|',
        `| pid 7 (app) | 100 ns | 300 ns | alloc | ${revealLink('line 2', '/t/a.pltrace', 2)} |`,
        `| free | 300 ns | end | free | ${revealLink('line 4', '/t/a.pltrace', 4)} |`,
        '',
      ].join('\n'),
    );
    expect(revealLink('line 2', '/t/a.pltrace', 2)).toBe('[line 2](command:pageledger.reveal?%5B%7B%22file%22%3A%22%2Ft%2Fa.pltrace%22%2C%22line%22%3A2%7D%5D)');
  });

  it('says so when a page never changed hands', () => {
    expect(pageHistoryMarkdown({ pfn: 255, spans: [], touches: [], truncated: false }, [])).toBe('**pfn 0xff**: no allocation, free or mapping of this page in the trace.\n');
  });

  it('explains the anomalies of a hovered line with links to their related lines', () => {
    const md = anomalyHoverMarkdown([anomaly({ relatedLocations: [{ file: '/t/a.pltrace', line: 1 }] })]);
    expect(md.startsWith(`**Page freed twice** (\`double-free\`, error), see ${revealLink('line 1', '/t/a.pltrace', 1)}\n\nA free covers a page`)).toBe(true);
  });
});

describe('excerpts of large files', () => {
  const text = Array.from({ length: 30 }, (_, k) => `line ${k + 1}`).join('\n') + '\n';

  it('collects a window of lines across chunk boundaries and stops after it', async () => {
    expect(await collectLines(chunksOf(text, 7), 9, 11)).toEqual({ firstLine: 9, lines: ['line 9', 'line 10', 'line 11'], totalLines: null });
  });

  it('reports the line count when the window reaches the end, with or without a final newline', async () => {
    expect(await collectLines(chunksOf(text, 5), 29, 40)).toEqual({ firstLine: 29, lines: ['line 29', 'line 30'], totalLines: 30 });
    expect(await collectLines(chunksOf('a\r\nb', 1), 1, 5)).toEqual({ firstLine: 1, lines: ['a', 'b'], totalLines: 2 });
  });

  it('renders original line numbers and maps a line to the excerpt document', () => {
    const x = { firstLine: 9, lines: ['line 9', 'line 10'], totalLines: 30 };
    expect(renderExcerpt('/big.txt', x)).toBe('# /big.txt: lines 9-10 of 30 (excerpt: the file is too large for the text editor)\n\n 9 | line 9\n10 | line 10\n');
    expect(excerptDocumentLine(x, 10)).toBe(3);
    expect(excerptDocumentLine(x, 500)).toBe(3);
    expect(excerptTextColumn(x)).toBe(5);
  });
});

describe('next / previous anomaly', () => {
  const files = ['/a', '/b'];
  const list = [anomaly({ file: '/a', line: 5 }), anomaly({ file: '/a', line: 9 }), anomaly({ file: '/b', line: 2 })];
  it('steps from the cursor in file order and wraps', () => {
    expect(stepAnomaly(list, files, null, 1)).toBe(0);
    expect(stepAnomaly(list, files, null, -1)).toBe(2);
    expect(stepAnomaly(list, files, { file: '/a', line: 5 }, 1)).toBe(1);
    expect(stepAnomaly(list, files, { file: '/a', line: 7 }, 1)).toBe(1);
    expect(stepAnomaly(list, files, { file: '/a', line: 9 }, 1)).toBe(2);
    expect(stepAnomaly(list, files, { file: '/b', line: 2 }, 1)).toBe(0);
    expect(stepAnomaly(list, files, { file: '/b', line: 2 }, -1)).toBe(1);
    expect(stepAnomaly(list, files, { file: '/a', line: 5 }, -1)).toBe(2);
    expect(stepAnomaly([], files, null, 1)).toBe(-1);
  });
});

describe('settings', () => {
  it('maps rule switches and severities, listing what it ignores', () => {
    expect(ruleConfigFromSettings({ leak: false, 'double-free': true, bogus: false }, { 'order-mismatch': 'error', leak: 'fatal' })).toEqual({
      rules: { disabled: ['leak'], severity: { 'order-mismatch': 'error' } },
      problems: ['pageledger.rules.enabled: unknown rule "bogus"', 'pageledger.rules.severity.leak: expected error, warning or info'],
    });
    expect(ruleConfigFromSettings(undefined, null)).toEqual({ rules: {}, problems: [] });
  });

  it('reads the analysis threads setting, auto for anything it does not know', () => {
    expect(['auto', 'one', 'two'].map(threadsFromSettings)).toEqual(['auto', 'one', 'two']);
    expect([undefined, null, 2, 'Two', ''].map(threadsFromSettings)).toEqual(['auto', 'auto', 'auto', 'auto', 'auto']);
  });

  it('reads a trace on two threads when asked, or on auto only with more than two cores', () => {
    expect([1, 2, 3, 16].map((cores) => analysisThreads('auto', cores))).toEqual([1, 1, 2, 2]);
    expect([1, 2, 16].map((cores) => analysisThreads('one', cores))).toEqual([1, 1, 1]);
    expect([1, 2, 16].map((cores) => analysisThreads('two', cores))).toEqual([2, 2, 2]);
  });
});

describe('outline', () => {
  it('lists the layout and each snapshot from begin to end in a native trace', () => {
    const lines = ['pageledger-trace 1', 'node id=0', 'region name=r node=0 start=0x10 pages=4', '10 snapshot-begin snap=3 pid=9', '11 snapref snap=3 pfn=0x10', '12 snapshot-end snap=3', '13 alloc pfn=0x1'];
    expect(outlineSymbols(lines, 'pageledger')).toEqual([
      { name: 'Layout', detail: '2 lines', kind: 'section', line: 1, endLine: 2, children: [] },
      { name: 'snapshot 3', detail: 'pid 9', kind: 'snapshot', line: 3, endLine: 5, children: [] },
    ]);
  });

  it('lists snapshots of a snapshot log up to the next one', () => {
    const lines = ['pageledger-snapshot 1', 'snapshot id=1 name=before', 'page pfn=0x1', 'snapshot id=2', 'page pfn=0x2'];
    expect(outlineSymbols(lines, 'pageledger').map((s) => [s.name, s.line, s.endLine])).toEqual([
      ['before', 1, 2],
      ['snapshot 2', 3, 4],
    ]);
  });

  it('splits kernel trace text into its header and its events', () => {
    expect(outlineSymbols(['# tracer: nop', '#', 'a-1 [000] 1.0: mm_page_alloc: pfn=1', 'b'], 'kmem-trace').map((s) => [s.name, s.line, s.endLine])).toEqual([
      ['Header', 0, 1],
      ['Events', 2, 3],
    ]);
  });
});

describe('webview transport', () => {
  it('replaces infinities (JSON would make them null) and keeps typed arrays and untouched objects as they are', () => {
    const ids = new Uint32Array([1, 2]);
    const untouched = { a: 1, b: [2, 3] };
    const m = { type: 'init', init: { blocks: [{ id: 1, offline: [-Infinity, 5, Infinity] }], ids, untouched, nan: NaN } };
    const out = finiteForWebview(m);
    expect(out.init.blocks[0].offline).toEqual([-Number.MAX_VALUE, 5, Number.MAX_VALUE]);
    expect(out.init.ids).toBe(ids);
    expect(out.init.untouched).toBe(untouched);
    expect(Number.isNaN(out.init.nan)).toBe(true);
    expect(m.init.blocks[0].offline[0]).toBe(-Infinity);
  });
});

describe('view settings for the ownership webview', () => {
  it('keeps known owner kinds with hex colours and says what it left out', () => {
    expect(ownerColorsFromSettings({ process: '#3794FF', free: ' #333 ', file: 'green', pets: '#fff', agent: 7 })).toEqual({
      ownerColors: { process: '#3794FF', free: '#333' },
      problems: [
        'pageledger.ownerColors.file: expected a colour like #3794ff',
        'pageledger.ownerColors: unknown owner kind "pets" (expected kernel, process, file, snapshot, agent, free)',
        'pageledger.ownerColors.agent: expected a colour like #3794ff',
      ],
    });
    expect(ownerColorsFromSettings(undefined)).toEqual({ ownerColors: {}, problems: [] });
    expect(ownerColorsFromSettings(['#fff']).problems).toEqual(['pageledger.ownerColors: expected an object of owner kind to colour']);
    expect([chartResolutionFromSettings(1200.4), chartResolutionFromSettings(3), chartResolutionFromSettings(1e9), chartResolutionFromSettings('x')]).toEqual([1200, 50, 10_000, 800]);
  });

  it('sends them in a settings message the webview accepts, and the webview rejects a malformed one', () => {
    const m = viewSettingsMessage({ ...DEFAULT_SETTINGS, ownerColors: { kernel: '#112233' }, chartResolution: 400 });
    expect(m).toEqual({ type: 'settings', ownerColors: { kernel: '#112233' }, chartResolution: 400 });
    expect(parseHostMessage(JSON.parse(JSON.stringify(m)))).toEqual(m);
    expect(parseHostMessage({ type: 'settings', ownerColors: { kernel: 5 }, chartResolution: 400 })).toBeNull();
    expect(parseHostMessage({ type: 'settings', ownerColors: {}, chartResolution: null })).toBeNull();
    expect(parseHostMessage({ type: 'settings', chartResolution: 400 })).toBeNull();
  });
});
