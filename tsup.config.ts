import { join } from 'node:path';
import type { Plugin } from 'esbuild';
import { defineConfig } from 'tsup';
import { readLuaScripts } from './lib/scripts/lua-files';

/**
 * Puts the Lua scripts into the built JavaScript: the module that reads
 * lua/ from the sources (lib/scripts/lua-sources.ts) is replaced by one
 * holding every script's text, includes resolved, as lua/ has it at build
 * time. The package then reads no file at run time, and a bundler that
 * bundles it carries the scripts along.
 */
const inlineLua: Plugin = {
  name: 'inline-lua',
  setup(build) {
    build.onLoad({ filter: /[\\/]lib[\\/]scripts[\\/]lua-sources\.ts$/ }, () => {
      const scripts = JSON.stringify(readLuaScripts(join(__dirname, 'lua')), null, 2);
      return { contents: `const scripts = Object.freeze(${scripts});\nexport function luaSources() {\n  return scripts;\n}\n`, loader: 'js' };
    });
  },
};

export default defineConfig({
  entry: ['lib/index.ts'],
  format: ['cjs', 'esm'],
  outExtension: ({ format }) => ({ js: format === 'cjs' ? '.cjs' : '.mjs' }),
  // tsup 8's declaration build sets the `baseUrl` TypeScript 6 deprecates
  // (egoist/tsup#1389); the silence stays in this build, not in tsconfig.json.
  dts: { compilerOptions: { ignoreDeprecations: '6.0' } },
  clean: true,
  target: 'node20',
  sourcemap: true,
  esbuildPlugins: [inlineLua],
});
