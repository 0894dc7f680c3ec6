import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** web/ (this file lives in web/src/server/). */
export const WEB_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const WEB_DIST = join(WEB_ROOT, 'dist');

/**
 * Bundles the page into web/dist: app.js (esbuild), index.html and styles.css as they are. Each file is
 * written to a temporary name and renamed, so stacks starting in parallel never serve a half-written file.
 */
export async function buildWeb(outDir = WEB_DIST): Promise<void> {
  await mkdir(outDir, { recursive: true });
  const result = await build({
    entryPoints: [join(WEB_ROOT, 'src/main.ts')],
    outfile: join(outDir, 'app.js'),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: ['es2022'],
    minify: true,
    sourcemap: 'linked',
    logLevel: 'warning',
    write: false,
  });
  const files = [
    ...result.outputFiles.map((f) => ({ path: f.path, data: f.contents })),
    { path: join(outDir, 'index.html'), data: await readFile(join(WEB_ROOT, 'index.html')) },
    { path: join(outDir, 'styles.css'), data: await readFile(join(WEB_ROOT, 'styles.css')) },
  ];
  for (const f of files) {
    const tmp = `${f.path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(tmp, f.data);
    await rename(tmp, f.path);
  }
}

export interface WebServerOptions {
  port?: number;
  host?: string;
  /** The Function app's API base (…/api), handed to the page as /config.json. */
  apiBaseUrl: string;
  authMode?: 'dev' | 'platform';
  root?: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
};

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; " +
    "connect-src *; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'permissions-policy': 'microphone=(self)',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

/** A small static server for the built page, plus /config.json naming the backend. */
export async function startWebServer(opts: WebServerOptions): Promise<{ url: string; close(): Promise<void> }> {
  const root = resolve(opts.root ?? WEB_DIST);
  const config = JSON.stringify({ apiBaseUrl: opts.apiBaseUrl, authMode: opts.authMode ?? 'dev' });

  const server = createServer(async (req, res) => {
    const send = (status: number, body: string | Buffer, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...SECURITY_HEADERS });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed');
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return send(400, 'malformed path');
    }
    if (path === '/config.json') return send(200, config, TYPES['.json']);
    const file = normalize(join(root, path === '/' ? 'index.html' : path));
    if (!file.startsWith(root + sep)) return send(404, 'not found');
    try {
      if (!(await stat(file)).isFile()) return send(404, 'not found');
      send(200, await readFile(file), TYPES[extname(file)] ?? 'application/octet-stream');
    } catch {
      send(404, 'not found');
    }
  });

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, host, () => (server.off('error', fail), ok()));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
