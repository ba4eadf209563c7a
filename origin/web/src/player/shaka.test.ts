import { describe, expect, it } from 'vitest';
import type { Playback } from '../api';
import { candidateManifests, edgeServing, retryParameters } from './shaka';

const edge = (id: string, base: string) => ({
  edge_id: id,
  region: 'eu-west',
  base_url: base,
  dash_url: `${base}/t/TOK/media/t1/p/manifest.mpd`,
  hls_url: `${base}/t/TOK/media/t1/p/master.m3u8`,
});

const pass = {
  edges: [edge('edge-a', 'http://127.0.0.1:80'), edge('edge-b', 'http://127.0.0.1:8080')],
  dash_url: 'http://127.0.0.1:80/t/TOK/media/t1/p/manifest.mpd',
  hls_url: 'http://127.0.0.1:80/t/TOK/media/t1/p/master.m3u8',
  steered_dash_url: '/api/v1/playback/t/TOK/media/t1/p/manifest.mpd',
  steered_hls_url: '/api/v1/playback/t/TOK/media/t1/p/master.m3u8',
} as unknown as Playback;

describe('the player', () => {
  it('starts with the steered manifest on the API host, then each edge, then HLS', () => {
    expect(candidateManifests(pass, 'https://watch.example/watch/t1')).toEqual([
      'https://watch.example/api/v1/playback/t/TOK/media/t1/p/manifest.mpd',
      'http://127.0.0.1:80/t/TOK/media/t1/p/manifest.mpd',
      'http://127.0.0.1:8080/t/TOK/media/t1/p/manifest.mpd',
      'http://127.0.0.1:80/t/TOK/media/t1/p/master.m3u8',
    ]);
  });

  it('names the edge a segment came from, not one whose address is a prefix of it', () => {
    expect(edgeServing(pass, 'http://127.0.0.1:8080/t/TOK/media/t1/p/video/1.m4s')?.edge_id).toBe('edge-b');
    expect(edgeServing(pass, 'http://127.0.0.1:80/t/TOK/media/t1/p/video/1.m4s')?.edge_id).toBe('edge-a');
    expect(edgeServing(pass, 'http://elsewhere/t/TOK/x.m4s')).toBeUndefined();
  });

  it('retries enough to try every edge twice', () => {
    expect(retryParameters(1).maxAttempts).toBe(3);
    expect(retryParameters(4).maxAttempts).toBe(8);
    expect(retryParameters(2).baseDelay).toBeLessThanOrEqual(250);
  });
});
