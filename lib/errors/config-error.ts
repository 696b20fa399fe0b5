/** Stable codes of {@link ConfigError}, one per kind of misconfiguration. */
export type ConfigErrorCode =
  | 'ERR_RESERVE_STOCK_STORE'
  | 'ERR_RESERVE_STOCK_KEY'
  | 'ERR_RESERVE_STOCK_OPTION';

/**
 * Thrown at setup (by `createStockStore` or `reserveStock`), never per
 * request, when the options cannot work.
 */
export class ConfigError extends TypeError {
  readonly code: ConfigErrorCode;

  constructor(code: ConfigErrorCode, message: string) {
    super(`reserve-stock: ${message}`);
    this.name = 'ConfigError';
    this.code = code;
  }
}
