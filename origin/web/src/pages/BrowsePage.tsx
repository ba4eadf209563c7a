// Home: a featured title, then rows of posters (everything new first, then one row per genre).
import { api } from '../api';
import { Hero } from '../components/Hero';
import { StatusMessage } from '../components/StatusMessage';
import { TitleRow } from '../components/TitleRow';
import { featuredTitle, genreRows } from '../format';
import { useApi } from '../useApi';

export function BrowsePage() {
  const titles = useApi(api.titles, 'titles');

  if (titles.status === 'loading') return <BrowseSkeleton />;
  if (titles.status === 'error')
    return <StatusMessage title="We could not load the catalogue" message={titles.message} retry />;

  const playable = titles.data.filter((t) => t.state === 'ready');
  const featured = featuredTitle(playable);
  if (!featured)
    return (
      <StatusMessage
        title="Nothing to watch yet"
        message="Titles appear here as soon as they are packaged. Check back in a moment."
        retry
      />
    );

  const newest = [...playable].sort((a, b) => b.created_at - a.created_at || a.name.localeCompare(b.name));
  return (
    <main id="main" className="browse" data-testid="browse">
      <Hero title={featured} />
      <div className="browse__rows">
        <TitleRow heading="New on Marquee" titles={newest} eager />
        {genreRows(playable).map((row) => (
          <TitleRow key={row.genre} heading={row.genre} titles={row.titles} />
        ))}
      </div>
    </main>
  );
}

function BrowseSkeleton() {
  return (
    <main id="main" className="browse browse--loading" aria-busy="true" aria-label="Loading the catalogue">
      <div className="hero hero--skeleton" />
      <div className="browse__rows">
        {[0, 1].map((row) => (
          <div className="row" key={row}>
            <div className="skeleton skeleton--heading" />
            <div className="row__list row__list--skeleton">
              {Array.from({ length: 8 }, (_, i) => (
                <div className="skeleton skeleton--card" key={i} />
              ))}
            </div>
          </div>
        ))}
      </div>
    </main>
  );
}
