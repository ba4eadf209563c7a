// Plans and payment in the browser (issue 9): new viewers choose a plan, create the account
// and pay with a sandbox test card before they watch; a renewal the card declines puts the
// account past due, and a new card on the account page makes it active again.
import assert from 'node:assert/strict';
import { launchBrowser } from './browser.mjs';
import { adminCookie } from './notifications.mjs';
import { addProfile, chooseProfile, seriousViolations, titleNamed, waitForTime } from './viewer.mjs';

/** From sign-in: plans → account → card, the way a new viewer joins. Ends on "Who's watching?". */
export async function joinWithPlan(page, url, { name, email, password }, { plan = 'standard', card = '4242 4242 4242 4242', checkA11y = false } = {}) {
  await page.goto(url);
  await page.waitForURL(/\/signin/, { timeout: 15_000 });
  await page.getByTestId('auth-switch').click();
  await page.getByTestId('plans-page').waitFor({ timeout: 15_000 });
  if (checkA11y) assert.deepEqual(await seriousViolations(page), [], 'the plans page has no serious accessibility violations');
  await page.getByTestId(`plan-${plan}`).click();
  await page.getByTestId('plans-continue').click();
  await page.getByTestId('signup-form').waitFor();
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByTestId('auth-submit').click();
  await page.getByTestId('checkout-form').waitFor({ timeout: 15_000 });
  assert.match(await page.getByTestId('checkout-plan').innerText(), new RegExp(plan, 'i'), 'checkout shows the chosen plan');
  if (checkA11y) assert.deepEqual(await seriousViolations(page), [], 'the checkout has no serious accessibility violations');
  await fillCard(page, 'checkout', card);
  await page.getByTestId('checkout-pay').click();
  await page.getByTestId('who-is-watching').waitFor({ timeout: 20_000 });
}

async function fillCard(page, prefix, number) {
  await page.locator(`#${prefix}-number`).fill(number);
  await page.locator(`#${prefix}-expiry`).fill('12/34');
  await page.locator(`#${prefix}-cvc`).fill('123');
}

/** Reloads the account page until its membership badge reads `status` (the biller runs each second). */
async function waitForStatus(page, url, status, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await page.goto(`${url}/account`);
    await page.getByTestId('membership-status').waitFor({ timeout: 15_000 });
    const now = (await page.getByTestId('membership-status').innerText()).trim();
    if (now === status) return;
    assert.ok(Date.now() < deadline, `the account page still says "${now}", not "${status}"`);
    await page.waitForTimeout(500);
  }
}

export async function billingJourney({ step, world, log }) {
  let payerForStreams = null;
  await step('a renewal the card declines puts the account past due; a new card makes it active again', async () => {
    const url = world().url;
    // A browser of its own: the shared one's cookies belong to the main viewer.
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      await page.setViewportSize({ width: 1280, height: 800 });
      const payer = { name: 'Renewal Tester', email: `renewal-${Date.now()}@example.com`, password: 'correct horse battery' };
      // Stripe's test card that pays once and declines from then on.
      await joinWithPlan(page, url, payer, { plan: 'standard', card: '4000 0000 0000 0341' });
      await addProfile(page, { name: 'Pat' });
      await waitForStatus(page, url, 'Active');

      // A month passes on the billing clock (the local world's is a test clock).
      const r = await fetch(`${url}/api/v1/admin/billing/clock`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Cookie: await adminCookie(world()) },
        body: JSON.stringify({ advance_secs: 30 * 86_400 }),
      });
      assert.equal(r.status, 200, `move the billing clock: ${await r.text()}`);
      await waitForStatus(page, url, 'Payment failed');
      assert.match(await page.getByTestId('past-due').innerText(), /keep watching while you update your card/);
      assert.deepEqual(await seriousViolations(page), [], 'the account page has no serious accessibility violations');

      // The card form is open on a past-due account: a working card pays the renewal now.
      await fillCard(page, 'replace-card', '4242 4242 4242 4242');
      await page.getByTestId('replace-card-save').click();
      await page.getByTestId('card-saved').waitFor({ timeout: 15_000 });
      assert.equal((await page.getByTestId('membership-status').innerText()).trim(), 'Active');
      assert.match(await page.getByTestId('card-on-file').innerText(), /4242/);
      await page.getByTestId('invoices').waitFor();
      assert.equal(await page.locator('[data-testid="invoices"] tbody tr').count(), 2, 'the first month and the renewal');
      log('renewal declined → past due → new card → active');
      payerForStreams = payer;
    } finally {
      await browser.close();
    }
  });

  await step('a third screen on a two-screen plan is refused, naming the two playing; sign out of all devices ends them', async () => {
    const url = world().url;
    // Three browsers, three sessions of the same account (Standard: two screens at once).
    const browsers = [];
    try {
      const pages = [];
      for (let i = 0; i < 3; i++) {
        const b = await launchBrowser();
        browsers.push(b);
        const page = await b.context.newPage();
        await page.setViewportSize({ width: 1280, height: 800 });
        await page.goto(`${url}/signin`);
        await page.getByLabel('Email').fill(payerForStreams.email);
        await page.getByLabel('Password').fill(payerForStreams.password);
        await page.getByTestId('auth-submit').click();
        await page.getByTestId('who-is-watching').waitFor({ timeout: 15_000 });
        await chooseProfile(page, 'Pat');
        pages.push(page);
      }
      const film = await titleNamed(pages[0], 'Glasswing');
      for (const page of pages.slice(0, 2)) {
        await page.goto(`${url}/watch/${film.id}`);
        await waitForTime(page, 1);
      }
      await pages[2].goto(`${url}/watch/${film.id}`);
      const refusal = pages[2].getByTestId('player-error');
      await refusal.waitFor({ timeout: 15_000 });
      const text = await refusal.innerText();
      assert.match(text, /allows 2 screens at once/, text);
      assert.equal((text.match(/\(Pat\)/g) ?? []).length, 2, `both screens playing are named: ${text}`);
      // Leaving one player gives its screen back at once: the third starts.
      await pages[0].goto(`${url}/`);
      await pages[2].reload();
      await waitForTime(pages[2], 1);
      log(`third screen refused: ${text.split('\n').find((l) => l.includes('screens')) ?? text}`);

      // The account page lists every signed-in device; signing out of all of them ends the rest.
      await pages[1].goto(`${url}/account`);
      await pages[1].getByTestId('devices').waitFor();
      const listed = await pages[1].locator('[data-testid="devices"] li').count();
      assert.ok(listed >= 4, `the renewal browser and three more are listed, got ${listed}`);
      await pages[1].getByTestId('sign-out-everywhere').click();
      await pages[1].waitForURL(/\/signin/, { timeout: 15_000 });
      await pages[2].reload();
      await pages[2].waitForURL(/\/signin/, { timeout: 15_000 });
    } finally {
      for (const b of browsers) await b.close();
    }
  });
}
