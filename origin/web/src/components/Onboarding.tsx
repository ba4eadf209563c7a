// A new profile's first visit: "Pick three you like" over a grid of the catalogue's posters.
// The picks are saved as "love" ratings, which the recommendations read at once, so the rows
// that follow are this profile's own. "Not now" hides it for this profile on this device.
import { useId, useState } from 'react';
import { messageOf, type Title } from '../api';
import { useOnboardingPicks } from '../queries';
import { Poster } from './Poster';

/** How many picks the panel asks for. */
export const PICKS = 3;
const SHOWN = 18;

const dismissedKey = (profileId: string) => `marquee.onboarding.dismissed.${profileId}`;

export function onboardingDismissed(profileId: string): boolean {
  try {
    return window.localStorage.getItem(dismissedKey(profileId)) === '1';
  } catch {
    return false;
  }
}

export function Onboarding({ profileId, profileName, titles }: { profileId: string; profileName: string; titles: Title[] }) {
  const [picked, setPicked] = useState<string[]>([]);
  const [hidden, setHidden] = useState(false);
  const save = useOnboardingPicks();
  const headingId = useId();
  if (hidden || titles.length < PICKS) return null;
  const toggle = (id: string) =>
    setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : p.length < PICKS ? [...p, id] : p));
  const left = PICKS - picked.length;
  return (
    <section className="onboarding" aria-labelledby={headingId} data-testid="onboarding">
      <div className="onboarding__head">
        <h2 id={headingId} className="onboarding__title">
          {profileName}, pick {PICKS} you like
        </h2>
        <p className="onboarding__hint" role="status" aria-live="polite">
          {left > 0 ? `${left} more to go — we'll start your recommendations from them.` : 'Great picks. Ready when you are.'}
        </p>
      </div>
      <ul className="onboarding__grid">
        {titles.slice(0, SHOWN).map((t) => {
          const on = picked.includes(t.id);
          return (
            <li key={t.id}>
              <button
                type="button"
                className="onboarding__pick"
                aria-pressed={on}
                disabled={!on && left === 0}
                onClick={() => toggle(t.id)}
                data-testid="onboarding-pick"
                data-title-id={t.id}
              >
                <Poster title={t} decorative className="onboarding__poster" />
                <span className="onboarding__name">{t.name}</span>
                {on ? (
                  <span className="onboarding__check" aria-hidden="true">
                    ✓
                  </span>
                ) : null}
              </button>
            </li>
          );
        })}
      </ul>
      {save.isError ? (
        <p className="form-error" role="alert">
          {messageOf(save.error)}
        </p>
      ) : null}
      <div className="onboarding__actions">
        <button
          type="button"
          className="button button--brand"
          disabled={left > 0 || save.isPending}
          onClick={() => save.mutate(picked)}
          data-testid="onboarding-done"
        >
          {save.isPending ? 'Saving…' : 'Show my recommendations'}
        </button>
        <button
          type="button"
          className="button button--quiet"
          onClick={() => {
            try {
              window.localStorage.setItem(dismissedKey(profileId), '1');
            } catch {
              // Private mode: it comes back next visit.
            }
            setHidden(true);
          }}
        >
          Not now
        </button>
      </div>
    </section>
  );
}
