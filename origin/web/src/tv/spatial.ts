// Arrow-key focus navigation for TVs (and keyboards): Up/Down/Left/Right move DOM focus to the
// nearest focusable element in that direction, Back (Backspace, Escape or the remote's Back)
// goes back. Written here rather than with a spatial-navigation library: those keep a focus
// tree of their own beside the DOM's, which screen readers and plain keyboard users do not
// follow; moving real focus keeps one focus for everyone.

export type Direction = 'up' | 'down' | 'left' | 'right';

export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

const KEYS: Record<string, Direction> = {
  ArrowUp: 'up',
  ArrowDown: 'down',
  ArrowLeft: 'left',
  ArrowRight: 'right',
};

/**
 * The index of the box to move to from `from` in `direction`, or -1. A box counts when its
 * centre lies beyond `from`'s edge in that direction; the nearest wins, where distance along
 * the direction counts once and sideways offset counts double (so moving down a grid stays in
 * its column, and moving across rows stays in the row).
 */
export function pickNext(from: Box, boxes: Box[], direction: Direction): number {
  const centre = (b: Box) => ({ x: b.left + b.width / 2, y: b.top + b.height / 2 });
  const c = centre(from);
  let best = -1;
  let bestScore = Infinity;
  boxes.forEach((box, i) => {
    const p = centre(box);
    const [along, across] =
      direction === 'down'
        ? [p.y - (from.top + from.height), Math.abs(p.x - c.x)]
        : direction === 'up'
          ? [from.top - p.y, Math.abs(p.x - c.x)]
          : direction === 'right'
            ? [p.x - (from.left + from.width), Math.abs(p.y - c.y)]
            : [from.left - p.x, Math.abs(p.y - c.y)];
    if (along <= 0) return;
    const score = along + 2 * across;
    if (score < bestScore) {
      bestScore = score;
      best = i;
    }
  });
  return best;
}

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), [tabindex="0"]';

/** Elements whose arrow keys are their own (text fields, sliders, menus, the player). */
function ownsArrows(el: Element | null): boolean {
  if (!el) return false;
  if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement) return true;
  return el.closest('[data-own-arrows]') !== null;
}

function visible(el: HTMLElement): boolean {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) return false;
  return getComputedStyle(el).visibility !== 'hidden';
}

/** Starts listening on the document; returns how to stop. */
export function startSpatialNavigation(): () => void {
  const onKey = (event: KeyboardEvent) => {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    const active = document.activeElement;
    const isBack = event.key === 'GoBack' || event.key === 'BrowserBack' || (event.key === 'Backspace' && !ownsArrows(active));
    if (isBack) {
      event.preventDefault();
      window.history.back();
      return;
    }
    const direction = KEYS[event.key];
    if (!direction || ownsArrows(active)) return;
    const scope = document.querySelector('dialog[open]') ?? document;
    // A card's small action buttons are reached with Tab, not arrows: on a TV the arrows
    // step from card to card, as a remote's user expects.
    const all = Array.from(scope.querySelectorAll<HTMLElement>(FOCUSABLE)).filter(
      (el) => el !== active && visible(el) && !el.closest('[inert], [aria-hidden="true"], [data-arrows-skip]'),
    );
    if (!(active instanceof HTMLElement) || active === document.body) {
      // Nothing focused yet: the first arrow press lands on the first control.
      all[0]?.focus();
      event.preventDefault();
      return;
    }
    const next = pickNext(
      active.getBoundingClientRect(),
      all.map((el) => el.getBoundingClientRect()),
      direction,
    );
    const target = all[next];
    if (target) {
      event.preventDefault();
      target.focus();
      target.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    }
  };
  document.addEventListener('keydown', onKey);
  return () => document.removeEventListener('keydown', onKey);
}
