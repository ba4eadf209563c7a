// A tiny loopback HTTP server (port 0) for the harness page, Shaka Player's build and, when asked,
// a directory of packaged media. CORS is open so a page can also play manifests from elsewhere.
import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';

const TYPES = {
  '.mpd': 'application/dash+xml',
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.mp4': 'video/mp4',
  '.m4s': 'video/iso.segment',
  '.js': 'text/javascript',
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json',
};

/**
 * Start a server. `routes` maps URL prefixes to directories, e.g. `{ '/media/': '/tmp/out' }`;
 * `pages` maps exact paths to `{ type, body }`. Resolves to `{ url, close }`.
 */
export async function startStaticServer({ routes = {}, pages = {} } = {}) {
  const server = createServer(async (req, res) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    // Measurements must not share a warm HTTP cache.
    res.setHeader('Cache-Control', 'no-store');
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (pages[path]) {
      res.writeHead(200, { 'Content-Type': pages[path].type });
      res.end(pages[path].body);
      return;
    }
    for (const [prefix, dir] of Object.entries(routes)) {
      if (!path.startsWith(prefix)) continue;
      const root = resolve(dir);
      const file = normalize(join(root, path.slice(prefix.length)));
      if (file !== root && !file.startsWith(root + sep)) break; // no escaping the root
      try {
        const st = await stat(file);
        if (!st.isFile()) break;
        res.writeHead(200, {
          'Content-Type': TYPES[extname(file)] || 'application/octet-stream',
          'Content-Length': st.size,
        });
        createReadStream(file).pipe(res);
        return;
      } catch {
        break;
      }
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found');
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}
