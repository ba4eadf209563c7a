// Turns Shaka Player's numeric errors into sentences a viewer can act on.
// Codes: https://shaka-player-demo.appspot.com/docs/api/shaka.util.Error.html

export interface StreamError {
  message: string;
  /** Shaka's numeric code, shown small for support; null for non-Shaka failures. */
  code: number | null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Shaka reports errors either directly (load() rejects) or in an event's `detail`. */
export function describeStreamError(raw: unknown): StreamError {
  const error = isRecord(raw) && isRecord(raw.detail) ? raw.detail : raw;
  if (!isRecord(error) || typeof error.code !== 'number') {
    const text = error instanceof Error && error.message ? error.message : 'The video could not be played.';
    return { message: text, code: null };
  }
  const code = error.code;
  const data = Array.isArray(error.data) ? (error.data as unknown[]) : [];
  const httpStatus = code === 1001 && typeof data[1] === 'number' ? data[1] : null;

  if (httpStatus === 403) return { message: 'The streaming server refused this playback pass. Try again to get a new one.', code };
  if (httpStatus === 404) return { message: 'This video is missing from the streaming server.', code };
  if (httpStatus !== null) return { message: `The streaming server answered with an error (HTTP ${httpStatus}).`, code };
  if (code === 1002 || code === 1003) return { message: 'Cannot reach the streaming server. Check your connection.', code };
  if (code === 7000) return { message: 'Playback was stopped.', code };
  if (code >= 1000 && code < 2000) return { message: 'The video could not be downloaded.', code };
  if (code >= 3000 && code < 4000) return { message: 'Your browser could not play this video.', code };
  if (code >= 4000 && code < 5000) return { message: 'This title’s stream description could not be read.', code };
  if (code >= 6000 && code < 7000) return { message: 'A licence to play this title could not be obtained.', code };
  return { message: 'The video could not be played.', code };
}
