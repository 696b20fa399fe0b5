/**
 * A page of the example shop in headless Chromium, for the browser suites,
 * and where their screenshots go (test/artifacts/, kept by CI, ignored by git).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { findChromium, launchChromium, noChromium } from '../helpers/chromium';

export const ARTIFACTS_DIR = resolve(__dirname, '../artifacts');

/** The path of a screenshot artifact, its folder made. */
export function artifact(name: string): string {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return join(ARTIFACTS_DIR, name);
}

/** Set (CI sets it) to fail, instead of skip, the browser suites where no Chromium is found. */
export const REQUIRE_BROWSER = 'REQUIRE_BROWSER_TESTS';

/**
 * Mocha wiring: one browser for the suite, a fresh page per test; errors of
 * the page's own scripts fail the test that saw them. Without a Chromium
 * the suite is pending, and says how to install one, unless
 * REQUIRE_BROWSER_TESTS is set: then it fails.
 */
export function useBrowser(): { page(): Page } {
  let browser: Browser | undefined;
  let page: Page | undefined;
  let pageErrors: Error[] = [];
  before(async function () {
    if (!findChromium()) {
      if (process.env[REQUIRE_BROWSER]) throw new Error(`${REQUIRE_BROWSER} is set and there is ${noChromium()}`);
      console.log(`      pending: ${noChromium()}`);
      this.skip();
    }
    browser = await launchChromium();
  });
  beforeEach(async () => {
    pageErrors = [];
    page = await (browser as Browser).newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (error) => pageErrors.push(error));
  });
  afterEach(async () => {
    await page?.close();
    if (pageErrors.length > 0) throw new Error(`the page threw: ${pageErrors.map((e) => e.message).join('; ')}`);
  });
  after(async () => {
    await browser?.close();
  });
  return {
    page() {
      if (!page) throw new Error('useBrowser: used outside a test');
      return page;
    },
  };
}
