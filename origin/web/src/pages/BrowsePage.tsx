// Home: a featured title, then the rows origin composes for the profile (Continue watching,
// My List, New on Marquee, the biggest genres), in one request.
import { messageOf } from '../api';
import { Hero } from '../components/Hero';
import { StatusMessage } from '../components/StatusMessage';
import { TitleRow } from '../components/TitleRow';
import { featuredTitle } from '../format';
import { Onboarding, onboardingDismissed } from '../components/Onboarding';
import { useRows } from '../queries';
import { useSession } from '../session';
import { paths } from '../router';

/** Rows that come from what the profile did: with none of them, it is new here. */
const OWN_ROWS = ['continue-watching', 'my-list', 'top-picks'];

export function BrowsePage() {
  const rows = useRows();
  const { state } = useSession();
  const profile = state.status === 'signed-in' ? state.account.profile : null;

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
      {profile && !profile.kids && !rows.data.some((r) => OWN_ROWS.includes(r.id) || r.id.startsWith('because:')) && !onboardingDismissed(profile.id) ? (
        <Onboarding
          key={profile.id}
          profileId={profile.id}
          profileName={profile.name}
          titles={distinctTitles(catalogue.flatMap((r) => r.items.map((c) => c.title)))}
        />
      ) : null}
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

function distinctTitles<T extends { id: string }>(titles: T[]): T[] {
  const seen = new Set<string>();
  return titles.filter((t) => !seen.has(t.id) && seen.add(t.id) !== undefined);
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
