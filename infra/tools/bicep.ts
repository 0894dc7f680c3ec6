/**
 * The Bicep CLI from NuGet, and the compiled template it produces. The CLI comes from the package
 * Azure.Bicep.CommandLine.linux-x64 restored by `infra/tools/bicep-cli.proj` into the NuGet global packages folder;
 * the restore's project.assets.json (under the git-ignored infra/.bicep/) names that folder.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, chmodSync, constants, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export const REPO = new URL('../../', import.meta.url).pathname;
export const INFRA_DIR = join(REPO, 'infra');
const PROJECT = join(INFRA_DIR, 'tools', 'bicep-cli.proj');
const ASSETS = join(INFRA_DIR, '.bicep', 'obj', 'project.assets.json');
const PACKAGE = 'Azure.Bicep.CommandLine.linux-x64';

/** Where `infra:check` writes the compiled template of `<infraDir>/main.bicep` and the hash of what it compiled. */
export const outputsOf = (infraDir: string) => ({
  template: join(infraDir, '.bicep', 'main.json'),
  stamp: join(infraDir, '.bicep', 'main.json.inputs'),
});

export function pinnedVersion(): string {
  const m = /<BicepVersion>([^<]+)<\/BicepVersion>/.exec(readFileSync(PROJECT, 'utf8'));
  if (!m) throw new Error(`${PROJECT} names no <BicepVersion>`);
  return m[1]!;
}

/** Restores the pinned CLI (a no-op when NuGet's cache has it) and returns the path of the executable. */
export function restoreBicep(): string {
  const dotnet = spawnSync('dotnet', ['--version'], { encoding: 'utf8' });
  if (dotnet.error || dotnet.status !== 0)
    throw new Error('the .NET SDK (`dotnet`) is needed to restore the Bicep CLI from NuGet; install it first');
  const restore = spawnSync('dotnet', ['restore', PROJECT, '--nologo', '-v', 'q'], { encoding: 'utf8' });
  if (restore.status !== 0)
    throw new Error(`dotnet restore ${relative(REPO, PROJECT)} failed:\n${restore.stdout}${restore.stderr}`);
  const assets = JSON.parse(readFileSync(ASSETS, 'utf8')) as { packageFolders: Record<string, unknown> };
  const version = pinnedVersion();
  for (const folder of Object.keys(assets.packageFolders)) {
    const exe = join(folder, PACKAGE.toLowerCase(), version, 'tools', 'bicep');
    if (!existsSync(exe)) continue;
    try {
      accessSync(exe, constants.X_OK);
    } catch {
      // NuGet does not keep the executable bit on every platform.
      chmodSync(exe, 0o755);
    }
    return exe;
  }
  throw new Error(`${PACKAGE} ${version} restored, but no tools/bicep in ${Object.keys(assets.packageFolders)}`);
}

export function bicepVersionLine(bicep: string): string {
  return execFileSync(bicep, ['--version'], { encoding: 'utf8' }).trim();
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => !name.startsWith('.') && name !== 'node_modules')
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return sourceFiles(path);
      return /\.bicep$|^bicepconfig\.json$/.test(name) ? [path] : [];
    })
    .sort();
}

/** Hash of every Bicep source and config under `infraDir` plus the CLI version: the compiled template's identity. */
export function inputsHash(infraDir: string): string {
  const h = createHash('sha256').update(pinnedVersion());
  for (const f of sourceFiles(infraDir)) h.update(relative(infraDir, f)).update('\0').update(readFileSync(f));
  return h.digest('hex');
}

export interface Diagnostic {
  file: string;
  line: number;
  level: 'Error' | 'Warning' | 'Info';
  code: string;
  message: string;
}

/** Parses the CLI's default diagnostics format: `path(line,col) : Level CODE: message`. */
export function parseDiagnostics(output: string): Diagnostic[] {
  const re = /^(.+?)\((\d+),\d+\) : (Error|Warning|Info) ([\w-]+): (.*)$/gm;
  return [...output.matchAll(re)].map((m) => ({
    file: m[1]!,
    line: Number(m[2]),
    level: m[3] as Diagnostic['level'],
    code: m[4]!,
    message: m[5]!,
  }));
}
