// The viewer's Marquee in the browser (issue 6's journey), run as steps of the shared world's
// test so the world is built once: profiles and the kids limit, My List, Continue watching and
// resume, next episode at the credits, subtitles, thumbs, accessibility at four widths, and
// TV-style arrow-key navigation.
import assert from 'node:assert/strict';
import AxeBuilder from '@axe-core/playwright';

/** Widths the layouts are made for: phone, tablet, desktop, TV. */
const WIDTHS = [
  { width: 360, height: 740 },
  { width: 768, height: 1024 },
  { width: 1440, height: 900 },
  { width: 1920, height: 1080 },
];

/** Adds a profile from "Who's watching?" (or the manage screen) and comes back to it. */
export async function addProfile(page, { name, kids = false }) {
  await page.getByTestId('profile-add').click();
  await page.getByTestId('profile-editor').waitFor();
  await page.getByTestId('profile-name').fill(name);
  if (kids) await page.getByTestId('profile-kids').check();
  await page.getByTestId('profile-save').click();
  await page.locator(`[data-testid="profile-edit"]:has-text("${name}")`).waitFor({ timeout: 15_000 });
}

/** Chooses `name` on "Who's watching?" (going there first) and waits for home. */
export async function chooseProfile(page, name) {
  if (!/\/profiles(\?|$)/.test(new URL(page.url()).pathname + new URL(page.url()).search) || page.url().includes('manage=1')) {
    await page.goto(new URL('/profiles', page.url()).toString());
  }
  await page.getByTestId('who-is-watching').waitFor({ timeout: 15_000 });
  await page.locator(`[data-testid="profile-choose"]:has-text("${name}")`).click();
  await page.getByTestId('browse').waitFor({ timeout: 20_000 });
}

/** `fetch` from inside the page, with its session cookie: what any URL the profile calls gets. */
export async function call(page, method, path, body) {
  return page.evaluate(
    async ([m, p, b]) => {
      const r = await fetch(p, {
        method: m,
        headers: b === undefined ? {} : { 'Content-Type': 'application/json' },
        body: b === undefined ? undefined : JSON.stringify(b),
      });
      const text = await r.text();
      let json = null;
      try {
        json = JSON.parse(text);
      } catch {
        // not JSON
      }
      return { status: r.status, json };
    },
    [method, path, body],
  );
}

export async function titleNamed(page, name) {
  const { json } = await call(page, 'GET', '/api/v1/titles');
  const t = json.titles.find((x) => x.name === name);
  assert.ok(t, `the demo world has "${name}"`);
  return t;
}

async function videoState(page) {
  return page.evaluate(() => {
    const v = document.querySelector('[data-testid="player-video"]');
    return v ? { time: v.currentTime, width: v.videoWidth, paused: v.paused } : null;
  });
}

async function seekTo(page, secs) {
  await page.evaluate((t) => {
    document.querySelector('[data-testid="player-video"]').currentTime = t;
  }, secs);
}

/** Waits until the player is really playing past `secs`: its controls are up (Shaka has
 * loaded) and frames are coming (a resume sets currentTime before any data arrives). */
export async function waitForTime(page, secs, timeout = 60_000) {
  await page.waitForFunction(
    (s) => {
      const v = document.querySelector('[data-testid="player-video"]');
      const ready = document.querySelector('[data-testid="player-controls"]') !== null;
      return ready && v !== null && v.videoWidth > 0 && v.readyState >= 3 && v.currentTime > s;
    },
    secs,
    { timeout },
  );
}

/** Serious and critical axe-core violations on the page as it is now. */
export async function seriousViolations(page) {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

export async function viewerJourney({ step, world, newPage, log }) {
  let page = null;
  let quiet = null;
  let orbit = null;

  await step('a kids profile sees no R title: not in the UI, the API, its page or playback', async () => {
    page = await newPage();
    await page.goto(`${world().url}/profiles?manage=1`);
    await page.getByTestId('who-is-watching').waitFor();
    await addProfile(page, { name: 'Kim', kids: true });
    await chooseProfile(page, 'Alex');
    quiet = await titleNamed(page, 'The Quiet Ledger');
    assert.equal(quiet.maturity_rating, 'R');
    await chooseProfile(page, 'Kim');
    assert.ok(await page.evaluate(() => document.documentElement.classList.contains('kids')), 'the kids look is on');
    const cards = await page.getByTestId('title-card').evaluateAll((els) => els.map((e) => e.dataset.titleId));
    assert.ok(cards.length > 0, 'the kids profile has something to watch');
    assert.ok(!cards.includes(quiet.id), 'an R title is on the kids home page');
    const { json: list } = await call(page, 'GET', '/api/v1/titles');
    const adult = list.titles.filter((t) => ['R', 'NC-17', 'TV-MA', 'NR', 'PG-13', 'TV-14'].includes(t.maturity_rating));
    assert.deepEqual(adult.map((t) => t.name), [], '/api/v1/titles lists titles above 7+');
    const playback = await call(page, 'POST', `/api/v1/titles/${quiet.id}/playback`, {});
    assert.equal(playback.status, 403);
    assert.equal(playback.json.error.code, 'maturity_restricted');
    await page.goto(`${world().url}/title/${quiet.id}`);
    await page.getByText('Not available on this profile').waitFor();
    assert.match(await page.getByTestId('status-message').innerText(), /rated R \(18\+\); this profile's limit is 7\+/);
    await chooseProfile(page, 'Alex');
  });

  await step('My List, then Continue watching shows the position and resumes there', async () => {
    const lantern = await titleNamed(page, 'The Lantern Keepers of Vell');
    await page.goto(`${world().url}/title/${lantern.id}`);
    await page.getByTestId('title-page').waitFor();
    const toggle = page.getByTestId('list-toggle').first();
    await toggle.click();
    await page.waitForFunction(() => document.querySelector('[data-testid="list-toggle"]')?.dataset.on === 'true');
    await page.goto(`${world().url}/my-list`);
    await page.locator(`[data-testid="my-list"] [data-title-id="${lantern.id}"]`).waitFor();

    await page.goto(`${world().url}/watch/${lantern.id}`);
    await waitForTime(page, 5);
    await page.evaluate(() => document.querySelector('[data-testid="player-video"]').pause());
    const left = (await videoState(page)).time;
    await page.getByTestId('player-back').click();
    await page.getByTestId('title-page').waitFor();
    await page.goto(world().url);
    const row = page.locator('[data-row-id="continue-watching"]');
    await row.waitFor({ timeout: 15_000 });
    const card = row.locator(`[data-title-id="${lantern.id}"]`);
    await card.getByTestId('card-progress').waitFor();
    const { json: cw } = await call(page, 'GET', '/api/v1/continue-watching');
    const saved = cw.items.find((i) => i.title.id === lantern.id).progress.position_secs;
    assert.ok(Math.abs(saved - left) < 1.5, `the row shows where the profile left off: saved ${saved}, left at ${left}`);
    await card.locator('a.card__link').click();
    await page.waitForFunction(
      (s) => {
        const v = document.querySelector('[data-testid="player-video"]');
        return v !== null && v.videoWidth > 0 && v.currentTime >= s - 1;
      },
      saved,
      { timeout: 60_000 },
    );
    const resumed = (await videoState(page)).time;
    assert.ok(resumed >= saved - 1 && resumed < saved + 15, `resumed at ${resumed}, expected about ${saved}`);
  });

  await step('the player: skip intro, seek previews, shortcuts, two audio tracks', async () => {
    const lantern = await titleNamed(page, 'The Lantern Keepers of Vell');
    await page.goto(`${world().url}/watch/${lantern.id}`);
    await waitForTime(page, 0.5);
    // The profile stopped inside the intro (1–8 s): "Skip intro" takes it past.
    await seekTo(page, 2);
    await page.getByTestId('skip-intro').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="player-video"]').currentTime >= 8);
    // Hovering the seek bar shows the thumbnail of that moment from the package's sprites.
    await page.getByTestId('seek').hover({ position: { x: 120, y: 8 } });
    const preview = page.getByTestId('seek-preview');
    await preview.waitFor();
    assert.match(await preview.evaluate((el) => el.style.backgroundImage), /thumbnails\/sprite-1\.jpg/);
    // Shortcuts: M mutes, → skips 10 s ahead.
    await page.mouse.move(5, 5);
    await page.locator('[data-testid="player"]').focus().catch(() => {});
    await page.keyboard.press('m');
    await page.waitForFunction(() => document.querySelector('[data-testid="player-video"]').muted);
    await page.keyboard.press('m');
    const before = (await videoState(page)).time;
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction((t) => document.querySelector('[data-testid="player-video"]').currentTime >= t + 9, before);
    // The dubbed film offers both audio tracks (moving the pointer brings the controls back).
    await page.mouse.move(300, 300);
    await page.getByTestId('audio-menu').click();
    const choices = await page.getByRole('menuitemradio').allInnerTexts();
    assert.deepEqual(choices.map((c) => c.replace('✓', '').trim()).sort(), ['English', 'French']);
    await page.getByRole('menuitemradio', { name: 'French' }).click();
    assert.match(await page.getByTestId('audio-menu').getAttribute('aria-label'), /French/);
    await page.waitForFunction(() => {
      const v = document.querySelector('[data-testid="player-video"]');
      return v.readyState >= 3 && !v.paused;
    });
  });

  await step('an episode runs into its credits and the next episode starts', async () => {
    orbit = await titleNamed(page, 'Orbit of Small Hours');
    const { json: seasons } = await call(page, 'GET', `/api/v1/titles/${orbit.id}/seasons`);
    const [first, second] = seasons.seasons[0].episodes;
    assert.ok(first.markers.credits_start_secs > 0, 'the demo episode has a credits marker');
    await page.goto(`${world().url}/watch/${orbit.id}?episode=${first.id}`);
    await waitForTime(page, 1);
    assert.match(await page.getByTestId('player-episode').innerText(), /S1:E1/);
    await page.evaluate((t) => {
      document.querySelector('[data-testid="player-video"]').currentTime = t;
    }, first.markers.credits_start_secs - 1);
    await page.getByTestId('next-episode').waitFor({ timeout: 20_000 });
    await page.waitForURL((url) => url.searchParams.get('episode') === second.id, { timeout: 30_000 });
    await page.getByTestId('player-episode').filter({ hasText: 'S1:E2' }).waitFor({ timeout: 20_000 });
    await waitForTime(page, 0.5);
  });

  await step('subtitles switch on from the player', async () => {
    await page.mouse.move(200, 200);
    await page.getByTestId('subtitles-menu').click();
    await page.getByRole('menuitemradio', { name: 'English' }).click();
    await page.waitForFunction(
      () => {
        const v = document.querySelector('[data-testid="player-video"]');
        return v !== null && [...v.textTracks].some((t) => t.mode === 'showing');
      },
      null,
      { timeout: 15_000 },
    );
    const label = await page.getByTestId('subtitles-menu').getAttribute('aria-label');
    assert.match(label, /English/);
  });

  await step('a thumb up stays on the title page after a reload', async () => {
    await page.goto(`${world().url}/title/${orbit.id}`);
    await page.getByTestId('episodes').waitFor();
    await page.getByTestId('thumb-up').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="thumb-up"]')?.getAttribute('aria-pressed') === 'true');
    await page.reload();
    await page.getByTestId('thumbs').waitFor();
    assert.equal(await page.getByTestId('thumb-up').getAttribute('aria-pressed'), 'true');
    // The episode list shows where the profile is: S1:E1 watched, S1:E2 started.
    // (The seasons load after the title: wait for them rather than count too early.)
    await page.getByTestId('episode-progress').first().waitFor({ timeout: 15_000 });
  });

  await step('axe-core finds nothing serious on any page at 360, 768, 1440 and 1920 px', async () => {
    const { json: profiles } = await call(page, 'GET', '/api/v1/profiles');
    const kim = profiles.profiles.find((p) => p.name === 'Kim');
    const pages = [
      ['/profiles', 'who-is-watching'],
      [`/profiles/${kim.id}/edit`, 'profile-editor'],
      ['/', 'browse'],
      [`/title/${orbit.id}`, 'episodes'],
      ['/my-list', 'my-list'],
      ['/history', 'history'],
      ['/search?q=lantern&genre=Drama', 'search-results'],
      ['/genre/Drama', 'search-results'],
      [`/watch/${orbit.id}`, 'player-controls'],
    ];
    const found = [];
    for (const size of WIDTHS) {
      await page.setViewportSize(size);
      for (const [path, ready] of pages) {
        await page.goto(`${world().url}${path}`);
        await page.getByTestId(ready).waitFor({ timeout: 30_000 });
        for (const v of await seriousViolations(page)) found.push(`${size.width}px ${path}: ${v}`);
      }
    }
    assert.deepEqual(found, [], 'serious or critical accessibility violations');
    log(`axe-core: ${pages.length} pages × ${WIDTHS.length} widths, no serious violation`);
  });

  await step('on a TV-sized screen arrow keys move focus across cards and rows; Enter opens, Back returns', async () => {
    await page.setViewportSize({ width: 1920, height: 1080 });
    await page.goto(world().url);
    await page.getByTestId('browse').waitFor();
    const focused = () =>
      page.evaluate(() => {
        const a = document.activeElement;
        const card = a?.closest('[data-testid="title-card"]');
        return { card: card?.dataset.titleId ?? null, row: a?.closest('[data-row-id]')?.dataset.rowId ?? null, tag: a?.tagName };
      });
    let at = await focused();
    for (let i = 0; i < 12 && !at.card; i += 1) {
      await page.keyboard.press('ArrowDown');
      at = await focused();
    }
    assert.ok(at.card, 'arrow keys reach the cards');
    const start = at;
    await page.keyboard.press('ArrowRight');
    const right = await focused();
    assert.ok(right.card && right.card !== start.card && right.row === start.row, `right moves along the row: ${JSON.stringify([start, right])}`);
    await page.keyboard.press('ArrowDown');
    const down = await focused();
    assert.ok(down.card && down.row !== right.row, `down moves to the next row: ${JSON.stringify([right, down])}`);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/(title|watch)\//);
    await page.keyboard.press('Backspace');
    await page.getByTestId('browse').waitFor();
    await page.close();
  });
}
