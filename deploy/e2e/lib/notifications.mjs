// Notifications in the browser (issue 7): an admin announces a premiere; the viewer sees the
// title as coming soon, asks to be reminded, and when the premiere passes the bell counts one
// live, its panel shows the reminder, and the reminder email lands in the local world's inbox
// (MailDev) with its one-click unsubscribe header.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { call, chooseProfile, seriousViolations, titleNamed } from './viewer.mjs';

/** Signs the admin of the world in (its password is in the state dir); returns its cookie. */
export async function adminCookie(world) {
  const password = (await readFile(join(world.stateDir, 'admin-password'), 'utf8')).trim();
  const r = await fetch(`${world.url}/api/v1/sessions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'admin@marquee.local', password }),
  });
  assert.equal(r.status, 200, `admin sign-in: ${await r.text()}`);
  const cookie = r.headers.getSetCookie().find((c) => c.startsWith('marquee_session='));
  assert.ok(cookie, 'the admin got a session cookie');
  return cookie.split(';')[0];
}

/** The first email in the inbox `pick` accepts, waiting for it to arrive. */
async function waitForEmail(inbox, pick, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const emails = await (await fetch(`${inbox}/api/email`)).json();
    const found = emails.find(pick);
    if (found) return found;
    assert.ok(Date.now() < deadline, `no such email within ${timeoutMs / 1000} s: ${emails.map((e) => e.subject).join(', ')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function notificationsJourney({ step, world, newPage, log }) {
  await step('"Remind me" on a coming-soon title brings a live notification and an email at its premiere', async () => {
    assert.ok(world().inbox, 'marquee up runs a mail server and prints its inbox (is deploy/mail installed?)');
    const page = await newPage();
    await page.goto(world().url);
    await chooseProfile(page, 'Alex');
    const glasswing = await titleNamed(page, 'Glasswing');
    const { json: me } = await call(page, 'GET', '/api/v1/me');
    const { json: before } = await call(page, 'GET', '/api/v1/notifications');

    // The admin announces the premiere for tomorrow.
    const admin = await adminCookie(world());
    const setPremiere = async (at) => {
      const r = await fetch(`${world().url}/api/v1/admin/titles/${glasswing.id}/premiere`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json', Cookie: admin },
        body: JSON.stringify({ premieres_at: at }),
      });
      assert.equal(r.status, 200, `set the premiere: ${await r.text()}`);
    };
    await setPremiere(Math.floor(Date.now() / 1000) + 86_400);

    await page.goto(`${world().url}/title/${glasswing.id}`);
    await page.getByTestId('premiere').waitFor();
    assert.match(await page.getByTestId('premiere').innerText(), /^Coming /);
    assert.equal(await page.getByTestId('title-play').count(), 0, 'nothing to play before the premiere');
    const remind = page.getByTestId('remind-me');
    await remind.click();
    await page.waitForFunction(() => document.querySelector('[data-testid="remind-me"]')?.getAttribute('aria-pressed') === 'true');
    // Then brings it forward to a few seconds from now, while the viewer looks at the page.
    const premiere = Math.floor(Date.now() / 1000) + 5;
    await setPremiere(premiere);
    log(`reminder set; the premiere is at ${new Date(premiere * 1000).toISOString()}`);

    // The bell counts the reminder as it is delivered, without a reload.
    const want = before.unread + 1;
    const bell = page.getByTestId('bell');
    await page.waitForFunction((n) => document.querySelector('[data-testid="bell"]')?.getAttribute('aria-label') === `Notifications, ${n} unread`, want, {
      timeout: 60_000,
    });
    assert.ok(Date.now() / 1000 >= premiere, 'not before the premiere');
    await bell.click();
    const item = page.locator('[data-testid="notification"]', { hasText: 'Glasswing is out now' });
    await item.waitFor();
    assert.deepEqual(await seriousViolations(page), [], 'the open notification panel passes axe-core');
    await item.click();
    await page.waitForURL(new RegExp(`/title/${glasswing.id}$`));
    await page.locator('a[data-testid="title-play"]').waitFor({ timeout: 15_000 });
    await page.waitForFunction((n) => document.querySelector('[data-testid="bell"]')?.getAttribute('aria-label') === (n ? `Notifications, ${n} unread` : 'Notifications'), before.unread);

    // And one email, to the account, that a mail client can unsubscribe from in one click.
    const email = await waitForEmail(world().inbox, (e) => e.subject === 'Glasswing is out now' && e.envelope.to.some((t) => t.address === me.email));
    const source = await (await fetch(`${world().inbox}/api/email/${email.id}/source`)).text();
    assert.match(source, /^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/m);
    assert.match(source, /^List-Unsubscribe: <http:\/\/[^>]+\/api\/v1\/unsubscribe\/[0-9a-f]{32}>\r?$/m);
    log(`email "${email.subject}" in the inbox at ${world().inbox}`);
    await page.close();
  });
}
