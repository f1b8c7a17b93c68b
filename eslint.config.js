import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'native/build/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Generated decoders are built with new Function on purpose (see src/core/btf/decoder.ts).
      '@typescript-eslint/no-implied-eval': 'off',
    },
  },
);
