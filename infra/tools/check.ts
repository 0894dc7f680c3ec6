/**
 * `npm run infra:check`: restores the Bicep CLI from NuGet, compiles infra/main.bicep to ARM JSON
 * (infra/.bicep/main.json, read by test/infra) and lints every Bicep file with infra/bicepconfig.json. Any error,
 * warning or info diagnostic fails the check. `--infra <dir>` checks another copy of the folder (the tests break
 * one on purpose); `--restore-only` stops after the restore (CI's install step).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { INFRA_DIR, REPO, bicepVersionLine, inputsHash, outputsOf, parseDiagnostics, restoreBicep } from './bicep';

function arg(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at < 0 ? undefined : process.argv[at + 1];
}

function run(bicep: string, args: string[]) {
  const r = spawnSync(bicep, args, { encoding: 'utf8', cwd: REPO, maxBuffer: 64 * 1024 * 1024 });
  const output = `${r.stdout}${r.stderr}`;
  return { ok: r.status === 0, output, diagnostics: parseDiagnostics(output) };
}

function main(): number {
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
  const build = run(bicep, ['build', main, '--outfile', tmp]);
  const lint = run(bicep, ['lint', '--pattern', join(infraDir, '**', '*.bicep')]);

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

try {
  process.exitCode = main();
} catch (err) {
  console.error(`infra:check: ${(err as Error).message}`);
  process.exitCode = 1;
}
