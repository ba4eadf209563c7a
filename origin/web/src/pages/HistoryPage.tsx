// Viewing history: what the profile watched, most recent first (date, title, episode), with
// "Hide" per line and the whole history as a CSV download.
import { HISTORY_CSV_URL, messageOf } from '../api';
import { StatusMessage } from '../components/StatusMessage';
import { formatDate } from '../format';
import { useHideFromHistory, useHistory } from '../queries';
import { Link, paths } from '../router';

export function HistoryPage() {
  const history = useHistory();
  const hide = useHideFromHistory();
  if (history.isPending) return <main id="main" className="page" aria-busy="true" aria-label="Loading your history" />;
  if (history.isError) return <StatusMessage title="We could not load your history" message={messageOf(history.error)} retry />;
  const items = history.data.pages.flatMap((p) => p.items);
  return (
    <main id="main" className="page" data-testid="history">
      <div className="page__head">
        <h1 className="page__title">Viewing history</h1>
        <a className="button button--secondary" href={HISTORY_CSV_URL} download="viewing-history.csv" data-testid="history-export">
          Download as CSV
        </a>
      </div>
      {items.length === 0 ? (
        <p className="page__empty">
          Nothing watched yet. <Link to={paths.browse()}>Find something to watch</Link>
        </p>
      ) : (
        <table className="history">
          <caption className="visually-hidden">Films and episodes watched, most recent first</caption>
          <thead>
            <tr>
              <th scope="col">Date</th>
              <th scope="col">Title</th>
              <th scope="col">Episode</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <tr key={item.item_id} data-testid="history-item">
                <td>{formatDate(item.watched_at_ms)}</td>
                <td>
                  <Link to={paths.title(item.title_id)}>{item.title_name}</Link>
                </td>
                <td>
                  {item.episode_name
                    ? `S${item.season}:E${item.episode_number} · ${item.episode_name}`
                    : null}
                </td>
                <td>
                  <button
                    type="button"
                    className="button button--quiet"
                    onClick={() => hide.mutate(item.item_id)}
                    disabled={hide.isPending}
                    aria-label={`Hide ${item.title_name}${item.episode_name ? `, ${item.episode_name}` : ''} from your history`}
                    data-testid="history-hide"
                  >
                    Hide
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {history.hasNextPage ? (
        <button type="button" className="button button--secondary" onClick={() => void history.fetchNextPage()} disabled={history.isFetchingNextPage}>
          {history.isFetchingNextPage ? 'Loading…' : 'Show more'}
        </button>
      ) : null}
    </main>
  );
}
