// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'data/', 'bench/tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  { files: ['**/*.js'], languageOptions: { sourceType: 'commonjs' } },
  // The one script pages load: an ES module, run by the browser.
  {
    files: ['public/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: {
        document: 'readonly',
        window: 'readonly',
        fetch: 'readonly',
        URLSearchParams: 'readonly',
      },
    },
  },
  {
    rules: {
      // `_`-prefixed parameters are how Express error handlers keep their four-argument shape;
      // `const { left: _, ...kept } = value` is how an object is copied without one property.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
);
