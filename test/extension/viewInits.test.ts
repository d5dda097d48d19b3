import { describe, expect, it } from 'vitest';
import { ViewInits } from '../../src/extension/logic/viewInits';

interface Load {
  n: number;
}

function setup(fail = false) {
  const asked: number[] = [];
  let release: (() => void) | undefined;
  const gate = new Promise<void>((r) => (release = r));
  const inits = new ViewInits<object, Load, string>(async (load) => {
    asked.push(load.n);
    await gate;
    if (fail) throw new Error('no init');
    return `init ${load.n}`;
  });
  return { inits, asked, release: () => release?.() };
}

describe('ownership view inits', () => {
  it("posts a load's init once to a view, though ready and loaded both send it", async () => {
    const { inits, asked, release } = setup();
    const view = {};
    const posted: string[] = [];
    const load = { n: 1 };
    const a = inits.send(view, load, (i) => posted.push(i));
    const b = inits.send(view, load, (i) => posted.push(i));
    release();
    expect(await Promise.all([a, b])).toEqual([true, false]);
    expect(posted).toEqual(['init 1']);
    expect(asked).toEqual([1]);
  });

  it('asks the worker once per load, for every view of the trace, and again for a reload', async () => {
    const { inits, asked, release } = setup();
    const posted: string[] = [];
    const first = { n: 1 };
    release();
    await inits.initOf(first);
    await inits.send({}, first, (i) => posted.push(`a ${i}`));
    await inits.send({}, first, (i) => posted.push(`b ${i}`));
    const reload = { n: 2 };
    const view = {};
    await inits.send(view, first, (i) => posted.push(`c ${i}`));
    await inits.send(view, reload, (i) => posted.push(`c ${i}`));
    expect(posted).toEqual(['a init 1', 'b init 1', 'c init 1', 'c init 2']);
    expect(asked).toEqual([1, 2]);
  });

  it('sends again after the view reset (its webview loaded again)', async () => {
    const { inits, release } = setup();
    release();
    const view = {};
    const load = { n: 1 };
    const posted: string[] = [];
    await inits.send(view, load, (i) => posted.push(i));
    inits.reset(view);
    expect(await inits.send(view, load, (i) => posted.push(i))).toBe(true);
    expect(posted).toEqual(['init 1', 'init 1']);
  });

  it('drops an init that a newer load overtook while it was computed', async () => {
    const { inits, release } = setup();
    const view = {};
    const posted: string[] = [];
    const old = inits.send(view, { n: 1 }, (i) => posted.push(i));
    const fresh = inits.send(view, { n: 2 }, (i) => posted.push(i));
    release();
    expect(await Promise.all([old, fresh])).toEqual([false, true]);
    expect(posted).toEqual(['init 2']);
  });

  it('lets a failed init be asked for again', async () => {
    const { inits, asked, release } = setup(true);
    release();
    const view = {};
    const load = { n: 1 };
    await expect(inits.send(view, load, () => undefined)).rejects.toThrow('no init');
    await expect(inits.send(view, load, () => undefined)).rejects.toThrow('no init');
    expect(asked).toEqual([1, 1]);
  });
});
