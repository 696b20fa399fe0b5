import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { StockEvent, StockEventHandler } from '../../lib';
import type { OrderObserver, OrderOutcome } from '../checkout';

/** Every metric of the example starts with this. */
export const METRIC_PREFIX = 'reserve_stock_';

/** How a reservation ended, the label of the latency histogram. */
export type ReservationOutcome = 'reserved' | 'sold_out' | 'limit' | 'failed';

export interface MetricsOptions {
  /**
   * Adds a `sku` label to the event counters. Off by default: every sku
   * becomes a series of its own, which a large catalogue makes unbounded.
   */
  skuLabel?: boolean;
}

/**
 * The order path's database work as plain numbers (`GET /stats`, read by the
 * benchmark and the chaos suite): transactions begun, and how the finished
 * ones ended. Once every order has finished, `dbTransactions` is the sum of
 * the other five.
 */
export interface OrderStats {
  dbTransactions: number;
  paid: number;
  /** Repeats of an order already placed (an Idempotency-Key Redis had lost): its rows answered again. */
  repeated: number;
  declined: number;
  /** The database refused units Redis had granted: Redis over-stated. 0 unless Redis lost writes. */
  guardRefusals: number;
  /** Rolled back otherwise: a hold lost before its prepare, Redis or the database unavailable, a bug. */
  failed: number;
}

const STAT_OF: Record<OrderOutcome, Exclude<keyof OrderStats, 'dbTransactions'>> = {
  paid: 'paid',
  repeated: 'repeated',
  declined: 'declined',
  'guard-refused': 'guardRefusals',
  failed: 'failed',
};

export interface ShopMetrics {
  /** This app's own registry: several apps in one process never share series. */
  registry: Registry;
  /** Counts the library's events; give it to the store's `onEvent`. */
  onEvent: StockEventHandler;
  /** Records one reservation's duration. */
  observeReservation(seconds: number, outcome: ReservationOutcome): void;
  /** Counts the order path's transactions and outcomes, into the registry and {@link stats}. */
  orders: OrderObserver;
  /** The same counts as plain numbers, live. */
  stats: OrderStats;
}

// One counter per event type: [name after the prefix, help].
const COUNTERS: Record<StockEvent['type'], [string, string]> = {
  reserved: ['reserved_total', 'Reservations that held units.'],
  'sold-out': ['sold_out_total', 'Reservations refused because fewer units were left than asked for, by what answered (redis, or memory: soldOutCacheMs).'],
  limit: ['limit_refusals_total', "Reservations refused because they would take a customer past the item's per-customer limit."],
  committed: ['committed_total', 'Holds made permanent (the order was placed).'],
  released: ['released_total', 'Holds given back before they expired (the order failed).'],
  expired: ['expired_holds_total', 'Holds that gave their units back by expiring, nobody having settled them.'],
  initialised: ['initialised_total', 'Stock figures loaded into Redis from the database.'],
  reconciled: ['reconciled_total', 'Reconciliations of a Redis figure against the database.'],
  error: ['errors_total', 'Failures of Redis or of the loader, by operation (each one a 503 or a retried settle).'],
};

// The labels an event type has besides `sku`.
const LABELS: Partial<Record<StockEvent['type'], string[]>> = { error: ['operation'], 'sold-out': ['answered_by'] };

// Seconds: a reservation is one Redis round trip, or a database read the first time.
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** What an event adds to its counter: expired events count several holds at once. */
function amountOf(event: StockEvent): number {
  return event.type === 'expired' ? event.holds : 1;
}

/** Prometheus metrics of one app: the library's events, reservation latency and Node's process metrics. */
export function createMetrics({ skuLabel = false }: MetricsOptions = {}): ShopMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  const skuLabels = skuLabel ? ['sku'] : [];
  const counters = new Map(
    Object.entries(COUNTERS).map(([type, [name, help]]) => {
      const labelNames = [...(LABELS[type as StockEvent['type']] ?? []), ...skuLabels];
      return [type, new Counter({ name: METRIC_PREFIX + name, help, labelNames, registers: [registry] })];
    }),
  );
  const reservedUnits = new Counter({
    name: `${METRIC_PREFIX}reserved_units_total`,
    help: 'Units held by reservations.',
    labelNames: skuLabels,
    registers: [registry],
  });
  const transactions = new Counter({
    name: `${METRIC_PREFIX}order_transactions_total`,
    help: 'Database transactions of the order path (one per order that held its units, retries of a deadlock included).',
    registers: [registry],
  });
  const orders = new Counter({
    name: `${METRIC_PREFIX}orders_total`,
    help: 'Orders whose database transaction finished, by outcome (paid, repeated, declined, failed).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const guardRefusals = new Counter({
    name: `${METRIC_PREFIX}guard_refusals_total`,
    help: "Orders the database's guard refused though Redis had granted their units: Redis over-stated the stock.",
    registers: [registry],
  });
  const stats: OrderStats = { dbTransactions: 0, paid: 0, repeated: 0, declined: 0, guardRefusals: 0, failed: 0 };
  const latency = new Histogram({
    name: `${METRIC_PREFIX}reservation_duration_seconds`,
    help: 'Time the store took to answer a reservation, from the middleware calling reserve() to its answer.',
    labelNames: ['outcome'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });

  return {
    registry,
    onEvent(event) {
      const labels = {
        ...(event.type === 'error' && { operation: event.operation }),
        ...(event.type === 'sold-out' && { answered_by: event.cached ? 'memory' : 'redis' }),
        ...(skuLabel && event.key !== undefined && { sku: event.key }),
      };
      counters.get(event.type)?.inc(labels, amountOf(event));
      if (event.type === 'reserved') reservedUnits.inc(labels, event.qty);
    },
    observeReservation(seconds, outcome) {
      latency.observe({ outcome }, seconds);
    },
    orders: {
      began() {
        stats.dbTransactions++;
        transactions.inc();
      },
      ended(outcome) {
        stats[STAT_OF[outcome]]++;
        if (outcome === 'guard-refused') guardRefusals.inc();
        else orders.inc({ outcome });
      },
    },
    stats,
  };
}
