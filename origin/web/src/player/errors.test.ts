import { describe, expect, it } from 'vitest';
import { describeStreamError } from './errors';

describe('describeStreamError', () => {
  it('explains an edge refusing the token', () => {
    const error = { code: 1001, data: ['http://edge/t/x/media/1/manifest.mpd', 403] };
    expect(describeStreamError(error)).toEqual({
      code: 1001,
      message: 'The streaming server refused this playback pass. Try again to get a new one.',
    });
  });

  it('reads errors wrapped in a Shaka error event', () => {
    expect(describeStreamError({ detail: { code: 1002, data: [] } }).message).toMatch(/Cannot reach/);
  });

  it('falls back to a plain sentence for non-Shaka failures', () => {
    expect(describeStreamError(new Error('boom'))).toEqual({ code: null, message: 'boom' });
    expect(describeStreamError('???')).toEqual({ code: null, message: 'The video could not be played.' });
  });
});
