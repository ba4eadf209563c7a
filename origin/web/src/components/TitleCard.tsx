// One card in a row or grid: the poster links to the title page (or, on "Continue watching",
// straight back into the player), with its progress, and beside it the card's own actions.
import type { Card } from '../api';
import { formatDuration, formatPremiere, isComingSoon } from '../format';
import { useDismissFromRow } from '../queries';
import { Link, paths } from '../router';
import { ListButton } from './ListButton';
import { Poster } from './Poster';

interface TitleCardProps {
  card: Card;
  eager?: boolean;
  /** A "Continue watching" card: plays on click, shows progress, can leave the row. */
  resume?: boolean;
  /** My List's cards show the list toggle as "remove". */
  listed?: boolean;
  /** Its place in a chart (Top 10), shown in big numerals. */
  rank?: number;
}

export function TitleCard({ card, eager = false, resume = false, listed, rank }: TitleCardProps) {
  const { title, episode, progress } = card;
  const dismiss = useDismissFromRow();
  const duration = formatDuration(title.duration_secs);
  const episodeLabel = episode ? `S${episode.season}:E${episode.number} ${episode.name}` : null;
  const premiere = isComingSoon(title) && title.premieres_at != null ? formatPremiere(title.premieres_at) : null;
  const facts = [premiere, title.year ? String(title.year) : null, title.maturity_rating, episode ? null : duration]
    .filter(Boolean)
    .join(' · ');
  const fraction = progress && progress.duration_secs > 0 ? Math.min(1, progress.position_secs / progress.duration_secs) : null;
  const left = progress ? formatDuration(progress.duration_secs - progress.position_secs) : null;
  const label = [
    rank ? `Number ${rank}` : null,
    resume ? `Resume ${title.name}` : title.name,
    episodeLabel,
    resume && left ? `${left} left` : null,
    resume && !progress && episode ? 'next episode' : null,
    facts || null,
  ]
    .filter(Boolean)
    .join(', ');
  return (
    <div className="card" data-testid="title-card" data-title-id={title.id} data-kind={title.kind}>
      <Link to={resume ? paths.watch(title.id, episode?.id) : paths.title(title.id)} className="card__link" aria-label={label}>
        {rank ? (
          <span className="card__rank" aria-hidden="true" data-testid="card-rank">
            {rank}
          </span>
        ) : null}
        <Poster title={title} decorative loading={eager ? 'eager' : 'lazy'} className="card__poster" />
        <span className="card__info" aria-hidden="true">
          <span className="card__name">{title.name}</span>
          {episodeLabel ? <span className="card__episode">{episodeLabel}</span> : null}
          {facts ? <span className="card__facts">{facts}</span> : null}
        </span>
        {fraction !== null ? (
          <span className="card__progress" aria-hidden="true" data-testid="card-progress">
            <span className="card__progress-fill" style={{ width: `${Math.max(2, fraction * 100)}%` }} />
          </span>
        ) : null}
      </Link>
      <div className="card__actions" data-arrows-skip>
        <ListButton titleId={title.id} name={title.name} listed={listed} compact />
        {resume ? (
          <button
            type="button"
            className="icon-button"
            aria-label={`Remove ${title.name} from Continue watching`}
            onClick={() => dismiss.mutate(title.id)}
            disabled={dismiss.isPending}
            data-testid="card-dismiss"
          >
            <span aria-hidden="true">✕</span>
          </button>
        ) : null}
      </div>
    </div>
  );
}
