// The one lint configuration of the tree: ESLint's and typescript-eslint's recommended rules with
// type information, plus the rules that catch lost promises. Formatting is Prettier's
// (eslint-config-prettier, last, turns off every rule that would disagree with it).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'native/build/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A promise nobody awaits loses its rejection. node:test's test()/describe() return promises
      // the runner itself awaits; `void p` marks a promise left running on purpose.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      // A try block only catches what it awaits.
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      // An error from a callback is passed on as it came, whatever it is.
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
      // Messages quote arrays and URLSearchParams through their toString on purpose; a type guard's
      // false branch narrows a plain number to never.
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        {
          allowArray: true,
          allowNever: true,
          allow: [
            { from: 'lib', name: 'URLSearchParams' },
            { from: 'package', package: 'url', name: 'URLSearchParams' },
          ],
        },
      ],
      // A `let` that a closure reads before its one assignment stays a `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // `'ADDED' | … | string` names the expected members beside the catch-all.
      '@typescript-eslint/no-redundant-type-constituents': 'off',
      // `async` without `await` is how fakes and handlers meet a Promise-returning interface; dropping
      // it would turn a rejection into a synchronous throw.
      '@typescript-eslint/require-await': 'off',
      // `xs[i]!` marks an index the code knows is in range (tsconfig has no noUncheckedIndexedAccess).
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // String(value) of JSON from the wire is how the test API server and messages quote what they got.
      '@typescript-eslint/no-base-to-string': 'off',
      // An initial value beside a `let` that a try block or a closure sets reads better than `!`.
      'no-useless-assignment': 'off',
      // Matching control characters is the point of the regexps that do (sanitising text from outside).
      'no-control-regex': 'off',
      // An interface that extends one other is a name for it.
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Tests, the lab and the benchmarks read JSON they made or parsed themselves: the assertion that
    // follows is the type check, and a message quotes whatever came.
    files: ['**/*.test.ts', '**/testing/**/*.ts', 'e2e/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  prettier,
);
