// "Who's watching?": the account's profiles as big tiles; choosing one (with its PIN when it has
// one) starts the session as that profile. "Manage profiles" turns the tiles into edit links.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { api, ApiError, messageOf, type Profile } from '../api';
import { Avatar } from '../components/Avatar';
import { StatusMessage } from '../components/StatusMessage';
import { Wordmark } from '../components/TopBar';
import { useProfiles } from '../queries';
import { Link, paths, safeNext, useGo } from '../router';
import { useSession } from '../session';

const MAX_PROFILES = 5;

export function WhoIsWatchingPage() {
  const [query] = useSearchParams();
  const manage = query.get('manage') === '1';
  const next = safeNext(query.get('next'));
  const profiles = useProfiles();
  const { profileChosen, state } = useSession();
  const go = useGo();
  const [asking, setAsking] = useState<Profile | null>(null);
  const [error, setError] = useState<string | null>(null);
  const kidsSession = state.status === 'signed-in' && state.account.profile?.kids === true;

  const choose = async (profile: Profile, pin?: string) => {
    setError(null);
    try {
      const chosen = await api.chooseProfile(profile.id, pin);
      profileChosen(chosen);
      go(next, { replace: true });
    } catch (e) {
      if (e instanceof ApiError && e.code === 'wrong_pin' && !pin) {
        setAsking(profile);
        return;
      }
      throw e;
    }
  };

  if (profiles.isPending) return <main id="main" className="profiles" aria-busy="true" />;
  if (profiles.isError)
    return <StatusMessage title="We could not load your profiles" message={messageOf(profiles.error)} retry />;
  const list = profiles.data.profiles;

  return (
    <main id="main" className="profiles" data-testid="who-is-watching">
      <div className="profiles__brand">
        <Wordmark />
      </div>
      <h1 className="profiles__title">{manage ? 'Manage profiles' : list.length === 0 ? 'Add a profile to start watching' : "Who's watching?"}</h1>
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
      <ul className="profiles__grid">
        {list.map((p) => (
          <li key={p.id}>
            {manage ? (
              <Link to={paths.editProfile(p.id)} className="profile-tile" data-testid="profile-edit" data-profile-id={p.id}>
                <Avatar name={p.avatar} />
                <span className="profile-tile__name">{p.name}</span>
                <span className="profile-tile__note">Edit{p.has_pin ? ' · PIN' : ''}</span>
              </Link>
            ) : (
              <button
                type="button"
                className="profile-tile"
                data-testid="profile-choose"
                data-profile-id={p.id}
                onClick={() => choose(p).catch((e: unknown) => setError(messageOf(e)))}
              >
                <Avatar name={p.avatar} />
                <span className="profile-tile__name">{p.name}</span>
                <span className="profile-tile__note">
                  {p.kids ? 'Kids' : null}
                  {p.has_pin ? <span aria-label="PIN protected"> 🔒</span> : null}
                </span>
              </button>
            )}
          </li>
        ))}
        {list.length < MAX_PROFILES && !kidsSession ? (
          <li>
            <Link to={paths.newProfile()} className="profile-tile profile-tile--add" data-testid="profile-add">
              <span className="avatar avatar--large avatar--add" aria-hidden="true">
                +
              </span>
              <span className="profile-tile__name">Add profile</span>
            </Link>
          </li>
        ) : null}
      </ul>
      {list.length > 0 && !kidsSession ? (
        manage ? (
          <Link to={paths.profiles(next)} className="button button--primary profiles__done">
            Done
          </Link>
        ) : (
          <Link to={paths.manageProfiles()} className="button button--secondary profiles__manage" data-testid="manage-profiles">
            Manage profiles
          </Link>
        )
      ) : null}
      {asking ? (
        <PinDialog
          profile={asking}
          onCancel={() => setAsking(null)}
          onPin={(pin) => choose(asking, pin)}
        />
      ) : null}
    </main>
  );
}

/** The PIN prompt: a modal dialog (focus stays in it, Escape cancels). */
function PinDialog({ profile, onPin, onCancel }: { profile: Profile; onPin: (pin: string) => Promise<void>; onCancel: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [pin, setPin] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!/^\d{4}$/.test(pin)) return setError('Enter the profile’s 4-digit PIN.');
    setBusy(true);
    try {
      await onPin(pin);
    } catch (e) {
      setError(messageOf(e));
      setPin('');
    } finally {
      setBusy(false);
    }
  };
  return (
    <dialog ref={dialog} className="dialog" aria-labelledby="pin-title" onClose={onCancel} data-own-arrows>
      <form onSubmit={submit} className="dialog__body">
        <h2 id="pin-title">Enter {profile.name}’s PIN</h2>
        <label className="field">
          <span className="field__label">PIN</span>
          <input
            className="field__input pin-input"
            inputMode="numeric"
            autoComplete="off"
            maxLength={4}
            autoFocus
            value={pin}
            onChange={(e) => setPin(e.target.value.replace(/\D/g, ''))}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? 'pin-error' : undefined}
            data-testid="pin-input"
          />
        </label>
        {error ? (
          <p className="form-error" id="pin-error" role="alert">
            {error}
          </p>
        ) : null}
        <div className="dialog__actions">
          <button type="submit" className="button button--primary" disabled={busy} data-testid="pin-submit">
            {busy ? 'Checking…' : 'Continue'}
          </button>
          <button type="button" className="button button--secondary" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}
