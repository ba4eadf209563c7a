// One title: poster, facts, synopsis, Play or Resume, My List, thumbs; for a series a season
// picker and its episodes with progress; more titles of the same genres.
import { useEffect, useState, type CSSProperties } from 'react';
import { ApiError, messageOf, type Card, type Episode, type Seasons, type Title } from '../api';
import { PlayIcon } from '../components/Hero';
import { ListButton } from '../components/ListButton';
import { RemindButton } from '../components/RemindButton';
import { Poster } from '../components/Poster';
import { StatusMessage } from '../components/StatusMessage';
import { Thumbs } from '../components/Thumbs';
import { TitleRow } from '../components/TitleRow';
import { formatDuration, formatPremiere, hueOf, isComingSoon, kindLabel } from '../format';
import { useRows, useSeasons, useTitle } from '../queries';
import { Link, paths } from '../router';
import { Credits } from '../components/Credits';

const STATE_NOTES: Record<Title['state'], string | null> = {
  ready: null,
  processing: 'This title is being prepared for streaming. It will be playable in a few minutes.',
  awaiting_video: 'This title is coming soon.',
  failed: 'This title is not available right now.',
};

/** What Play does for a series: the episode under way, else the first unfinished, else the first. */
export function nextUp(seasons: Seasons | undefined): { episode: Episode; resume: boolean } | null {
  const all = seasons?.seasons.flatMap((s) => s.episodes) ?? [];
  const started = all
    .filter((e) => e.progress)
    .sort((a, b) => (b.progress?.updated_at_ms ?? 0) - (a.progress?.updated_at_ms ?? 0))[0];
  if (started?.progress && !started.progress.finished) return { episode: started, resume: true };
  if (started) {
    const after = all[all.indexOf(started) + 1];
    if (after) return { episode: after, resume: false };
  }
  return all[0] ? { episode: all[0], resume: false } : null;
}

export function TitlePage({ id }: { id: string }) {
  const title = useTitle(id);
  const isSeries = title.data?.kind === 'series';
  const seasons = useSeasons(id, isSeries);
  const rows = useRows();
  // A coming-soon title becomes playable at its premiere: the page changes then (and asks the
  // server again, in case the premiere moved).
  const premiere = title.data?.premieres_at;
  const refetch = title.refetch;
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (premiere == null) return;
    const wait = premiere * 1000 - Date.now();
    if (wait <= 0 || wait > 2 ** 31 - 1) return;
    const timer = window.setTimeout(() => {
      setNow(Date.now());
      void refetch();
    }, wait + 500);
    return () => window.clearTimeout(timer);
  }, [premiere, refetch]);

  if (title.isPending)
    return <main id="main" className="title-page title-page--loading" aria-busy="true" aria-label="Loading title" />;
  if (title.isError) {
    const e = title.error;
    const heading =
      e instanceof ApiError && e.code === 'maturity_restricted'
        ? 'Not available on this profile'
        : e instanceof ApiError && e.status === 404
          ? 'Title not found'
          : 'Something went wrong';
    return <StatusMessage title={heading} message={messageOf(e)} home />;
  }

  const t = title.data;
  const duration = formatDuration(t.duration_secs);
  const note = STATE_NOTES[t.state];
  const comingSoon = isComingSoon(t, Math.max(now, Date.now()));
  const similar = similarCards(t, rows.data?.flatMap((r) => (r.id.startsWith('genre:') || r.id === 'new' ? r.items : [])) ?? []);
  const up = isSeries ? nextUp(seasons.data) : null;
  const progress = t.mine?.progress;
  const resumeFilm = !isSeries && progress && !progress.finished;
  const style = {
    '--poster-hue': hueOf(t.name),
    ...(t.poster_url ? { '--hero-image': `url("${encodeURI(t.poster_url)}")` } : {}),
  } as CSSProperties;

  return (
    <main id="main" className="title-page" style={style} data-testid="title-page">
      <div className="title-page__backdrop" aria-hidden="true" />
      <article className="title-page__body">
        <div className="title-page__poster">
          <Poster title={t} loading="eager" />
        </div>
        <div className="title-page__details">
          <p className="hero__eyebrow">{kindLabel(t)}</p>
          <h1 className="title-page__name" data-testid="title-name">
            {t.name}
          </h1>
          <dl className="facts">
            {t.year ? (
              <div>
                <dt>Year</dt>
                <dd>{t.year}</dd>
              </div>
            ) : null}
            <div>
              <dt>Rating</dt>
              <dd>
                <span className="rating">{t.maturity_rating}</span>
              </dd>
            </div>
            {duration ? (
              <div>
                <dt>Length</dt>
                <dd>{duration}</dd>
              </div>
            ) : null}
          </dl>
          {t.genres.length > 0 ? (
            <ul className="genres" aria-label="Genres">
              {t.genres.map((genre) => (
                <li key={genre} className="genre">
                  <Link to={paths.genre(genre)}>{genre}</Link>
                </li>
              ))}
            </ul>
          ) : null}
          <p className="title-page__synopsis">{t.synopsis}</p>
          <Credits title={t} />
          {note ? (
            <p className="title-page__note" role="status">
              {note}
            </p>
          ) : null}
          {comingSoon && t.premieres_at != null ? (
            <p className="title-page__premiere" data-testid="premiere">
              {formatPremiere(t.premieres_at)}
            </p>
          ) : null}
          <div className="hero__actions">
            {comingSoon ? (
              t.mine ? <RemindButton titleId={t.id} name={t.name} reminded={t.mine.reminded ?? false} /> : null
            ) : t.state === 'ready' && (!isSeries || up) ? (
              <Link to={paths.watch(t.id, up?.episode.id)} className="button button--primary" data-testid="title-play">
                <PlayIcon /> {up ? `${up.resume ? 'Resume' : 'Play'} S${up.episode.season}:E${up.episode.number}` : resumeFilm ? 'Resume' : 'Play'}
              </Link>
            ) : (
              <button type="button" className="button button--primary" disabled data-testid="title-play">
                <PlayIcon /> Play
              </button>
            )}
            <ListButton titleId={t.id} name={t.name} listed={t.mine?.in_my_list} />
            {t.mine ? <Thumbs titleId={t.id} name={t.name} rating={t.mine.rating ?? null} /> : null}
          </div>
          {resumeFilm && progress ? (
            <p className="title-page__progress" data-testid="title-progress">
              <span className="progress-bar" aria-hidden="true">
                <span style={{ width: `${(progress.position_secs / progress.duration_secs) * 100}%` }} />
              </span>
              {formatDuration(progress.duration_secs - progress.position_secs)} left
            </p>
          ) : null}
          {t.attribution ? (
            <p className="title-page__attribution" data-testid="title-attribution">
              {t.attribution}
            </p>
          ) : null}
        </div>
      </article>
      {isSeries && seasons.data ? <EpisodeList title={t} seasons={seasons.data} current={up?.episode.id} /> : null}
      {similar.length > 0 ? (
        <div className="browse__rows title-page__more">
          <TitleRow heading="More like this" cards={similar} />
        </div>
      ) : null}
    </main>
  );
}

function similarCards(t: Title, cards: Card[]): Card[] {
  const seen = new Set<string>([t.id]);
  return cards.filter((c) => {
    if (seen.has(c.title.id) || !c.title.genres.some((g) => t.genres.includes(g))) return false;
    seen.add(c.title.id);
    return true;
  });
}

/** The season picker and the chosen season's episodes, each with its progress. */
function EpisodeList({ title, seasons, current }: { title: Title; seasons: Seasons; current?: string }) {
  const start = seasons.seasons.find((s) => s.episodes.some((e) => e.id === current)) ?? seasons.seasons[0];
  const [chosen, setChosen] = useState(start?.number ?? 1);
  const season = seasons.seasons.find((s) => s.number === chosen) ?? start;
  if (!season) return null;
  return (
    <section className="episodes" aria-labelledby="episodes-heading" data-testid="episodes">
      <div className="episodes__head">
        <h2 id="episodes-heading">Episodes</h2>
        {seasons.seasons.length > 1 ? (
          <label className="episodes__picker">
            <span className="visually-hidden">Season</span>
            <select value={season.number} onChange={(e) => setChosen(Number(e.target.value))} data-testid="season-picker">
              {seasons.seasons.map((s) => (
                <option key={s.number} value={s.number}>
                  {s.name}
                </option>
              ))}
            </select>
          </label>
        ) : (
          <span className="episodes__season">{season.name}</span>
        )}
      </div>
      <ol className="episodes__list">
        {season.episodes.map((e) => {
          const p = e.progress;
          const fraction = p && p.duration_secs > 0 ? Math.min(1, p.position_secs / p.duration_secs) : 0;
          const runtime = formatDuration(e.runtime_secs);
          return (
            <li key={e.id} className={`episode${e.id === current ? ' episode--current' : ''}`}>
              <Link
                to={paths.watch(title.id, e.id)}
                className="episode__link"
                data-testid="episode"
                data-episode-id={e.id}
                aria-label={`Play episode ${e.number}, ${e.name}${runtime ? `, ${runtime}` : ''}${p?.finished ? ', watched' : p ? `, ${Math.round(fraction * 100)}% watched` : ''}`}
              >
                <span className="episode__number" aria-hidden="true">
                  {e.number}
                </span>
                <span className="episode__text" aria-hidden="true">
                  <span className="episode__name">{e.name}</span>
                  {runtime ? <span className="episode__runtime">{runtime}</span> : null}
                  {e.synopsis ? <span className="episode__synopsis">{e.synopsis}</span> : null}
                  {p ? (
                    <span className="progress-bar" data-testid="episode-progress">
                      <span style={{ width: `${Math.max(2, fraction * 100)}%` }} />
                    </span>
                  ) : null}
                </span>
              </Link>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
