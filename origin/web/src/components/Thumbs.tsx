// Thumbs down, up and "love this": one rating per profile, chosen again to take it back.
import type { Thumb } from '../api';
import { useRating } from '../queries';

const THUMBS: { value: Thumb; label: string; glyph: string }[] = [
  { value: 'down', label: 'Not for me', glyph: '👎' },
  { value: 'up', label: 'I like this', glyph: '👍' },
  { value: 'love', label: 'Love this!', glyph: '💖' },
];

export function Thumbs({ titleId, name, rating }: { titleId: string; name: string; rating: Thumb | null }) {
  const rate = useRating(titleId);
  const current = rate.isPending ? (rate.variables ?? null) : rating;
  return (
    <div className="thumbs" role="group" aria-label={`Rate ${name}`} data-testid="thumbs">
      {THUMBS.map((t) => (
        <button
          key={t.value}
          type="button"
          className="icon-button thumbs__button"
          aria-pressed={current === t.value}
          aria-label={t.label}
          title={t.label}
          disabled={rate.isPending}
          onClick={() => rate.mutate(current === t.value ? null : t.value)}
          data-testid={`thumb-${t.value}`}
        >
          <span aria-hidden="true">{t.glyph}</span>
        </button>
      ))}
    </div>
  );
}
