import { describe, expect, it } from 'vitest';
import { parseRoute, paths, safeNext } from './router';

describe('parseRoute', () => {
  it('maps every screen', () => {
    expect(parseRoute('/', '')).toEqual({ name: 'browse' });
    expect(parseRoute('/title/abc', '')).toEqual({ name: 'title', id: 'abc' });
    expect(parseRoute('/watch/a%20b', '')).toEqual({ name: 'watch', id: 'a b' });
    expect(parseRoute('/signin', '?next=%2Ftitle%2Fx')).toEqual({ name: 'signin', next: '/title/x' });
    expect(parseRoute('/signup', '')).toEqual({ name: 'signup', next: '/' });
  });

  it('sends unknown paths to not-found', () => {
    expect(parseRoute('/title', '')).toEqual({ name: 'not-found' });
    expect(parseRoute('/title/a/b', '')).toEqual({ name: 'not-found' });
    expect(parseRoute('/admin', '')).toEqual({ name: 'not-found' });
  });

  it('round-trips ids through paths', () => {
    const id = 'odd id/with?chars';
    expect(parseRoute(paths.watch(id), '')).toEqual({ name: 'watch', id });
  });
});

describe('safeNext', () => {
  it('refuses anything that could leave the site', () => {
    expect(safeNext('https://evil.example/')).toBe('/');
    expect(safeNext('//evil.example/')).toBe('/');
    expect(safeNext('javascript:alert(1)')).toBe('/');
    expect(safeNext(null)).toBe('/');
    expect(safeNext('/title/x?y=1')).toBe('/title/x?y=1');
  });
});
