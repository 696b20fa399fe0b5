/** Where a run tells how it is going: a status line rewritten in place, and lines that stay. */
export interface Reporter {
  /** A transient status line (rewritten in place on a terminal). */
  progress(line: string): void;
  /** A line that stays. */
  log(line: string): void;
}

export const silentReporter: Reporter = { progress: () => {}, log: () => {} };

/** Progress on stderr: rewritten in place on a terminal, left out otherwise; lines that stay, always. */
export function terminalReporter(): Reporter {
  const tty = process.stderr.isTTY === true;
  let shown = false;
  return {
    progress(line) {
      if (!tty) return;
      const width = process.stderr.columns ?? 120;
      process.stderr.write(`\r\u001b[2K${line.slice(0, width - 1)}`);
      shown = true;
    },
    log(line) {
      if (tty && shown) process.stderr.write('\r\u001b[2K');
      shown = false;
      process.stderr.write(`${line}\n`);
    },
  };
}
