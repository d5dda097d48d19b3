import { describe, expect, it } from 'vitest';
import { native, openText } from '../helpers';

describe('native format: values read without decoding', () => {
  it('records a snapshot with every field, in order, and its owner', async () => {
    const m = await openText(native('5 fork pid=1 child=42 comm="nginx: worker"', '10 snapshot-begin snap=3 pid=42', '11 snapref snap=3 pfn=0x10', '12 snapshot-end snap=3'));
    expect(JSON.stringify(m.builder.snapshots)).toBe(JSON.stringify([{ id: 3, source: 'native', name: 'snapshot 3', pid: 42, time: 10, line: 3, file: 0 }]));
    const o = m.builder.owners.objects().find((x) => x.kind === 'snapshot')!;
    expect(o).toEqual({ id: o.id, kind: 'snapshot', snap: 3, pid: 42 });
    expect(m.builder.owners.get(m.builder.owners.findProcess(42)!).comm).toBe('nginx: worker');
  });

  it('tells owner kinds apart as bytes, quoted or not, and names an unknown one', async () => {
    const m = await openText(
      native(
        '1 alloc pfn=0x1 owner=kernel',
        '2 alloc pfn=0x2 owner="process" pid=9 comm=db',
        '3 alloc pfn=0x3 owner=agent agent=numactl',
        '4 alloc pfn=0x4 owner=file dev=259:1 ino=12',
        '5 alloc pfn=0x5 owner=kernelx',
        '6 alloc pfn=0x6 owner=Kernel',
        '7 alloc pfn=0x7 owner=process',
      ),
    );
    const kinds = m.builder.owners.objects().map((o) => [o.kind, o.pid ?? o.name ?? o.dev ?? null]);
    expect(kinds).toEqual([['free', null], ['kernel', null], ['process', 9], ['agent', 'numactl'], ['file', '259:1']]);
    expect(m.builder.errors.map((e) => [e.line, e.message])).toEqual([
      [6, 'unknown owner "kernelx": expected kernel, process, agent or file'],
      [7, 'unknown owner "Kernel": expected kernel, process, agent or file'],
      [8, 'owner=process needs pid='],
    ]);
  });

  it('gives the same number errors as before for every malformed value', async () => {
    const m = await openText(native('1 alloc pfn=0x order=0', '2 alloc pfn=12a', '3 alloc pfn=0x1 node=-', '4 alloc pfn=0x1 node=--1', '5 alloc pfn=', '0x10 alloc pfn=0X1F node=-1', '7x alloc pfn=1'));
    expect(m.builder.errors.map((e) => [e.line, e.message])).toEqual([
      [2, 'expected a number for pfn=, found "0x"'],
      [3, 'expected a number for pfn=, found "12a"'],
      [4, 'expected a number for node=, found "-"'],
      [5, 'expected a number for node=, found "--1"'],
      [6, 'expected a number for pfn=, found ""'],
      [8, 'expected a time in nanoseconds, found "7x"'],
    ]);
    expect(m.builder.events.length).toBe(1);
    expect(m.builder.events.time.get(0)).toBe(16);
    expect(m.builder.events.pfn.get(0)).toBe(0x1f);
    expect(m.builder.events.node.get(0)).toBe(-1);
  });

  it('reads keys by their first word only when the whole key matches, near the line end too', async () => {
    const m = await openText(
      native(
        '1 alloc pfn=0x10 orderx=5 order=1 nodes=3 node=1 pid=7 comm=a gfp=X vaddrs=4',
        '2 alloc order=2 pid=7 pfn=0x20',
        '3 alloc pfn=3',
        '4 alloc pfn=0x40 pid=7 snap=1 snapx=2 orde=6 ord=7 node=0',
        '5 map pid=7 pfn=0x10 vadd=1 vaddr=0x7f00',
        '6 alloc pfn=0x60 pid=7 tgid=7 pfn=0x61',
      ),
    );
    expect(m.builder.errors).toEqual([]);
    const e = m.builder.events;
    const got = Array.from({ length: e.length }, (_, k) => [e.time.get(k), e.pfn.get(k), e.orderCol.get(k), e.node.get(k)]);
    expect(got).toEqual([
      [1, 0x10, 1, 1],
      [2, 0x20, 2, -1],
      [3, 3, 0, -1],
      [4, 0x40, 0, 0],
      [5, 0x10, 0, -1],
      [6, 0x61, 0, -1],
    ]);
    expect(e.arg.get(4)).toBe(0x7f00);
  });
});
