// The walking skeleton, end to end, as a viewer meets it: a real `marquee up` world (origin,
// control-plane, two edges, demo catalogue packaged by ffmpeg) and real headless Chromium.
//
//   MARQUEE_BIN=target/release/marquee node --test deploy/e2e/
//
// Steps (each a subtest; later steps are skipped once one fails):
//   1. a new viewer signs up through the UI, creates a profile and sees a hero and >= 12
//      posters in rows;
//   2. opens a title, presses Play: video plays past 3 s, fetched through an edge (/t/<token>/…);
//   3. a second playback of the same title gets its segments from the edge cache (Cache-Status hit);
//   4. the edge refuses a tampered token (token_bad_signature) and an expired one (token_expired);
//      a player left open renews its pass before it expires;
//   5. the viewer's Marquee (viewer.mjs): a kids profile sees no R title anywhere (UI, API,
//      title URL, playback 403); My List; Continue watching resumes where the profile left off;
//      an episode runs into its credits and the next one starts; subtitles switch on; a thumb
//      stays on reload; no serious axe-core violation on any page at 360, 768, 1440 and 1920 px;
//      arrow keys move focus across rows on a TV-sized screen;
//   6. discovery (discovery.mjs): "/" focuses search, a typo finds the title, a genre chip and a
//      language chip narrow the results, a genre row leads to its page, and a kids profile sees
//      no R title in results or counts;
//   7. notifications (notifications.mjs): "Remind me" on a title an admin made coming soon
//      brings, at its premiere, a live count on the bell, the reminder in its panel, and an email
//      in the world's MailDev inbox with a one-click unsubscribe header;
//   8. the fleet (fleet.mjs): an admin uses the app through an edge and sees both edges serving,
//      with hit ratios, on the fleet page;
//   9. after SIGINT and a restart on the same state dir, the viewer signs in (a wrong password is
//      refused inline); the catalogue is intact; signing out ends the session.
// Failure screenshots and the world's log are kept in a temp dir whose path is printed.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isCacheHit, isSegment, parseMediaUrl, recordPlayback } from './lib/media-log.mjs';
import { ensureWebBuilt, marqueeBinary, startWorld } from './lib/world.mjs';
import { addProfile, chooseProfile, viewerJourney } from './lib/viewer.mjs';
import { discoveryJourney } from './lib/discovery.mjs';
import { notificationsJourney } from './lib/notifications.mjs';
import { fleetJourney } from './lib/fleet.mjs';
import { billingJourney, joinWithPlan } from './lib/billing.mjs';
import { failoverJourney } from './lib/failover.mjs';
import { protocolsJourney } from './lib/protocols.mjs';

// Playback tokens live this long, so step 4 can watch one expire without a long wait.
const TOKEN_TTL_SECS = 30;
const UP_TIMEOUT_MS = Number(process.env.MARQUEE_E2E_UP_TIMEOUT_SECS ?? 1200) * 1000;
const PLAY_TIMEOUT_MS = 60_000;
const MIN_TITLES = 12;

const log = (line) => process.stderr.write(`${line}\n`);

test('marquee skeleton: sign up, browse, play through an edge, cache, tokens, restart', { timeout: 28 * 60_000 }, async (t) => {
  marqueeBinary(); // fails first, with how to set MARQUEE_BIN
  // Loaded here so a missing `npm ci` in deploy/e2e is a readable failure, not an import crash.
  const { launchBrowser } = await import('./lib/browser.mjs').catch((e) => {
    throw new Error(`cannot load playwright-core; run \`npm ci --prefix deploy/e2e\` (${e.message})`);
  });
  const work = await mkdtemp(join(tmpdir(), 'marquee-e2e-'));
  const stateDir = join(work, 'state');
  const logFile = join(work, 'marquee.log');
  log(`e2e work dir (screenshots, marquee.log): ${work}`);
  const webDir = await ensureWebBuilt(log);
  const up = () =>
    startWorld({ stateDir, webDir, logFile, log, timeoutMs: UP_TIMEOUT_MS, extraArgs: ['--token-ttl-secs', String(TOKEN_TTL_SECS)] });

  let world = null;
  let browser = null;
  let failed = false;
  const pages = new Set();
  t.after(async () => {
    await browser?.close();
    if (world) log(`marquee stopped: ${JSON.stringify(await world.stop())}`);
    if (!failed && !process.env.MARQUEE_E2E_KEEP) await rm(work, { recursive: true, force: true });
    else log(`kept ${work}`);
  });

  // Runs one step as a subtest; on failure, screenshots every open page and skips what follows.
  const step = (name, fn) =>
    t.test(name, async (st) => {
      if (failed) return st.skip('an earlier step failed');
      try {
        await fn();
      } catch (error) {
        failed = true;
        let n = 0;
        for (const page of pages) {
          const path = join(work, `failure-${name.replace(/\W+/g, '-')}-${n++}.png`);
          await page.screenshot({ path, fullPage: true }).then(
            () => log(`screenshot: ${path} (${page.url()})`),
            () => {},
          );
        }
        throw error;
      }
    });
  const newPage = async () => {
    const page = await browser.context.newPage();
    pages.add(page);
    page.on('close', () => pages.delete(page));
    page.on('pageerror', (e) => log(`[page error] ${e.message}`));
    await page.setViewportSize({ width: 1280, height: 800 });
    return page;
  };

  const viewer = { email: `viewer-${Date.now()}@example.com`, password: 'correct horse battery', name: 'E2E Viewer' };
  let titleId = null;
  let first = null;
  let second = null;

  await step('the world comes up on a fresh state dir', async () => {
    world = await up();
    log(`world: ${world.url}; edges: ${world.edges.map((e) => `${e.id}=${e.url}`).join(', ')}`);
    assert.ok(world.edges.length >= 2, `expected marquee up to report two edges, got ${world.edges.length}`);
    browser = await launchBrowser();
  });

  await step('a new viewer chooses a plan, signs up, pays with the sandbox card and sees the hero and poster rows', async () => {
    const page = await newPage();
    // Premium (four screens): the later steps sign this viewer in from several browsers.
    await joinWithPlan(page, world.url, viewer, { plan: 'premium', checkA11y: true });
    // A new account has no profile yet: "Who's watching?" asks for the first one.
    await page.getByTestId('who-is-watching').waitFor({ timeout: 15_000 });
    await addProfile(page, { name: 'Alex' });
    await chooseProfile(page, 'Alex');
    await expectBrowse(page);
    await page.close();
  });

  await step('Play on a title streams through an edge', async () => {
    const page = await newPage();
    const rec = recordPlayback(page);
    await page.goto(world.url);
    await page.getByTestId('hero').waitFor();
    // A film: its media sit under its own id (a series' under each episode's).
    const card = page.locator('[data-testid="title-card"][data-kind="film"]').first();
    titleId = await card.getAttribute('data-title-id');
    await card.click();
    await page.getByTestId('title-page').waitFor();
    assert.ok((await page.getByTestId('title-name').textContent()).trim().length > 0, 'title page shows a name');
    await page.getByTestId('title-play').click();
    await waitForPlayback(page);
    await rec.settled();
    first = rec;
    const playback = assertThroughEdge(rec, titleId, world);
    const label = await page.getByTestId('player-edge').textContent();
    assert.match(label, /Streaming from \S+/, 'the player names the edge it streams from');
    log(`first playback: ${rec.media.length} media responses via ${new URL(playback.dash_url).host}`);
    await page.close();
  });

  await step('a second playback is served from the edge cache', async () => {
    const page = await newPage();
    // The browser's own HTTP cache must not answer: every segment has to come from the edge.
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    const rec = recordPlayback(page);
    await page.goto(`${world.url}/watch/${encodeURIComponent(titleId)}`);
    await waitForPlayback(page);
    await rec.settled();
    second = rec;
    assertThroughEdge(rec, titleId, world);
    const seenBefore = new Set(first.media.filter((m) => isSegment(m.key)).map((m) => m.key));
    const repeats = rec.media.filter((m) => isSegment(m.key) && seenBefore.has(m.key) && m.status < 300);
    assert.ok(repeats.length >= 2, `expected >= 2 segments fetched in both playbacks, got ${repeats.length}`);
    const misses = repeats.filter((m) => !isCacheHit(m.cacheStatus));
    assert.deepEqual(
      misses.map((m) => `${m.key}: ${m.cacheStatus || '(no Cache-Status)'}`),
      [],
      'every segment fetched again must be an edge cache hit',
    );
    log(`second playback: ${repeats.length} repeated segments, all Cache-Status hit`);
    await page.close();
  });

  await step('the edge refuses tampered and expired tokens', async () => {
    const segment = second.media.find((m) => isSegment(m.key) && m.status === 200);
    assert.ok(segment, 'second playback fetched a segment');
    const fresh = await fetch(segment.url);
    assert.equal(fresh.status, 200, `the untouched URL still works (${segment.url})`);
    await fresh.arrayBuffer();

    const tampered = segment.url.replace(`/t/${segment.token}/`, `/t/${flipSignatureBit(segment.token)}/`);
    await expectRefusal(tampered, 'token_bad_signature');

    const playback = first.playbacks[0];
    const old = first.media.find((m) => isSegment(m.key) && m.token === playback.token);
    assert.ok(old, 'first playback fetched a segment with its token');
    const waitMs = (playback.expires_at + 1) * 1000 - Date.now();
    assert.ok(waitMs < (TOKEN_TTL_SECS + 5) * 1000, `token expires_at ${playback.expires_at} ignores --token-ttl-secs ${TOKEN_TTL_SECS}`);
    if (waitMs > 0) {
      log(`waiting ${Math.ceil(waitMs / 1000)} s for the first playback token to expire`);
      await new Promise((r) => setTimeout(r, waitMs));
    }
    await expectRefusal(old.url, 'token_expired');
  });

  await step('a player left open renews its pass before it expires', async () => {
    const page = await newPage();
    const rec = recordPlayback(page);
    await page.goto(`${world.url}/watch/${encodeURIComponent(titleId)}`);
    await waitForPlayback(page);
    await page.evaluate(() => document.querySelector('[data-testid="player-video"]').pause());
    const deadline = Date.now() + (TOKEN_TTL_SECS + 10) * 1000;
    while (rec.playbacks.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    const [pass, renewed] = rec.playbacks;
    assert.ok(renewed, `the paused player did not renew its pass within ${TOKEN_TTL_SECS + 10} s`);
    assert.deepEqual([pass.renewal, renewed.renewal], [false, true], 'the renewal says it is one');
    assert.notEqual(renewed.token, pass.token, 'a renewal brings a new token');
    assert.ok(Date.now() < pass.expires_at * 1000, 'renewed before the first pass expired');
    assert.ok(renewed.expires_at > pass.expires_at, 'the renewed pass lives longer');
    // The player's next segment request carries the new token (its request filter swaps the
    // token path segment); the edge accepts it.
    await rec.settled();
    const segment = rec.media.find((m) => isSegment(m.key) && m.status === 200);
    assert.ok(segment, 'the player fetched a segment');
    const next = await fetch(segment.url.replace(`/t/${segment.token}/`, `/t/${renewed.token}/`));
    assert.equal(next.status, 200, 'the edge takes the renewed token');
    await next.arrayBuffer();
    assert.equal(await page.getByTestId('player-error').count(), 0, 'no playback error while paused');
    await page.close();
  });

  await viewerJourney({ step, world: () => world, newPage, log });
  await discoveryJourney({ step, world: () => world, newPage, log });
  await notificationsJourney({ step, world: () => world, newPage, log });
  await billingJourney({ step, world: () => world, log });
  await fleetJourney({ step, world: () => world, newPage });
  await protocolsJourney({ step, world: () => world, viewer: () => viewer, titleId: () => titleId, log });
  // Kills an edge: the last step before the restart (which brings a whole new world up).
  await failoverJourney({ step, world: () => world, newPage, browser: () => browser, viewer: () => viewer, titleId: () => titleId, log });

  await step('after a restart on the same state dir the viewer signs in again', async () => {
    await browser.close();
    browser = null;
    const stopped = await world.stop();
    world = null;
    assert.deepEqual(stopped, { code: 0, signal: null }, 'marquee up stops cleanly on SIGINT');
    world = await up();
    browser = await launchBrowser();
    const page = await newPage();
    await page.goto(world.url);
    await page.waitForURL(/\/signin/, { timeout: 15_000 });
    await page.getByLabel('Email').fill(viewer.email);
    await page.getByLabel('Password').fill(`${viewer.password} (wrong)`);
    await page.getByTestId('auth-submit').click();
    await page.locator('[data-testid="form-error"], [data-testid="error-password"], [data-testid="error-email"]').first().waitFor();
    assert.match(page.url(), /\/signin/, 'a wrong password keeps the viewer on sign-in');
    await page.getByLabel('Password').fill(viewer.password);
    await page.getByTestId('auth-submit').click();
    // A new session chooses who is watching again; the profiles are still there.
    await page.getByTestId('who-is-watching').waitFor({ timeout: 15_000 });
    await chooseProfile(page, 'Alex');
    await expectBrowse(page);
    assert.ok(await page.locator(`[data-testid="title-card"][data-title-id="${titleId}"]`).count(), 'the played title is still there');
    // Signing out ends the session on origin too: a reload lands on sign-in again.
    await page.getByTestId('account-menu').click();
    await page.getByTestId('sign-out').click();
    await page.waitForURL(/\/signin/, { timeout: 15_000 });
    await page.goto(world.url);
    await page.waitForURL(/\/signin/, { timeout: 15_000 });
  });
});

/** Browse shows a hero and >= MIN_TITLES distinct titles in rows, with their posters loaded. */
async function expectBrowse(page) {
  await page.getByTestId('hero').waitFor({ timeout: 20_000 });
  assert.ok(await page.getByTestId('hero-play').isVisible(), 'hero has a Play button');
  const rows = await page.getByTestId('title-row').count();
  assert.ok(rows >= 2, `expected rows of posters, got ${rows} row(s)`);
  const ids = await page.getByTestId('title-card').evaluateAll((cards) => [...new Set(cards.map((c) => c.dataset.titleId))]);
  assert.ok(ids.length >= MIN_TITLES, `expected >= ${MIN_TITLES} titles on browse, got ${ids.length}`);
  // "New on Marquee" loads eagerly; its posters must be real images, not placeholders.
  await page.waitForFunction(
    (min) => {
      const row = document.querySelector('[data-testid="title-row"][data-row-id="new"]');
      const imgs = row ? [...row.querySelectorAll('img.poster')] : [];
      return imgs.filter((img) => img.complete && img.naturalWidth > 0).length >= min;
    },
    MIN_TITLES,
    { timeout: 20_000 },
  );
}

/** Waits until the video has a picture and has played past 3 s; fails fast on the error overlay. */
async function waitForPlayback(page) {
  const playing = page.waitForFunction(
    () => {
      const v = document.querySelector('[data-testid="player-video"]');
      return v !== null && v.currentTime > 3 && v.videoWidth > 0;
    },
    null,
    { timeout: PLAY_TIMEOUT_MS },
  );
  const broken = page
    .getByTestId('player-error')
    .waitFor({ timeout: PLAY_TIMEOUT_MS })
    .then(async () => {
      throw new Error(`player shows an error: ${await page.getByTestId('player-error').innerText()}`);
    });
  await Promise.race([playing, broken.catch((e) => (e.name === 'TimeoutError' ? playing : Promise.reject(e)))]);
}

/** Manifest and segments came from an edge (not origin) under /t/<token>/media/<title>/. */
function assertThroughEdge(rec, titleId, world) {
  // One playback start, plus renewals if the step ran long (renewed tokens are as good).
  const starts = rec.playbacks.filter((p) => !p.renewal);
  assert.equal(starts.length, 1, 'the player asked origin for exactly one playback');
  const playback = rec.playbacks[0];
  assert.equal(playback, starts[0], 'the first pass is the start, not a renewal');
  const tokens = new Set(rec.playbacks.map((p) => p.token));
  // The manifest comes from the API host, steered (every edge a pathway); media from edges.
  assert.ok(rec.steered.some((m) => m.status === 200 && m.key.startsWith(`/media/${titleId}/`)), 'a steered manifest was fetched');
  assert.ok(rec.media.filter((m) => isSegment(m.key)).length >= 2, 'segments were fetched');
  const edgePorts = new Set(world.edges.map((e) => e.port));
  for (const m of rec.media) {
    assert.notEqual(m.port, world.port, `media must not come from origin directly: ${m.url}`);
    assert.ok(edgePorts.size === 0 || edgePorts.has(m.port), `media from an unknown server: ${m.url}`);
    assert.ok(tokens.has(m.token), `media URL carries the playback token: ${m.url}`);
    assert.ok(m.key.startsWith(`/media/${titleId}/`), `media URL is scoped to the title: ${m.url}`);
    assert.ok(m.status === 200 || m.status === 206, `${m.url} answered ${m.status}`);
  }
  return playback;
}

/** Flips one bit in the token's last byte: the signature is its last field, so only it changes. */
function flipSignatureBit(token) {
  const raw = Buffer.from(token, 'base64url');
  raw[raw.length - 1] ^= 0x01;
  const flipped = raw.toString('base64url');
  assert.notEqual(flipped, token);
  return flipped;
}

async function expectRefusal(url, code) {
  const answer = await fetch(url);
  const text = await answer.text();
  assert.equal(answer.status, 403, `${code}: expected 403 for ${parseMediaUrl(url).key}, got ${answer.status} ${text.slice(0, 200)}`);
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    assert.fail(`403 body is not JSON: ${text.slice(0, 200)}`);
  }
  assert.equal(body?.error?.code, code, `403 body: ${text.slice(0, 200)}`);
}
