// Who is signed in, and as which profile. Loaded once from /api/v1/me; any API call that
// answers 401 ends the session here, and 409 `profile_required` forgets the profile, so the
// app sends the viewer to sign-in or "Who's watching?" from wherever they were.
import { useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, ApiError, messageOf, type Account, type Profile } from './api';

export type SessionState =
  | { status: 'loading' }
  | { status: 'signed-out' }
  | { status: 'signed-in'; account: Account }
  | { status: 'error'; message: string };

interface SessionValue {
  state: SessionState;
  signedIn: (account: Account) => void;
  /** The session now watches as `profile` (or none); everything loaded for another goes. */
  profileChosen: (profile: Profile | null) => void;
  signOut: () => Promise<void>;
  expire: () => void;
  retry: () => void;
}

const SessionContext = createContext<SessionValue | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const queries = useQueryClient();
  const [state, setState] = useState<SessionState>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let live = true;
    api.me().then(
      (account) => live && setState(account ? { status: 'signed-in', account } : { status: 'signed-out' }),
      (error: unknown) => live && setState({ status: 'error', message: messageOf(error) }),
    );
    return () => {
      live = false;
    };
  }, [attempt]);

  const signedIn = useCallback(
    (account: Account) => {
      queries.clear();
      setState({ status: 'signed-in', account });
    },
    [queries],
  );
  const expire = useCallback(() => {
    queries.clear();
    setState({ status: 'signed-out' });
  }, [queries]);
  const profileChosen = useCallback(
    (profile: Profile | null) => {
      queries.clear();
      setState((old) => (old.status === 'signed-in' ? { status: 'signed-in', account: { ...old.account, profile } } : old));
    },
    [queries],
  );
  const retry = useCallback(() => {
    setState({ status: 'loading' });
    setAttempt((n) => n + 1);
  }, []);
  const signOut = useCallback(async () => {
    try {
      await api.signOut();
    } catch (error) {
      // The viewer asked to leave: forget the session here even if origin could not be told.
      console.warn('sign out:', messageOf(error));
    }
    expire();
  }, [expire]);

  // A 401 from any query or change ends the session; a 409 profile_required forgets the profile.
  useEffect(() => {
    const seen = (error: unknown) => {
      if (!(error instanceof ApiError)) return;
      if (error.status === 401) expire();
      else if (error.code === 'profile_required') profileChosen(null);
    };
    const unsubscribeQueries = queries.getQueryCache().subscribe((event) => {
      if (event.type === 'updated' && event.action.type === 'error') seen(event.action.error);
    });
    const unsubscribeMutations = queries.getMutationCache().subscribe((event) => {
      if (event.type === 'updated' && event.action.type === 'error') seen(event.action.error);
    });
    return () => {
      unsubscribeQueries();
      unsubscribeMutations();
    };
  }, [queries, expire, profileChosen]);

  const value = useMemo(
    () => ({ state, signedIn, profileChosen, signOut, expire, retry }),
    [state, signedIn, profileChosen, signOut, expire, retry],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}

/** The signed-in account; only under screens that wait for a session. */
export function useAccount(): Account {
  const { state } = useSession();
  if (state.status !== 'signed-in') throw new Error('useAccount without a session');
  return state.account;
}

/** The chosen profile; only under screens that require one. */
export function useProfile(): Profile {
  const profile = useAccount().profile;
  if (!profile) throw new Error('useProfile without a chosen profile');
  return profile;
}
