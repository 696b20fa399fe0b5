import type { SaleCounts } from './sale';

/** What the database and Redis hold once the sale is over. */
export interface Settled {
  initial: number;
  /** Units in the product's order rows. */
  unitsOrdered: number;
  dbStock: number;
  /** `null` when Redis holds no figure. */
  redisStock: number | null;
}

export interface Verdict {
  oversold: number;
  lost: number;
  /** Redis above the database: buyers would pass Redis and be refused by the database guard. */
  redisExcess: number;
}

/**
 * Oversold: units ordered beyond what existed. Lost: units that neither
 * were sold nor can still be sold, because the database's books do not
 * balance or Redis holds fewer than the database.
 */
export function judge({ initial, unitsOrdered, dbStock, redisStock }: Settled): Verdict {
  const redis = redisStock ?? dbStock; // not loaded: the next buyer loads the database figure
  return {
    oversold: Math.max(0, unitsOrdered - initial) + Math.max(0, -dbStock),
    lost: Math.max(0, initial - unitsOrdered - dbStock) + Math.max(0, dbStock - redis),
    redisExcess: Math.max(0, redis - dbStock),
  };
}

export function printTable(counts: SaleCounts, settled: Settled, verdict: Verdict): void {
  const rows: [string, string | number][] = [
    ['sold (orders in the database)', settled.unitsOrdered],
    ['sold out (409)', counts.soldOut],
    ['declined and rolled back (402)', counts.declined],
    ...(counts.other > 0 ? ([['other answers (5xx, network)', counts.other]] as [string, number][]) : []),
    ['database stock', settled.dbStock],
    ['Redis stock', settled.redisStock ?? 'not loaded'],
    ['oversold', verdict.oversold],
    ['lost', verdict.lost],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  console.log('');
  for (const [label, value] of rows) console.log(`  ${label.padEnd(width)}  ${String(value).padStart(6)}`);
  console.log('');
}
