// Bundles the Function app and the worker with esbuild (tsc only type-checks). Prints sizes.
import { build } from 'esbuild';
import { readdirSync, readFileSync, statSync } from 'node:fs';

// The judge's rubric prompts (evals/rubrics/*.md) are not deployed as files: embed them (shared/judge/rubric.ts).
const rubricsDir = 'evals/rubrics';
const rubrics = Object.fromEntries(
  readdirSync(rubricsDir).filter((f) => f.endsWith('.md')).map((f) => [f, readFileSync(`${rubricsDir}/${f}`, 'utf8')]),
);

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  minify: true,
  // Some CommonJS dependencies call require(); give ESM bundles one.
  banner: { js: "import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
  // Provided by the Functions host at run time.
  external: ['@azure/functions-core'],
  define: { __EMBEDDED_RUBRICS__: JSON.stringify(rubrics) },
};

const targets = [
  { entryPoints: ['functions/index.ts'], outfile: 'dist/functions/index.js' },
  { entryPoints: ['worker/main.ts'], outfile: 'dist/worker/main.js' },
];

for (const t of targets) {
  try {
    statSync(t.entryPoints[0]);
  } catch {
    continue; // entry not written yet
  }
  await build({ ...common, ...t });
  console.log(`${t.outfile}  ${(statSync(t.outfile).size / 1024).toFixed(0)} KiB`);
}
