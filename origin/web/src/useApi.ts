// Loads server state for a screen; a 401 anywhere ends the session (the app then shows sign-in).
import { useEffect, useState } from 'react';
import { ApiError, messageOf } from './api';
import { useSession } from './session';

export type Loaded<T> =
  | { status: 'loading' }
  | { status: 'ready'; data: T }
  | { status: 'error'; message: string; code: string };

export function useApi<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const { expire } = useSession();
  const [state, setState] = useState<Loaded<T>>({ status: 'loading' });

  useEffect(() => {
    let live = true;
    setState({ status: 'loading' });
    load().then(
      (data) => live && setState({ status: 'ready', data }),
      (error: unknown) => {
        if (!live) return;
        if (error instanceof ApiError && error.status === 401) {
          expire();
          return;
        }
        const code = error instanceof ApiError ? error.code : 'error';
        setState({ status: 'error', message: messageOf(error), code });
      },
    );
    return () => {
      live = false;
    };
    // `load` is a fresh closure each render; `key` names what it loads.
  }, [key, expire]);

  return state;
}
