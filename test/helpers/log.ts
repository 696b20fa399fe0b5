import type { Logger } from 'pino';
import { createLogger } from '../../example/ops/log';

/** The example's logger, writing its JSON lines into memory instead of stdout. */
export function memoryLogger(level = 'info'): { logger: Logger; lines(): Record<string, unknown>[]; text(): string } {
  const written: string[] = [];
  const logger = createLogger({ write: (line: string) => void written.push(line) }, level);
  return {
    logger,
    lines: () => written.map((line) => JSON.parse(line) as Record<string, unknown>),
    text: () => written.join(''),
  };
}
