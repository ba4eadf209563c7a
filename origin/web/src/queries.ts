// Server state through TanStack Query: one cache, keyed per screen's data, so moving between
// screens shows what is known at once and a change (My List, a rating, a hidden item)
// refreshes exactly the views it affects. Keys need no profile id: the cache is cleared
// whenever the session's profile changes (session.tsx).
import { keepPreviousData, useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, type Thumb } from './api';

export const keys = {
  profiles: ['profiles'] as const,
  rows: ['rows'] as const,
  title: (id: string) => ['title', id] as const,
  seasons: (id: string) => ['seasons', id] as const,
  myList: ['my-list'] as const,
  history: ['history'] as const,
  search: (params: string) => ['search', params] as const,
  notifications: ['notifications'] as const,
  notificationPreferences: ['notification-preferences'] as const,
  fleet: ['fleet'] as const,
  plans: ['plans'] as const,
  billing: ['billing'] as const,
  invoices: ['invoices'] as const,
  devices: ['devices'] as const,
};

export const useProfiles = () => useQuery({ queryKey: keys.profiles, queryFn: api.profiles });
export const useRows = () => useQuery({ queryKey: keys.rows, queryFn: api.rows });
export const useTitle = (id: string) => useQuery({ queryKey: keys.title(id), queryFn: () => api.title(id) });
export const useSeasons = (id: string, enabled = true) =>
  useQuery({ queryKey: keys.seasons(id), queryFn: () => api.seasons(id), enabled });
export const usePlans = () => useQuery({ queryKey: keys.plans, queryFn: api.plans, staleTime: 300_000 });
/** The account's billing; off for a visitor (its 401 would reset the session and clear the cache). */
export const useBilling = (enabled = true) => useQuery({ queryKey: keys.billing, queryFn: api.billing, enabled });
export const useDevices = () => useQuery({ queryKey: keys.devices, queryFn: api.devices });
export const useInvoices = () => useQuery({ queryKey: keys.invoices, queryFn: api.invoices });
export const useMyList = () => useQuery({ queryKey: keys.myList, queryFn: api.myList });
/** The fleet, asked again every 5 s while the page is open (heartbeats come every 2 s). */
export const useFleet = () => useQuery({ queryKey: keys.fleet, queryFn: api.fleet, refetchInterval: 5_000 });
export const useHistory = () =>
  useInfiniteQuery({
    queryKey: keys.history,
    queryFn: ({ pageParam }) => api.history(pageParam),
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (page) => page.next_before_ms ?? undefined,
  });

/** The top bar's instant results: the first few matches for the words typed so far. */
export const useSearchPreview = (q: string) => {
  const params = new URLSearchParams({ q, limit: '6' }).toString();
  return useQuery({
    queryKey: keys.search(params),
    queryFn: () => api.search(params),
    enabled: q.trim() !== '',
    // The last answer stays on screen while the next word's loads: no flicker as one types.
    placeholderData: keepPreviousData,
    staleTime: 30_000,
  });
};

/** The search page's results, a page at a time (`params`: its query string, no cursor). */
export const useSearchResults = (params: string) =>
  useInfiniteQuery({
    queryKey: keys.search(params),
    queryFn: ({ pageParam }) => {
      const p = new URLSearchParams(params);
      if (pageParam) p.set('cursor', pageParam);
      return api.search(p.toString());
    },
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_cursor ?? undefined,
    placeholderData: keepPreviousData,
    staleTime: 30_000,
  });

/** What a profile's own marks change: its rows, the title's page, its list and history. */
function useRefresh() {
  const queries = useQueryClient();
  return (titleId?: string) => {
    void queries.invalidateQueries({ queryKey: keys.rows });
    void queries.invalidateQueries({ queryKey: keys.myList });
    void queries.invalidateQueries({ queryKey: keys.history });
    if (titleId) {
      void queries.invalidateQueries({ queryKey: keys.title(titleId) });
      void queries.invalidateQueries({ queryKey: keys.seasons(titleId) });
    }
  };
}

export function useListToggle(titleId: string) {
  const refresh = useRefresh();
  return useMutation({
    mutationFn: (add: boolean) => (add ? api.addToList(titleId) : api.removeFromList(titleId)),
    onSettled: () => refresh(titleId),
  });
}

export function useRating(titleId: string) {
  const refresh = useRefresh();
  return useMutation({
    mutationFn: (thumb: Thumb | null) => (thumb ? api.rate(titleId, thumb).then(() => undefined) : api.unrate(titleId)),
    onSettled: () => refresh(titleId),
  });
}

/** Onboarding: the titles a new profile picked are loved in one go, then the rows refresh. */
export function useOnboardingPicks() {
  const refresh = useRefresh();
  return useMutation({
    mutationFn: async (titleIds: string[]) => {
      await Promise.all(titleIds.map((id) => api.rate(id, 'love')));
    },
    onSettled: () => refresh(),
  });
}

export function useDismissFromRow() {
  const refresh = useRefresh();
  return useMutation({ mutationFn: api.dismissFromRow, onSettled: (_d, _e, titleId) => refresh(titleId) });
}

export function useHideFromHistory() {
  const refresh = useRefresh();
  return useMutation({ mutationFn: api.hideFromHistory, onSettled: () => refresh() });
}

/** After playing: the rows and the title's progress are stale. */
export function useAfterWatching() {
  return useRefresh();
}

export const useNotifications = (enabled: boolean) =>
  useQuery({ queryKey: keys.notifications, queryFn: api.notifications, enabled });

export function useMarkRead() {
  const queries = useQueryClient();
  return useMutation({
    mutationFn: api.markRead,
    onSettled: () => queries.invalidateQueries({ queryKey: keys.notifications }),
  });
}

export const useNotificationPreferences = () =>
  useQuery({ queryKey: keys.notificationPreferences, queryFn: api.notificationPreferences });

export function useSetNotificationPreferences() {
  const queries = useQueryClient();
  return useMutation({
    mutationFn: api.setNotificationPreferences,
    onSuccess: (kinds) => queries.setQueryData(keys.notificationPreferences, kinds),
  });
}

/** "Remind me" on a coming-soon title. */
export function useReminderToggle(titleId: string) {
  const refresh = useRefresh();
  return useMutation({
    mutationFn: (on: boolean) => (on ? api.remind(titleId) : api.forgetReminder(titleId)),
    onSettled: () => refresh(titleId),
  });
}
