import { describe, expect, it } from 'vitest';
import type { Title } from './api';
import { featuredTitle, formatBytes, formatClock, formatDuration, formatPercent, isComingSoon, timeAgo } from './format';

const title = (id: string, genres: string[], extra: Partial<Title> = {}): Title => ({
  id,
  name: `Title ${id}`,
  synopsis: '',
  year: 2000,
  genres,
  maturity_rating: 'PG',
  kind: 'film',
  state: 'ready',
  created_at: 0,
  markers: {},
  facts: {},
  ...extra,
});

describe('formatDuration', () => {
  it('reads like a streaming service', () => {
    expect(formatDuration(11)).toBe('11 sec');
    expect(formatDuration(24 * 60)).toBe('24 min');
    expect(formatDuration(2 * 3600)).toBe('2 h');
    expect(formatDuration(6120)).toBe('1 h 42 min');
    expect(formatDuration(null)).toBeNull();
    expect(formatDuration(0)).toBeNull();
  });
});

describe('formatClock', () => {
  it('reads like a player clock', () => {
    expect(formatClock(5)).toBe('0:05');
    expect(formatClock(65.9)).toBe('1:05');
    expect(formatClock(3725)).toBe('1:02:05');
    expect(formatClock(Number.NaN)).toBe('0:00');
  });
});

describe('featuredTitle', () => {
  it('prefers titles with a poster and is stable within a day', () => {
    const titles = [title('a', [], { poster_url: '/p/a' }), title('b', []), title('c', [], { poster_url: '/p/c' })];
    const day = new Date('2026-01-01T10:00:00Z');
    const later = new Date('2026-01-01T22:00:00Z');
    const pick = featuredTitle(titles, day);
    expect(pick?.poster_url).toBeTruthy();
    expect(featuredTitle(titles, later)).toBe(pick);
    expect(featuredTitle([])).toBeUndefined();
    expect(featuredTitle([title('a', []), title('a', [])])?.id).toBe('a');
  });
});

describe('notifications and premieres', () => {
  const now = Date.UTC(2026, 10, 30, 12, 0, 0);
  it('say when something came in words', () => {
    expect(timeAgo(now / 1000 - 20, now)).toBe('just now');
    expect(timeAgo(now / 1000 - 5 * 60, now)).toBe('5 minutes ago');
    expect(timeAgo(now / 1000 - 3 * 3600, now)).toBe('3 hours ago');
    expect(timeAgo(now / 1000 - 86_400, now)).toBe('yesterday');
  });
  it('call a title coming soon only before its premiere', () => {
    expect(isComingSoon({ premieres_at: now / 1000 + 60 }, now)).toBe(true);
    expect(isComingSoon({ premieres_at: now / 1000 - 60 }, now)).toBe(false);
    expect(isComingSoon({}, now)).toBe(false);
  });
});

describe('formatBytes', () => {
  it('counts in decimal units with one decimal below 100', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(834_000)).toBe('834 KB');
    expect(formatBytes(1_234_567)).toBe('1.2 MB');
    expect(formatBytes(12_300_000_000)).toBe('12.3 GB');
  });
});

describe('formatPercent', () => {
  it('rounds a ratio and says when there is none', () => {
    expect(formatPercent(0.874)).toBe('87 %');
    expect(formatPercent(1)).toBe('100 %');
    expect(formatPercent(null)).toBe('–');
    expect(formatPercent(undefined)).toBe('–');
  });
});
