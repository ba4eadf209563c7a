// The bar over every signed-in screen: wordmark (home), and the account menu.
import { useEffect, useState } from 'react';
import type { Account } from '../api';
import { Link, paths } from '../router';
import { AccountMenu } from './AccountMenu';

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
  return (
    <header className={`topbar${solid ? ' topbar--solid' : ''}`}>
      <Link to={paths.browse()} className="topbar__home" aria-label="Marquee home">
        <Wordmark />
      </Link>
      <nav className="topbar__nav" aria-label="Main">
        <Link to={paths.browse()} className="topbar__link">
          Home
        </Link>
      </nav>
      <AccountMenu account={account} />
    </header>
  );
}
