// The bar over every signed-in screen: wordmark (home), the main sections, and the profile menu.
import { useEffect, useState } from 'react';
import type { Account } from '../api';
import { Link, NavLink, paths } from '../router';
import { AccountMenu } from './AccountMenu';
import { NotificationBell } from './NotificationBell';
import { SearchBox } from './SearchBox';

export function Wordmark() {
  return (
    <span className="wordmark" aria-label="Marquee">
      MARQUEE
    </span>
  );
}

export function TopBar({ account }: { account: Account }) {
  // Transparent over the hero, solid once the page scrolls.
  const [solid, setSolid] = useState(false);
  useEffect(() => {
    const onScroll = () => setSolid(window.scrollY > 24);
    onScroll();
    window.addEventListener('scroll', onScroll, { passive: true });
    return () => window.removeEventListener('scroll', onScroll);
  }, []);
  const kids = account.profile?.kids === true;
  return (
    <header className={`topbar${solid ? ' topbar--solid' : ''}`}>
      <Link to={paths.browse()} className="topbar__home" aria-label="Marquee home">
        <Wordmark />
        {kids ? <span className="topbar__kids">Kids</span> : null}
      </Link>
      {account.profile ? (
        <nav className="topbar__nav" aria-label="Main">
          <NavLink to={paths.browse()} end className="topbar__link">
            Home
          </NavLink>
          <NavLink to={paths.myList()} className="topbar__link" data-testid="nav-my-list">
            My List
          </NavLink>
          {kids ? null : (
            <NavLink to={paths.history()} className="topbar__link" data-testid="nav-history">
              History
            </NavLink>
          )}
        </nav>
      ) : null}
      {account.profile ? <SearchBox /> : null}
      {account.profile ? <NotificationBell /> : null}
      <AccountMenu account={account} />
    </header>
  );
}
