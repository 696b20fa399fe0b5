import { ConfigError } from '../errors';

/** Reads an optional integer option within [min, max], or its default. */
export function intOption(
  options: object,
  name: string,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const value = (options as Record<string, unknown>)[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(
      'ERR_RESERVE_STOCK_OPTION',
      `option "${name}" must be a whole number from ${min} to ${max}, got ${String(value)}`,
    );
  }
  return value;
}

/** Reads an optional function option, or its default. */
export function functionOption<T extends (...args: never[]) => unknown>(
  options: object,
  name: string,
  fallback: T,
): T;
export function functionOption<T extends (...args: never[]) => unknown>(
  options: object,
  name: string,
): T | undefined;
export function functionOption<T extends (...args: never[]) => unknown>(
  options: object,
  name: string,
  fallback?: T,
): T | undefined {
  const value = (options as Record<string, unknown>)[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'function') {
    throw new ConfigError('ERR_RESERVE_STOCK_OPTION', `option "${name}" must be a function`);
  }
  return value as T;
}
