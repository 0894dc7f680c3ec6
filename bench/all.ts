import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** `npm run bench`: every `bench:*` script in turn; a failing bench is reported, the rest still run. */
const scripts = Object.keys(
  (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts,
).filter((s) => s.startsWith('bench:'));
const failed: string[] = [];
for (const s of scripts) {
  console.log(`\n=== npm run ${s}`);
  const r = spawnSync('npm', ['run', '--silent', s], { stdio: 'inherit' });
  if (r.status !== 0) failed.push(s);
}
if (failed.length) {
  console.error(`\nfailed: ${failed.join(', ')}`);
  process.exit(1);
}
