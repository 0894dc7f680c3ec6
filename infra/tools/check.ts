/**
 * `npm run infra:check`: restores the Bicep CLI from NuGet, compiles infra/main.bicep to ARM JSON
 * (infra/.bicep/main.json, read by test/infra) and lints every Bicep file with infra/bicepconfig.json. Any error,
 * warning or info diagnostic fails the check. `--infra <dir>` checks another copy of the folder (the tests break
 * one on purpose); `--restore-only` stops after the restore (CI's install step).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import {
  INFRA_DIR,
  REPO,
  bicepVersionLine,
  inputsHash,
  outputsOf,
  parseDiagnostics,
  restoreBicep,
  type Diagnostic,
} from './bicep';

function arg(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at < 0 ? undefined : process.argv[at + 1];
}

function run(bicep: string, args: string[]): Promise<{ ok: boolean; output: string; diagnostics: Diagnostic[] }> {
  return new Promise((done, fail) => {
    const child = spawn(bicep, args, { cwd: REPO });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ ok: code === 0, output, diagnostics: parseDiagnostics(output) }));
  });
}

async function main(): Promise<number> {
  const infraDir = resolve(arg('--infra') ?? INFRA_DIR);
  const bicep = restoreBicep();
  console.log(bicepVersionLine(bicep));
  if (process.argv.includes('--restore-only')) return 0;

  const { template, stamp } = outputsOf(infraDir);
  mkdirSync(dirname(template), { recursive: true });
  const hash = inputsHash(infraDir);
  // Written beside the target and renamed: two test workers building at once each leave a whole file.
  const tmp = `${template}.${process.pid}.tmp`;
  const main = join(infraDir, 'main.bicep');
  // Side by side: each is a compiler start-up and a full compile; two cores take both at once.
  const [build, lint] = await Promise.all([
    run(bicep, ['build', main, '--outfile', tmp]),
    run(bicep, ['lint', '--pattern', join(infraDir, '**', '*.bicep')]),
  ]);

  let failed = false;
  for (const [step, r] of [
    [`bicep build ${relative(REPO, main)}`, build],
    [`bicep lint ${relative(REPO, infraDir)}/**/*.bicep`, lint],
  ] as const) {
    const count = (level: string) => r.diagnostics.filter((d) => d.level === level).length;
    console.log(`${step}: ${count('Error')} errors, ${count('Warning')} warnings, ${count('Info')} infos`);
    if (r.diagnostics.length > 0 || !r.ok) {
      failed = true;
      console.error(r.output.trim());
    }
  }
  if (failed) {
    rmSync(tmp, { force: true });
    return 1;
  }
  renameSync(tmp, template);
  writeFileSync(stamp, hash);
  console.log(`compiled template: ${relative(REPO, template)}`);
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(`infra:check: ${(err as Error).message}`);
    process.exitCode = 1;
  },
);
