import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb, startWebServer } from '../../web/src/server/static';

describe('web page build and static server', () => {
  let dir: string;
  let server: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'web-dist-'));
    await buildWeb(join(dir, 'www'));
    await writeFile(join(dir, 'secret.txt'), 'not for the browser');
    server = await startWebServer({ root: join(dir, 'www'), apiBaseUrl: 'http://127.0.0.1:7071/api' });
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('bundles the page without leaving temporary files', async () => {
    const js = await readFile(join(dir, 'www', 'app.js'), 'utf8');
    // Checked as booleans: a failure should not print the whole bundle.
    expect(js.includes('oai-events')).toBe(true);
    expect(js.includes('json.reliable.webpubsub.azure.v1')).toBe(true);
    expect((await readdir(join(dir, 'www'))).sort()).toEqual(['app.js', 'app.js.map', 'index.html', 'styles.css']);
  });

  it('serves the page with security headers and the backend URL as /config.json', async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('permissions-policy')).toBe('microphone=(self)');
    const config = await (await fetch(`${server.url}/config.json`)).json();
    expect(config).toEqual({ apiBaseUrl: 'http://127.0.0.1:7071/api', authMode: 'dev' });
  });

  it('serves nothing outside its folder and refuses writes', async () => {
    for (const path of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/%2e%2e%2fsecret.txt',
      '/nope.js',
    ]) {
      expect((await fetch(`${server.url}${path}`)).status, path).toBe(404);
    }
    expect((await fetch(`${server.url}/`, { method: 'POST' })).status).toBe(405);
  });
});
