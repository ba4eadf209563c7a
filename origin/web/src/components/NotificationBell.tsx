// The bell in the top bar: the unread count, live from the server's event stream, and a panel
// with the profile's notifications. Opening an item marks it read and goes where it leads.
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { NOTIFICATION_EVENTS_URL, type AppNotification, type UnreadEvent } from '../api';
import { timeAgo } from '../format';
import { keys, useMarkRead, useNotifications } from '../queries';
import { paths, useGo } from '../router';
import { usePopover } from './usePopover';

/** The unread count as the server streams it. A new notification refreshes the list, and the
 * rows and title pages on screen: it usually means something came out. */
function useUnreadCount(): number {
  const queries = useQueryClient();
  const [unread, setUnread] = useState(0);
  useEffect(() => {
    // EventSource reconnects by itself after a network error or the server ending the stream.
    const source = new EventSource(NOTIFICATION_EVENTS_URL);
    // `null` until the stream's first event: what was there before is not news.
    let newest: string | undefined | null = null;
    source.addEventListener('unread', (event) => {
      const data = JSON.parse((event as MessageEvent<string>).data) as UnreadEvent;
      setUnread(data.unread);
      if (data.newest_id !== newest) {
        const first = newest === null;
        newest = data.newest_id;
        void queries.invalidateQueries({ queryKey: keys.notifications });
        if (!first) {
          void queries.invalidateQueries({ queryKey: keys.rows });
          void queries.invalidateQueries({ queryKey: ['title'] });
        }
      }
    });
    return () => source.close();
  }, [queries]);
  return unread;
}

export function NotificationBell() {
  const unread = useUnreadCount();
  const [open, setOpen] = useState(false);
  const list = useNotifications(open);
  const markRead = useMarkRead();
  const go = useGo();
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const panelId = useId();

  const close = useCallback(() => setOpen(false), []);
  usePopover(open, close, root, button);

  const openItem = (n: AppNotification) => {
    if (!n.read) markRead.mutate({ ids: [n.id] });
    setOpen(false);
    go(n.link);
  };
  const label = unread > 0 ? `Notifications, ${unread} unread` : 'Notifications';
  const items = list.data?.notifications ?? [];

  return (
    <div className="bell" ref={root}>
      <span className="visually-hidden" role="status" aria-live="polite">
        {unread > 0 ? `${unread} unread notification${unread === 1 ? '' : 's'}` : ''}
      </span>
      <button
        ref={button}
        type="button"
        className="icon-button bell__button"
        aria-label={label}
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => setOpen(!open)}
        data-testid="bell"
      >
        <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false">
          <path
            fill="currentColor"
            d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z"
          />
        </svg>
        {unread > 0 ? (
          <span className="bell__count" aria-hidden="true" data-testid="bell-count">
            {unread > 99 ? '99+' : unread}
          </span>
        ) : null}
      </button>
      <div id={panelId} className="bell__panel" role="region" aria-label="Notifications" hidden={!open}>
        <div className="bell__head">
          <h2>Notifications</h2>
          <button
            type="button"
            className="link-button"
            onClick={() => markRead.mutate({ all: true })}
            disabled={unread === 0 || markRead.isPending}
          >
            Mark all read
          </button>
        </div>
        {list.isPending && open ? <p className="bell__empty">Loading…</p> : null}
        {list.isSuccess && items.length === 0 ? (
          <p className="bell__empty">Nothing yet. Ask to be reminded of a title coming soon, or watch a series to hear of new episodes.</p>
        ) : null}
        <ul className="bell__list">
          {items.map((n) => (
            <li key={n.id}>
              <button
                type="button"
                className={`bell__item${n.read ? '' : ' bell__item--unread'}`}
                onClick={() => openItem(n)}
                data-testid="notification"
              >
                {n.poster_url ? <img src={n.poster_url} alt="" className="bell__poster" loading="lazy" /> : null}
                <span className="bell__text">
                  <strong>{n.headline}</strong>
                  <span>{n.body}</span>
                  <time dateTime={new Date(n.created_at * 1000).toISOString()}>{timeAgo(n.created_at)}</time>
                </span>
                {n.read ? null : <span className="visually-hidden">(unread)</span>}
              </button>
            </li>
          ))}
        </ul>
        <button
          type="button"
          className="link-button bell__settings"
          onClick={() => {
            setOpen(false);
            go(paths.notificationSettings());
          }}
        >
          Notification settings
        </button>
      </div>
    </div>
  );
}
