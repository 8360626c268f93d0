// Lint: the TypeScript rules, no import cycles, and the layers of src/ (README, "The
// repository"): a module imports only the layers below its own, and cli/ and http/ never db/.
import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const BASE = ['./src/errors.ts', './src/escape.ts', './src/output.ts', './src/log.ts', './src/timings.ts', './src/heap-nudge.ts'];

/** Each layer, top to bottom; a layer may import the ones after it, never those before it or its siblings. */
const LAYERS = [
  ['./src/cli'],
  ['./src/http'],
  ['./src/service'],
  ['./src/ops', './src/pipeline'],
  ['./src/xml', './src/inbox', './src/db', './src/pdf'],
  BASE,
  ['./src/domain'],
];

function layerZones() {
  const zones = [];
  LAYERS.forEach((layer, i) => {
    const above = LAYERS.slice(0, i).flat();
    for (const target of layer) {
      const siblings = layer.filter((other) => other !== target);
      const from = [...above, ...siblings];
      if (from.length) zones.push({ target, from, message: 'imports go down the layers only (README, "The repository")' });
    }
  });
  // The modules shared by every layer (errors, output, logging) import one another freely.
  for (const zone of zones) if (BASE.includes(zone.target)) zone.from = zone.from.filter((f) => !BASE.includes(f));
  // The two readers above ops/ (the CLI and the console) reach the store through it alike: its
  // actions, and the read queries and store entry points of ops/queries.ts and ops/store.ts.
  for (const target of ['./src/cli', './src/http'])
    zones.push({ target, from: './src/db', message: 'the CLI and the console reach the store through src/ops/' });
  return zones;
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'drizzle/**', 'test-artifacts/**', 'coverage/**'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.js'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js'] })],
      // Dependencies are not parsed: cycles and layers are about this project's modules.
      'import-x/ignore': ['node_modules'],
    },
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        NodeJS: 'readonly',
      },
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { zones: layerZones() }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Escaping and refusing control characters is this code's job.
      'no-control-regex': 'off',
      // postgres.js spells "no custom types" as Options<{}>.
      '@typescript-eslint/no-empty-object-type': 'off',
    },
  },
  {
    // Tests dig into parsed XML objects whose shape they know.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
