// Where an email's "Stop these emails" link leads: says what it turns off, and does it on a
// click (a link alone never changes anything; mail clients use the one-click POST instead).
import { useMutation, useQuery } from '@tanstack/react-query';
import { api, messageOf } from '../api';
import { Wordmark } from '../components/TopBar';
import { KIND_LABELS } from './NotificationSettingsPage';

export function UnsubscribePage({ token }: { token: string }) {
  const info = useQuery({ queryKey: ['unsubscribe', token], queryFn: () => api.unsubscribeInfo(token), retry: false });
  const stop = useMutation({ mutationFn: () => api.unsubscribe(token) });
  const done = stop.isSuccess || info.data?.unsubscribed === true;
  return (
    <main id="main" className="page unsubscribe">
      <Wordmark />
      <h1>Email preferences</h1>
      {info.isPending ? <p aria-busy="true">Loading…</p> : null}
      {info.isError ? (
        <p role="alert">{messageOf(info.error)}</p>
      ) : info.data ? (
        done ? (
          <p role="status" data-testid="unsubscribed">
            Done: {KIND_LABELS[info.data.kind].name.toLowerCase()} emails for {info.data.profile_name} are off. You
            can turn them on again in the notification settings.
          </p>
        ) : (
          <>
            <p>
              Stop emailing {KIND_LABELS[info.data.kind].name.toLowerCase()} to the profile {info.data.profile_name}?
            </p>
            <button type="button" className="button button--primary" onClick={() => stop.mutate()} disabled={stop.isPending}>
              Stop these emails
            </button>
            {stop.isError ? <p role="alert">{messageOf(stop.error)}</p> : null}
          </>
        )
      ) : null}
    </main>
  );
}
