// Add or edit a profile: name, avatar, language, maturity limit, kids, PIN; and delete it.
// Every field is checked by origin (invalid_profile names the field); the form shows its reason.
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api, messageOf, type Maturity, type Profile } from '../api';
import { Avatar, avatarLabel } from '../components/Avatar';
import { StatusMessage } from '../components/StatusMessage';
import { keys, useProfiles } from '../queries';
import { Link, paths, useGo } from '../router';
import { useSession } from '../session';

const LEVELS: { value: Maturity; label: string }[] = [
  { value: 'all', label: 'All ages' },
  { value: '7+', label: '7 and over' },
  { value: '13+', label: '13 and over' },
  { value: '16+', label: '16 and over' },
  { value: '18+', label: 'Adults (18+)' },
];
const KIDS_MAX: Maturity[] = ['all', '7+'];

const LANGUAGE_NAMES: Record<string, string> = {
  en: 'English', fr: 'Français', de: 'Deutsch', es: 'Español', it: 'Italiano', pt: 'Português',
  nl: 'Nederlands', sv: 'Svenska', pl: 'Polski', ja: '日本語', ko: '한국어', zh: '中文', ar: 'العربية', hi: 'हिन्दी',
};

export function ProfileEditorPage({ id }: { id?: string }) {
  const profiles = useProfiles();
  if (profiles.isPending) return <main id="main" className="profiles" aria-busy="true" />;
  if (profiles.isError) return <StatusMessage title="We could not load your profiles" message={messageOf(profiles.error)} retry />;
  const existing = id ? profiles.data.profiles.find((p) => p.id === id) : undefined;
  if (id && !existing) return <StatusMessage title="No such profile" message="It may have been deleted." home />;
  return <Editor profile={existing} avatars={profiles.data.avatars} languages={profiles.data.languages} />;
}

function Editor({ profile, avatars, languages }: { profile?: Profile; avatars: string[]; languages: string[] }) {
  const go = useGo();
  const queries = useQueryClient();
  const { state, profileChosen } = useSession();
  const [name, setName] = useState(profile?.name ?? '');
  const [avatar, setAvatar] = useState(profile?.avatar ?? avatars[0] ?? 'fox');
  const [language, setLanguage] = useState(profile?.language ?? 'en');
  const [kids, setKids] = useState(profile?.kids ?? false);
  const [maturity, setMaturity] = useState<Maturity>(profile?.maturity ?? '18+');
  const [pin, setPin] = useState('');
  const [removePin, setRemovePin] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const confirm = useRef<HTMLDialogElement>(null);
  const nameInput = useRef<HTMLInputElement>(null);
  useEffect(() => nameInput.current?.focus(), []);

  // A kids profile's limit is at most 7+: switching kids on brings the limit down with it.
  const setKidsAndLimit = (on: boolean) => {
    setKids(on);
    if (on && !KIDS_MAX.includes(maturity)) setMaturity('7+');
  };

  const done = async () => {
    await queries.invalidateQueries({ queryKey: keys.profiles });
    go(paths.manageProfiles(), { replace: true });
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    if (name.trim() === '') return setError('Give the profile a name.');
    if (pin !== '' && !/^\d{4}$/.test(pin)) return setError('A PIN is 4 digits.');
    setBusy(true);
    try {
      const fields = { name: name.trim(), avatar, language, kids, maturity };
      if (profile) {
        const updated = await api.editProfile(profile.id, {
          ...fields,
          ...(pin ? { pin } : removePin ? { pin: null } : {}),
        });
        // Editing the profile in use: the session's copy changes too.
        if (state.status === 'signed-in' && state.account.profile?.id === updated.id) profileChosen(updated);
      } else {
        await api.createProfile({ ...fields, ...(pin ? { pin } : {}) });
      }
      await done();
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    if (!profile) return;
    setBusy(true);
    try {
      await api.deleteProfile(profile.id);
      if (state.status === 'signed-in' && state.account.profile?.id === profile.id) profileChosen(null);
      await done();
    } catch (e) {
      setError(messageOf(e));
      confirm.current?.close();
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="profiles profile-editor" data-testid="profile-editor">
      <h1 className="profiles__title">{profile ? `Edit ${profile.name}` : 'Add a profile'}</h1>
      <form className="editor" onSubmit={submit} noValidate>
        {error ? (
          <p className="auth__alert" role="alert" data-testid="form-error">
            {error}
          </p>
        ) : null}
        <div className="editor__top">
          <Avatar name={avatar} />
          <div className="field editor__name">
            <label htmlFor="profile-name">Name</label>
            <input id="profile-name" ref={nameInput} value={name} maxLength={40} onChange={(e) => setName(e.target.value)} data-testid="profile-name" />
          </div>
        </div>
        <fieldset className="editor__avatars">
          <legend>Avatar</legend>
          {avatars.map((a) => (
            <label key={a} className="avatar-choice">
              <input type="radio" name="avatar" value={a} checked={avatar === a} onChange={() => setAvatar(a)} />
              <Avatar name={a} size="small" />
              <span className="visually-hidden">{avatarLabel(a)}</span>
            </label>
          ))}
        </fieldset>
        <div className="field">
          <label htmlFor="profile-language">Language (app, audio and subtitles)</label>
          <select id="profile-language" value={language} onChange={(e) => setLanguage(e.target.value)}>
            {languages.map((l) => (
              <option key={l} value={l}>
                {LANGUAGE_NAMES[l] ?? l}
              </option>
            ))}
          </select>
        </div>
        <label className="check">
          <input type="checkbox" checked={kids} onChange={(e) => setKidsAndLimit(e.target.checked)} data-testid="profile-kids" />
          <span>Kids profile: a simpler look, and only titles for 7 and under</span>
        </label>
        <div className="field">
          <label htmlFor="profile-maturity">Maturity limit</label>
          <select id="profile-maturity" value={maturity} onChange={(e) => setMaturity(e.target.value as Maturity)} data-testid="profile-maturity">
            {LEVELS.filter((l) => !kids || KIDS_MAX.includes(l.value)).map((l) => (
              <option key={l.value} value={l.value}>
                {l.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="profile-pin">{profile?.has_pin ? 'New PIN (leave empty to keep it)' : 'PIN (optional, 4 digits)'}</label>
          <input
            id="profile-pin"
            inputMode="numeric"
            autoComplete="off"
            maxLength={4}
            value={pin}
            onChange={(e) => setPin(e.target.value.replace(/\D/g, ''))}
            data-testid="profile-pin"
          />
        </div>
        {profile?.has_pin ? (
          <label className="check">
            <input type="checkbox" checked={removePin} onChange={(e) => setRemovePin(e.target.checked)} />
            <span>Remove the PIN</span>
          </label>
        ) : null}
        <div className="editor__actions">
          <button type="submit" className="button button--primary" disabled={busy} data-testid="profile-save">
            {busy ? 'Saving…' : 'Save'}
          </button>
          <Link to={paths.manageProfiles()} className="button button--secondary">
            Cancel
          </Link>
          {profile ? (
            <button type="button" className="button button--danger" onClick={() => confirm.current?.showModal()} data-testid="profile-delete">
              Delete profile
            </button>
          ) : null}
        </div>
      </form>
      {profile ? (
        <dialog ref={confirm} className="dialog" aria-labelledby="delete-title" data-own-arrows>
          <div className="dialog__body">
            <h2 id="delete-title">Delete {profile.name}?</h2>
            <p>Its My List, ratings and viewing history are deleted with it. This cannot be undone.</p>
            <div className="dialog__actions">
              <button type="button" className="button button--danger" onClick={remove} disabled={busy} data-testid="profile-delete-confirm">
                Delete
              </button>
              <button type="button" className="button button--secondary" onClick={() => confirm.current?.close()}>
                Keep it
              </button>
            </div>
          </div>
        </dialog>
      ) : null}
    </main>
  );
}
