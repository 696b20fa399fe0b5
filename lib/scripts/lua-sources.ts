import { join } from 'node:path';
import { readLuaScripts } from './lua-files';

/**
 * The Lua scripts by file name, includes resolved. From the sources (tests,
 * tsx) this reads lua/ when first asked, so an edit there shows at the next
 * run with no step in between. The tsup build replaces this module with one
 * that returns the texts read at build time (tsup.config.ts): the package
 * reads nothing from disk, and a bundler carries the scripts along.
 */
export function luaSources(): Readonly<Record<string, string>> {
  return readLuaScripts(join(__dirname, '..', '..', 'lua'));
}
