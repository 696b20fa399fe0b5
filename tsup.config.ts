import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['lib/index.ts'],
  format: ['cjs', 'esm'],
  outExtension: ({ format }) => ({ js: format === 'cjs' ? '.cjs' : '.mjs' }),
  dts: true,
  // __dirname in the ESM build, to find the lua/ folder.
  shims: true,
  clean: true,
  target: 'node20',
  sourcemap: true,
});
