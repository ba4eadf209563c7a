// Loads Shaka Player lazily (it is the biggest part of the app) and plays a stream
// on a <video>, trying each candidate manifest in order until one loads.
import type { Playback, PlaybackEdge } from '../api';
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

/**
 * The steered DASH manifest first (every edge a pathway: a failing edge is left mid-stream),
 * then DASH straight from each edge (should the API host fail to render it), then HLS.
 * `base` resolves the steered manifest's path, which is on the API's host.
 */
export function candidateManifests(playback: Playback, base: string): string[] {
  const urls = [
    new URL(playback.steered_dash_url, base).href,
    playback.dash_url,
    ...playback.edges.map((edge) => edge.dash_url),
    playback.hls_url,
  ];
  return urls.filter((url, index) => url && urls.indexOf(url) === index);
}

/**
 * How the player retries a request: with every edge a pathway, each retry goes to the next
 * edge, so there are enough attempts to try each twice, quickly. A dead edge refuses the
 * connection at once; one that hangs is given up on after 3 s.
 */
export function retryParameters(edges: number) {
  return {
    maxAttempts: Math.max(3, 2 * edges),
    baseDelay: 200,
    backoffFactor: 2,
    fuzzFactor: 0.1,
    timeout: 30_000,
    stallTimeout: 5_000,
    connectionTimeout: 3_000,
  };
}

/** The edge a media URL is on, by its base URL. */
export function edgeServing(playback: Playback, url: string): PlaybackEdge | undefined {
  return playback.edges.find((edge) => url.startsWith(`${edge.base_url}/`));
}

/** An audio track or subtitle language the viewer can pick. */
export interface TrackOption {
  language: string;
  label: string;
  active: boolean;
}

export interface Session {
  /** The manifest that loaded. */
  manifestUrl: string;
  /** The token edge requests carry now (renewed while the player is open). */
  token: () => string;
  /** The edge the last segment came from (it changes when the player leaves a failed edge). */
  edge: () => PlaybackEdge | undefined;
  audio: () => TrackOption[];
  subtitles: () => TrackOption[];
  selectAudio: (language: string) => void;
  /** `null` turns subtitles off. */
  selectSubtitles: (language: string | null) => void;
  destroy: () => Promise<void>;
}

export interface PlaybackOptions {
  onError: (error: unknown) => void;
  /** Asks origin for a fresh pass; called before the token expires for as long as the session lives. */
  renew: () => Promise<Playback>;
  /** Where to start (resume), in seconds. */
  startTime?: number;
  /** The profile's language: audio in it when there is such a track, subtitles shown in it when turned on. */
  language?: string;
  /** Hears when segments start coming from another edge. */
  onEdge?: (edge: PlaybackEdge) => void;
}

const languageName = (tag: string) => {
  try {
    return new Intl.DisplayNames(undefined, { type: 'language' }).of(tag) ?? tag;
  } catch {
    return tag;
  }
};

/** Plays `playback` on `video`; every edge request carries the newest token. */
export async function startPlayback(video: HTMLVideoElement, playback: Playback, options: PlaybackOptions): Promise<Session> {
  const { onError, renew, startTime, language, onEdge } = options;
  const shaka = await loadShaka();
  if (!shaka.Player.isBrowserSupported()) {
    throw new Error('This browser cannot play Marquee streams. Try a recent Chrome, Firefox, Edge or Safari.');
  }
  const player: ShakaPlayer = new shaka.Player();
  await player.attach(video);
  player.configure({
    streaming: { retryParameters: retryParameters(playback.edges.length) },
    manifest: { retryParameters: retryParameters(playback.edges.length) },
    // The plan's top resolution: taller rungs (listed by an edge's plain manifest) are never
    // chosen, so the player does not meet the edge's refusal.
    ...(playback.max_height ? { restrictions: { maxHeight: playback.max_height } } : {}),
    ...(language
      ? {
          preferredAudio: [{ language, role: '', label: '', channelCount: 0, codec: '', spatialAudio: false }],
          preferredText: [{ language, role: '', format: '', forced: false }],
        }
      : {}),
  });
  const renewal = keepFresh(playback, renew);
  const net = player.getNetworkingEngine();
  net?.registerRequestFilter((_type, request) => {
    request.uris = request.uris.map((uri) => swapToken(uri, renewal.current()));
  });
  let serving: PlaybackEdge | undefined;
  net?.registerResponseFilter((type, response) => {
    if (type !== shaka.net.NetworkingEngine.RequestType.SEGMENT) return;
    const edge = edgeServing(playback, response.uri);
    if (edge && edge !== serving) {
      serving = edge;
      onEdge?.(edge);
    }
  });
  const destroy = async () => {
    renewal.stop();
    await player.destroy();
  };

  const audio = (): TrackOption[] => {
    const seen = new Map<string, TrackOption>();
    for (const t of player.getAudioTracks()) {
      const old = seen.get(t.language);
      seen.set(t.language, { language: t.language, label: t.label || languageName(t.language), active: t.active || (old?.active ?? false) });
    }
    return [...seen.values()];
  };
  const subtitles = (): TrackOption[] =>
    player.getTextTracks().map((t) => ({ language: t.language, label: t.label || languageName(t.language), active: t.active }));
  const session = (manifestUrl: string): Session => ({
    manifestUrl,
    token: () => renewal.current(),
    edge: () => serving,
    audio,
    subtitles,
    selectAudio: (lang) => {
      const track = player.getAudioTracks().find((t) => t.language === lang);
      if (track) player.selectAudioTrack(track);
    },
    selectSubtitles: (lang) => {
      const track = lang === null ? null : player.getTextTracks().find((t) => t.language === lang);
      player.selectTextTrack(track ?? null);
    },
    destroy,
  });

  let lastError: unknown = null;
  for (const url of candidateManifests(playback, window.location.href)) {
    try {
      await player.load(url, startTime && startTime > 0 ? startTime : null);
      // Subtitles start off; the viewer turns them on (the profile's language is preferred).
      player.selectTextTrack(null);
      // Errors after a successful load (e.g. a segment that never arrives) reach the page.
      player.addEventListener('error', (event: Event) => {
        if (isCritical(event)) onError(event);
      });
      return session(url);
    } catch (error) {
      lastError = error;
    }
  }
  await destroy();
  throw lastError ?? new Error('No stream is available for this title.');
}
