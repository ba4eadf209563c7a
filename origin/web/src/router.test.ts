import { describe, expect, it } from 'vitest';
import { paths, safeNext } from './router';

describe('paths', () => {
  it('encodes ids and keeps the episode in the query', () => {
    expect(paths.title('odd id/with?chars')).toBe('/title/odd%20id%2Fwith%3Fchars');
    expect(paths.watch('s1', 'e 2')).toBe('/watch/s1?episode=e%202');
    expect(paths.watch('f1')).toBe('/watch/f1');
    expect(paths.profiles('/title/x')).toBe('/profiles?next=%2Ftitle%2Fx');
    expect(paths.profiles('/')).toBe('/profiles');
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
