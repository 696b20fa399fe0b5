import { createInterface } from 'node:readline/promises';

/** Waits until the person at the terminal presses Enter. */
export async function waitForEnter(prompt: string): Promise<void> {
  const terminal = createInterface({ input: process.stdin, output: process.stdout });
  try {
    await terminal.question(`${prompt} `);
  } finally {
    terminal.close();
  }
}
