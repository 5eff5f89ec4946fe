// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test/fixtures/**/*.cjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // Prettier wraps code at 120 columns; this catches the strings and comments it leaves alone.
      'max-len': ['error', { code: 120, ignoreUrls: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Policies pass on whatever the wrapped method rejected with; it is not ours to wrap.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // Nest modules and decorated classes are legitimately empty or static-only.
      '@typescript-eslint/no-extraneous-class': 'off',
    },
  },
  {
    // Layers: the policy core knows nothing of Nest, the decorators, the adapter or the integrations.
    files: ['lib/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@nestjs/*'], message: 'lib/core is framework-free: no @nestjs import.' },
            {
              regex: '^(\\.\\./)+(decorators|nest|health|redis|rabbitmq|prometheus|opentelemetry|dashboard)/',
              message: 'lib/core imports nothing from the decorators, the Nest adapter or the integrations.',
            },
          ],
        },
      ],
    },
  },
  {
    // The decorators write the metadata contract beside them; from the adapter they take only the enhancers they
    // attach.
    files: ['lib/decorators/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\./nest/(?!handlers/(resilience\\.interceptor|rate-limit\\.guard)\\.js$)',
              message: 'lib/decorators may import from lib/nest only the interceptor and the guards they attach.',
            },
            {
              regex: '^\\.\\./(health|redis|rabbitmq|prometheus|opentelemetry|dashboard)/',
              message: 'lib/decorators imports no integration.',
            },
          ],
        },
      ],
    },
  },
  // Layers of lib/nest, top down: module; explorer; handlers and service; pipeline (with its stages); the leaves
  // errors, request (what a request reads) and options (the module options and their token). No import runs back up.
  ...[
    {
      folders: ['errors', 'request', 'options'],
      above: ['errors', 'request', 'options', 'pipeline', 'handlers', 'service', 'explorer', 'module'],
    },
    { folders: ['pipeline'], above: ['handlers', 'service', 'explorer', 'module'] },
    { folders: ['handlers', 'service'], above: ['handlers', 'service', 'explorer', 'module'] },
    { folders: ['explorer'], above: ['module'] },
  ].map(({ folders, above }) => ({
    files: folders.map((folder) => `lib/nest/${folder}/**/*.ts`),
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^(\\.\\./)+(${above.join('|')})/`,
              message: `lib/nest/${folders.join(', ')} import(s) nothing from ${above.join(', ')}: those sit above.`,
            },
          ],
        },
      ],
    },
  })),
  {
    // Test fixtures imitate services: async methods without await are the point.
    files: ['test/**/*.ts', 'sample/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/require-await': 'off', '@typescript-eslint/unbound-method': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
