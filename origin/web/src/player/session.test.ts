import { beforeEach, describe, expect, it } from 'vitest';
import { AUTOPLAY_LIMIT, autoplayed, shouldAskStillWatching, viewerActed } from './session';

// vitest runs in node: a minimal sessionStorage.
beforeEach(() => {
  const store = new Map<string, string>();
  globalThis.sessionStorage = {
    getItem: (k: string) => store.get(k) ?? null,
    setItem: (k: string, v: string) => void store.set(k, v),
    removeItem: (k: string) => void store.delete(k),
    clear: () => store.clear(),
    key: () => null,
    length: 0,
  } as Storage;
});

describe('still watching', () => {
  it('asks once three episodes started by themselves, and any input resets it', () => {
    for (let n = 1; n < AUTOPLAY_LIMIT; n += 1) {
      expect(autoplayed()).toBe(n);
      expect(shouldAskStillWatching()).toBe(false);
    }
    autoplayed();
    expect(shouldAskStillWatching()).toBe(true);
    viewerActed();
    expect(shouldAskStillWatching()).toBe(false);
  });
});
