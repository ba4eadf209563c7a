// One host for the viewer over HTTP/2 and HTTP/3 (issue 8): a browser opens an edge's HTTPS
// address, signs in, plays a title, and the page, the API calls and the video all come over
// the protocol asked for. Chromium trusts the edges' certificates by their keys
// (--ignore-certificate-errors-spki-list) and is made to speak QUIC to them for HTTP/3.
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { launchBrowser } from './browser.mjs';
import { chooseProfile } from './viewer.mjs';

/** base64 SHA-256 of a PEM certificate's public key, as Chromium's SPKI list wants it. */
export function spkiHash(pem) {
  const der = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

/** What came over which protocol, per CDP (resource timing hides it across origins). */
function recordProtocols(cdp) {
  const seen = [];
  cdp.on('Network.responseReceived', ({ response }) => seen.push({ url: response.url, protocol: response.protocol ?? '' }));
  return seen;
}

export async function protocolsJourney({ step, world, viewer, titleId, log }) {
  for (const [name, protocol] of [
    ['HTTP/2', 'h2'],
    ['HTTP/3', 'h3'],
  ]) {
    await step(`through an edge's HTTPS address the app, the API and the video come over ${name}`, async () => {
      const w = world();
      const edge = w.edges[0];
      assert.ok(edge.httpsUrl, `marquee up printed no HTTPS address for ${edge.id}`);
      const hosts = w.edges.map((e) => new URL(e.httpsUrl).host);
      const keys = await Promise.all(w.edges.map(async (e) => spkiHash(await readFile(join(w.stateDir, 'certs', `edge-${e.id}.pem`)))));
      const extraArgs = [`--ignore-certificate-errors-spki-list=${keys.join(',')}`];
      extraArgs.push(...(protocol === 'h3' ? ['--enable-quic', `--origin-to-force-quic-on=${hosts.join(',')}`] : ['--disable-quic']));
      const browser = await launchBrowser({ extraArgs });
      try {
        const page = await browser.context.newPage();
        const cdp = await browser.context.newCDPSession(page);
        await cdp.send('Network.enable');
        const seen = recordProtocols(cdp);
        await page.goto(`${edge.httpsUrl}/signin`);
        await page.getByLabel('Email').fill(viewer().email);
        await page.getByLabel('Password').fill(viewer().password);
        await page.getByTestId('auth-submit').click();
        await page.getByTestId('who-is-watching').waitFor({ timeout: 15_000 });
        await chooseProfile(page, 'Alex');
        await page.goto(`${edge.httpsUrl}/watch/${encodeURIComponent(titleId())}`);
        await page.waitForFunction(
          () => {
            const v = document.querySelector('[data-testid="player-video"]');
            return v !== null && v.currentTime > 2 && v.videoWidth > 0;
          },
          null,
          { timeout: 60_000 },
        );
        const kinds = {
          page: (u) => u.pathname.startsWith('/watch/'),
          api: (u) => u.pathname.startsWith('/api/v1/') && !u.pathname.includes('/playback/t/'),
          manifest: (u) => u.pathname.startsWith('/api/v1/playback/t/') && u.pathname.endsWith('.mpd'),
          segments: (u) => /^\/t\/[^/]+\/media\/.+\.m4s$/.test(u.pathname),
        };
        const summary = {};
        for (const [kind, matches] of Object.entries(kinds)) {
          const rows = seen.filter((r) => r.url.startsWith('https://') && matches(new URL(r.url)));
          summary[kind] = [...new Set(rows.map((r) => r.protocol))].join(',');
          assert.ok(rows.length > 0, `no ${kind} response was seen over HTTPS`);
          const wrong = rows.filter((r) => r.protocol !== protocol);
          assert.deepEqual(wrong.map((r) => `${r.protocol}: ${r.url}`), [], `every ${kind} response over ${name}`);
        }
        // Segments come from the edges' HTTPS addresses: an HTTPS page cannot fetch plain HTTP.
        const segmentHosts = new Set(seen.filter((r) => kinds.segments(new URL(r.url))).map((r) => new URL(r.url).host));
        assert.ok([...segmentHosts].every((h) => hosts.includes(h)), `segments from ${[...segmentHosts].join(', ')}`);
        log(`${name}: ${JSON.stringify(summary)}`);
        assert.equal(await page.getByTestId('player-error').count(), 0, 'no playback error');
      } finally {
        await browser.close();
      }
    });
  }
}
