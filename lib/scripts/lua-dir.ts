import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The package's `lua/` folder. Found by walking up from this module because
 * the module sits at a different depth in the sources (lib/scripts/) and in
 * the bundle (dist/). `script` is a file that must be in it.
 */
export function findLuaDir(script: string, from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'lua');
    if (existsSync(join(candidate, script))) return candidate;
    if (dirname(dir) === dir) throw new Error(`reserve-stock: no lua/ folder above ${from}`);
  }
}
