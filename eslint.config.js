import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'web/dist/', 'node_modules/', 'coverage/', 'data/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'node:crypto', message: 'Use src/crypto (ENC-04).' },
            { name: 'crypto', message: 'Use src/crypto (ENC-04).' },
          ],
        },
      ],
    },
  },
  // Tests may build certificates and keys of their own; the ENC-04 boundary is for product code.
  { files: ['src/crypto/**', 'test/**', 'bench/**'], rules: { 'no-restricted-imports': 'off' } },
  { files: ['web/src/**'], languageOptions: { globals: { ...globals.browser } } },
);
