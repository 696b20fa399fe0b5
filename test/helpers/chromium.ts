/**
 * Debian's Chromium (/usr/bin/chromium, or CHROMIUM_PATH), headless, driven
 * by playwright-core: the machine may be offline, so no browser is downloaded.
 * The screenshots script and the browser tests share it.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** The one line that installs the Chromium this looks for, on Debian or Ubuntu. */
export const INSTALL_CHROMIUM = 'apt-get install -y chromium';

const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/**
 * The Chromium to drive: `CHROMIUM_PATH` when set (and only that one, so a
 * wrong path is not hidden by another browser), else Debian's. Undefined
 * when it is not there.
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const path = env.CHROMIUM_PATH || DEBIAN_CHROMIUM;
  return existsSync(path) ? path : undefined;
}

/** Why there is no browser, and how to get one. */
export function noChromium(env: NodeJS.ProcessEnv = process.env): string {
  const where = env.CHROMIUM_PATH ? `CHROMIUM_PATH (${env.CHROMIUM_PATH})` : DEBIAN_CHROMIUM;
  return `no Chromium at ${where}; install it with: ${INSTALL_CHROMIUM}`;
}

// No sandbox (CI runs as root) and nothing that reaches for the network.
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A headless Chromium; the caller closes it. */
export function launchChromium(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) return Promise.reject(new Error(noChromium()));
  return chromium.launch({ executablePath, headless: true, args: ARGS });
}
