#!/usr/bin/env node
// Measures how a manifest starts in Shaka Player in real headless Chromium.
//
//   node measure-start.mjs <manifest-url | path/to/manifest.{mpd,m3u8}> [more ...]
//
// A local path is served (with its directory) from a loopback server on port 0; a URL is played
// as it is (its server must allow CORS). For each manifest: load it, call play() muted, and watch
// currentTime every 10 ms until it passes --until seconds (default 3.5). Prints one JSON array:
//   start_ms        play() → currentTime > 0.1 s (the start stall shows up here)
//   max_stall_ms    longest time currentTime stood still after it first advanced
//   max_waiting_ms  longest 'waiting' → 'playing' gap of the video element
//   buffered_start  where the first buffered range began (a gap at 0 is the usual cause of a stall)
//   stalls_detected, gaps_jumped   Shaka's own counters
// The first manifest is played once to warm the browser up first (--no-warmup to skip).
// Exit code 0 when every manifest played to --until with a picture, 1 otherwise, 2 on bad usage.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, resolve } from 'node:path';
import { launchBrowser } from './lib/browser.mjs';
import { startStaticServer } from './lib/static-server.mjs';

const require = createRequire(import.meta.url);

function parseArgs(argv) {
  const opts = { until: 3.5, timeoutMs: 30000, warmup: true, inputs: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--until') opts.until = Number(argv[++i]);
    else if (a === '--timeout-ms') opts.timeoutMs = Number(argv[++i]);
    else if (a === '--no-warmup') opts.warmup = false;
    else if (a === '-h' || a === '--help') opts.help = true;
    else opts.inputs.push(a);
  }
  return opts;
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>marquee measure-start</title>
<video id="v" muted playsinline style="width:640px"></video>
<script>
// Keep every SourceBuffer so a measurement can report per-track buffered ranges.
window.__sourceBuffers = [];
const add = MediaSource.prototype.addSourceBuffer;
MediaSource.prototype.addSourceBuffer = function (type) {
  const sb = add.call(this, type);
  window.__sourceBuffers.push({ type, sb });
  return sb;
};
</script>
<script src="/__harness/shaka-player.compiled.js"></script>`;

// Runs inside the page. Kept self-contained: playwright serialises it.
async function measureInPage({ url, until, timeoutMs }) {
  /* global shaka, document, performance */
  shaka.polyfill.installAll();
  const video = document.getElementById('v');
  video.muted = true;
  const player = new shaka.Player();
  await player.attach(video);
  const errors = [];
  player.addEventListener('error', (e) => errors.push(`shaka ${e.detail && e.detail.code}`));
  const now = () => performance.now();
  const waits = [];
  let waitingSince = null;
  const endWait = () => {
    if (waitingSince !== null) waits.push(now() - waitingSince);
    waitingSince = null;
  };
  video.addEventListener('waiting', () => { if (waitingSince === null) waitingSince = now(); });
  video.addEventListener('playing', endWait);

  const t0 = now();
  try {
    await player.load(url);
  } catch (e) {
    return { url, ok: false, errors: [`load failed: ${e && e.code} ${e && e.message}`] };
  }
  const loadMs = now() - t0;
  const tracksAtPlay = window.__sourceBuffers.map(({ type, sb }) => ({
    type,
    ranges: Array.from({ length: sb.buffered.length }, (_, i) => [sb.buffered.start(i), sb.buffered.end(i)]),
  }));
  const tPlay = now();
  let lastTime = video.currentTime;
  let lastChange = tPlay;
  let startMs = null;
  let maxStall = 0;
  let prevTime = video.currentTime;
  try {
    await video.play();
  } catch (e) {
    errors.push(`play() rejected: ${e.message}`);
  }
  await new Promise((done) => {
    const timer = setInterval(() => {
      const t = now();
      const ct = video.currentTime;
      if (ct !== lastTime) {
        // A 'waiting' that ended without a 'playing' event still ends when time moves.
        if (waitingSince !== null && ct > prevTime) endWait();
        if (startMs !== null) maxStall = Math.max(maxStall, t - lastChange);
        lastTime = ct;
        lastChange = t;
      }
      prevTime = ct;
      if (startMs === null && ct > 0.1) startMs = t - tPlay;
      if (ct >= until || video.ended || t - tPlay > timeoutMs) {
        clearInterval(timer);
        done();
      }
    }, 10);
  });
  endWait();
  const stats = player.getStats();
  const tracks = window.__sourceBuffers.map(({ type, sb }) => {
    try {
      return { type, first_buffered_start: sb.buffered.length ? sb.buffered.start(0) : null };
    } catch {
      return { type, first_buffered_start: null };
    }
  });
  const buffered = video.buffered.length ? video.buffered.start(0) : null;
  const result = {
    url,
    ok: video.currentTime >= until && video.videoWidth > 0 && errors.length === 0,
    load_ms: Math.round(loadMs),
    start_ms: startMs === null ? null : Math.round(startMs),
    max_stall_ms: Math.round(maxStall),
    max_waiting_ms: Math.round(waits.length ? Math.max(...waits) : 0),
    waiting_events: waits.length,
    final_time: video.currentTime,
    video_width: video.videoWidth,
    video_height: video.videoHeight,
    buffered_start: buffered,
    tracks_at_play: tracksAtPlay,
    tracks,
    stalls_detected: stats.stallsDetected,
    gaps_jumped: stats.gapsJumped,
    errors,
  };
  await player.destroy();
  return result;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.help || opts.inputs.length === 0) {
    console.error(
      'usage: node measure-start.mjs [--until SECS] [--timeout-ms MS] [--no-warmup] <manifest-url | manifest-path>...',
    );
    process.exit(opts.help ? 0 : 2);
  }
  const shakaJs = readFileSync(require.resolve('shaka-player/dist/shaka-player.compiled.js'));
  const routes = {};
  const targets = opts.inputs.map((input, i) => {
    if (/^https?:\/\//.test(input)) return input;
    const prefix = `/m${i}/`;
    routes[prefix] = dirname(resolve(input));
    return prefix + basename(input);
  });
  const server = await startStaticServer({
    routes,
    pages: {
      '/': { type: 'text/html; charset=utf-8', body: PAGE },
      '/__harness/shaka-player.compiled.js': { type: 'text/javascript', body: shakaJs },
    },
  });
  const browser = await launchBrowser();
  const results = [];
  try {
    const measureOne = async (target, until) => {
      const url = target.startsWith('/') ? server.url + target : target;
      // A fresh page per manifest; the media server sends no-store so nothing is shared.
      const page = await browser.context.newPage();
      const consoleErrors = [];
      page.on('pageerror', (e) => consoleErrors.push(String(e)));
      await page.goto(server.url + '/');
      await page.waitForFunction(() => typeof window.shaka !== 'undefined');
      const r = await page.evaluate(measureInPage, { url, until, timeoutMs: opts.timeoutMs });
      r.errors = [...(r.errors || []), ...consoleErrors];
      await page.close();
      return r;
    };
    // The browser's first playback pays one-off costs (media pipeline and decoder start-up,
    // ~150 ms here) that would bias whichever manifest is measured first: play one, discard it.
    if (opts.warmup) await measureOne(targets[0], 0.5);
    for (const target of targets) results.push(await measureOne(target, opts.until));
  } finally {
    await browser.close();
    await server.close();
  }
  process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  process.exit(results.every((r) => r.ok) ? 0 : 1);
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
