// Starts and stops a local Marquee world (`marquee up`) for end-to-end tests.
//
// Relies on `marquee up` printing, on stdout, `Marquee is up: http://127.0.0.1:PORT` once the
// catalogue is packaged, `  edge <id> (<region>): <url> (HTTPS and HTTP/3: <https url>; …)` per
// edge and `  inbox: <url>` (the mail server's web inbox) after it, and stopping everything
// cleanly (exit 0) on SIGINT.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const WEB_DIR = join(REPO_ROOT, 'origin', 'web');

/** The `marquee` binary from MARQUEE_BIN; throws a message saying how to set it otherwise. */
export function marqueeBinary() {
  const bin = process.env.MARQUEE_BIN;
  if (!bin) {
    throw new Error(
      'MARQUEE_BIN is not set. Build the binaries and point it at `marquee`, e.g.\n' +
        '  cargo build --release --bins && MARQUEE_BIN=$PWD/target/release/marquee node --test deploy/e2e/',
    );
  }
  if (!existsSync(bin) || !statSync(bin).isFile()) throw new Error(`MARQUEE_BIN=${bin} does not exist`);
  return bin;
}

/** Builds origin/web (npm ci + npm run build) when dist/index.html is missing. */
export async function ensureWebBuilt(log) {
  const dist = join(WEB_DIR, 'dist');
  if (existsSync(join(dist, 'index.html'))) return dist;
  log(`web app not built; building ${WEB_DIR}`);
  if (!existsSync(join(WEB_DIR, 'node_modules'))) await run('npm', ['ci', '--no-audit', '--no-fund'], WEB_DIR, log);
  await run('npm', ['run', 'build'], WEB_DIR, log);
  if (!existsSync(join(dist, 'index.html'))) throw new Error(`npm run build did not produce ${dist}/index.html`);
  return dist;
}

function run(cmd, args, cwd, log) {
  return new Promise((ok, fail) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => log(`[${cmd}] ${line}`));
    }
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? ok() : fail(new Error(`${cmd} ${args.join(' ')} exited ${code}`))));
  });
}

/**
 * Runs `marquee up --state-dir DIR --port 0 [extraArgs]` and resolves once it prints its URL.
 * Output goes to `log` (prefixed) and to `<logFile>`. Resolves to
 * `{ url, port, edges: [{ id, region, url, port }], stop, process }`.
 */
export function startWorld({ stateDir, webDir, extraArgs = [], env = {}, logFile, log, timeoutMs }) {
  const bin = marqueeBinary();
  const args = ['up', '--state-dir', stateDir, '--port', '0', '--web-dir', webDir, ...extraArgs];
  log(`$ ${bin} ${args.join(' ')}`);
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const file = createWriteStream(logFile, { flags: 'a' });
  const edges = [];
  let inbox = null;
  let exited = null;
  const exit = new Promise((done) =>
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      done(exited);
    }),
  );

  const ready = new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`marquee up did not print its URL within ${timeoutMs / 1000} s (log: ${logFile})`)), timeoutMs);
    const onLine = (stream) => (line) => {
      file.write(`${stream}: ${line}\n`);
      log(`[marquee ${stream}] ${line}`);
      const edge = line.match(/^\s*edge (\S+) \(([^)]+)\): (http:\/\/\S+)(?: \(HTTPS and HTTP\/3: (https:\/\/[^;\s]+))?/);
      if (edge) edges.push({ id: edge[1], region: edge[2], url: edge[3], port: Number(new URL(edge[3]).port), httpsUrl: edge[4] ?? null });
      const mail = line.match(/^\s*inbox: (http:\/\/\S+)/);
      if (mail) inbox = mail[1];
      const up = line.match(/Marquee is up: (http:\/\/\S+)/);
      if (up) {
        clearTimeout(timer);
        // The edge lines follow the URL line; give them a moment to arrive.
        setTimeout(() => ok(up[1].replace(/\/$/, '')), 300);
      }
    };
    createInterface({ input: child.stdout }).on('line', onLine('out'));
    createInterface({ input: child.stderr }).on('line', onLine('err'));
    child.on('error', (e) => fail(new Error(`cannot start ${bin}: ${e.message}`)));
    exit.then(({ code, signal }) => {
      clearTimeout(timer);
      fail(new Error(`marquee up exited (code ${code}, signal ${signal}) before it was up (log: ${logFile})`));
    });
  });

  /** SIGINT, then wait; SIGKILL only this process if it hangs. Resolves to its exit. */
  const stop = async (graceMs = 45_000) => {
    if (exited) return exited;
    child.kill('SIGINT');
    const killer = setTimeout(() => {
      log(`marquee did not stop within ${graceMs / 1000} s of SIGINT; sending SIGKILL to pid ${child.pid}`);
      child.kill('SIGKILL');
    }, graceMs);
    const result = await exit;
    clearTimeout(killer);
    file.end();
    return result;
  };

  return ready.then(
    (url) => ({ url, port: Number(new URL(url).port), edges, inbox, stateDir, stop, process: child }),
    async (error) => {
      await stop(15_000);
      throw error;
    },
  );
}
