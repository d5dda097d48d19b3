import { describe, expect, it } from 'vitest';
import { CallQueue } from '../../src/extension/logic/callQueue';

function setup() {
  const ran: string[] = [];
  const later: (() => void)[] = [];
  const q = new CallQueue<string>((c) => c.startsWith('view'), (c) => ran.push(c), (f) => void later.push(f));
  const turn = (): boolean => {
    const f = later.shift();
    f?.();
    return f !== undefined;
  };
  return { q, ran, turn };
}

describe('worker call order', () => {
  it("answers the view's calls before the pages asked for earlier, each kind in arrival order", () => {
    const { q, ran, turn } = setup();
    for (const c of ['anomalies 1', 'owners', 'viewInit', 'anomalies 2', 'view series']) q.push(c);
    while (turn());
    expect(ran).toEqual(['viewInit', 'view series', 'anomalies 1', 'owners', 'anomalies 2']);
  });

  it('runs one call per turn, so a view call arriving meanwhile goes next', () => {
    const { q, ran, turn } = setup();
    q.push('anomalies 1');
    q.push('anomalies 2');
    turn();
    expect(ran).toEqual(['anomalies 1']);
    q.push('view series');
    while (turn());
    expect(ran).toEqual(['anomalies 1', 'view series', 'anomalies 2']);
  });

  it('runs nothing until its turn, and schedules one turn at a time', () => {
    const { q, ran, turn } = setup();
    q.push('owners');
    q.push('view map');
    expect(ran).toEqual([]);
    expect(turn()).toBe(true);
    expect(turn()).toBe(true);
    expect(turn()).toBe(false);
    expect(ran).toEqual(['view map', 'owners']);
  });
});
