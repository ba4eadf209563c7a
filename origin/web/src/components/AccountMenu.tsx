// The avatar button in the top bar and its menu (who is signed in, sign out).
import { useEffect, useId, useRef, useState } from 'react';
import type { Account } from '../api';
import { useRouter, paths } from '../router';
import { useSession } from '../session';

export function AccountMenu({ account }: { account: Account }) {
  const { signOut } = useSession();
  const { navigate } = useRouter();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const firstItem = useRef<HTMLButtonElement>(null);
  const menuId = useId();
  const name = account.display_name || account.email;
  const initial = (name.trim()[0] ?? '?').toUpperCase();

  useEffect(() => {
    if (!open) return;
    firstItem.current?.focus();
    const onPointer = (event: PointerEvent) => {
      if (root.current && !root.current.contains(event.target as Node)) setOpen(false);
    };
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') {
        setOpen(false);
        button.current?.focus();
      }
    };
    document.addEventListener('pointerdown', onPointer);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('pointerdown', onPointer);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);

  const onSignOut = async () => {
    setBusy(true);
    try {
      await signOut();
    } finally {
      setBusy(false);
      setOpen(false);
      navigate(paths.signIn(), { replace: true });
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
        aria-label={`Account menu for ${name}`}
        data-testid="account-menu"
        onClick={() => setOpen((value) => !value)}
      >
        <span className="account__avatar" aria-hidden="true">
          {initial}
        </span>
        <span className="account__caret" aria-hidden="true">
          ▾
        </span>
      </button>
      {open ? (
        <div className="account__menu" id={menuId} role="menu" aria-label="Account">
          <div className="account__who" role="presentation">
            <span className="account__name">{name}</span>
            {account.display_name ? <span className="account__email">{account.email}</span> : null}
          </div>
          <button
            ref={firstItem}
            type="button"
            role="menuitem"
            className="account__item"
            onClick={onSignOut}
            disabled={busy}
            data-testid="sign-out"
          >
            {busy ? 'Signing out…' : 'Sign out of Marquee'}
          </button>
        </div>
      ) : null}
    </div>
  );
}
