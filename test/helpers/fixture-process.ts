/**
 * A script run in a process of its own (a second app process, a process to
 * kill, a shop's app), with what it writes kept for the test.
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
  /** Its exit code (null when killed by a signal, or when it could not start). */
  exited: Promise<number | null>;
  /** Waits until stdout holds `text` (failing, with its stderr, if it exits first). */
  waitForOutput(text: string, what: string): Promise<void>;
}

/** Starts `test/fixtures/<file>` under tsx with `env` added to this process's environment. */
export function startFixture(file: string, env: Record<string, string>): FixtureProcess {
  return startProcess(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'fixtures', file)], {
    cwd: join(__dirname, '..', '..'),
    env: { ...process.env, ...env },
  });
}

/** Starts `command` in `cwd` with exactly `env`, keeping what it writes. */
export function startProcess(command: string, args: string[], { cwd, env }: { cwd: string; env: NodeJS.ProcessEnv }): FixtureProcess {
  const child = spawn(command, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
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
    // 'close': once it has exited and everything it wrote is read.
    exited: new Promise((resolve) => {
      child.once('close', (code) => resolve(code));
      child.once('error', () => resolve(null));
    }),
    async waitForOutput(text, what) {
      await waitFor(() => stdout.includes(text) || child.exitCode !== null, what, 30_000);
      expect(stdout, stderr).to.include(text);
    },
  };
}
