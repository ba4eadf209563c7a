// Loads Shaka Player lazily (it is the biggest part of the app) and plays a stream
// on a <video>, trying each candidate manifest in order until one loads.
import type { Playback } from '../api';
import { keepFresh, swapToken } from './renewal';

type ShakaModule = typeof import('shaka-player').default;
type ShakaPlayer = InstanceType<ShakaModule['Player']>;

let shakaPromise: Promise<ShakaModule> | null = null;

function loadShaka(): Promise<ShakaModule> {
  shakaPromise ??= import('shaka-player').then((module) => {
    const shaka = module.default;
    shaka.polyfill.installAll();
    return shaka;
  });
  return shakaPromise;
}

// shaka.util.Error.Severity.CRITICAL: the player gave up; recoverable ones it retries itself.
const CRITICAL = 2;

function isCritical(event: Event): boolean {
  const detail: unknown = 'detail' in event ? event.detail : null;
  return typeof detail === 'object' && detail !== null && 'severity' in detail && detail.severity === CRITICAL;
}

/** DASH on the best edge first, then DASH on the other edges, then HLS. */
export function candidateManifests(playback: Playback): string[] {
  const urls = [playback.dash_url, ...playback.edges.map((edge) => edge.dash_url), playback.hls_url];
  return urls.filter((url, index) => url && urls.indexOf(url) === index);
}

export interface Session {
  /** The manifest that loaded. */
  manifestUrl: string;
  destroy: () => Promise<void>;
}

/**
 * Plays `playback` on `video`. `renew` asks origin for a fresh pass; it is called before the
 * token expires for as long as the session lives, and every edge request carries the newest token.
 */
export async function startPlayback(
  video: HTMLVideoElement,
  playback: Playback,
  onError: (error: unknown) => void,
  renew: () => Promise<Playback>,
): Promise<Session> {
  const shaka = await loadShaka();
  if (!shaka.Player.isBrowserSupported()) {
    throw new Error('This browser cannot play Marquee streams. Try a recent Chrome, Firefox, Edge or Safari.');
  }
  const player: ShakaPlayer = new shaka.Player();
  await player.attach(video);
  player.configure({ streaming: { retryParameters: { maxAttempts: 3, baseDelay: 500 } } });
  const renewal = keepFresh(playback, renew);
  player.getNetworkingEngine()?.registerRequestFilter((_type, request) => {
    request.uris = request.uris.map((uri) => swapToken(uri, renewal.current()));
  });
  const destroy = async () => {
    renewal.stop();
    await player.destroy();
  };

  let lastError: unknown = null;
  for (const url of candidateManifests(playback)) {
    try {
      await player.load(url);
      // Errors after a successful load (e.g. a segment that never arrives) reach the page.
      player.addEventListener('error', (event: Event) => {
        if (isCritical(event)) onError(event);
      });
      return { manifestUrl: url, destroy };
    } catch (error) {
      lastError = error;
    }
  }
  await destroy();
  throw lastError ?? new Error('No stream is available for this title.');
}
