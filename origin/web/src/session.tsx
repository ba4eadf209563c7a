// Who is signed in. Loaded once from /api/v1/me; pages call `expire()` when the API says 401.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, messageOf, type Account } from './api';

export type SessionState =
  | { status: 'loading' }
  | { status: 'signed-out' }
  | { status: 'signed-in'; account: Account }
  | { status: 'error'; message: string };

interface SessionValue {
  state: SessionState;
  signedIn: (account: Account) => void;
  signOut: () => Promise<void>;
  expire: () => void;
  retry: () => void;
}

const SessionContext = createContext<SessionValue | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
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

  const signedIn = useCallback((account: Account) => setState({ status: 'signed-in', account }), []);
  const expire = useCallback(() => setState({ status: 'signed-out' }), []);
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
    setState({ status: 'signed-out' });
  }, []);

  const value = useMemo(() => ({ state, signedIn, signOut, expire, retry }), [state, signedIn, signOut, expire, retry]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}
