import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** `--- @include "includes/x"`: the text of `<lua dir>/includes/x.lua` goes here. */
const INCLUDE = /^--- @include "([\w/-]+)"$/gm;

/**
 * A script's text with its includes in place: nested ones too, each one
 * once (a later line naming one already in is dropped). Include names are
 * paths in the lua/ folder, without `.lua`.
 */
function resolveScript(dir: string, file: string, seen: Set<string>): string {
  return readFileSync(join(dir, file), 'utf8').replace(INCLUDE, (_line, name: string) => {
    if (seen.has(name)) return '';
    seen.add(name);
    return resolveScript(dir, `${name}.lua`, seen);
  });
}

/**
 * Every script at the top of `dir` (`*.lua`; the includes live in
 * sub-folders), by file name, includes resolved: what Redis runs.
 */
export function readLuaScripts(dir: string): Record<string, string> {
  const scripts: Record<string, string> = {};
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.lua')).sort()) {
    scripts[file] = resolveScript(dir, file, new Set());
  }
  return scripts;
}
