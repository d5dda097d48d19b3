import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { openTrace, summarize } from '../../src/core/trace';
import { fileSource } from '../../src/node/fileSource';
import { native } from '../helpers';

describe('fileSource', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pl-src-'));
  const text = native('1 alloc pfn=0x10 order=1 pid=5 comm=app', '2 free pfn=0x10 order=1', '3 free pfn=0x10 order=0');

  it('reads gzip input by its magic bytes, whatever its name, with the same result as plain text', async () => {
    const plain = join(dir, 'trace.pltrace');
    const gz = join(dir, 'trace.data');
    writeFileSync(plain, text);
    writeFileSync(gz, gzipSync(Buffer.from(text)));
    const a = summarize(await openTrace([fileSource(plain)]));
    const b = summarize(await openTrace([fileSource(gz)]));
    expect(b.format).toBe('pageledger');
    expect(b.counts).toEqual(a.counts);
    expect(b.anomalies.map((x) => [x.kind, x.line])).toEqual([['double-free', 4]]);
    expect(a.anomalies.map((x) => [x.kind, x.line])).toEqual([['double-free', 4]]);
  });

  it('never writes to its input', async () => {
    const p = join(dir, 'ro.pltrace');
    writeFileSync(p, text);
    const before = statSync(p);
    await openTrace([fileSource(p)]);
    const after = statSync(p);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(after.size).toBe(before.size);
    expect(readFileSync(p, 'utf8')).toBe(text);
  });
});
