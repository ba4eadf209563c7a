// The search page's state lives in its URL (shareable, back/forward work): the words (q), the
// filters (repeatable keys, as the API takes them) and the sort. These helpers read and change
// it without touching anything else in the query string.

/** Filters the page offers as chips, in the order shown. */
export const FILTERS = ['genre', 'kind', 'language', 'subtitles', 'decade', 'maturity', 'liked'] as const;
export type FilterKey = (typeof FILTERS)[number];

export const SORTS = [
  ['relevance', 'Best match'],
  ['newest', 'Newest'],
  ['rating', 'Highest rated'],
  ['az', 'A–Z'],
] as const;
export type SortKey = (typeof SORTS)[number][0];

/** Filters that take one value: choosing another replaces it. */
const SINGLE: ReadonlySet<FilterKey> = new Set(['liked']);

/** `params` with `value` of `key` switched on or off; the page cursor never carries over. */
export function toggleFilter(params: URLSearchParams, key: FilterKey, value: string): URLSearchParams {
  const next = new URLSearchParams(params);
  next.delete('cursor');
  const current = next.getAll(key);
  next.delete(key);
  if (current.includes(value)) {
    for (const v of current) if (v !== value) next.append(key, v);
  } else {
    if (!SINGLE.has(key)) for (const v of current) next.append(key, v);
    next.append(key, value);
  }
  return next;
}

/** `params` without any filter (the words and the sort stay). */
export function clearFilters(params: URLSearchParams): URLSearchParams {
  const next = new URLSearchParams(params);
  for (const key of FILTERS) next.delete(key);
  next.delete('cursor');
  return next;
}

export function withSort(params: URLSearchParams, sort: SortKey): URLSearchParams {
  const next = new URLSearchParams(params);
  if (sort === 'relevance') next.delete('sort');
  else next.set('sort', sort);
  return next;
}

export function withWords(params: URLSearchParams, q: string): URLSearchParams {
  const next = new URLSearchParams(params);
  if (q.trim() === '') next.delete('q');
  else next.set('q', q);
  return next;
}

export function activeFilters(params: URLSearchParams): [FilterKey, string][] {
  return FILTERS.flatMap((key) => params.getAll(key).map((v): [FilterKey, string] => [key, v]));
}

/** Filter names as headings. */
export const FILTER_NAMES: Record<FilterKey, string> = {
  genre: 'Genre',
  kind: 'Type',
  language: 'Audio',
  subtitles: 'Subtitles',
  decade: 'Released',
  maturity: 'Maturity rating',
  liked: 'Viewer rating',
};

const languageNames = (() => {
  try {
    return new Intl.DisplayNames(['en'], { type: 'language' });
  } catch {
    return null;
  }
})();

/** How a filter value reads on a chip: `fr` is "French", `1990` is "1990s", `75` is "75%+ liked". */
export function valueLabel(key: FilterKey, value: string): string {
  switch (key) {
    case 'language':
    case 'subtitles':
      return languageNames?.of(value) ?? value;
    case 'decade':
      return `${value}s`;
    case 'liked':
      return `${value}%+ liked`;
    case 'kind':
      return value === 'series' ? 'Series' : 'Films';
    default:
      return value;
  }
}
