export { reserveStock } from './middleware/reserve-stock';
export type { ReserveStockOptions, FromRequest } from './middleware/options';
export { createStockStore } from './store/redis-store';
export { stockKeys, type StockKeys } from './store/keys';
export { ConfigError, type ConfigErrorCode, type SoldOutError, type SoldOutDetails } from './errors';
export { MAX_KEY_LENGTH, UNLIMITED_STOCK } from './validation/input';
export { MAX_CART_LINES } from './validation/cart';
export type {
  CartLine,
  CartOptions,
  CartReservation,
  CartResult,
  CartSettleResult,
  CartState,
  CommitCheck,
  ExtendResult,
  HoldState,
  HoldsReport,
  InDoubtResolution,
  ReconcileReport,
  RedisClient,
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
