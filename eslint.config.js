import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'data/', 'node_modules/', 'coverage/', 'bench/.work/', 'bench/.scratch/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'max-lines': ['warn', { max: 320, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // better-sqlite3 is synchronous; its adapters are async only to fit the ports.
    files: ['src/storage/sqlite/**/*.ts', '**/*.test.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    // The core is the domain: it must not reach into edges or drivers.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['fastify', 'better-sqlite3', 'pg', 'aedes', 'mqtt', 'prom-client'],
              message: 'core imports no drivers',
            },
            {
              group: [
                '**/storage/**',
                '**/api/**',
                '**/cli/**',
                '**/bus/**',
                '**/config/**',
                '**/client/**',
                '**/archive/**',
                '**/gateway.js',
                '**/main.js',
              ],
              message: 'core imports no edges',
            },
          ],
        },
      ],
    },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
);
