// A profile's picture: one of the built-in avatars, drawn as a coloured tile with its emblem.
import type { CSSProperties } from 'react';

const AVATARS: Record<string, { emblem: string; hue: number; label: string }> = {
  fox: { emblem: '🦊', hue: 24, label: 'Fox' },
  owl: { emblem: '🦉', hue: 280, label: 'Owl' },
  bear: { emblem: '🐻', hue: 30, label: 'Bear' },
  cat: { emblem: '🐱', hue: 48, label: 'Cat' },
  panda: { emblem: '🐼', hue: 160, label: 'Panda' },
  robot: { emblem: '🤖', hue: 205, label: 'Robot' },
  rocket: { emblem: '🚀', hue: 350, label: 'Rocket' },
  wave: { emblem: '🌊', hue: 195, label: 'Wave' },
  star: { emblem: '⭐', hue: 55, label: 'Star' },
  cactus: { emblem: '🌵', hue: 120, label: 'Cactus' },
};

export function avatarLabel(name: string): string {
  return AVATARS[name]?.label ?? name;
}

export function Avatar({ name, size = 'large' }: { name: string; size?: 'small' | 'large' }) {
  const avatar = AVATARS[name] ?? { emblem: '🙂', hue: 0, label: name };
  const style = { '--avatar-hue': avatar.hue } as CSSProperties;
  return (
    <span className={`avatar avatar--${size}`} style={style} aria-hidden="true">
      <span className="avatar__emblem">{avatar.emblem}</span>
    </span>
  );
}
