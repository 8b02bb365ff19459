// Lint: typescript-eslint's recommended rules (syntax only, no type information: fast), tuned to the code base.
// `npm run lint` fails on errors; warnings (explicit `any`, unused names, `let` never reassigned) list cleanup work.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      '**/node_modules/**',
      'models/**',
      'bench/harness/.scratch/**',
      'tunelab-out/**',
      'tunelab-demo/**',
      'tunelab-prompting/**',
      '.tunelab/**',
      'tmp/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { ...globals.node } },
    linterOptions: { reportUnusedDisableDirectives: 'warn' },
    rules: {
      '@typescript-eslint/no-explicit-any': 'warn',
      '@typescript-eslint/no-unused-vars': [
        'warn',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      'prefer-const': 'warn',
      'no-regex-spaces': 'warn',
      // `catch {}` (best-effort cleanup) is deliberate
      'no-empty': ['error', { allowEmptyCatch: true }],
      // terminal escapes and control-character delimiters are matched on purpose
      'no-control-regex': 'off',
    },
  },
  // CommonJS files (preloads) use require
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs' }, rules: { '@typescript-eslint/no-require-imports': 'off' } },
  // code that runs in the browser: the viewer's UI and the HTML report's script
  { files: ['web/**/*.js', 'src/report/browser/**'], languageOptions: { globals: { ...globals.browser } } },
);
