/**
 * Where the browser suites find Chromium (CHROMIUM_PATH, then
 * /usr/bin/chromium), and what they do without one: pending, with the line
 * that installs it, unless REQUIRE_BROWSER_TESTS (set by .ci/run) makes
 * that a failure.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';
import { INSTALL_CHROMIUM, findChromium } from '../helpers/chromium';
import { REQUIRE_BROWSER } from './browser';

const ROOT = join(__dirname, '..', '..');

/** Runs the one-test browser suite in a mocha of its own. */
function runSuite(env: Record<string, string>): { status: number | null; output: string } {
  const { [REQUIRE_BROWSER]: _ci, CHROMIUM_PATH: _path, ...inherited } = process.env;
  const result = spawnSync(join(ROOT, 'node_modules', '.bin', 'mocha'), ['test/fixtures/browser-suite.ts'], {
    cwd: ROOT,
    env: { ...inherited, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('example: finding Chromium for the browser suites', function () {
  this.timeout(150_000);
  const nowhere = '/nonexistent/chromium';

  it('CHROMIUM_PATH first, and only it when set; else /usr/bin/chromium', () => {
    expect(findChromium({ CHROMIUM_PATH: process.execPath })).to.equal(process.execPath);
    expect(findChromium({ CHROMIUM_PATH: nowhere })).to.equal(undefined);
    expect(findChromium({})).to.equal(findChromium({ CHROMIUM_PATH: '/usr/bin/chromium' }));
  });

  it('no Chromium: the suite is pending and says how to install one', () => {
    const { status, output } = runSuite({ CHROMIUM_PATH: nowhere });
    expect(status, output).to.equal(0);
    expect(output).to.match(/0 passing/).and.match(/1 pending/);
    expect(output).to.include(`install it with: ${INSTALL_CHROMIUM}`);
  });

  it(`no Chromium with ${REQUIRE_BROWSER} set (as in CI): the suite fails`, () => {
    const { status, output } = runSuite({ CHROMIUM_PATH: nowhere, [REQUIRE_BROWSER]: '1' });
    expect(status, output).to.not.equal(0);
    expect(output).to.include(`${REQUIRE_BROWSER} is set and there is no Chromium at CHROMIUM_PATH (${nowhere})`);
  });
});
