import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { keepFresh, renewalDelayMs, RETRY_AFTER_FAILURE_MS, swapToken } from './renewal';

describe('swapToken', () => {
  it('puts the new token into segment URLs resolved against an old manifest URL', () => {
    const segment = 'https://edge.example/t/OLD.tok-en_1/media/abc/j1/video/720p/seg-7.m4s';
    expect(swapToken(segment, 'NEW')).toBe('https://edge.example/t/NEW/media/abc/j1/video/720p/seg-7.m4s');
  });

  it('leaves URLs without a token path alone', () => {
    expect(swapToken('https://origin.example/api/v1/titles/abc', 'NEW')).toBe('https://origin.example/api/v1/titles/abc');
  });
});

describe('keepFresh', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000_000);
  });
  afterEach(() => vi.useRealTimers());

  const nowUnix = () => Math.floor(Date.now() / 1000);

  it('renews at three quarters of the pass life and then carries the new token', async () => {
    let n = 0;
    const renew = vi.fn(async () => ({ token: `tok-${++n}`, expires_at: nowUnix() + 400 }));
    const seen: string[] = [];
    const renewal = keepFresh({ token: 'tok-0', expires_at: nowUnix() + 400 }, renew, (t) => seen.push(t));
    expect(renewal.current()).toBe('tok-0');
    await vi.advanceTimersByTimeAsync(299_000);
    expect(renew).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(renewal.current()).toBe('tok-1');
    await vi.advanceTimersByTimeAsync(300_000);
    expect(seen).toEqual(['tok-1', 'tok-2']);
    renewal.stop();
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(renew).toHaveBeenCalledTimes(2);
  });

  it('keeps trying after a failed renewal, e.g. while offline', async () => {
    const renew = vi
      .fn<() => Promise<{ token: string; expires_at: number }>>()
      .mockRejectedValueOnce(new Error('offline'))
      .mockResolvedValue({ token: 'tok-1', expires_at: nowUnix() + 400 });
    const renewal = keepFresh({ token: 'tok-0', expires_at: nowUnix() + 20 }, renew);
    await vi.advanceTimersByTimeAsync(15_000);
    expect(renewal.current()).toBe('tok-0');
    await vi.advanceTimersByTimeAsync(RETRY_AFTER_FAILURE_MS);
    expect(renewal.current()).toBe('tok-1');
    renewal.stop();
  });

  it('never waits less than five seconds, even for a pass about to expire', () => {
    expect(renewalDelayMs(100, 99_000)).toBe(5_000);
    expect(renewalDelayMs(1_000, 600_000)).toBe(300_000);
  });
});
