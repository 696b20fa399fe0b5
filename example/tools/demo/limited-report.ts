import type { BurstTally, LimitedOutcome, LimitedSale } from './limited-sale';

/** What the database and Redis hold once the limited sale is over. */
export interface LimitedSettled {
  /** Units in the product's order rows, per customer. */
  units: Map<string, number>;
  dbStock: number;
  /** `null` when Redis holds no figure. */
  redisStock: number | null;
}

export interface LimitedVerdict {
  /** The most units one customer has in the order rows. */
  most: number;
  /** Customers with more units than the limit. */
  overLimit: string[];
  unitsOrdered: number;
  /** Units the crowd (every customer but the greedy ones) has. */
  toOthers: number;
  soldOut: boolean;
  /** Answers that were neither 201 nor 409 (5xx, network errors). */
  other: number;
  ok: boolean;
}

/**
 * No customer above the limit, in the database; the product sold out (every
 * unit in an order row, none left in the database or in Redis); 201s and
 * order rows agree; no answer but 201 and 409.
 */
export function judgeLimited(sale: LimitedSale, outcome: LimitedOutcome, settled: LimitedSettled): LimitedVerdict {
  const greedy = new Set(outcome.bursts.map((b) => b.customer));
  const all = [...settled.units.entries()];
  const unitsOrdered = all.reduce((sum, [, units]) => sum + units, 0);
  const tallies = [...outcome.bursts, outcome.crowd];
  const answered201 = tallies.reduce((sum, t) => sum + t.sold, 0);
  const other = tallies.reduce((sum, t) => sum + t.other, 0);
  const overLimit = all.filter(([, units]) => units > sale.limit).map(([customer]) => customer);
  const soldOut = unitsOrdered === sale.units && settled.dbStock === 0 && (settled.redisStock ?? 0) === 0;
  return {
    most: Math.max(0, ...all.map(([, units]) => units)),
    overLimit,
    unitsOrdered,
    toOthers: all.filter(([customer]) => !greedy.has(customer)).reduce((sum, [, units]) => sum + units, 0),
    soldOut,
    other,
    ok: overLimit.length === 0 && soldOut && answered201 === unitsOrdered && other === 0,
  };
}

function row(cells: (string | number)[], widths: number[]): string {
  return cells.map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i] as number) : String(cell).padStart(widths[i] as number))).join('  ');
}

/** A row per greedy buyer and one for the crowd: their answers, and their units as the order rows have them. */
export function printLimitedTable(sale: LimitedSale, outcome: LimitedOutcome, settled: LimitedSettled, verdict: LimitedVerdict): void {
  const head = ['customer', 'requests', '201', '409 limit', '409 sold out', 'other', 'units in the database'];
  const cells = (t: BurstTally, units: number) => [t.customer, t.requests, t.sold, t.limited, t.soldOut, t.other, units];
  const rows = [...outcome.bursts.map((b) => cells(b, settled.units.get(b.customer) ?? 0)), cells(outcome.crowd, verdict.toOthers)];
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => String(r[i]).length)));
  console.log('');
  for (const r of all) console.log(`  ${row(r, widths)}`);
  console.log('');
  console.log(`  most units one customer has in the database: ${verdict.most} (limit ${sale.limit})`);
  console.log(`  database stock ${settled.dbStock}, Redis stock ${settled.redisStock ?? 'not loaded'}`);
  console.log('');
}
