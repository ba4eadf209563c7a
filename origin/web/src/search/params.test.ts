import { describe, expect, it } from 'vitest';
import { activeFilters, clearFilters, toggleFilter, valueLabel, withSort, withWords } from './params';

describe('search parameters', () => {
  it('toggles repeatable filters and drops the page cursor', () => {
    let p = new URLSearchParams('q=star&cursor=abc');
    p = toggleFilter(p, 'genre', 'Drama');
    p = toggleFilter(p, 'genre', 'Comedy');
    expect(p.getAll('genre')).toEqual(['Drama', 'Comedy']);
    expect(p.has('cursor')).toBe(false);
    p = toggleFilter(p, 'genre', 'Drama');
    expect(p.getAll('genre')).toEqual(['Comedy']);
    expect(p.get('q')).toBe('star');
  });

  it('keeps one viewer-rating filter at a time', () => {
    let p = toggleFilter(new URLSearchParams(), 'liked', '75');
    p = toggleFilter(p, 'liked', '90');
    expect(p.getAll('liked')).toEqual(['90']);
  });

  it('clears filters but keeps words and sort', () => {
    const p = clearFilters(new URLSearchParams('q=x&genre=A&language=fr&sort=az'));
    expect(p.toString()).toBe('q=x&sort=az');
    expect(activeFilters(new URLSearchParams('genre=A&decade=1990'))).toEqual([
      ['genre', 'A'],
      ['decade', '1990'],
    ]);
  });

  it('leaves defaults out of the URL', () => {
    expect(withSort(new URLSearchParams('sort=az'), 'relevance').toString()).toBe('');
    expect(withWords(new URLSearchParams('q=a'), '  ').toString()).toBe('');
  });

  it('labels values for people', () => {
    expect(valueLabel('language', 'fr')).toBe('French');
    expect(valueLabel('decade', '1990')).toBe('1990s');
    expect(valueLabel('liked', '75')).toBe('75%+ liked');
    expect(valueLabel('kind', 'series')).toBe('Series');
  });
});
