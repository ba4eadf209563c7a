// A title's poster, or a styled placeholder with its name when there is none or it fails to load.
import { useState, type CSSProperties } from 'react';
import type { Title } from '../api';
import { hueOf } from '../format';

interface PosterProps {
  title: Title;
  /** Eager for the hero and title page, lazy for rows below the fold. */
  loading?: 'eager' | 'lazy';
  className?: string;
  /** Decorative when the title name is already next to it (cards read their own label). */
  decorative?: boolean;
}

export function Poster({ title, loading = 'lazy', className = '', decorative = false }: PosterProps) {
  const [failed, setFailed] = useState(false);
  const url = title.poster_url;

  if (!url || failed) {
    const style = { '--poster-hue': hueOf(title.name) } as CSSProperties;
    return (
      <div
        className={`poster poster--placeholder ${className}`}
        style={style}
        role={decorative ? undefined : 'img'}
        aria-label={decorative ? undefined : `${title.name} (no poster)`}
        aria-hidden={decorative ? true : undefined}
        data-testid="poster-placeholder"
      >
        <span className="poster__name">{title.name}</span>
        {title.year ? <span className="poster__year">{title.year}</span> : null}
      </div>
    );
  }

  return (
    <img
      className={`poster ${className}`}
      src={url}
      alt={decorative ? '' : `Poster for ${title.name}`}
      loading={loading}
      decoding="async"
      onError={() => setFailed(true)}
      draggable={false}
    />
  );
}
