/**
 * A script of test/fixtures run in a process of its own (a second app
 * process, a process to kill), with what it writes kept for the test.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';
import { waitFor } from './wait';

export interface FixtureProcess {
  child: ChildProcessWithoutNullStreams;
  /** Everything it has written to stdout so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Its exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Waits until stdout holds `text` (failing, with its stderr, if it exits first). */
  waitForOutput(text: string, what: string): Promise<void>;
}

/** Starts `test/fixtures/<file>` under tsx with `env` added to this process's environment. */
export function startFixture(file: string, env: Record<string, string>): FixtureProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'fixtures', file)], {
    cwd: join(__dirname, '..', '..'),
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
    async waitForOutput(text, what) {
      await waitFor(() => stdout.includes(text) || child.exitCode !== null, what, 30_000);
      expect(stdout, stderr).to.include(text);
    },
  };
}
