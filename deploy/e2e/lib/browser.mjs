// Launches Debian's headless Chromium through playwright-core with the flags this machine needs
// (`npx playwright install` cannot work here: it downloads a browser). Every launch gets a fresh
// --user-data-dir so runs never share cache, cookies or media state.
import { chromium } from 'playwright-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM_PATH = process.env.MARQUEE_CHROMIUM || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Muted autoplay is allowed anyway; this keeps play() from depending on gesture heuristics.
  '--autoplay-policy=no-user-gesture-required',
];

/**
 * Launch Chromium with a fresh profile. Returns `{ context, close }`; `close()` shuts the browser
 * and deletes the profile directory.
 */
export async function launchBrowser({ extraArgs = [] } = {}) {
  const userDataDir = await mkdtemp(join(tmpdir(), 'marquee-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
  });
  const close = async () => {
    await context.close().catch(() => {});
    await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
  };
  return { context, close };
}
