// Typed client for origin's JSON API (/api/v1), shapes as in docs/interfaces.md.
// Every request is same-origin and carries the session cookie.

export interface Account {
  id: string;
  email: string;
  display_name: string;
  is_admin: boolean;
  created_at: number;
}

export type TitleState = 'awaiting_video' | 'processing' | 'ready' | 'failed';
export type TitleKind = 'film' | 'series';

export interface Title {
  id: string;
  name: string;
  synopsis: string;
  year: number;
  genres: string[];
  maturity_rating: string;
  kind: TitleKind;
  attribution?: string | null;
  state: TitleState;
  duration_secs?: number | null;
  poster_url?: string | null;
  created_at: number;
}

export interface PlaybackEdge {
  edge_id: string;
  region: string;
  base_url: string;
  dash_url: string;
  hls_url: string;
}

export interface Playback {
  title_id: string;
  token: string;
  expires_at: number;
  edges: PlaybackEdge[];
  dash_url: string;
  hls_url: string;
}

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed';

export interface Job {
  id: string;
  title_id: string;
  state: JobState;
  stage: string;
  progress: number;
  error?: string | null;
  created_at: number;
  updated_at: number;
}

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
  /** The signed-in account, or null when there is no session (401). */
  me: async (): Promise<Account | null> => {
    try {
      return await request<Account>('GET', '/me');
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return null;
      throw error;
    }
  },
  titles: async (): Promise<Title[]> => (await request<{ titles: Title[] }>('GET', '/titles')).titles,
  title: (id: string) => request<Title>('GET', `/titles/${enc(id)}`),
  playback: (id: string, options: { region?: string; renewal?: boolean } = {}) =>
    request<Playback>('POST', `/titles/${enc(id)}/playback`, options),
  job: (id: string) => request<Job>('GET', `/admin/titles/${enc(id)}/job`),
};

/** A readable sentence for any error thrown by the client or the browser. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error && error.message) return error.message;
  return 'Something went wrong. Please try again.';
}
