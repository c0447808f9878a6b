import js from '@eslint/js'
import tseslint from 'typescript-eslint'

// Ink and React cost ~6x a bare node start-up: anywhere in src they may only be loaded with
// `await import()`, by a view that really draws a dashboard. Type-only imports cost nothing.
const noEagerUi = {
  '@typescript-eslint/no-restricted-imports': ['error', {
    paths: [
      {name: 'ink', message: 'Load Ink lazily from a view with `await import("ink")`.', allowTypeImports: true},
      {name: 'react', message: 'Load React lazily from a view with `await import("react")`.', allowTypeImports: true},
    ],
    patterns: [{group: ['ink/*', 'react/*', 'ink-*'], message: 'Load Ink/React lazily from a view.', allowTypeImports: true}],
  }],
}

// Libraries stay liftable: no CLI framework, no UI, no reaching up into commands or views.
const libBoundary = {
  '@typescript-eslint/no-restricted-imports': ['error', {
    paths: [
      {name: 'ink', message: 'src/lib must not depend on Ink.'},
      {name: 'react', message: 'src/lib must not depend on React.'},
    ],
    patterns: [
      {group: ['@oclif/*'], message: 'src/lib must not depend on oclif; throw a StellaError instead.'},
      {group: ['ink/*', 'react/*', 'ink-*'], message: 'src/lib must not depend on Ink or React.'},
      {group: ['**/commands/**', '**/ui/**', '**/services/**', '**/base-command*'], message: 'src/lib must not import from commands, services or ui.'},
    ],
  }],
}

export default tseslint.config(
  {ignores: ['dist/', 'dist.build-*/', 'dist.old-*/', 'node_modules/', 'coverage/', 'oclif.manifest.json']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {globals: {process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly'}},
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_'}],
    },
  },
  {files: ['src/**/*.ts', 'src/**/*.tsx'], rules: noEagerUi},
  // The dashboard is the view that draws with Ink: commands load the whole of src/ui/top with
  // `await import()` once they know they draw into a terminal, so inside it Ink and React are plain imports.
  {files: ['src/ui/top/**/*.ts', 'src/ui/top/**/*.tsx'], rules: {'@typescript-eslint/no-restricted-imports': 'off'}},
  {files: ['src/lib/**/*.ts'], rules: libBoundary},
)
