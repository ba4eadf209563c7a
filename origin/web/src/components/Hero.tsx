// The featured title at the top of browse: backdrop, name, facts, synopsis, Play and More info.
import type { Title } from '../api';
import { formatDuration, hueOf, kindLabel } from '../format';
import { Link, paths } from '../router';
import { Poster } from './Poster';
import type { CSSProperties } from 'react';

export function Hero({ title }: { title: Title }) {
  const duration = formatDuration(title.duration_secs);
  const style = {
    '--poster-hue': hueOf(title.name),
    ...(title.poster_url ? { '--hero-image': `url("${encodeURI(title.poster_url)}")` } : {}),
  } as CSSProperties;
  return (
    <section className="hero" style={style} aria-labelledby="hero-title" data-testid="hero">
      <div className="hero__backdrop" aria-hidden="true" />
      <div className="hero__shade" aria-hidden="true" />
      <div className="hero__content">
        <p className="hero__eyebrow">Featured {kindLabel(title).toLowerCase()}</p>
        <h1 className="hero__title" id="hero-title">
          {title.name}
        </h1>
        <p className="hero__facts">
          {title.year ? <span>{title.year}</span> : null}
          <span className="rating">{title.maturity_rating}</span>
          {duration ? <span>{duration}</span> : null}
          {title.genres.length > 0 ? <span>{title.genres.slice(0, 3).join(', ')}</span> : null}
        </p>
        <p className="hero__synopsis">{title.synopsis}</p>
        <div className="hero__actions">
          <Link to={paths.watch(title.id)} className="button button--primary" data-testid="hero-play">
            <PlayIcon /> Play
          </Link>
          <Link to={paths.title(title.id)} className="button button--secondary" data-testid="hero-info">
            <InfoIcon /> More info
          </Link>
        </div>
      </div>
      <div className="hero__art" aria-hidden="true">
        <Poster title={title} loading="eager" decorative className="hero__poster" />
      </div>
    </section>
  );
}

export function PlayIcon() {
  return (
    <svg className="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d="M7 4.5v15a1 1 0 0 0 1.5.86l12.5-7.5a1 1 0 0 0 0-1.72L8.5 3.64A1 1 0 0 0 7 4.5z" fill="currentColor" />
    </svg>
  );
}

export function InfoIcon() {
  return (
    <svg className="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <circle cx="12" cy="12" r="9.5" fill="none" stroke="currentColor" strokeWidth="2" />
      <path d="M12 10.5v6M12 7.2v.3" stroke="currentColor" strokeWidth="2.4" strokeLinecap="round" />
    </svg>
  );
}
