// Where each screen lives. Routing itself is react-router's (declarative mode): the app now has
// a dozen screens with parameters and query strings, more than a hand-written router should own.
import { useCallback } from 'react';
import { useLocation, useNavigate } from 'react-router';

export { Link, NavLink } from 'react-router';

/** Only same-site paths may be a post-sign-in destination (no open redirects). */
export function safeNext(value: string | null): string {
  if (!value || !value.startsWith('/') || value.startsWith('//')) return '/';
  return value;
}

const enc = encodeURIComponent;

export const paths = {
  browse: () => '/',
  title: (id: string) => `/title/${enc(id)}`,
  watch: (id: string, episodeId?: string) =>
    episodeId ? `/watch/${enc(id)}?episode=${enc(episodeId)}` : `/watch/${enc(id)}`,
  myList: () => '/my-list',
  /** Search results; `params` is the query string (q, filters, sort). */
  search: (params = '') => (params ? `/search?${params}` : '/search'),
  genre: (name: string) => `/genre/${enc(name)}`,
  history: () => '/history',
  fleet: () => '/admin/fleet',
  notificationSettings: () => '/settings/notifications',
  unsubscribe: (token: string) => `/unsubscribe/${enc(token)}`,
  profiles: (next?: string) => (next && next !== '/' ? `/profiles?next=${enc(next)}` : '/profiles'),
  manageProfiles: () => '/profiles?manage=1',
  newProfile: () => '/profiles/new',
  editProfile: (id: string) => `/profiles/${enc(id)}/edit`,
  signIn: (next?: string) => (next && next !== '/' ? `/signin?next=${enc(next)}` : '/signin'),
  plans: () => '/plans',
  checkout: (plan: string) => `/checkout?plan=${enc(plan)}`,
  account: () => '/account',
  signUp: (next?: string) => (next && next !== '/' ? `/signup?next=${enc(next)}` : '/signup'),
};

/** The current path with its query: where to come back to after signing in or choosing a profile. */
export function useHere(): string {
  const location = useLocation();
  return location.pathname + location.search;
}

/** `navigate(to, {replace})` that also scrolls a new screen to the top. */
export function useGo(): (to: string, options?: { replace?: boolean }) => void {
  const navigate = useNavigate();
  return useCallback(
    (to: string, options?: { replace?: boolean }) => {
      void navigate(to, { replace: options?.replace ?? false });
      window.scrollTo(0, 0);
    },
    [navigate],
  );
}
