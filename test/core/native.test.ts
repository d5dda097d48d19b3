import { describe, expect, it } from 'vitest';
import { analyzeText, native, openText } from '../helpers';

describe('native format', () => {
  it('parses alloc/free and reports live pages per owner', async () => {
    const s = await analyzeText(
      native(
        '100 alloc pfn=0x10 order=1 pid=7 comm=app node=0',
        '200 alloc pfn=0x20 order=0 owner=kernel',
        '300 free pfn=0x10 order=1',
        '400 alloc pfn=0x30 order=2 pid=7 comm=app',
      ),
    );
    expect(s.format).toBe('pageledger');
    expect(s.counts).toMatchObject({ alloc: 3, free: 1 });
    expect(s.livePages).toBe(1 + 4);
    const app = s.owners.find((o) => o.pid === 7)!;
    expect(app).toMatchObject({ kind: 'process', comm: 'app', livePages: 4, peakPages: 4 });
    expect(s.anomalies).toEqual([]);
  });

  it('ignores keys it does not know, also ones that end in, start with or pad a known key', async () => {
    const s = await analyzeText(
      native(
        '1 alloc pfn=0x10 xxxxorder=3 orders=2 zzzreserved=1 pidx=9 pid=7 comm=app',
        '2 alloc pfn=0x20 order=1 owner=kernel veryveryverylongkey=12 o=5',
        '3 free pfn=0x20 order=1 xpfn=0x99',
      ),
    );
    expect(s.counts).toMatchObject({ alloc: 2, free: 1 });
    expect(s.livePages).toBe(1);
    expect(s.owners.find((o) => o.pid === 7)).toMatchObject({ comm: 'app', livePages: 1 });
    expect(s.anomalies).toEqual([]);
  });

  it('reports double-free at the second free and not for pages allocated before tracing', async () => {
    const s = await analyzeText(
      native(
        '1 free pfn=0x99 order=0', // unknown page: allocated before the trace began
        '2 alloc pfn=0x10 order=0 pid=1',
        '3 free pfn=0x10 order=0',
        '4 free pfn=0x10 order=0',
      ),
    );
    expect(s.anomalies.map((a) => [a.kind, a.line, a.pfn, a.related])).toEqual([['double-free', 5, '0x10', [4]]]);
  });

  it('reports double-alloc at the later alloc, which then owns the page', async () => {
    const s = await analyzeText(native('1 alloc pfn=0x10 order=2 pid=1', '2 alloc pfn=0x12 order=0 pid=2', '3 free pfn=0x11 order=0'));
    expect(s.anomalies.map((a) => [a.kind, a.line, a.pfn, a.related])).toEqual([['double-alloc', 3, '0x12', [2]]]);
    expect(s.owners.find((o) => o.pid === 2)!.livePages).toBe(1);
    expect(s.owners.find((o) => o.pid === 1)!.livePages).toBe(2);
  });

  it('keeps going after malformed lines and names file, line and what was expected', async () => {
    const s = await analyzeText(native('1 alloc pfn=0x10', 'garbage here', '2 alloc pfn=zz', '3 frobnicate pfn=1', '4 alloc order=0', '5 free pfn=0x10'), 'bad.pltrace');
    const errs = s.anomalies.filter((a) => a.kind === 'parse-error');
    expect(errs.map((e) => e.line)).toEqual([3, 4, 5, 6]);
    expect(errs[0].file).toBe('bad.pltrace');
    expect(errs[1].message).toContain('expected a number for pfn=');
    expect(errs[2].message).toContain('unknown event "frobnicate"');
    expect(errs[3].message).toContain('missing pfn=');
    expect(s.counts).toMatchObject({ alloc: 1, free: 1 });
  });

  it('tells every event name from names that differ by a byte, short or long', async () => {
    const wrong = ['allocx', 'lloc', 'fre', 'frees', 'xmap', 'snapshot', 'snapshot-en', 'snapshot-begins', 'alloc-faile', 'migrated', 'xmembind', 'ALLOC', 'mmap'];
    const s = await analyzeText(
      native(
        ...wrong.map((w, k) => `${k} ${w} pfn=0x${k}`),
        '20 alloc pfn=0x10 pid=3',
        '21 snapshot-begin snap=1 pid=3',
        '22 snapref snap=1 pfn=0x10',
        '23 snapshot-end snap=1',
        '24 alloc-failed pfn=0 order=2 pid=3',
        '25 snapshot-drop snap=1',
        '26 membind pid=3 node=0',
        '27 free pfn=0x10',
      ),
    );
    const errs = s.anomalies.filter((a) => a.kind === 'parse-error');
    expect(errs.map((e) => e.message.match(/unknown event "([^"]*)"/)?.[1])).toEqual(wrong);
    expect(errs.map((e) => e.line)).toEqual(wrong.map((_, k) => k + 2));
    expect(s.counts).toMatchObject({ alloc: 1, free: 1, snapshotBegin: 1, snapshotRef: 1, snapshotEnd: 1, allocFailed: 1, snapshotDrop: 1, membind: 1 });
  });

  it('reads quoted values, CRLF line ends, and a last line without a terminator', async () => {
    const text = 'pageledger-trace 1\r\n1 alloc pfn=0x10 pid=3 comm="nginx: worker"\r\n2 alloc pfn=0x11 pid=3';
    const s = await analyzeText(text);
    expect(s.owners[0]).toMatchObject({ pid: 3, comm: 'nginx: worker', livePages: 2 });
    expect(s.anomalies).toEqual([]);
  });

  it('gives the same result whatever the chunk size', async () => {
    const lines = ['1 alloc pfn=0x10 order=0 pid=1 comm=a'];
    for (let k = 0; k < 200; k++) lines.push(`${k + 2} ${k % 2 ? 'free' : 'alloc'} pfn=0x${(0x10 + (k >> 1)).toString(16)} order=0 pid=2`);
    const text = native(...lines);
    const whole = await analyzeText(text);
    for (const chunk of [1, 3, 7, 64]) {
      const s = await analyzeText(text, 'test.pltrace', {}, chunk);
      expect({ c: s.counts, l: s.livePages, a: s.anomalies }).toEqual({ c: whole.counts, l: whole.livePages, a: whole.anomalies });
    }
  });

  it('rejects empty, binary and unknown input with a clear message', async () => {
    expect((await analyzeText('')).anomalies[0]).toMatchObject({ kind: 'parse-error', line: 1, message: expect.stringContaining('empty') });
    const bin = new Uint8Array(5000).map((_, i) => (i * 7) & 0xff);
    const { openTrace, summarize } = await import('../../src/core/trace');
    const { memorySource } = await import('../../src/core/io/memorySource');
    const s = summarize(await openTrace([memorySource('x.bin', bin)]));
    expect(s.anomalies[0].message).toContain('binary data');
    expect((await analyzeText('hello world\n')).anomalies[0].message).toContain('unrecognized content');
  });

  it('skips a 1 MB single line with a message and reads the lines after it', async () => {
    const text = native('1 alloc pfn=0x1 pid=1', 'x'.repeat(1 << 20), '2 alloc pfn=0x2 pid=1');
    const s = await analyzeText(text, 't', {}, 4096);
    expect(s.counts.alloc).toBe(2);
    expect(s.anomalies).toHaveLength(1);
    expect(s.anomalies[0]).toMatchObject({ kind: 'parse-error', line: 3, message: expect.stringContaining('1048576 bytes') });
  });
});

describe('native format limits', () => {
  it('rejects an order beyond a 1 GiB page instead of walking millions of pages', async () => {
    const s = await analyzeText(native('1 alloc pfn=0x0 order=18 pid=1', '2 alloc pfn=0x100000 order=19 pid=1'));
    expect(s.counts.alloc).toBe(1);
    expect(s.livePages).toBe(2 ** 18);
    expect(s.anomalies.map((a) => [a.kind, a.line])).toEqual([['parse-error', 3]]);
    expect(s.anomalies[0].message).toContain('expected 0..18');
  });

  it('gives each line the owner of its own pid, for pids that share a slot of the parser cache', async () => {
    // 5, 1029 and 2053 agree in their low 10 bits; pid 9 is first seen without a comm and learns it later.
    const pids = [5, 1029, 2053, 5, 2053, 1029, 9, 9, 5];
    const lines = pids.map((pid, k) => (pid === 9 && k === 6 ? `${k + 1} map pid=9 vaddr=0x1000 pfn=0x${(0x100 + k).toString(16)}` : `${k + 1} alloc pfn=0x${(0x100 + k).toString(16)} order=0 pid=${pid} comm=c${pid}`));
    lines.push('20 write pid=9 vaddr=0x1000 pfn=0x107', '21 unmap pid=1029 vaddr=0x2000 pfn=0x105');
    const m = await openText(native(...lines));
    const ev = m.builder.events;
    const owners = m.builder.owners;
    const want = [...pids, 9, 1029];
    expect(ev.length).toBe(want.length);
    for (let i = 0; i < ev.length; i++) expect([i, owners.get(ev.owner.get(i)).pid]).toEqual([i, want[i]]);
    expect(owners.get(owners.findProcess(9)!).comm).toBe('c9');
    expect(new Set(want.map((pid) => owners.findProcess(pid))).size).toBe(4);
  });

  it('gives each snapshot reference the owner of its own snapshot, across runs of references', async () => {
    const m = await openText(
      native(
        '1 snapshot-begin snap=1 pid=3',
        '2 snapref snap=1 pfn=0x10',
        '3 snapshot-begin snap=2 pid=3',
        '4 snapref snap=2 pfn=0x11',
        '5 snapref snap=2 pfn=0x12',
        '6 snapref snap=1 pfn=0x13',
        '7 snapshot-end snap=1',
        '8 snapshot-drop snap=2',
      ),
    );
    const ev = m.builder.events;
    const owners = m.builder.owners;
    const snaps = Array.from({ length: ev.length }, (_, i) => owners.get(ev.owner.get(i)).snap);
    expect(snaps).toEqual([1, 1, 2, 2, 2, 1, 1, 2]);
  });
});
