import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `check` until it returns true, or fails after `timeoutMs` with
 * `message`. For effects that happen after the response (a give-back).
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  message: string,
  timeoutMs = 3000,
  intervalMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for: ${message}`);
    await sleep(intervalMs);
  }
}

export { sleep };
