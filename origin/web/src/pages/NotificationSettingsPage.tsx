// Which notifications the profile gets, and where: one row per kind, in the app and by email.
import type { KindPreference, NotificationKind } from '../api';
import { messageOf } from '../api';
import { StatusMessage } from '../components/StatusMessage';
import { useNotificationPreferences, useSetNotificationPreferences } from '../queries';

export const KIND_LABELS: Record<NotificationKind, { name: string; about: string }> = {
  new_episodes: { name: 'New episodes', about: 'A new season or episode of a series you watch or keep on My List.' },
  genre_release: { name: 'New in your genres', about: 'A new film or series in the genres you watch most.' },
  reminder: { name: 'Reminders', about: 'A title you asked to be reminded of is out.' },
  digest: { name: 'Weekly picks', about: 'Once a week, a few titles chosen for you.' },
};

export function NotificationSettingsPage() {
  const prefs = useNotificationPreferences();
  const save = useSetNotificationPreferences();
  if (prefs.isPending) return <main id="main" className="page" aria-busy="true" aria-label="Loading settings" />;
  if (prefs.isError) return <StatusMessage title="Something went wrong" message={messageOf(prefs.error)} retry />;
  const change = (p: KindPreference, channel: 'in_app' | 'email', on: boolean) =>
    save.mutate([{ ...p, [channel]: on }]);
  return (
    <main id="main" className="page settings">
      <h1>Notifications</h1>
      <p className="settings__intro">Choose what this profile hears about, in the app (the bell) and by email.</p>
      <table className="settings__table">
        <thead>
          <tr>
            <th scope="col">Notification</th>
            <th scope="col">In the app</th>
            <th scope="col">Email</th>
          </tr>
        </thead>
        <tbody>
          {prefs.data.map((p) => {
            const label = KIND_LABELS[p.kind];
            return (
              <tr key={p.kind}>
                <th scope="row">
                  <span className="settings__name">{label.name}</span>
                  <span className="settings__about">{label.about}</span>
                </th>
                {(['in_app', 'email'] as const).map((channel) => (
                  <td key={channel}>
                    <input
                      type="checkbox"
                      checked={p[channel]}
                      disabled={save.isPending}
                      aria-label={`${label.name} ${channel === 'in_app' ? 'in the app' : 'by email'}`}
                      onChange={(e) => change(p, channel, e.target.checked)}
                      data-testid={`pref-${p.kind}-${channel}`}
                    />
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
      {save.isError ? (
        <p role="alert" className="form-error">
          {messageOf(save.error)}
        </p>
      ) : null}
    </main>
  );
}
