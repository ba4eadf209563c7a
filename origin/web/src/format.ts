// Small display helpers shared by cards, hero and title page.
import type { Title } from './api';

/** "1 h 42 min", "24 min", "45 sec". */
export function formatDuration(secs: number | null | undefined): string | null {
  if (secs === null || secs === undefined || !Number.isFinite(secs) || secs <= 0) return null;
  const total = Math.round(secs);
  if (total < 60) return `${total} sec`;
  const hours = Math.floor(total / 3600);
  const minutes = Math.round((total % 3600) / 60);
  if (hours === 0) return `${minutes} min`;
  return minutes === 0 ? `${hours} h` : `${hours} h ${minutes} min`;
}

/** A stable hue per title, so placeholders differ but never flicker between renders. */
export function hueOf(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i += 1) hash = (hash * 31 + text.charCodeAt(i)) | 0;
  return Math.abs(hash) % 360;
}

export function kindLabel(title: Title): string {
  return title.kind === 'series' ? 'Series' : 'Film';
}

/** Rows of the browse page: one per genre (most titles first), each sorted newest first. */
export function genreRows(titles: Title[]): { genre: string; titles: Title[] }[] {
  const byGenre = new Map<string, Title[]>();
  for (const title of titles) {
    const genres = title.genres.length > 0 ? title.genres : ['More to watch'];
    for (const genre of genres) {
      const row = byGenre.get(genre) ?? [];
      row.push(title);
      byGenre.set(genre, row);
    }
  }
  const rows = [...byGenre.entries()]
    .map(([genre, row]) => ({ genre, titles: [...row].sort((a, b) => b.year - a.year || a.name.localeCompare(b.name)) }))
    .sort((a, b) => b.titles.length - a.titles.length || a.genre.localeCompare(b.genre));
  // A row of one poster looks like a mistake; those titles are still in "New on Marquee".
  const full = rows.filter((row) => row.titles.length >= MIN_ROW);
  return full.length > 0 ? full : rows;
}

const MIN_ROW = 2;

/** The hero: a title with a poster, chosen by day so it changes but stays put during a visit. */
export function featuredTitle(titles: Title[], now: Date = new Date()): Title | undefined {
  const withPoster = titles.filter((t) => t.poster_url);
  const pool = withPoster.length > 0 ? withPoster : titles;
  if (pool.length === 0) return undefined;
  const sorted = [...pool].sort((a, b) => String(a.id).localeCompare(String(b.id)));
  const day = Math.floor(now.getTime() / 86_400_000);
  return sorted[day % sorted.length];
}
