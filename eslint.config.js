// ESLint flat config: typescript-eslint's recommended rules without type information (fast enough for every
// `npm test`); `tsc` already does the type checking. Formatting is Prettier's job (`npm run lint` runs both).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'web/dist/**', '.local/**', 'bench/results/**', 'infra/**/*.json'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      'no-empty': ['error', { allowEmptyCatch: false }],
      eqeqeq: ['error', 'smart'],
      'prefer-const': 'error',
    },
  },
  {
    // Small modules: a file past 400 lines is doing more than one thing.
    files: ['**/*.ts', '**/*.mjs', '**/*.js'],
    rules: { 'max-lines': ['error', { max: 400, skipBlankLines: false, skipComments: false }] },
  },
  {
    // Production code never swallows a failure without a word: a `.catch` handler that ignores its error
    // must at least log it (shared/telemetry/log.ts `logFailure`).
    files: ['functions/**/*.ts', 'shared/**/*.ts', 'worker/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "CallExpression[callee.property.name='catch'] > " +
            "ArrowFunctionExpression[params.length=0][body.type='BlockStatement'][body.body.length=0]",
          message: 'An empty .catch handler hides the failure: log it (logFailure) or handle it.',
        },
      ],
    },
  },
  {
    // Tests poke at wire frames of every shape; `any` there is the honest type.
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
