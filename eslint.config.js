// Lint rules for kiln. The import zones enforce the layering of docs/ARCHITECTURE.md:
// only api/ and jobs/ touch the database; sdk/, provisionersdk/ and lib/ are leaves.
import js from '@eslint/js';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const zone = (target, from, message) => ({ target, from, message });

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'src/web/**', 'bench/.work/**', '.kiln-test/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': ['error', { allow: ['warn', 'error'] }],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            zone('./src/sdk', ['./src/api', './src/db', './src/jobs', './src/lib', './src/provisionerd', './src/provisioners', './src/agent', './src/cli', './src/provisionersdk'], 'sdk is a leaf'),
            zone('./src/provisionersdk', ['./src/api', './src/db', './src/jobs', './src/provisionerd', './src/provisioners', './src/agent', './src/cli', './src/sdk'], 'provisionersdk is a leaf'),
            zone('./src/lib', ['./src/api', './src/db', './src/jobs', './src/provisionerd', './src/provisioners', './src/agent', './src/cli', './src/sdk', './src/provisionersdk'], 'lib is a leaf'),
            zone('./src/jobs', ['./src/api', './src/provisionerd', './src/provisioners', './src/agent', './src/cli'], 'jobs sits below api'),
            zone('./src/provisionerd', ['./src/api', './src/db', './src/jobs', './src/cli', './src/agent'], 'the daemon talks to the server only through its client'),
            zone('./src/provisioners', ['./src/api', './src/db', './src/jobs', './src/cli', './src/provisionerd', './src/sdk'], 'provisioners implement provisionersdk only'),
            zone('./src/agent', ['./src/api', './src/db', './src/jobs', './src/cli', './src/provisionerd', './src/provisioners'], 'the agent uses the SDK only'),
            zone('./src/cli', ['./src/db', './src/jobs'], 'the CLI never touches the database'),
          ],
        },
      ],
    },
  },
  {
    files: ['src/cli/**/*.ts', 'bench/**', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' } },
  },
);
