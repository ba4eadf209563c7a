// A title's people and languages as a short list under its synopsis: who is in it, who made it,
// what one can hear and read, and what viewers thought of it.
import type { Title } from '../api';
import { valueLabel } from '../search/params';

const languages = (codes: string[] | undefined) => (codes ?? []).map((c) => valueLabel('language', c)).join(', ');

export function Credits({ title }: { title: Title }) {
  const { facts, viewer_rating: rating } = title;
  const byJob = new Map<string, string[]>();
  for (const c of facts.crew ?? []) byJob.set(c.job, [...(byJob.get(c.job) ?? []), c.name]);
  const heard = facts.audio_languages?.length ? facts.audio_languages : facts.original_language ? [facts.original_language] : [];
  const lines: [string, string][] = [
    ['Cast', (facts.cast ?? []).slice(0, 8).join(', ')],
    ...[...byJob].map(([job, names]): [string, string] => [job, names.join(', ')]),
    ['Audio', languages(heard)],
    ['Subtitles', languages(title.subtitle_languages)],
    ['Released', facts.release_date ? new Date(`${facts.release_date}T00:00:00Z`).toLocaleDateString('en', { dateStyle: 'long', timeZone: 'UTC' }) : ''],
    ['Viewers', rating ? `${rating.liked_percent}% liked it (${rating.ratings.toLocaleString('en')} ${rating.ratings === 1 ? 'rating' : 'ratings'})` : ''],
  ];
  const shown = lines.filter(([, v]) => v !== '');
  if (shown.length === 0) return null;
  return (
    <dl className="credits" data-testid="title-credits">
      {shown.map(([name, value]) => (
        <div key={name}>
          <dt>{name}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
