/**
 * How the Lua scripts are read: every top-level lua/*.lua, its includes in
 * place (nested ones too, each once). The built package carries the same
 * texts (test/package.test.ts compares them).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { SCRIPT_FILES, scriptSource } from '../lib/scripts/commands';
import { readLuaScripts } from '../lib/scripts/lua-files';
import { luaSources } from '../lib/scripts/lua-sources';

describe('Lua scripts: read from lua/, includes resolved', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'reserve-stock-lua-'));
    mkdirSync(join(dir, 'includes', 'deep'), { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (file: string, text: string) => writeFileSync(join(dir, file), text);

  it('puts nested includes in place, each once, and reads every top-level script', () => {
    write('includes/clock.lua', 'local clock = 1\n');
    write('includes/deep/holds.lua', '--- @include "includes/clock"\nlocal holds = clock\n');
    write('first-2.lua', '-- header\n--- @include "includes/clock"\n--- @include "includes/deep/holds"\nreturn holds\n');
    write('second-N.lua', '--- @include "includes/deep/holds"\n--- @include "includes/clock"\nreturn 2\n');
    write('notes.txt', 'not a script');
    const scripts = readLuaScripts(dir);
    expect(Object.keys(scripts)).to.deep.equal(['first-2.lua', 'second-N.lua']);
    expect(scripts['first-2.lua']).to.equal('-- header\nlocal clock = 1\n\n\nlocal holds = clock\n\nreturn holds\n');
    expect(scripts['second-N.lua']).to.equal('local clock = 1\n\nlocal holds = clock\n\n\nreturn 2\n');
  });

  it('names the file an include points to when it is missing', () => {
    write('broken-1.lua', '--- @include "includes/nowhere"\nreturn 1\n');
    expect(() => readLuaScripts(dir)).to.throw(/includes[\\/]nowhere\.lua/);
  });

  it("from the sources, the repository's lua/ as it is now: every script of SCRIPT_FILES, no include line left", () => {
    const onDisk = readdirSync(join(__dirname, '..', 'lua')).filter((file) => file.endsWith('.lua'));
    const sources = luaSources();
    expect(Object.keys(sources)).to.have.members(onDisk);
    for (const [name, file] of Object.entries(SCRIPT_FILES)) {
      expect(sources, file).to.have.property(file);
      expect(scriptSource(name as keyof typeof SCRIPT_FILES)).to.equal(sources[file]);
      expect(sources[file], file).not.to.match(/^--- @include/m);
    }
  });
});
