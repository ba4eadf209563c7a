// Typed client for origin's JSON API (/api/v1); shapes come from its OpenAPI document
// (./types). Every request is same-origin and carries the session cookie.
import type {
  Account,
  BillingOverview,
  Devices,
  CardForm,
  InvoiceList,
  PaymentMethodView,
  Plans,
  Fleet,
  History,
  KindPreference,
  NewProfile,
  NotificationList,
  Playback,
  Profile,
  ProfileEdit,
  ProfileList,
  Row,
  SearchResults,
  Seasons,
  Thumb,
  Title,
  Unsubscribe,
} from './types';

/** An API failure with the server's stable code and a sentence a viewer can read. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

// Used when the server's answer carries no readable message (proxies, crashes).
const FALLBACK_MESSAGES: Record<number, string> = {
  400: 'That request was not accepted. Please check what you entered.',
  401: 'Please sign in to continue.',
  403: 'You do not have access to this.',
  404: 'We could not find that.',
  409: 'That conflicts with something that already exists.',
  429: 'Too many attempts. Please wait a moment and try again.',
  503: 'The service is busy right now. Please try again shortly.',
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

async function errorFrom(response: Response): Promise<ApiError> {
  let code = `http_${response.status}`;
  let message = FALLBACK_MESSAGES[response.status] ?? 'Something went wrong. Please try again.';
  try {
    const body: unknown = await response.json();
    const error = isRecord(body) ? body.error : undefined;
    if (isRecord(error)) {
      if (typeof error.code === 'string') code = error.code;
      if (typeof error.message === 'string' && error.message.trim() !== '') message = error.message;
    }
  } catch {
    // Not JSON: keep the fallback sentence.
  }
  return new ApiError(response.status, code, message);
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = {
    method,
    credentials: 'include',
    headers: { Accept: 'application/json' },
  };
  if (body !== undefined) {
    init.headers = { Accept: 'application/json', 'Content-Type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, init);
  } catch {
    throw new ApiError(0, 'network_error', 'Cannot reach Marquee. Check your connection and try again.');
  }
  if (!response.ok) throw await errorFrom(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

const enc = encodeURIComponent;

export const api = {
  signUp: (email: string, password: string, displayName?: string) =>
    request<Account>('POST', '/accounts', {
      email,
      password,
      ...(displayName ? { display_name: displayName } : {}),
    }),
  signIn: (email: string, password: string) => request<Account>('POST', '/sessions', { email, password }),
  signOut: () => request<void>('DELETE', '/sessions/current'),
  /** The signed-in account (with the chosen profile), or null when there is no session (401). */
  me: async (): Promise<Account | null> => {
    try {
      return await request<Account>('GET', '/me');
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return null;
      throw error;
    }
  },
  profiles: () => request<ProfileList>('GET', '/profiles'),
  createProfile: (profile: NewProfile) => request<Profile>('POST', '/profiles', profile),
  editProfile: (id: string, edit: ProfileEdit) => request<Profile>('PATCH', `/profiles/${enc(id)}`, edit),
  deleteProfile: (id: string) => request<void>('DELETE', `/profiles/${enc(id)}`),
  chooseProfile: (profileId: string, pin?: string) =>
    request<Profile>('PUT', '/sessions/current/profile', { profile_id: profileId, ...(pin ? { pin } : {}) }),
  rows: async (): Promise<Row[]> => (await request<{ rows: Row[] }>('GET', '/rows')).rows,
  title: (id: string) => request<Title>('GET', `/titles/${enc(id)}`),
  seasons: (id: string) => request<Seasons>('GET', `/titles/${enc(id)}/seasons`),
  playback: (id: string, options: { region?: string; renewal?: boolean; episode_id?: string } = {}) =>
    request<Playback>('POST', `/titles/${enc(id)}/playback`, options),
  myList: async (): Promise<Title[]> => (await request<{ titles: Title[] }>('GET', '/my-list')).titles,
  addToList: (titleId: string) => request<void>('PUT', `/my-list/${enc(titleId)}`),
  removeFromList: (titleId: string) => request<void>('DELETE', `/my-list/${enc(titleId)}`),
  rate: (titleId: string, thumb: Thumb) => request<{ thumb: Thumb }>('PUT', `/ratings/${enc(titleId)}`, { thumb }),
  unrate: (titleId: string) => request<void>('DELETE', `/ratings/${enc(titleId)}`),
  /** Where the profile is in a film or an episode (`id` is the film's or the episode's). */
  reportProgress: (id: string, positionSecs: number) =>
    request<void>('PUT', `/progress/${enc(id)}`, { position_secs: positionSecs }),
  dismissFromRow: (titleId: string) => request<void>('DELETE', `/continue-watching/${enc(titleId)}`),
  /** The edges the control-plane knows, with health, load and cache figures (admins). */
  fleet: () => request<Fleet>('GET', '/admin/fleet'),
  history: (beforeMs?: number) =>
    request<History>('GET', `/history${beforeMs === undefined ? '' : `?before_ms=${beforeMs}`}`),
  hideFromHistory: (id: string) => request<void>('DELETE', `/history/${enc(id)}`),
  /** A search: `params` is the query string (q, filters, sort, cursor) as the search page keeps it. */
  search: (params: string) => request<SearchResults>('GET', `/search${params ? `?${params}` : ''}`),
  notifications: () => request<NotificationList>('GET', '/notifications'),
  markRead: (which: { ids: string[] } | { all: true }) => request<void>('POST', '/notifications/read', which),
  notificationPreferences: async (): Promise<KindPreference[]> =>
    (await request<{ kinds: KindPreference[] }>('GET', '/notifications/preferences')).kinds,
  setNotificationPreferences: async (kinds: KindPreference[]): Promise<KindPreference[]> =>
    (await request<{ kinds: KindPreference[] }>('PUT', '/notifications/preferences', { kinds })).kinds,
  remind: (titleId: string) => request<void>('PUT', `/reminders/${enc(titleId)}`),
  forgetReminder: (titleId: string) => request<void>('DELETE', `/reminders/${enc(titleId)}`),
  unsubscribeInfo: (token: string) => request<Unsubscribe>('GET', `/unsubscribe/${enc(token)}`),
  unsubscribe: (token: string) => request<Unsubscribe>('POST', `/unsubscribe/${enc(token)}`),
  /** The plans, priced for the viewer's country (public). */
  plans: () => request<Plans>('GET', '/plans'),
  billing: () => request<BillingOverview>('GET', '/subscription'),
  /** Saves a typed test card with the sandbox gateway; its payment method id. */
  saveCard: (card: CardForm) => request<PaymentMethodView>('POST', '/billing/sandbox/payment-methods', card),
  /** Pays the first month; a 202 answer carries a challenge page in `last_charge`. */
  subscribe: (plan: string, paymentMethod: string) =>
    request<BillingOverview>('POST', '/subscription', { plan, payment_method: paymentMethod }),
  changePlan: (plan: string) => request<BillingOverview>('PUT', '/subscription/plan', { plan }),
  cancelSubscription: () => request<BillingOverview>('POST', '/subscription/cancel'),
  resumeSubscription: () => request<BillingOverview>('POST', '/subscription/resume'),
  updatePaymentMethod: (paymentMethod: string) =>
    request<BillingOverview>('PUT', '/billing/payment-method', { payment_method: paymentMethod }),
  invoices: () => request<InvoiceList>('GET', '/billing/invoices'),
  devices: () => request<Devices>('GET', '/sessions'),
  signOutDevice: (id: string) => request<void>('DELETE', `/sessions/${enc(id)}`),
  signOutEverywhere: () => request<void>('DELETE', '/sessions'),
  /** Keeps this session's stream (the plan counts screens by it). */
  renewStream: (titleId: string) => request<void>('PUT', '/streams/current', { title_id: titleId }),
};

/** Gives the stream back as the player closes, so another screen may start at once. */
export function releaseStreamOnExit(): void {
  void fetch('/api/v1/streams/current', { method: 'DELETE', credentials: 'include', keepalive: true }).catch(
    () => undefined,
  );
}

/** The live stream of the bell's count (server-sent events). */
export const NOTIFICATION_EVENTS_URL = '/api/v1/notifications/events';

/**
 * The last progress report as the player closes (tab closed, navigated away): a keepalive
 * request outlives the page; nothing waits for its answer.
 */
export function reportProgressOnExit(id: string, positionSecs: number): void {
  void fetch(`/api/v1/progress/${enc(id)}`, {
    method: 'PUT',
    credentials: 'include',
    keepalive: true,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ position_secs: positionSecs }),
  }).catch(() => undefined);
}

/** The CSV export's URL (a download link, sent with the session cookie). */
export const HISTORY_CSV_URL = '/api/v1/history.csv';

/** A readable sentence for any error thrown by the client or the browser. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error && error.message) return error.message;
  return 'Something went wrong. Please try again.';
}
