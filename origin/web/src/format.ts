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

/** The hero: a title with a poster, chosen by day so it changes but stays put during a visit. */
export function featuredTitle(titles: Title[], now: Date = new Date()): Title | undefined {
  const unique = titles.filter((t, i) => titles.findIndex((u) => u.id === t.id) === i);
  const withPoster = unique.filter((t) => t.poster_url);
  const pool = withPoster.length > 0 ? withPoster : unique;
  if (pool.length === 0) return undefined;
  const sorted = [...pool].sort((a, b) => String(a.id).localeCompare(String(b.id)));
  const day = Math.floor(now.getTime() / 86_400_000);
  return sorted[day % sorted.length];
}

/** "12:05" or "1:02:05" for a player's clock. */
export function formatClock(secs: number): string {
  const total = Math.max(0, Math.floor(Number.isFinite(secs) ? secs : 0));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** "30 Nov 2026" in the viewer's locale, for the viewing history. */
export function formatDate(ms: number): string {
  return new Date(ms).toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
}

/** "5 minutes ago", "yesterday": when a notification came, from Unix seconds. */
export function timeAgo(secs: number, nowMs: number = Date.now()): string {
  const ago = Math.max(0, nowMs / 1000 - secs);
  const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
  if (ago < 60) return 'just now';
  if (ago < 3600) return rtf.format(-Math.floor(ago / 60), 'minute');
  if (ago < 86_400) return rtf.format(-Math.floor(ago / 3600), 'hour');
  return rtf.format(-Math.floor(ago / 86_400), 'day');
}

/** Whether a title is announced but not out yet (it cannot be played; "Remind me" instead). */
export function isComingSoon(title: Pick<Title, 'premieres_at'>, nowMs: number = Date.now()): boolean {
  return title.premieres_at != null && title.premieres_at * 1000 > nowMs;
}

/** "Coming 14 Dec at 18:00": a premiere in the viewer's locale and time zone. */
export function formatPremiere(secs: number): string {
  const at = new Date(secs * 1000);
  const day = at.toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
  const time = at.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  return `Coming ${day} at ${time}`;
}

/** "834 KB", "1.2 GB": bytes for people (decimal units, as disks and networks count). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1000) return `${Math.max(0, Math.round(bytes || 0))} B`;
  const units = ['KB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value >= 100 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/** "87 %" for a 0–1 ratio; "–" when there is none yet. */
export function formatPercent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return '–';
  return `${Math.round(ratio * 100)} %`;
}
