// What the player page keeps between episodes in this tab: how many episodes in a row started
// by themselves (for "Are you still watching?") — reset by any input from the viewer.

const KEY = 'marquee.autoplayed';
/** Episodes that may start by themselves in a row before the player asks. */
export const AUTOPLAY_LIMIT = 3;

function read(): number {
  const n = Number(sessionStorage.getItem(KEY) ?? 0);
  return Number.isFinite(n) && n >= 0 ? n : 0;
}

/** An episode is starting by itself (the countdown ran out); returns how many in a row. */
export function autoplayed(): number {
  const n = read() + 1;
  sessionStorage.setItem(KEY, String(n));
  return n;
}

/** The viewer did something: the count starts again. */
export function viewerActed(): void {
  sessionStorage.removeItem(KEY);
}

/** Whether the next episode should wait for the viewer instead of starting by itself. */
export function shouldAskStillWatching(): boolean {
  return read() >= AUTOPLAY_LIMIT;
}
