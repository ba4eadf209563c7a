// Search results and genre pages: the matches as a grid, filter chips with their counts (a
// chip in use shows pressed; the counts follow the other filters), a sort, and more on demand.
// Everything is in the URL, so a search can be shared, reloaded and gone back to.
import { useId } from 'react';
import { useSearchParams } from 'react-router';
import { messageOf, type Facets, type FacetValue } from '../api';
import { StatusMessage } from '../components/StatusMessage';
import { TitleCard } from '../components/TitleCard';
import { useSearchResults } from '../queries';
import {
  FILTER_NAMES,
  FILTERS,
  SORTS,
  activeFilters,
  clearFilters,
  toggleFilter,
  valueLabel,
  withSort,
  type FilterKey,
  type SortKey,
} from '../search/params';

/** Chips shown per filter before "more" would be needed: the most common values. */
const CHIPS = 12;

export function SearchPage({ genre }: { genre?: string }) {
  const [params, setParams] = useSearchParams();
  // A genre page is a search with that genre fixed, most popular first.
  const query = new URLSearchParams(params);
  query.delete('cursor');
  if (genre) {
    query.delete('genre');
    query.append('genre', genre);
  }
  const results = useSearchResults(query.toString());
  const q = params.get('q') ?? '';
  const sort = (params.get('sort') ?? 'relevance') as SortKey;
  const headingId = useId();
  const heading = genre ?? (q ? `Results for “${q}”` : 'Browse everything');

  if (results.isError) return <StatusMessage title="Search is unavailable" message={messageOf(results.error)} retry />;
  const pages = results.data?.pages ?? [];
  const first = pages[0];
  const titles = pages.flatMap((p) => p.titles);
  const filters = activeFilters(params).filter(([key]) => !(genre && key === 'genre'));
  const update = (next: URLSearchParams) => setParams(next, { replace: false });

  return (
    <main id="main" className="page search-page" data-testid="search-page" aria-labelledby={headingId}>
      <div className="search-page__head">
        <h1 className="page__title" id={headingId}>
          {heading}
        </h1>
        <label className="search-page__sort">
          <span>Sort by</span>
          <select
            value={sort}
            onChange={(e) => update(withSort(params, e.target.value as SortKey))}
            data-testid="search-sort"
          >
            {SORTS.map(([key, name]) => (
              <option key={key} value={key}>
                {name}
              </option>
            ))}
          </select>
        </label>
      </div>
      {first ? (
        <Filters facets={first.facets} hide={genre ? ['genre'] : []} onToggle={(k, v) => update(toggleFilter(params, k, v))} />
      ) : null}
      <p className="search-page__count" role="status" aria-live="polite" data-testid="search-count">
        {first ? countSentence(Number(first.total), first.partial) : 'Searching…'}
        {filters.length > 0 ? (
          <button type="button" className="link-button" onClick={() => update(clearFilters(params))}>
            Clear filters
          </button>
        ) : null}
      </p>
      {first && titles.length === 0 ? (
        <p className="page__empty">
          {q ? `Nothing matches “${q}”` : 'Nothing matches'}
          {filters.length > 0 ? ' with these filters. Try removing one.' : '. Check the spelling, or try a name, a genre or an actor.'}
        </p>
      ) : (
        <ul className="grid" aria-busy={results.isFetching && !results.isFetchingNextPage} data-testid="search-results">
          {titles.map((title, i) => (
            <li key={title.id}>
              <TitleCard card={{ title }} eager={i < 6} />
            </li>
          ))}
        </ul>
      )}
      {results.hasNextPage ? (
        <button
          type="button"
          className="button button--secondary search-page__more"
          onClick={() => void results.fetchNextPage()}
          disabled={results.isFetchingNextPage}
        >
          {results.isFetchingNextPage ? 'Loading…' : 'Show more'}
        </button>
      ) : null}
    </main>
  );
}

function countSentence(total: number, partial: boolean): string {
  const n = total === 1 ? '1 title' : `${total.toLocaleString('en')} titles`;
  return partial ? `${n} so far (the search was cut short)` : n;
}

function Filters({
  facets,
  hide,
  onToggle,
}: {
  facets: Facets;
  hide: FilterKey[];
  onToggle: (key: FilterKey, value: string) => void;
}) {
  const groups = FILTERS.filter((key) => !hide.includes(key) && facets[key].length > 0);
  if (groups.length === 0) return null;
  return (
    <div className="filters" data-testid="search-filters">
      {groups.map((key) => (
        <FilterGroup key={key} name={key} values={facets[key]} onToggle={onToggle} />
      ))}
    </div>
  );
}

function FilterGroup({
  name,
  values,
  onToggle,
}: {
  name: FilterKey;
  values: FacetValue[];
  onToggle: (key: FilterKey, value: string) => void;
}) {
  const labelId = useId();
  // Chosen values always show, then the most common others.
  const shown = [...values.filter((v) => v.selected), ...values.filter((v) => !v.selected)].slice(0, CHIPS);
  return (
    <div className="filters__group" role="group" aria-labelledby={labelId} data-filter={name}>
      <span className="filters__name" id={labelId}>
        {FILTER_NAMES[name]}
      </span>
      <ul className="filters__chips">
        {shown.map((v) => (
          <li key={v.value}>
            <button
              type="button"
              className="chip"
              aria-pressed={v.selected}
              onClick={() => onToggle(name, v.value)}
              data-testid="filter-chip"
              data-value={v.value}
            >
              {valueLabel(name, v.value)} <span className="chip__count">{Number(v.count).toLocaleString('en')}</span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
