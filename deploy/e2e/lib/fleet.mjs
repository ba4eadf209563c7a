// The fleet page (issue 8), seen the way an admin would: the app opened through an edge (one
// host for the viewer: the edge serves the app and the API), the account menu's "Fleet", and
// both edges serving with the cache figures of the playbacks earlier steps made.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function fleetJourney({ step, world, newPage }) {
  await step('an admin, through an edge, sees both edges serving on the fleet page', async () => {
    const w = world();
    const edge = w.edges[0];
    const password = (await readFile(join(w.stateDir, 'admin-password'), 'utf8')).trim();
    const page = await newPage();
    // Cookies ignore ports: the viewer's session from origin's address would be sent to the
    // edge on the same host. The admin starts from none (the next step relaunches the browser).
    await page.context().clearCookies();
    await page.goto(`${edge.url}/signin`);
    await page.getByLabel('Email').fill('admin@marquee.local');
    await page.getByLabel('Password').fill(password);
    await page.getByTestId('auth-submit').click();
    await page.waitForURL((url) => !url.pathname.startsWith('/signin'), { timeout: 15_000 });
    assert.equal(new URL(page.url()).port, String(edge.port), 'the app stays on the edge');
    await page.goto(`${edge.url}/admin/fleet`);
    await page.getByTestId('fleet').waitFor({ timeout: 15_000 });
    // Heartbeats come every 2 s and the page asks every 5 s: wait for both edges to serve.
    await page.waitForFunction(
      (n) => document.querySelector('[data-testid="fleet-summary"]')?.textContent === `${n} of ${n} edges serving`,
      w.edges.length,
      { timeout: 20_000 },
    );
    const rows = page.getByTestId('fleet-edge');
    assert.equal(await rows.count(), w.edges.length);
    const health = await page.getByTestId('fleet-health').allInnerTexts();
    assert.deepEqual(health, w.edges.map(() => 'Serving'));
    // Earlier steps played through the edges: at least one shows a hit ratio.
    const ratios = await page.getByTestId('fleet-hit-ratio').allInnerTexts();
    assert.ok(ratios.some((r) => /^\d+ %$/.test(r)), `hit ratios: ${ratios}`);
    // The page is reachable from the account menu, by keyboard.
    await page.getByTestId('account-menu').focus();
    await page.keyboard.press('Enter');
    assert.ok(await page.getByTestId('nav-fleet').isVisible(), 'admins find "Fleet" in the account menu');
    await page.close();
  });
}
