import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { StockEvent, StockEventHandler } from '../lib';

/** Every metric of the example starts with this. */
export const METRIC_PREFIX = 'reserve_stock_';

/** How a reservation ended, the label of the latency histogram. */
export type ReservationOutcome = 'reserved' | 'sold_out' | 'failed';

export interface MetricsOptions {
  /**
   * Adds a `sku` label to the event counters. Off by default: every sku
   * becomes a series of its own, which a large catalogue makes unbounded.
   */
  skuLabel?: boolean;
}

export interface ShopMetrics {
  /** This app's own registry: several apps in one process never share series. */
  registry: Registry;
  /** Counts the library's events; give it to the store's `onEvent`. */
  onEvent: StockEventHandler;
  /** Records one reservation's duration. */
  observeReservation(seconds: number, outcome: ReservationOutcome): void;
}

// One counter per event type: [name after the prefix, help].
const COUNTERS: Record<StockEvent['type'], [string, string]> = {
  reserved: ['reserved_total', 'Reservations that held units.'],
  'sold-out': ['sold_out_total', 'Reservations refused because fewer units were left than asked for.'],
  committed: ['committed_total', 'Holds made permanent (the order was placed).'],
  released: ['released_total', 'Holds given back before they expired (the order failed).'],
  expired: ['expired_holds_total', 'Holds that gave their units back by expiring, nobody having settled them.'],
  initialised: ['initialised_total', 'Stock figures loaded into Redis from the database.'],
  reconciled: ['reconciled_total', 'Reconciliations of a Redis figure against the database.'],
  error: ['errors_total', 'Failures of Redis or of the loader, by operation (each one a 503 or a retried settle).'],
};

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
      const labelNames = type === 'error' ? ['operation', ...skuLabels] : skuLabels;
      return [type, new Counter({ name: METRIC_PREFIX + name, help, labelNames, registers: [registry] })];
    }),
  );
  const reservedUnits = new Counter({
    name: `${METRIC_PREFIX}reserved_units_total`,
    help: 'Units held by reservations.',
    labelNames: skuLabels,
    registers: [registry],
  });
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
        ...(skuLabel && event.key !== undefined && { sku: event.key }),
      };
      counters.get(event.type)?.inc(labels, amountOf(event));
      if (event.type === 'reserved') reservedUnits.inc(labels, event.qty);
    },
    observeReservation(seconds, outcome) {
      latency.observe({ outcome }, seconds);
    },
  };
}
