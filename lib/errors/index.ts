export { ConfigError, type ConfigErrorCode } from './config-error';
export { badInput, soldOut, unavailable, isHttpError, type SoldOutError, type SoldOutDetails } from './http';
