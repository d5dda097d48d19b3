import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openTrace, summarize, type InputSource } from '../../src/core/trace';
import { fileChunks, plainFileSource } from '../../src/node/fileChunks';
import { native } from '../helpers';

/** A trace long enough that format detection holds several chunks back before the parser starts. */
function longTrace(): string {
  const lines: string[] = [];
  for (let i = 0; i < 4000; i++) lines.push(`${i * 10} alloc pfn=0x${(0x1000 + i).toString(16)} order=0 pid=${100 + (i % 7)} comm=app${i % 7}`);
  for (let i = 0; i < 4000; i += 2) lines.push(`${50000 + i} free pfn=0x${(0x1000 + i).toString(16)} order=0`);
  lines.push('99999 free pfn=0x1000 order=0');
  return native(...lines);
}

/** The text as chunks of `size` bytes written into one reused Buffer, as fileChunks reads a file. */
function reusedBufferSource(text: string, size: number): InputSource {
  const bytes = Buffer.from(text);
  return {
    path: 'whole.pltrace',
    async *chunks() {
      const buf = Buffer.alloc(size);
      for (let o = 0; o < bytes.length; o += size) {
        const n = bytes.copy(buf, 0, o, Math.min(bytes.length, o + size));
        yield buf.subarray(0, n);
      }
    },
  };
}

describe('fileChunks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pl-chunks-'));

  it('yields Buffers (their indexOf is memchr) covering the range asked for', async () => {
    const p = join(dir, 'range.txt');
    writeFileSync(p, 'abcdefghij');
    const got: string[] = [];
    for await (const c of fileChunks(p, 2, 7)) {
      expect(Buffer.isBuffer(c)).toBe(true);
      got.push(Buffer.from(c).toString());
    }
    expect(got.join('')).toBe('cdefg');
  });

  it('gives the model of the whole text when every chunk reuses one Buffer, also for the chunks held back to detect the format', async () => {
    const text = longTrace();
    expect(text.length).toBeGreaterThan(3 * 65536);
    const whole: InputSource = { path: 'whole.pltrace', async *chunks() { yield new TextEncoder().encode(text); } };
    const want = summarize(await openTrace([whole]));
    expect(want.stats.events).toBe(6001);
    expect(want.anomalies.map((a) => a.kind)).toEqual(['double-free']);
    for (const size of [1000, 4096, 65536]) {
      const got = summarize(await openTrace([reusedBufferSource(text, size)]));
      expect(got.counts).toEqual(want.counts);
      expect(got.stats.lines).toBe(want.stats.lines);
      expect(got.owners).toEqual(want.owners);
      expect(got.anomalies).toEqual(want.anomalies);
    }
  });

  it('reads a file on disk through plainFileSource with the same model as from memory', async () => {
    const text = longTrace();
    const p = join(dir, 'plain.pltrace');
    writeFileSync(p, text);
    const whole: InputSource = { path: p, async *chunks() { yield new TextEncoder().encode(text); } };
    const want = summarize(await openTrace([whole]));
    const got = summarize(await openTrace([plainFileSource({ path: p, chunks: whole.chunks })]));
    expect(got.counts).toEqual(want.counts);
      expect(got.stats.lines).toBe(want.stats.lines);
    expect(got.anomalies).toEqual(want.anomalies);
  });
});
