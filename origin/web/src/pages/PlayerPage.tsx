// Full-window playback: ask origin for a pass (it picks the episode and where to resume),
// stream from the edge it names, report the position as the viewer watches, and offer what a
// streaming player does — skip intro, the next episode at the credits, "still watching?",
// subtitles and audio tracks, seek previews, keyboard shortcuts.
import { useCallback, useEffect, useRef, useState } from 'react';
import {
  api,
  ApiError,
  messageOf,
  releaseStreamOnExit,
  reportProgressOnExit,
  type Playback,
  type PlaybackEdge,
} from '../api';
import { Controls } from '../player/Controls';
import { describeStreamError, type StreamError } from '../player/errors';
import { swapToken } from '../player/renewal';
import { autoplayed, shouldAskStillWatching, viewerActed } from '../player/session';
import { startPlayback, type Session, type TrackOption } from '../player/shaka';
import { parseThumbnails, type Thumbnail } from '../player/thumbnails';
import { useAfterWatching, useTitle } from '../queries';
import { Link, paths, useGo } from '../router';
import { useProfile } from '../session';

type Phase =
  | { name: 'requesting' }
  | { name: 'loading'; playback: Playback }
  | { name: 'ready'; playback: Playback; manifestUrl: string }
  | { name: 'failed'; error: StreamError };

const PLAYBACK_MESSAGES: Record<string, string> = {
  subscription_required: 'Choose a plan to start watching.',
  title_not_ready: 'This title is still being prepared for streaming. Try again in a few minutes.',
  no_edge_available: 'No streaming server is available right now. Please try again shortly.',
};

/** How often the open player renews its stream (origin frees one not renewed for 60 s). */
const STREAM_RENEW_MS = 20_000;
/** Seconds between progress reports while playing. */
const REPORT_EVERY_MS = 10_000;
/** Seconds the next-episode countdown runs. */
const COUNTDOWN_SECS = 10;
/** Seconds an arrow key seeks. */
const SEEK_STEP = 10;

/** The edge a manifest URL points at, to show the viewer where the stream comes from. */
function edgeOf(playback: Playback, manifestUrl: string): PlaybackEdge | undefined {
  return (
    playback.edges.find((edge) => manifestUrl === edge.dash_url || manifestUrl === edge.hls_url) ??
    playback.edges.find((edge) => manifestUrl.startsWith(edge.base_url))
  );
}

export function PlayerPage({ id, episodeId }: { id: string; episodeId?: string }) {
  const go = useGo();
  const profile = useProfile();
  const title = useTitle(id);
  const afterWatching = useAfterWatching();
  const video = useRef<HTMLVideoElement>(null);
  const session = useRef<Session | null>(null);
  const [phase, setPhase] = useState<Phase>({ name: 'requesting' });
  const [buffering, setBuffering] = useState(true);
  const [needsTap, setNeedsTap] = useState(false);
  const [chrome, setChrome] = useState(true);
  const [clock, setClock] = useState({ time: 0, duration: 0, paused: true, muted: false });
  const [tracks, setTracks] = useState<{ audio: TrackOption[]; subtitles: TrackOption[] }>({ audio: [], subtitles: [] });
  const tracksRef = useRef(tracks);
  tracksRef.current = tracks;
  const [thumbs, setThumbs] = useState<Thumbnail[]>([]);
  const [countdown, setCountdown] = useState<number | null>(null);
  const [cancelled, setCancelled] = useState(false);
  const [stillWatching, setStillWatching] = useState(false);
  // Playback was refused for want of a plan: offer the plans instead of "Try again".
  const [needsPlan, setNeedsPlan] = useState(false);
  // Where segments come from now; it changes when the player leaves a failed edge.
  const [servingEdge, setServingEdge] = useState<PlaybackEdge | undefined>(undefined);
  const playback = phase.name === 'ready' || phase.name === 'loading' ? phase.playback : null;
  const itemId = playback ? (playback.episode?.id ?? playback.title_id) : null;

  // Start: the pass, then the stream (resuming where the profile left off).
  useEffect(() => {
    let live = true;
    const fail = (error: StreamError) => live && setPhase({ name: 'failed', error });
    (async () => {
      let pass: Playback;
      try {
        pass = await api.playback(id, episodeId ? { episode_id: episodeId } : {});
      } catch (error) {
        const code = error instanceof ApiError ? error.code : '';
        if (code === 'subscription_required' && live) setNeedsPlan(true);
        return fail({ message: PLAYBACK_MESSAGES[code] ?? messageOf(error), code: null });
      }
      if (!live || !video.current) return;
      setPhase({ name: 'loading', playback: pass });
      try {
        const s = await startPlayback(video.current, pass, {
          onError: (e) => fail(describeStreamError(e)),
          renew: () => api.playback(id, { renewal: true, ...(pass.episode ? { episode_id: pass.episode.id } : {}) }),
          startTime: pass.resume_from_secs ?? undefined,
          language: profile.language,
          onEdge: (edge) => live && setServingEdge(edge),
        });
        if (!live) return void s.destroy();
        session.current = s;
        setPhase({ name: 'ready', playback: pass, manifestUrl: s.manifestUrl });
        setTracks({ audio: s.audio(), subtitles: s.subtitles() });
        if (shouldAskStillWatching()) {
          setStillWatching(true);
        } else {
          video.current?.play().catch(() => live && setNeedsTap(true));
        }
        fetch(swapToken(pass.thumbnails_url, s.token()))
          .then((r) => (r.ok ? r.text() : ''))
          .then((text) => live && setThumbs(parseThumbnails(text, pass.thumbnails_url)))
          .catch(() => undefined);
      } catch (error) {
        fail(describeStreamError(error));
      }
    })();
    return () => {
      live = false;
      const s = session.current;
      session.current = null;
      void s?.destroy();
    };
  }, [id, episodeId, profile.language]);

  // Progress: every 10 s while playing, on pause and after a seek, and as the player closes.
  const report = useCallback(
    (onExit = false) => {
      const v = video.current;
      if (!v || !itemId || !Number.isFinite(v.currentTime) || v.currentTime <= 0) return;
      const at = Math.min(v.currentTime, Number.isFinite(v.duration) ? v.duration : v.currentTime);
      if (onExit) reportProgressOnExit(itemId, at);
      else api.reportProgress(itemId, at).catch(() => undefined);
    },
    [itemId],
  );
  useEffect(() => {
    if (!itemId) return;
    const timer = window.setInterval(() => {
      if (video.current && !video.current.paused) report();
    }, REPORT_EVERY_MS);
    const onHide = () => report(true);
    window.addEventListener('pagehide', onHide);
    return () => {
      window.clearInterval(timer);
      window.removeEventListener('pagehide', onHide);
      report(true);
      afterWatching(id);
    };
  }, [itemId, report, afterWatching, id]);

  // The stream: renewed while this player is open, given back when it closes, so another of
  // the plan's screens may start at once. Losing it (another device took it after a long
  // pause, or the plan ended) stops playback with the reason.
  const leaseTitle = playback?.title_id ?? null;
  useEffect(() => {
    if (!leaseTitle) return;
    const timer = window.setInterval(() => {
      api.renewStream(leaseTitle).catch((error: unknown) => {
        if (!(error instanceof ApiError) || !['too_many_streams', 'subscription_required'].includes(error.code)) return;
        const s = session.current;
        session.current = null;
        void s?.destroy();
        if (error.code === 'subscription_required') setNeedsPlan(true);
        setPhase({ name: 'failed', error: { message: error.message, code: null } });
      });
    }, STREAM_RENEW_MS);
    window.addEventListener('pagehide', releaseStreamOnExit);
    return () => {
      window.clearInterval(timer);
      window.removeEventListener('pagehide', releaseStreamOnExit);
      releaseStreamOnExit();
    };
  }, [leaseTitle]);

  // Any input from the viewer: controls show, and "still watching" counting starts again.
  useEffect(() => {
    let timer = window.setTimeout(() => setChrome(false), 3000);
    const wake = () => {
      viewerActed();
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

  const next = playback?.next_episode ?? null;
  const markers = playback?.markers;
  const advance = useCallback(
    (auto: boolean) => {
      if (!next) return;
      if (auto) autoplayed();
      else viewerActed();
      go(paths.watch(id, next.id), { replace: true });
    },
    [go, id, next],
  );

  // The credits (or the end, without a marker) start the next-episode countdown.
  const inCredits =
    markers?.credits_start_secs != null ? clock.time >= markers.credits_start_secs : clock.duration > 0 && clock.time >= clock.duration - 0.5;
  useEffect(() => {
    if (!next || cancelled || !inCredits || countdown !== null) return;
    setCountdown(COUNTDOWN_SECS);
  }, [next, cancelled, inCredits, countdown]);
  useEffect(() => {
    if (countdown === null || cancelled) return;
    if (countdown <= 0) return advance(true);
    const t = window.setTimeout(() => setCountdown((n) => (n === null ? null : n - 1)), 1000);
    return () => window.clearTimeout(t);
  }, [countdown, cancelled, advance]);

  const togglePlay = useCallback(() => {
    const v = video.current;
    if (!v) return;
    if (v.paused) void v.play().catch(() => setNeedsTap(true));
    else v.pause();
  }, []);
  const seekTo = useCallback((secs: number) => {
    const v = video.current;
    if (!v) return;
    v.currentTime = Math.max(0, Math.min(secs, Number.isFinite(v.duration) ? v.duration : secs));
  }, []);
  const fullscreen = useCallback(() => {
    if (document.fullscreenElement) void document.exitFullscreen();
    else void video.current?.parentElement?.requestFullscreen().catch(() => undefined);
  }, []);
  // The menus show what the viewer chose at once (Shaka switches tracks asynchronously).
  const selectSubtitles = useCallback((lang: string | null) => {
    session.current?.selectSubtitles(lang);
    setTracks((t) => ({ ...t, subtitles: t.subtitles.map((s) => ({ ...s, active: s.language === lang })) }));
  }, []);
  const selectAudio = useCallback((lang: string) => {
    session.current?.selectAudio(lang);
    setTracks((t) => ({ ...t, audio: t.audio.map((a) => ({ ...a, active: a.language === lang })) }));
  }, []);
  const goBack = useCallback(() => go(paths.title(id)), [go, id]);

  // Keyboard: Space/K play-pause, F full screen, M mute, ←/→ seek 10 s, ↑/↓ volume, C subtitles,
  // Escape back to the title.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const v = video.current;
      const target = event.target;
      const onControl = target instanceof HTMLButtonElement || target instanceof HTMLAnchorElement;
      const onSlider = target instanceof HTMLInputElement;
      if (!v || event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
      const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
      if ((key === ' ' || key === 'k') && !onControl && !onSlider) {
        event.preventDefault();
        togglePlay();
      } else if (key === 'f') {
        fullscreen();
      } else if (key === 'm') {
        v.muted = !v.muted;
      } else if ((key === 'ArrowLeft' || key === 'ArrowRight') && !onSlider) {
        event.preventDefault();
        seekTo(v.currentTime + (key === 'ArrowRight' ? SEEK_STEP : -SEEK_STEP));
      } else if ((key === 'ArrowUp' || key === 'ArrowDown') && !onControl) {
        event.preventDefault();
        v.volume = Math.max(0, Math.min(1, v.volume + (key === 'ArrowUp' ? 0.1 : -0.1)));
      } else if (key === 'c') {
        const subs = tracksRef.current.subtitles;
        const on = subs.find((s) => s.active);
        const preferred = subs.find((s) => s.language === profile.language) ?? subs[0];
        selectSubtitles(on ? null : (preferred?.language ?? null));
      } else if (key === 'Escape' && !document.fullscreenElement) {
        goBack();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [togglePlay, fullscreen, seekTo, selectSubtitles, goBack, profile.language]);

  const edge = phase.name === 'ready' ? (servingEdge ?? edgeOf(phase.playback, phase.manifestUrl)) : undefined;
  const showSpinner = phase.name === 'requesting' || phase.name === 'loading' || (phase.name === 'ready' && buffering);
  const inIntro =
    markers?.intro_start_secs != null &&
    markers.intro_end_secs != null &&
    clock.time >= markers.intro_start_secs &&
    clock.time < markers.intro_end_secs - 1;
  const episode = playback?.episode;
  const heading = title.data?.name ?? '';
  const onTick = () => {
    const v = video.current;
    if (v) setClock({ time: v.currentTime, duration: Number.isFinite(v.duration) ? v.duration : 0, paused: v.paused, muted: v.muted });
  };

  return (
    <main
      id="main"
      className={`player${chrome || phase.name !== 'ready' || clock.paused ? ' player--chrome' : ''}`}
      data-testid="player"
      data-own-arrows
    >
      <video
        ref={video}
        className="player__video"
        data-testid="player-video"
        playsInline
        aria-label={heading ? `Video: ${heading}` : 'Video'}
        onClick={togglePlay}
        onWaiting={() => setBuffering(true)}
        onPlaying={() => {
          setBuffering(false);
          setNeedsTap(false);
          onTick();
        }}
        onCanPlay={() => setBuffering(false)}
        onTimeUpdate={onTick}
        onDurationChange={onTick}
        onVolumeChange={onTick}
        onPause={() => {
          onTick();
          report();
        }}
        onSeeked={() => report()}
        onEnded={() => {
          report();
          if (next && !cancelled) advance(true);
        }}
      />
      <div className="player__top">
        <button type="button" className="player__back" onClick={goBack} data-testid="player-back" aria-label="Back to title">
          <span aria-hidden="true">←</span>
        </button>
        <div className="player__heading">
          <span className="player__name">{heading}</span>
          {episode ? (
            <span className="player__episode" data-testid="player-episode">
              S{episode.season}:E{episode.number} · {episode.name}
            </span>
          ) : null}
          {edge ? (
            <span className="player__edge" data-testid="player-edge" title={edge.base_url}>
              Streaming from {edge.edge_id} · {edge.region}
            </span>
          ) : null}
        </div>
      </div>
      {phase.name === 'ready' ? (
        <div className="player__bottom">
          <Controls
            paused={clock.paused}
            time={clock.time}
            duration={clock.duration}
            muted={clock.muted}
            thumbnails={thumbs}
            audio={tracks.audio}
            subtitles={tracks.subtitles}
            onPlayPause={togglePlay}
            onSeek={seekTo}
            onMute={() => {
              if (video.current) video.current.muted = !video.current.muted;
            }}
            onFullscreen={fullscreen}
            onAudio={selectAudio}
            onSubtitles={selectSubtitles}
            resolveUrl={(url) => swapToken(url, session.current?.token() ?? '')}
          />
        </div>
      ) : null}
      {inIntro && markers?.intro_end_secs != null ? (
        <button
          type="button"
          className="button button--secondary player__skip"
          onClick={() => seekTo(markers.intro_end_secs ?? 0)}
          data-testid="skip-intro"
        >
          Skip intro
        </button>
      ) : null}
      {countdown !== null && !cancelled && next ? (
        <div className="player__next" role="status" aria-live="polite" data-testid="next-episode">
          <p>
            Next episode in <strong data-testid="next-countdown">{countdown}</strong>
          </p>
          <p className="player__next-name">
            S{next.season}:E{next.number} · {next.name}
          </p>
          <div className="hero__actions">
            <button type="button" className="button button--primary" onClick={() => advance(false)} data-testid="next-now">
              Play now
            </button>
            <button type="button" className="button button--secondary" onClick={() => setCancelled(true)} data-testid="next-cancel">
              Cancel
            </button>
          </div>
        </div>
      ) : null}
      {showSpinner ? (
        <div className="player__overlay" role="status" aria-live="polite" data-testid="player-loading">
          <div className="spinner" aria-hidden="true" />
          <span className="visually-hidden">Loading video…</span>
        </div>
      ) : null}
      {stillWatching ? (
        <div className="player__overlay player__overlay--error" role="alertdialog" aria-labelledby="still-title" data-testid="still-watching">
          <h1 id="still-title" className="player__error-title">
            Are you still watching?
          </h1>
          <div className="hero__actions">
            <button
              type="button"
              className="button button--primary"
              autoFocus
              onClick={() => {
                viewerActed();
                setStillWatching(false);
                void video.current?.play().catch(() => setNeedsTap(true));
              }}
              data-testid="still-watching-continue"
            >
              Continue watching
            </button>
            <button type="button" className="button button--secondary" onClick={goBack}>
              Back
            </button>
          </div>
        </div>
      ) : null}
      {needsTap && phase.name === 'ready' && !stillWatching ? (
        <div className="player__overlay">
          <button type="button" className="button button--primary player__tap" onClick={() => void video.current?.play()} data-testid="player-start">
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
            {needsPlan ? (
              <Link to={paths.plans()} className="button button--primary" data-testid="player-choose-plan">
                See plans
              </Link>
            ) : (
              <button type="button" className="button button--primary" onClick={() => window.location.reload()}>
                Try again
              </button>
            )}
            <button type="button" className="button button--secondary" onClick={goBack}>
              Back
            </button>
          </div>
        </div>
      ) : null}
    </main>
  );
}
