// A tiny history-API router: the app has five screens, so a dependency is not worth it.
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
  type AnchorHTMLAttributes,
  type MouseEvent,
  type ReactNode,
} from 'react';

export type Route =
  | { name: 'browse' }
  | { name: 'signin'; next: string }
  | { name: 'signup'; next: string }
  | { name: 'title'; id: string }
  | { name: 'watch'; id: string }
  | { name: 'not-found' };

/** Only same-site paths may be a post-sign-in destination (no open redirects). */
export function safeNext(value: string | null): string {
  if (!value || !value.startsWith('/') || value.startsWith('//')) return '/';
  return value;
}

export function parseRoute(pathname: string, search: string): Route {
  const query = new URLSearchParams(search);
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const [first, second] = parts;
  if (parts.length === 0 || (first === 'browse' && parts.length === 1)) return { name: 'browse' };
  if (first === 'signin' && parts.length === 1) return { name: 'signin', next: safeNext(query.get('next')) };
  if (first === 'signup' && parts.length === 1) return { name: 'signup', next: safeNext(query.get('next')) };
  if (first === 'title' && second && parts.length === 2) return { name: 'title', id: second };
  if (first === 'watch' && second && parts.length === 2) return { name: 'watch', id: second };
  return { name: 'not-found' };
}

export const paths = {
  browse: () => '/',
  title: (id: string) => `/title/${encodeURIComponent(id)}`,
  watch: (id: string) => `/watch/${encodeURIComponent(id)}`,
  signIn: (next?: string) => (next && next !== '/' ? `/signin?next=${encodeURIComponent(next)}` : '/signin'),
  signUp: (next?: string) => (next && next !== '/' ? `/signup?next=${encodeURIComponent(next)}` : '/signup'),
};

interface RouterValue {
  route: Route;
  /** Current path + query, used as the `next` target when a session is missing. */
  location: string;
  navigate: (to: string, options?: { replace?: boolean }) => void;
}

const RouterContext = createContext<RouterValue | null>(null);

function currentLocation(): string {
  return window.location.pathname + window.location.search;
}

export function RouterProvider({ children }: { children: ReactNode }) {
  const [location, setLocation] = useState(currentLocation);

  useEffect(() => {
    const onPop = () => setLocation(currentLocation());
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  const navigate = useCallback((to: string, options?: { replace?: boolean }) => {
    if (to === currentLocation()) return;
    if (options?.replace) window.history.replaceState(null, '', to);
    else window.history.pushState(null, '', to);
    setLocation(currentLocation());
    window.scrollTo(0, 0);
  }, []);

  const value = useMemo<RouterValue>(() => {
    const url = new URL(location, window.location.origin);
    return { route: parseRoute(url.pathname, url.search), location, navigate };
  }, [location, navigate]);

  return <RouterContext.Provider value={value}>{children}</RouterContext.Provider>;
}

export function useRouter(): RouterValue {
  const value = useContext(RouterContext);
  if (!value) throw new Error('useRouter outside RouterProvider');
  return value;
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { to: string; replace?: boolean };

/** An ordinary anchor (so middle-click and "open in new tab" work) that routes in-app on a plain click. */
export function Link({ to, replace, onClick, children, ...rest }: LinkProps) {
  const { navigate } = useRouter();
  const handleClick = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to, { replace: replace ?? false });
  };
  return (
    <a href={to} onClick={handleClick} {...rest}>
      {children}
    </a>
  );
}
