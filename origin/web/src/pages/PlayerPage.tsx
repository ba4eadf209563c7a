// Full-window playback: ask origin for a playback pass, stream from the edge it names.
import { useEffect, useRef, useState } from 'react';
import { api, ApiError, messageOf, type Playback, type PlaybackEdge, type Title } from '../api';
import { describeStreamError, type StreamError } from '../player/errors';
import { startPlayback } from '../player/shaka';
import { paths, useRouter } from '../router';
import { useSession } from '../session';

type Phase =
  | { name: 'requesting' }
  | { name: 'loading'; playback: Playback }
  | { name: 'ready'; playback: Playback; manifestUrl: string }
  | { name: 'failed'; error: StreamError };

const PLAYBACK_MESSAGES: Record<string, string> = {
  title_not_ready: 'This title is still being prepared for streaming. Try again in a few minutes.',
  no_edge_available: 'No streaming server is available right now. Please try again shortly.',
};

/** The edge a manifest URL points at, to show the viewer where the stream comes from. */
function edgeOf(playback: Playback, manifestUrl: string): PlaybackEdge | undefined {
  return playback.edges.find((edge) => manifestUrl === edge.dash_url || manifestUrl === edge.hls_url) ??
    playback.edges.find((edge) => manifestUrl.startsWith(edge.base_url));
}

export function PlayerPage({ id }: { id: string }) {
  const { navigate } = useRouter();
  const { expire } = useSession();
  const video = useRef<HTMLVideoElement>(null);
  const [phase, setPhase] = useState<Phase>({ name: 'requesting' });
  const [title, setTitle] = useState<Title | null>(null);
  const [buffering, setBuffering] = useState(true);
  const [needsTap, setNeedsTap] = useState(false);
  const [chrome, setChrome] = useState(true);

  useEffect(() => {
    let live = true;
    let destroy: (() => Promise<void>) | null = null;
    const fail = (error: StreamError) => live && setPhase({ name: 'failed', error });

    api.title(id).then((t) => live && setTitle(t), () => undefined);
    (async () => {
      let playback: Playback;
      try {
        playback = await api.playback(id);
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return expire();
        const code = error instanceof ApiError ? error.code : '';
        return fail({ message: PLAYBACK_MESSAGES[code] ?? messageOf(error), code: null });
      }
      if (!live || !video.current) return;
      setPhase({ name: 'loading', playback });
      try {
        const session = await startPlayback(
          video.current,
          playback,
          (e) => fail(describeStreamError(e)),
          () => api.playback(id, { renewal: true }),
        );
        destroy = session.destroy;
        if (!live) return void session.destroy();
        setPhase({ name: 'ready', playback, manifestUrl: session.manifestUrl });
        video.current?.play().catch(() => live && setNeedsTap(true));
      } catch (error) {
        fail(describeStreamError(error));
      }
    })();

    return () => {
      live = false;
      void destroy?.();
    };
  }, [id, expire]);

  // Hide the top bar while playing and the pointer is still; show it again on any activity.
  useEffect(() => {
    let timer = window.setTimeout(() => setChrome(false), 3000);
    const wake = () => {
      setChrome(true);
      window.clearTimeout(timer);
      timer = window.setTimeout(() => setChrome(false), 3000);
    };
    const events = ['pointermove', 'pointerdown', 'keydown'] as const;
    events.forEach((name) => window.addEventListener(name, wake));
    return () => {
      window.clearTimeout(timer);
      events.forEach((name) => window.removeEventListener(name, wake));
    };
  }, []);

  const goBack = () => navigate(paths.title(id));

  // Remote- and keyboard-friendly: Space/K play-pause, F fullscreen, Escape leaves the player.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const v = video.current;
      const onControl = event.target instanceof HTMLButtonElement || event.target instanceof HTMLAnchorElement;
      if (!v || event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
      if ((event.key === ' ' || event.key === 'k') && !onControl && event.target !== v) {
        event.preventDefault();
        if (v.paused) void v.play().catch(() => setNeedsTap(true));
        else v.pause();
      } else if (event.key === 'f') {
        if (document.fullscreenElement) void document.exitFullscreen();
        else void v.parentElement?.requestFullscreen().catch(() => undefined);
      } else if (event.key === 'Escape' && !document.fullscreenElement) {
        navigate(paths.title(id));
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [id, navigate]);
  const edge = phase.name === 'ready' ? edgeOf(phase.playback, phase.manifestUrl) : undefined;
  const showSpinner = phase.name === 'requesting' || phase.name === 'loading' || (phase.name === 'ready' && buffering);

  return (
    <main id="main" className={`player${chrome || phase.name !== 'ready' ? ' player--chrome' : ''}`} data-testid="player">
      <video
        ref={video}
        className="player__video"
        data-testid="player-video"
        controls={phase.name === 'ready'}
        playsInline
        aria-label={title ? `Video: ${title.name}` : 'Video'}
        onWaiting={() => setBuffering(true)}
        onPlaying={() => {
          setBuffering(false);
          setNeedsTap(false);
        }}
        onCanPlay={() => setBuffering(false)}
      />
      <div className="player__top">
        <button type="button" className="player__back" onClick={goBack} data-testid="player-back" aria-label="Back to title">
          <span aria-hidden="true">←</span>
        </button>
        <div className="player__heading">
          <span className="player__name">{title?.name ?? ''}</span>
          {edge ? (
            <span className="player__edge" data-testid="player-edge" title={edge.base_url}>
              Streaming from {edge.edge_id} · {edge.region}
            </span>
          ) : null}
        </div>
      </div>
      {showSpinner ? (
        <div className="player__overlay" role="status" aria-live="polite" data-testid="player-loading">
          <div className="spinner" aria-hidden="true" />
          <span className="visually-hidden">Loading video…</span>
        </div>
      ) : null}
      {needsTap && phase.name === 'ready' ? (
        <div className="player__overlay">
          <button
            type="button"
            className="button button--primary player__tap"
            onClick={() => void video.current?.play()}
            data-testid="player-start"
          >
            Start playing
          </button>
        </div>
      ) : null}
      {phase.name === 'failed' ? (
        <div className="player__overlay player__overlay--error" role="alert" data-testid="player-error">
          <h1 className="player__error-title">Playback problem</h1>
          <p>{phase.error.message}</p>
          {phase.error.code !== null ? <p className="player__error-code">Error {phase.error.code}</p> : null}
          <div className="hero__actions">
            <button type="button" className="button button--primary" onClick={() => window.location.reload()}>
              Try again
            </button>
            <button type="button" className="button button--secondary" onClick={goBack}>
              Back
            </button>
          </div>
        </div>
      ) : null}
    </main>
  );
}
