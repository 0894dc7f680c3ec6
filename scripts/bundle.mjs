// Bundles the Function app and the worker with esbuild (tsc only type-checks). Prints sizes.
import { build } from 'esbuild';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';

// The judge's rubric prompts (evals/rubrics/*.md) are not deployed as files: embed them (shared/judge/rubric.ts).
const rubricsDir = 'evals/rubrics';
// The worker image's build context has no evals/ (it does not judge): embed nothing there.
const rubrics = Object.fromEntries(
  (existsSync(rubricsDir) ? readdirSync(rubricsDir) : [])
    .filter((f) => f.endsWith('.md'))
    .map((f) => [f, readFileSync(`${rubricsDir}/${f}`, 'utf8')]),
);

// zod re-exports every locale as `z.locales` (≈260 KiB minified) for apps that switch languages; the error
// messages here are English (zod's default, which imports `en` directly), so the namespace offers English only.
const englishOnlyZodLocales = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'zod-locales' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, () => ({
      contents: "export { default as en } from 'zod/v4/locales/en.js';",
      resolveDir: process.cwd(),
    }));
  },
};

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
  plugins: [englishOnlyZodLocales],
};

// Code splitting: what is imported lazily (the Azure Monitor / OTLP telemetry stack, only loaded when configured)
// goes to separate chunks, so a cold instance parses a much smaller entry.
// BUNDLE_ONLY=functions|worker builds one; BUNDLE_OUTDIR puts it elsewhere (tests load a private copy).
const targets = [
  { key: 'functions', entryPoints: { index: 'functions/index.ts' }, outdir: 'dist/functions' },
  { key: 'worker', entryPoints: { main: 'worker/main.ts' }, outdir: 'dist/worker' },
]
  .filter((t) => !process.env.BUNDLE_ONLY || t.key === process.env.BUNDLE_ONLY)
  .map(({ key: _key, ...t }) => (process.env.BUNDLE_OUTDIR ? { ...t, outdir: process.env.BUNDLE_OUTDIR } : t));

for (const t of targets) {
  const [[name, entry]] = Object.entries(t.entryPoints);
  if (!existsSync(entry)) continue; // the worker image builds only its own entry
  rmSync(t.outdir, { recursive: true, force: true });
  const result = await build({ ...common, ...t, splitting: true, chunkNames: 'chunks/[name]-[hash]', metafile: true });
  const outputs = Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith('.js'));
  const total = outputs.reduce((n, [, o]) => n + o.bytes, 0);
  const main = statSync(`${t.outdir}/${name}.js`).size;
  // What an import really loads: the entry and the chunks it imports statically (shared code lands in chunks).
  const loaded = new Set();
  const walk = (file) => {
    if (loaded.has(file)) return;
    loaded.add(file);
    for (const i of result.metafile.outputs[file].imports)
      if (i.kind === 'import-statement' && result.metafile.outputs[i.path]) walk(i.path);
  };
  walk(Object.keys(result.metafile.outputs).find((f) => f.endsWith(`/${name}.js`)));
  const atImport = [...loaded].reduce((n, f) => n + result.metafile.outputs[f].bytes, 0);
  writeFileSync(`${t.outdir}/sizes.json`, JSON.stringify({ entry: main, atImport, total }));
  console.log(
    `${t.outdir}/${name}.js  ${(main / 1024).toFixed(0)} KiB entry, ${(atImport / 1024).toFixed(0)} KiB loaded at import, ` +
      `${(total / 1024).toFixed(0)} KiB with ${outputs.length - 1 - (loaded.size - 1)} lazy chunks`,
  );
}
