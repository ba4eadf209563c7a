// Keeps a playback pass fresh for as long as the player is open.
//
// Tokens expire (6 hours by default, far less in tests). A viewer who pauses overnight, or
// watches a very long title, would otherwise hit a 403 on the next segment. The pass is renewed
// from origin when three quarters of its life have gone, and every request to an edge then
// carries the newest token: the manifests' relative URLs inherit the old one from the manifest
// URL, so the token path segment is swapped in each request.

/** Replaces the `/t/<token>/` path segment of an edge URL; other URLs are left alone. */
export function swapToken(url: string, token: string): string {
  return url.replace(/\/t\/[^/]+\//, `/t/${token}/`);
}

/** Milliseconds from `nowMs` until a pass expiring at `expiresAtUnix` should be renewed. */
export function renewalDelayMs(expiresAtUnix: number, nowMs: number): number {
  const left = expiresAtUnix * 1000 - nowMs;
  return Math.max(5_000, Math.floor(left * 0.75));
}

/** After a failed renewal (offline, origin restarting), try again this soon. */
export const RETRY_AFTER_FAILURE_MS = 15_000;

export interface Renewal {
  /** The token requests should carry now. */
  current: () => string;
  stop: () => void;
}

/** Renews `first` through `renew` until stopped; `onRenewed` hears about each new token. */
export function keepFresh(
  first: { token: string; expires_at: number },
  renew: () => Promise<{ token: string; expires_at: number }>,
  onRenewed: (token: string) => void = () => undefined,
): Renewal {
  let token = first.token;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const schedule = (delay: number) => {
    timer = setTimeout(() => void attempt(), delay);
  };
  const attempt = async () => {
    try {
      const next = await renew();
      if (stopped) return;
      token = next.token;
      onRenewed(token);
      schedule(renewalDelayMs(next.expires_at, Date.now()));
    } catch {
      if (!stopped) schedule(RETRY_AFTER_FAILURE_MS);
    }
  };
  schedule(renewalDelayMs(first.expires_at, Date.now()));
  return {
    current: () => token,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
