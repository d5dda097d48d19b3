import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IdleTasks } from '../../src/extension/logic/idleTasks';

describe('IdleTasks', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs a task once no call has come for the quiet period, counted from the task or the last call', () => {
    const idle = new IdleTasks(1000, 10_000);
    const ran: string[] = [];
    idle.add('a', () => ran.push('a'));
    vi.advanceTimersByTime(999);
    expect(ran).toEqual([]);
    idle.touch();
    vi.advanceTimersByTime(999);
    expect(ran).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(ran).toEqual(['a']);
    vi.advanceTimersByTime(5000);
    expect(ran).toEqual(['a']);
    expect(idle.pending()).toEqual([]);
  });

  it('runs a task after the longest delay even while calls keep coming', () => {
    const idle = new IdleTasks(1000, 3000);
    const ran: string[] = [];
    idle.add('a', () => ran.push('a'));
    for (let k = 0; k < 5; k++) {
      vi.advanceTimersByTime(500);
      idle.touch();
    }
    vi.advanceTimersByTime(499);
    expect(ran).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(ran).toEqual(['a']);
  });

  it('runs a task at once when flushed, and never twice; a task added again under its key replaces it', () => {
    const idle = new IdleTasks(1000, 10_000);
    const ran: string[] = [];
    idle.add('a', () => ran.push('a1'));
    idle.add('a', () => ran.push('a2'));
    idle.add('b', () => ran.push('b'));
    idle.flush('a');
    expect(ran).toEqual(['a2']);
    idle.flush('a');
    idle.flush('missing');
    expect(idle.pending()).toEqual(['b']);
    idle.flushAll();
    expect(ran).toEqual(['a2', 'b']);
    vi.advanceTimersByTime(20_000);
    expect(ran).toEqual(['a2', 'b']);
  });

  it('keeps no timer when nothing waits', () => {
    const idle = new IdleTasks(1000, 10_000);
    idle.touch();
    expect(vi.getTimerCount()).toBe(0);
    idle.add('a', () => undefined);
    expect(vi.getTimerCount()).toBe(1);
    idle.flush('a');
    vi.advanceTimersByTime(1000);
    expect(vi.getTimerCount()).toBe(0);
  });
});
