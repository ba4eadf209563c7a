import { describe, expect, it } from 'vitest';
import { parseThumbnails, thumbnailAt } from './thumbnails';

const INDEX = 'https://edge.example/t/TOKEN/media/x/j/thumbnails/thumbnails.vtt';
const VTT = `WEBVTT

00:00:00.000 --> 00:00:02.000
sprite-1.jpg#xywh=0,0,160,90

00:00:02.000 --> 00:00:04.000
sprite-1.jpg#xywh=160,0,160,90

garbage --> here
sprite-1.jpg

01:00:04.000 --> 01:00:05.500
sprite-2.jpg#xywh=320,90,160,90
`;

describe('parseThumbnails', () => {
  it('reads every well-formed cue, resolving sheets beside the index', () => {
    const thumbs = parseThumbnails(VTT, INDEX);
    expect(thumbs).toHaveLength(3);
    expect(thumbs[1]).toEqual({
      start: 2,
      end: 4,
      url: 'https://edge.example/t/TOKEN/media/x/j/thumbnails/sprite-1.jpg',
      x: 160,
      y: 0,
      width: 160,
      height: 90,
    });
    expect(thumbs[2]?.start).toBe(3604);
  });

  it('finds the tile for a time', () => {
    const thumbs = parseThumbnails(VTT, INDEX);
    expect(thumbnailAt(thumbs, 3.9)?.x).toBe(160);
    expect(thumbnailAt(thumbs, 0)?.x).toBe(0);
    expect(thumbnailAt(thumbs, 5000)?.y).toBe(90);
    expect(thumbnailAt([], 1)).toBeUndefined();
  });
});
