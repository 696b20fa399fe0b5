export { reserveStock } from './middleware/reserve-stock';
export { itemReservation, cartReservation } from './middleware/reservation-of';
export type { ReserveStockOptions, FromRequest } from './middleware/options';
export type { RefusalHandler } from './middleware/refusal';
export { createStockStore } from './store/redis-store';
export { stockKeys, type StockKeys } from './store/keys';
export { customerDigest } from './store/customer';
export { ConfigError, errorBody, type ConfigErrorCode, type ErrorBody, type SoldOutError, type SoldOutDetails } from './errors';
export { MAX_KEY_LENGTH, MAX_UNITS, UNLIMITED_STOCK } from './validation/input';
export { MAX_CART_LINES } from './validation/cart';
export type {
  AnsweredRequest,
  CartLine,
  CartOptions,
  CartReservation,
  CartResult,
  CartSettleResult,
  CartState,
  CommitCheck,
  CustomerCountsReport,
  DatabaseStock,
  ExtendResult,
  HoldState,
  HoldsReport,
  InDoubtResolution,
  LoadedStock,
  OverLimitLine,
  ReconcileOptions,
  ReconcileReport,
  RedisClient,
  RequestId,
  RequestLedger,
  RequestRecord,
  Reservation,
  ReserveOptions,
  ReserveResult,
  ReservedLine,
  SettleResult,
  ShortLine,
  StockEvent,
  StockEventHandler,
  StockLoader,
  StockOperation,
  StockStore,
  StockStoreOptions,
} from './types';
