export { ConfigError, type ConfigErrorCode } from './config-error';
export { badInput, cartSoldOut, holdLost, soldOut, unavailable, isHttpError, type SoldOutError, type SoldOutDetails } from './http';
export { errorBody, type ErrorBody } from './body';
