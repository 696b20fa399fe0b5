export { ConfigError, type ConfigErrorCode } from './config-error';
export { badInput, cartOverLimit, cartSoldOut, holdLost, limitReached, soldOut, unavailable, isHttpError, type SoldOutError, type SoldOutDetails } from './http';
export { errorBody, type ErrorBody } from './body';
