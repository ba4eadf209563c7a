// Trick-play thumbnails: the package's WebVTT index (cues pointing at tiles of sprite sheets,
// `sprite-1.jpg#xywh=x,y,w,h`) read into a list the seek bar can look a time up in.

export interface Thumbnail {
  start: number;
  end: number;
  /** The sprite sheet, absolute (resolved against the index's URL). */
  url: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

function seconds(stamp: string): number | null {
  const m = /^(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})$/.exec(stamp.trim());
  if (!m) return null;
  return Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(m[4]) / 1000;
}

/** Reads the index at `indexUrl`; cues that do not parse are skipped. */
export function parseThumbnails(vtt: string, indexUrl: string): Thumbnail[] {
  const out: Thumbnail[] = [];
  const lines = vtt.split(/\r?\n/);
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i] ?? '';
    if (!line.includes('-->')) continue;
    const [from, rest = ''] = line.split('-->');
    const start = seconds(from ?? '');
    const end = seconds(rest.trim().split(/\s+/)[0] ?? '');
    const target = (lines[i + 1] ?? '').trim();
    const m = /^(.+)#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec(target);
    if (start === null || end === null || !m) continue;
    out.push({
      start,
      end,
      url: new URL(m[1] ?? '', indexUrl).toString(),
      x: Number(m[2]),
      y: Number(m[3]),
      width: Number(m[4]),
      height: Number(m[5]),
    });
  }
  return out;
}

/** The thumbnail showing `time`, or the nearest before it. */
export function thumbnailAt(thumbs: Thumbnail[], time: number): Thumbnail | undefined {
  let lo = 0;
  let hi = thumbs.length - 1;
  let found: Thumbnail | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const t = thumbs[mid];
    if (!t) break;
    if (t.start <= time) {
      found = t;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
