// The profile button in the top bar and its menu: who is watching, switch or manage profiles,
// sign out. A kids profile's menu only switches profile.
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import type { Account } from '../api';
import { paths, useGo } from '../router';
import { useSession } from '../session';
import { Avatar } from './Avatar';
import { usePopover } from './usePopover';

export function AccountMenu({ account }: { account: Account }) {
  const { signOut } = useSession();
  const go = useGo();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const firstItem = useRef<HTMLButtonElement>(null);
  const menuId = useId();
  const profile = account.profile;
  const name = profile?.name ?? (account.display_name || account.email);
  const kids = profile?.kids === true;

  useEffect(() => {
    if (open) firstItem.current?.focus();
  }, [open]);
  const close = useCallback(() => setOpen(false), []);
  usePopover(open, close, root, button);

  const to = (path: string) => () => {
    setOpen(false);
    go(path);
  };
  const onSignOut = async () => {
    setBusy(true);
    try {
      await signOut();
    } finally {
      setBusy(false);
      setOpen(false);
      go(paths.signIn(), { replace: true });
    }
  };

  return (
    <div className="account" ref={root}>
      <button
        ref={button}
        type="button"
        className="account__button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={menuId}
        aria-label={`Profile menu for ${name}`}
        data-testid="account-menu"
        onClick={() => setOpen((value) => !value)}
      >
        {profile ? (
          <Avatar name={profile.avatar} size="small" />
        ) : (
          <span className="account__avatar" aria-hidden="true">
            {(name.trim()[0] ?? '?').toUpperCase()}
          </span>
        )}
        <span className="account__caret" aria-hidden="true">
          ▾
        </span>
      </button>
      {open ? (
        <div className="account__menu" id={menuId} role="menu" aria-label="Profile" data-own-arrows>
          <div className="account__who" role="presentation">
            <span className="account__name">{name}</span>
            <span className="account__email">{account.email}</span>
          </div>
          <button ref={firstItem} type="button" role="menuitem" className="account__item" onClick={to(paths.profiles())} data-testid="switch-profile">
            {kids ? 'Exit kids' : 'Switch profile'}
          </button>
          {kids ? null : (
            <button type="button" role="menuitem" className="account__item" onClick={to(paths.manageProfiles())}>
              Manage profiles
            </button>
          )}
          {kids ? null : (
            <button type="button" role="menuitem" className="account__item" onClick={to(paths.account())} data-testid="nav-account">
              Account
            </button>
          )}
          {account.is_admin && !kids ? (
            <button type="button" role="menuitem" className="account__item" onClick={to(paths.fleet())} data-testid="nav-fleet">
              Fleet
            </button>
          ) : null}
          {kids ? null : (
            <button type="button" role="menuitem" className="account__item" onClick={onSignOut} disabled={busy} data-testid="sign-out">
              {busy ? 'Signing out…' : 'Sign out of Marquee'}
            </button>
          )}
        </div>
      ) : null}
    </div>
  );
}
