// Home: a featured title, then the rows origin composes for the profile (Continue watching,
// My List, New on Marquee, the biggest genres), in one request.
import { messageOf } from '../api';
import { Hero } from '../components/Hero';
import { StatusMessage } from '../components/StatusMessage';
import { TitleRow } from '../components/TitleRow';
import { featuredTitle } from '../format';
import { useRows } from '../queries';
import { paths } from '../router';

export function BrowsePage() {
  const rows = useRows();

  if (rows.isPending) return <BrowseSkeleton />;
  if (rows.isError) return <StatusMessage title="We could not load the catalogue" message={messageOf(rows.error)} retry />;

  const catalogue = rows.data.filter((r) => r.id !== 'continue-watching' && r.id !== 'my-list');
  const featured = featuredTitle(catalogue.flatMap((r) => r.items.map((c) => c.title)));
  if (!featured)
    return (
      <StatusMessage
        title="Nothing to watch yet"
        message="Titles appear here as soon as they are packaged. Check back in a moment."
        retry
      />
    );
  return (
    <main id="main" className="browse" data-testid="browse">
      <Hero title={featured} />
      <div className="browse__rows">
        {rows.data.map((row, i) => (
          <TitleRow
            key={row.id}
            rowId={row.id}
            heading={row.name}
            cards={row.items}
            eager={i < 2 || row.id === 'new'}
            resume={row.id === 'continue-watching'}
            href={row.id.startsWith('genre:') ? paths.genre(row.id.slice('genre:'.length)) : undefined}
            ranked={row.ranked === true}
          />
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
