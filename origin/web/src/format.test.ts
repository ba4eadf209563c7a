import { describe, expect, it } from 'vitest';
import type { Title } from './api';
import { featuredTitle, formatDuration, genreRows } from './format';

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

describe('genreRows', () => {
  it('puts a title in each of its genres, biggest row first, and drops one-poster rows', () => {
    const rows = genreRows([title('a', ['Drama', 'Comedy']), title('b', ['Drama']), title('c', ['Comedy', 'War'])]);
    expect(rows.map((r) => [r.genre, r.titles.map((t) => t.id)])).toEqual([
      ['Comedy', ['a', 'c']],
      ['Drama', ['a', 'b']],
    ]);
  });

  it('keeps small rows when nothing else would show', () => {
    expect(genreRows([title('a', ['War'])]).map((r) => r.genre)).toEqual(['War']);
    expect(genreRows([title('a', [])]).map((r) => r.genre)).toEqual(['More to watch']);
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
  });
});
