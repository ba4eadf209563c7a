// One title: poster, facts, synopsis, attribution, Play, and more titles of the same genres.
import type { CSSProperties } from 'react';
import { api, type Title } from '../api';
import { PlayIcon } from '../components/Hero';
import { Poster } from '../components/Poster';
import { StatusMessage } from '../components/StatusMessage';
import { TitleRow } from '../components/TitleRow';
import { formatDuration, hueOf, kindLabel } from '../format';
import { Link, paths } from '../router';
import { useApi } from '../useApi';

const STATE_NOTES: Record<Title['state'], string | null> = {
  ready: null,
  processing: 'This title is being prepared for streaming. It will be playable in a few minutes.',
  awaiting_video: 'This title is coming soon.',
  failed: 'This title is not available right now.',
};

export function TitlePage({ id }: { id: string }) {
  const title = useApi(() => api.title(id), `title:${id}`);
  const catalogue = useApi(api.titles, 'titles');

  if (title.status === 'loading')
    return <main id="main" className="title-page title-page--loading" aria-busy="true" aria-label="Loading title" />;
  if (title.status === 'error')
    return (
      <StatusMessage
        title={title.code === 'http_404' || title.code.includes('not_found') ? 'Title not found' : 'Something went wrong'}
        message={title.message}
        home
      />
    );

  const t = title.data;
  const duration = formatDuration(t.duration_secs);
  const note = STATE_NOTES[t.state];
  const similar =
    catalogue.status === 'ready'
      ? catalogue.data.filter((o) => o.id !== t.id && o.state === 'ready' && o.genres.some((g) => t.genres.includes(g)))
      : [];
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
                  {genre}
                </li>
              ))}
            </ul>
          ) : null}
          <p className="title-page__synopsis">{t.synopsis}</p>
          {note ? (
            <p className="title-page__note" role="status">
              {note}
            </p>
          ) : null}
          <div className="hero__actions">
            {t.state === 'ready' ? (
              <Link to={paths.watch(t.id)} className="button button--primary" data-testid="title-play">
                <PlayIcon /> Play
              </Link>
            ) : (
              <button type="button" className="button button--primary" disabled data-testid="title-play">
                <PlayIcon /> Play
              </button>
            )}
            <Link to={paths.browse()} className="button button--secondary">
              Back to browse
            </Link>
          </div>
          {t.attribution ? (
            <p className="title-page__attribution" data-testid="title-attribution">
              {t.attribution}
            </p>
          ) : null}
        </div>
      </article>
      {similar.length > 0 ? (
        <div className="browse__rows title-page__more">
          <TitleRow heading="More like this" titles={similar} />
        </div>
      ) : null}
    </main>
  );
}
