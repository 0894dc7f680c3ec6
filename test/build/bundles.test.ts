import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite, type Azurite } from '../../dev/azurite';
import { freePort } from '../../dev/ports';

const run = promisify(execFile);
// esbuild takes a few seconds per bundle; on a loaded 2-core machine, much longer.

/**
 * What is deployed is the esbuild output (scripts/bundle.mjs), not the source tree: each bundle goes to a
 * folder outside the repository, where no node_modules can be found by walking up, so an import of a package
 * that is not bundled (a devDependency, or anything else) fails here as it would in Azure.
 */
describe('built bundles run without node_modules', () => {
  const root = mkdtempSync(join(tmpdir(), 'bundles-'));
  let azurite: Azurite | undefined;
  const children: ChildProcess[] = [];

  const bundle = async (key: 'functions' | 'worker') => {
    const outdir = join(root, key);
    await run(process.execPath, ['scripts/bundle.mjs'], {
      env: { ...process.env, BUNDLE_ONLY: key, BUNDLE_OUTDIR: outdir },
    });
    // The deployed package.json marks the bundle as ES modules.
    writeFileSync(join(outdir, 'package.json'), JSON.stringify({ type: 'module' }));
    return outdir;
  };

  beforeAll(async () => {
    azurite = await startAzurite();
  });
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await azurite?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const env = () => ({
    PATH: process.env.PATH ?? '',
    AUTH_MODE: 'dev',
    REALTIME_ENDPOINT: 'http://127.0.0.1:9',
    REALTIME_API_KEY: 'bundle-test-key',
    STORAGE_CONNECTION_STRING: azurite!.connectionString,
    WORKER_URL: 'http://127.0.0.1:9',
    WORKER_AUTH_SECRET: 'bundle-test-secret-bundle-test',
    FUNCTIONS_BASE_URL: 'http://127.0.0.1:9',
  });

  it('the Function app entry and every lazy chunk import; only the host-provided functions-core is missing', async () => {
    const outdir = await bundle('functions');
    const chunks = readdirSync(join(outdir, 'chunks')).filter((f) => f.endsWith('.js'));
    const files = ['index.js', ...chunks.map((c) => `chunks/${c}`)];
    // Outside the Functions host, @azure/functions-core is absent (it is provided at run time): that error,
    // and only that one, is expected once registration starts.
    const probe = `for (const f of ${JSON.stringify(files)}) {
      await import(new URL(f, ${JSON.stringify(`file://${outdir}/`)}).href).catch((e) => {
        if (!/functions-core/.test(String(e))) throw e;
      });
    }`;
    const r = await run(process.execPath, ['--input-type=module', '-e', probe], { cwd: outdir, env: env() }).then(
      (o) => ({ code: 0, stderr: o.stderr }),
      (e: { code?: number; stderr?: string }) => ({ code: e.code ?? 1, stderr: e.stderr ?? '' }),
    );
    expect(r.stderr).not.toMatch(/Cannot find (module|package)/);
    expect(r.code).toBe(0);
  }, 180_000);

  it('the worker bundle starts and answers its liveness probe', async () => {
    const outdir = await bundle('worker');
    const port = await freePort();
    const child = spawn(process.execPath, [join(outdir, 'main.js')], {
      cwd: outdir,
      env: { ...env(), PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const healthy = async (): Promise<boolean> => {
      for (;;) {
        const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
          (res) => res.ok,
          () => false,
        );
        if (ok) return true;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const outcome = await Promise.race([healthy(), exited.then((code) => `exited ${code}`)]);
    expect(outcome, output).toBe(true);
    child.kill('SIGTERM');
    await exited;
  }, 180_000);
});
