// Discovery in the browser (issue 7's journey), as steps of the shared world's test: search
// with a typo from the top bar, filter chips that narrow the results, genre pages, a kids
// profile that never sees an R title in results or counts, a new profile's onboarding picks,
// and "Because you watched" following what was watched last.
import assert from 'node:assert/strict';
import { addProfile, call, chooseProfile, seriousViolations, titleNamed, waitForTime } from './viewer.mjs';

/** Ids of the cards on the results page now. */
async function resultIds(page) {
  return page.locator('[data-testid="search-results"] [data-testid="title-card"]').evaluateAll((els) => els.map((e) => e.dataset.titleId));
}

/** Waits until the results page says `n` titles. */
async function waitForCount(page, n) {
  const text = n === 1 ? '1 title' : `${n} titles`;
  await page.waitForFunction((t) => document.querySelector('[data-testid="search-count"]')?.textContent?.startsWith(t), text, { timeout: 15_000 });
}

export async function discoveryJourney({ step, world, newPage, log }) {
  let page = null;

  await step('search: "/" focuses the box, a typo still finds the title, Enter shows every result', async () => {
    page = await newPage();
    await page.goto(world().url);
    await chooseProfile(page, 'Alex');
    const lantern = await titleNamed(page, 'The Lantern Keepers of Vell');
    await page.keyboard.press('/');
    const box = page.getByTestId('search-input');
    assert.ok(await box.evaluate((el) => el === document.activeElement), '"/" focuses the search box');
    await page.keyboard.type('lantren kepers', { delay: 40 });
    const option = page.locator(`[data-testid="search-option"][data-title-id="${lantern.id}"]`);
    await option.waitFor({ timeout: 10_000 });
    assert.equal(await box.getAttribute('aria-expanded'), 'true', 'the combobox says its list is open');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/search\?q=lantren/);
    await page.getByTestId('search-results').waitFor();
    const ids = await resultIds(page);
    assert.equal(ids[0], lantern.id, `the intended title comes first: ${ids}`);
    log(`search "lantren kepers": ${ids.length} result(s), the intended title first`);
  });

  await step('a genre chip and then a language chip narrow the results', async () => {
    await page.goto(`${world().url}/search`);
    await page.getByTestId('search-results').waitFor();
    const { json: all } = await call(page, 'GET', '/api/v1/search');
    await waitForCount(page, all.total);
    const drama = all.facets.genre.find((g) => g.value === 'Drama');
    assert.ok(drama && drama.count < all.total, `Drama narrows the catalogue: ${JSON.stringify(all.facets.genre)}`);
    await page.locator('[data-filter="genre"] [data-testid="filter-chip"][data-value="Drama"]').click();
    await waitForCount(page, drama.count);
    assert.match(page.url(), /genre=Drama/, 'the filter is in the address');
    const dramaIds = await resultIds(page);
    const { json: titles } = await call(page, 'GET', '/api/v1/titles');
    for (const id of dramaIds) {
      assert.ok(titles.titles.find((t) => t.id === id).genres.includes('Drama'), `${id} is a drama`);
    }
    const french = page.locator('[data-filter="language"] [data-testid="filter-chip"][data-value="fr"]');
    assert.match(await french.innerText(), /French/);
    await french.click();
    await waitForCount(page, 1);
    const lantern = await titleNamed(page, 'The Lantern Keepers of Vell');
    assert.deepEqual(await resultIds(page), [lantern.id], 'the French drama');
    assert.equal(await french.getAttribute('aria-pressed'), 'true', 'the chip shows it is on');
    log(`filters: ${all.total} titles → Drama ${drama.count} → French 1`);
  });

  await step('a genre row leads to its genre page', async () => {
    await page.goto(world().url);
    const heading = page.locator('[data-testid="title-row"][data-row-id="genre:Drama"] .row__heading a');
    await heading.click();
    await page.waitForURL(/\/genre\/Drama$/);
    await page.getByTestId('search-results').waitFor();
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Drama');
    assert.ok((await resultIds(page)).length >= 2, 'the genre page lists its titles');
  });

  await step('a kids profile never sees an R title in search results or counts', async () => {
    const quiet = await titleNamed(page, 'The Quiet Ledger');
    await chooseProfile(page, 'Kim');
    await page.goto(`${world().url}/search?q=${encodeURIComponent('quiet ledger')}`);
    await page.getByTestId('search-count').waitFor();
    await page.waitForFunction(() => !document.querySelector('[data-testid="search-count"]')?.textContent?.startsWith('Searching'));
    assert.ok(!(await resultIds(page)).includes(quiet.id), 'the R title is not a result');
    await page.goto(`${world().url}/search`);
    await page.getByTestId('search-results').waitFor();
    const chips = await page.locator('[data-filter="maturity"] [data-testid="filter-chip"]').evaluateAll((els) => els.map((e) => e.dataset.value));
    const adult = chips.filter((c) => !['G', 'PG', 'TV-Y', 'TV-Y7', 'TV-G', 'TV-PG'].includes(c));
    assert.deepEqual(adult, [], 'no maturity chip above the kids limit');
    for (const q of ['?q=quiet', '?maturity=R', '?genre=Thriller', '']) {
      const { status, json } = await call(page, 'GET', `/api/v1/search${q}`);
      assert.equal(status, 200);
      assert.ok(!json.titles.some((t) => t.id === quiet.id), `${q}: the R title is a result`);
      const aboveKids = ['PG-13', 'R', 'NC-17', 'NR', 'TV-14', 'TV-MA'];
      const counted = json.facets.maturity.filter((m) => aboveKids.includes(m.value));
      assert.deepEqual(counted, [], `${q}: an adult rating is counted`);
    }
    await chooseProfile(page, 'Alex');
  });

  await step('a new profile picks three titles and has Top picks at once', async () => {
    await page.goto(`${world().url}/profiles?manage=1`);
    await page.getByTestId('who-is-watching').waitFor();
    await addProfile(page, { name: 'Nova' });
    await chooseProfile(page, 'Nova');
    const onboarding = page.getByTestId('onboarding');
    await onboarding.waitFor({ timeout: 15_000 });
    const found = await seriousViolations(page);
    assert.deepEqual(found, [], 'the onboarding panel is accessible');
    const picks = page.getByTestId('onboarding-pick');
    for (let i = 0; i < 3; i++) await picks.nth(i).click();
    assert.equal(await page.locator('[data-testid="onboarding-pick"][aria-pressed="true"]').count(), 3);
    await page.getByTestId('onboarding-done').click();
    const row = page.locator('[data-testid="title-row"][data-row-id="top-picks"]');
    await row.waitFor({ timeout: 15_000 });
    assert.match(await row.locator('.row__heading').innerText(), /Top picks for Nova/);
    assert.ok((await row.getByTestId('title-card').count()) > 0, 'the row has titles');
    await onboarding.waitFor({ state: 'detached' });
  });

  await step('watching two titles changes "Because you watched"', async () => {
    const { json: all } = await call(page, 'GET', '/api/v1/titles');
    const films = all.titles.filter((t) => t.kind === 'film').slice(0, 2);
    assert.equal(films.length, 2, 'two films to watch');
    const becauseRows = () =>
      page.locator('[data-testid="title-row"][data-row-id^="because:"]').evaluateAll((els) => els.map((e) => e.dataset.rowId));
    for (const film of films) {
      // The player's progress report is what the rows read: wait for one to be stored.
      const reported = page.waitForResponse(
        (r) => r.url().includes(`/api/v1/progress/${film.id}`) && r.request().method() === 'PUT' && r.status() === 204,
        { timeout: 30_000 },
      );
      await page.goto(`${world().url}/watch/${film.id}`);
      await waitForTime(page, 3);
      await page.getByTestId('player-back').click();
      await reported;
      await page.getByTestId('title-page').waitFor();
      await page.goto(world().url);
      await page.getByTestId('browse').waitFor();
      const rows = await becauseRows();
      assert.equal(rows[0], `because:${film.id}`, `after watching ${film.name}: ${rows}`);
      const heading = page.locator(`[data-row-id="because:${film.id}"] .row__heading`);
      assert.equal(await heading.innerText(), `Because you watched ${film.name}`);
    }
    await chooseProfile(page, 'Alex');
  });
}
