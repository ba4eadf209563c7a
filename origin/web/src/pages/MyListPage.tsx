// My List: every title the profile saved, most recently added first, as a grid of cards.
import { messageOf } from '../api';
import { StatusMessage } from '../components/StatusMessage';
import { TitleCard } from '../components/TitleCard';
import { useMyList } from '../queries';
import { Link, paths } from '../router';

export function MyListPage() {
  const list = useMyList();
  if (list.isPending) return <main id="main" className="page" aria-busy="true" aria-label="Loading My List" />;
  if (list.isError) return <StatusMessage title="We could not load My List" message={messageOf(list.error)} retry />;
  return (
    <main id="main" className="page" data-testid="my-list">
      <h1 className="page__title">My List</h1>
      {list.data.length === 0 ? (
        <p className="page__empty">
          Nothing here yet. Add films and series with <span aria-hidden="true">+</span> “My List” and they wait here.{' '}
          <Link to={paths.browse()}>Find something to watch</Link>
        </p>
      ) : (
        <ul className="grid">
          {list.data.map((title) => (
            <li key={title.id}>
              <TitleCard card={{ title }} listed />
            </li>
          ))}
        </ul>
      )}
    </main>
  );
}
