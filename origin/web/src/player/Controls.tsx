// The player's own controls (native ones cannot show seek-bar previews or track menus):
// play/pause, a seek bar with trick-play thumbnails, time, mute, subtitles and audio menus,
// fullscreen. Every control is a real button or slider with a name, for keyboards and screen
// readers; the page's shortcuts are in PlayerPage.
import { useState, type CSSProperties } from 'react';
import { formatClock } from '../format';
import type { TrackOption } from './shaka';
import { thumbnailAt, type Thumbnail } from './thumbnails';

interface ControlsProps {
  paused: boolean;
  time: number;
  duration: number;
  muted: boolean;
  thumbnails: Thumbnail[];
  audio: TrackOption[];
  subtitles: TrackOption[];
  onPlayPause: () => void;
  onSeek: (secs: number) => void;
  onMute: () => void;
  onFullscreen: () => void;
  onAudio: (language: string) => void;
  onSubtitles: (language: string | null) => void;
  /** A sprite's URL with the pass's current token (tokens renew while the player is open). */
  resolveUrl: (url: string) => string;
}

export function Controls(props: ControlsProps) {
  const { paused, time, duration, muted, thumbnails, audio, subtitles } = props;
  const [preview, setPreview] = useState<number | null>(null);
  const [menu, setMenu] = useState<'subtitles' | 'audio' | null>(null);
  const shown = preview === null ? null : thumbnailAt(thumbnails, preview);
  const max = Math.max(duration, 0.1);
  const activeSubtitles = subtitles.find((s) => s.active);

  const previewAt = (clientX: number, el: HTMLElement) => {
    const r = el.getBoundingClientRect();
    setPreview(Math.min(max, Math.max(0, ((clientX - r.left) / r.width) * max)));
  };
  const previewStyle = shown
    ? ({
        left: `${((preview ?? 0) / max) * 100}%`,
        width: shown.width,
        height: shown.height,
        backgroundImage: `url("${props.resolveUrl(shown.url)}")`,
        backgroundPosition: `-${shown.x}px -${shown.y}px`,
      } as CSSProperties)
    : undefined;

  return (
    <div className="controls" data-testid="player-controls">
      <div className="controls__seek">
        {shown && preview !== null ? (
          <div className="controls__preview" style={previewStyle} aria-hidden="true" data-testid="seek-preview">
            <span className="controls__preview-time">{formatClock(preview)}</span>
          </div>
        ) : null}
        <input
          type="range"
          className="controls__slider"
          min={0}
          max={max}
          step={1}
          value={Math.min(time, max)}
          aria-label="Seek"
          aria-valuetext={`${formatClock(time)} of ${formatClock(duration)}`}
          onChange={(e) => {
            const v = Number(e.target.value);
            props.onSeek(v);
            setPreview(v);
          }}
          onPointerMove={(e) => previewAt(e.clientX, e.currentTarget)}
          onPointerLeave={() => setPreview(null)}
          onBlur={() => setPreview(null)}
          data-testid="seek"
        />
      </div>
      <div className="controls__bar">
        <button type="button" className="controls__button" onClick={props.onPlayPause} aria-label={paused ? 'Play' : 'Pause'} data-testid="play-pause">
          <span aria-hidden="true">{paused ? '▶' : '❚❚'}</span>
        </button>
        <span className="controls__time" aria-hidden="true">
          {formatClock(time)} / {formatClock(duration)}
        </span>
        <button type="button" className="controls__button" onClick={props.onMute} aria-label={muted ? 'Unmute' : 'Mute'} aria-pressed={muted}>
          <span aria-hidden="true">{muted ? '🔇' : '🔊'}</span>
        </button>
        <span className="controls__spacer" />
        {subtitles.length > 0 ? (
          <MenuButton
            label={`Subtitles: ${activeSubtitles ? activeSubtitles.label : 'off'}`}
            glyph="CC"
            open={menu === 'subtitles'}
            onToggle={() => setMenu(menu === 'subtitles' ? null : 'subtitles')}
            testId="subtitles-menu"
          >
            <MenuItem checked={!activeSubtitles} onPick={() => (props.onSubtitles(null), setMenu(null))} label="Off" />
            {subtitles.map((s) => (
              <MenuItem key={s.language} checked={s.active} onPick={() => (props.onSubtitles(s.language), setMenu(null))} label={s.label} />
            ))}
          </MenuButton>
        ) : null}
        {audio.length > 1 ? (
          <MenuButton
            label={`Audio: ${audio.find((a) => a.active)?.label ?? ''}`}
            glyph="♪"
            open={menu === 'audio'}
            onToggle={() => setMenu(menu === 'audio' ? null : 'audio')}
            testId="audio-menu"
          >
            {audio.map((a) => (
              <MenuItem key={a.language} checked={a.active} onPick={() => (props.onAudio(a.language), setMenu(null))} label={a.label} />
            ))}
          </MenuButton>
        ) : null}
        <button type="button" className="controls__button" onClick={props.onFullscreen} aria-label="Full screen">
          <span aria-hidden="true">⛶</span>
        </button>
      </div>
    </div>
  );
}

function MenuButton(props: { label: string; glyph: string; open: boolean; onToggle: () => void; testId: string; children: React.ReactNode }) {
  return (
    <div className="controls__menu-wrap">
      <button
        type="button"
        className="controls__button controls__button--text"
        aria-label={props.label}
        aria-haspopup="menu"
        aria-expanded={props.open}
        onClick={props.onToggle}
        data-testid={props.testId}
      >
        <span aria-hidden="true">{props.glyph}</span>
      </button>
      {props.open ? (
        <div className="controls__menu" role="menu" aria-label={props.label}>
          {props.children}
        </div>
      ) : null}
    </div>
  );
}

function MenuItem({ label, checked, onPick }: { label: string; checked: boolean; onPick: () => void }) {
  return (
    <button type="button" role="menuitemradio" aria-checked={checked} className="controls__menu-item" onClick={onPick}>
      <span aria-hidden="true" className="controls__check">
        {checked ? '✓' : ''}
      </span>
      {label}
    </button>
  );
}
