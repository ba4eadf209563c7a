// One poster in a row: a link to the title page with its name and facts on hover/focus.
import type { Title } from '../api';
import { formatDuration } from '../format';
import { Link, paths } from '../router';
import { Poster } from './Poster';

export function TitleCard({ title, eager = false }: { title: Title; eager?: boolean }) {
  const duration = formatDuration(title.duration_secs);
  const facts = [title.year ? String(title.year) : null, title.maturity_rating, duration].filter(Boolean).join(' · ');
  return (
    <Link
      to={paths.title(title.id)}
      className="card"
      data-testid="title-card"
      data-title-id={title.id}
      aria-label={`${title.name}${facts ? `, ${facts}` : ''}`}
    >
      <Poster title={title} decorative loading={eager ? 'eager' : 'lazy'} className="card__poster" />
      <span className="card__info" aria-hidden="true">
        <span className="card__name">{title.name}</span>
        {facts ? <span className="card__facts">{facts}</span> : null}
      </span>
    </Link>
  );
}
