import { describe, expect, it } from 'vitest';
import { pickNext, type Box } from './spatial';

const box = (left: number, top: number, width = 100, height = 150): Box => ({ left, top, width, height });

// Two rows of posters and a button bar above them.
const bar = [box(0, 0, 80, 40), box(100, 0, 80, 40)];
const row1 = [0, 120, 240, 360].map((x) => box(x, 100));
const row2 = [0, 120, 240, 360].map((x) => box(x, 300));
const all = [...bar, ...row1, ...row2];

describe('pickNext', () => {
  it('moves along a row and stops at its end', () => {
    expect(all[pickNext(row1[1]!, all, 'right')]).toBe(row1[2]);
    expect(all[pickNext(row1[1]!, all, 'left')]).toBe(row1[0]);
    expect(pickNext(row2[3]!, [row2[3]!], 'right')).toBe(-1);
  });

  it('moves between rows in the same column', () => {
    expect(all[pickNext(row1[2]!, all, 'down')]).toBe(row2[2]);
    expect(all[pickNext(row2[3]!, all, 'up')]).toBe(row1[3]);
  });

  it('goes from the first row up to the nearest button', () => {
    expect(all[pickNext(row1[0]!, all, 'up')]).toBe(bar[0]);
    expect(all[pickNext(row1[1]!, all, 'up')]).toBe(bar[1]);
  });
});
