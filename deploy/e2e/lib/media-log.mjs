// Records what a page fetched for playback: the playback answer from origin and every
// manifest/segment response with its headers, so tests can say where media came from.

const MEDIA_PATH = /^\/t\/([^/]+)(\/media\/[^?]+)$/;

/** Splits an edge media URL into `{ port, token, key }`; `key` is the edge's cache key path. */
export function parseMediaUrl(url) {
  const u = new URL(url);
  const m = u.pathname.match(MEDIA_PATH);
  return m ? { port: Number(u.port), token: m[1], key: m[2] } : { port: Number(u.port), token: null, key: u.pathname };
}

export const isManifest = (path) => /\.(mpd|m3u8)$/.test(path);
export const isSegment = (path) => /\.(m4s|mp4)$/.test(path);

/** A manifest origin rendered with content steering (`/api/v1/playback/t/<token>/media/…`). */
const STEERED_PATH = /^\/api\/v1\/playback\/t\/([^/]+)(\/media\/[^?]+)$/;

/**
 * Starts recording on `page`; returns `{ playbacks, media, steered, settled() }`: `media` is
 * what edges served, `steered` the steered manifests from the API host.
 */
export function recordPlayback(page) {
  const playbacks = [];
  const media = [];
  const steered = [];
  const pending = [];
  // Only requests whose body arrived in full: an aborted fetch (an ABR switch) proves nothing.
  page.on('requestfinished', (request) => {
    const url = request.url();
    const { pathname } = new URL(url);
    const job = (async () => {
      const response = await request.response();
      if (!response) return;
      if (/\/api\/v1\/titles\/[^/]+\/playback$/.test(pathname) && request.method() === 'POST') {
        // `renewal` marks a pass the player renewed while playing (see origin/web/src/player/renewal.ts).
        const renewal = request.postDataJSON()?.renewal === true;
        if (response.ok()) playbacks.push({ ...(await response.json()), renewal });
        return;
      }
      if (!isManifest(pathname) && !isSegment(pathname)) return;
      // When the browser sent it (epoch ms), from Playwright's resource timing.
      const requestedAt = request.timing().startTime;
      const headers = await response.allHeaders();
      const steeredPath = pathname.match(STEERED_PATH);
      if (steeredPath) {
        steered.push({ url, status: response.status(), port: Number(new URL(url).port), token: steeredPath[1], key: steeredPath[2] });
        return;
      }
      media.push({ url, requestedAt, host: new URL(url).host, status: response.status(), cacheStatus: headers['cache-status'] ?? '', ...parseMediaUrl(url) });
    })().catch(() => {});
    pending.push(job);
  });
  return { playbacks, media, steered, settled: () => Promise.all(pending) };
}

/** True when an RFC 9211 Cache-Status value says some cache answered from storage. */
export function isCacheHit(value) {
  return value
    .split(',')
    .some((entry) => entry.split(';').slice(1).some((param) => param.trim().toLowerCase() === 'hit'));
}
