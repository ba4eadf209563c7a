// Content steering's promise (issue 8): the edge serving a playback dies mid-stream and the
// player carries on from another edge with at most a 2 s stall. The edge is killed for real
// (SIGKILL, found by its listening port); the network is slowed through Chromium's own
// throttling so the player has not fetched the whole clip before the kill.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chooseProfile } from './viewer.mjs';
import { isSegment, recordPlayback } from './media-log.mjs';

/** The longest stall the issue allows after an edge dies. */
const MAX_STALL_MS = 2_000;

/** The pid listening on TCP `port` on this machine (from `ss`, iproute2). */
export function listenerPid(port) {
  const out = execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' });
  const pid = out.match(/pid=(\d+)/);
  assert.ok(pid, `nothing listens on port ${port} (ss said: ${out.trim() || 'nothing'})`);
  return Number(pid[1]);
}

/** Bits per second of the heaviest video rung plus the heaviest audio track, from an MPD. */
function heaviestBitrate(mpd) {
  const sets = [...mpd.matchAll(/<AdaptationSet[^>]*contentType="(video|audio)"[\s\S]*?<\/AdaptationSet>/g)];
  const highest = (kind) =>
    Math.max(...sets.filter((s) => s[1] === kind).flatMap((s) => [...s[0].matchAll(/bandwidth="(\d+)"/g)].map((m) => Number(m[1]))));
  return highest('video') + highest('audio');
}

export async function failoverJourney({ step, world, newPage, browser, viewer, titleId, log }) {
  await step('when the edge serving a playback dies, the player carries on from another edge', async () => {
    const w = world();
    const page = await newPage();
    // The fleet step signed the admin in through an edge; the viewer signs in again.
    await page.context().clearCookies();
    await page.goto(`${w.url}/signin`);
    await page.getByLabel('Email').fill(viewer().email);
    await page.getByLabel('Password').fill(viewer().password);
    await page.getByTestId('auth-submit').click();
    await page.getByTestId('who-is-watching').waitFor({ timeout: 15_000 });
    await chooseProfile(page, 'Alex');

    const rec = recordPlayback(page);
    const cdp = await browser().context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    // Throttle to twice the heaviest rung: whatever rung the player picks it fetches ahead of
    // playback, but a short clip is not all fetched a moment after it starts.
    let throttled = false;
    page.on('response', async (response) => {
      if (throttled || !/\/api\/v1\/playback\/t\/[^/]+\/media\/.+\.mpd$/.test(new URL(response.url()).pathname)) return;
      throttled = true;
      const bps = heaviestBitrate(await response.text());
      const bytesPerSec = Math.round((2 * bps) / 8);
      log(`throttling to ${bytesPerSec} B/s (heaviest rung ${bps} b/s)`);
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: bytesPerSec, uploadThroughput: bytesPerSec });
    });
    await page.goto(`${w.url}/watch/${encodeURIComponent(titleId())}`);
    const video = page.getByTestId('player-video');
    await page.waitForFunction(
      () => {
        const v = document.querySelector('[data-testid="player-video"]');
        if (!v || v.currentTime < 1 || v.buffered.length === 0) return false;
        // Mid-stream: some buffer ahead (players keep one), and at least 3 s of the title not
        // fetched yet, which must come from somewhere once the edge is gone.
        const end = v.buffered.end(v.buffered.length - 1);
        return end - v.currentTime >= 2 && end <= v.duration - 3;
      },
      null,
      { timeout: 90_000 },
    );
    assert.ok(throttled, 'the steered manifest was fetched (and the network throttled)');
    const served = rec.media.filter((m) => isSegment(m.key) && m.status === 200);
    assert.ok(served.length > 0, 'segments came from an edge before the kill');
    const victim = w.edges.find((e) => new URL(e.url).host === served.at(-1).host);
    assert.ok(victim, `segments came from an edge marquee up started (${served.at(-1).host})`);
    const survivor = w.edges.find((e) => e !== victim);

    // Watch for stalls from here on: the longest wall-clock time the picture did not move.
    await video.evaluate((v) => {
      const s = { longestMs: 0, since: performance.now(), at: v.currentTime, ended: false };
      window.marqueeStall = s;
      const tick = () => {
        const now = performance.now();
        if (v.ended || v.currentTime >= v.duration - 0.25) {
          s.ended = true;
          return;
        }
        if (v.currentTime !== s.at || v.paused) {
          s.at = v.currentTime;
          s.since = now;
        } else {
          s.longestMs = Math.max(s.longestMs, now - s.since);
        }
        setTimeout(tick, 20);
      };
      tick();
    });
    const pid = listenerPid(new URL(victim.url).port);
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    const at = await video.evaluate((v) => ({ position: v.currentTime, buffered: v.buffered.end(v.buffered.length - 1), duration: v.duration }));
    log(`killed ${victim.id} (pid ${pid}) at ${at.position.toFixed(2)} s of ${at.duration.toFixed(1)} s, buffered to ${at.buffered.toFixed(2)} s`);

    await page.waitForFunction(() => window.marqueeStall.ended, null, { timeout: 60_000 });
    const stall = await page.evaluate(() => window.marqueeStall.longestMs);
    await rec.settled();
    const after = rec.media.filter((m) => isSegment(m.key) && m.requestedAt > killedAt && m.status === 200);
    log(`requested after the kill: ${after.length} segments, from ${[...new Set(after.map((m) => m.host))].join(', ')}; longest stall ${Math.round(stall)} ms`);
    assert.ok(after.length > 0, 'segments were requested after the kill');
    assert.ok(
      after.every((m) => m.host === new URL(survivor.url).host),
      `after the kill every segment comes from ${survivor.id}: ${after.map((m) => m.host).join(', ')}`,
    );
    assert.ok(stall <= MAX_STALL_MS, `playback stalled ${Math.round(stall)} ms (at most ${MAX_STALL_MS} ms allowed)`);
    assert.equal(await page.getByTestId('player-error').count(), 0, 'no playback error');
    assert.match(await page.getByTestId('player-edge').textContent(), new RegExp(`Streaming from ${survivor.id}`), 'the player names the edge it moved to');
    await page.close();
  });
}
