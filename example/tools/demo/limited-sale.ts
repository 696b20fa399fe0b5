/**
 * The demo's sale of a product with a per-customer limit: a few buyers (a
 * bot, a buyer with ten tabs open) each fire a burst of orders at once,
 * while a crowd of other customers buy one unit each. Every buyer is named
 * with X-Customer-Id (the admin token lets the demo do that), so the order
 * rows say afterwards what each customer got.
 */
import { buy, runSale, type Answer, type Buyer } from './sale';

export interface LimitedSale {
  units: number;
  /** The product's per-customer limit. */
  limit: number;
  /** Buyers who fire a burst each, and the orders in a burst (all sent at once). */
  greedy: number;
  burst: number;
  /** Other customers, one order of one unit each, `concurrency` at a time. */
  crowd: number;
  concurrency: number;
}

/** How one greedy buyer's burst (or the crowd's orders) was answered. */
export interface BurstTally {
  customer: string;
  requests: number;
  sold: number;
  /** 409 ERR_RESERVE_STOCK_LIMIT: the limit reached. */
  limited: number;
  /** 409 for any other reason: sold out. */
  soldOut: number;
  /** Anything else (402, 5xx, network errors). */
  other: number;
}

export interface LimitedOutcome {
  bursts: BurstTally[];
  /** The other customers' answers, together. */
  crowd: BurstTally;
}

export const LIMIT_CODE = 'ERR_RESERVE_STOCK_LIMIT';

/** The greedy buyers' names; the crowd's are `buyer-<n>`. */
export const greedyName = (i: number) => `bot-${i + 1}`;

function as(customer: string, adminToken: string): Record<string, string> {
  return { authorization: `Bearer ${adminToken}`, 'x-customer-id': customer };
}

function tally(customer: string, answers: Answer[]): BurstTally {
  const count = (test: (a: Answer) => boolean) => answers.filter(test).length;
  const sold = count((a) => a.status === 201);
  const limited = count((a) => a.status === 409 && a.code === LIMIT_CODE);
  const soldOut = count((a) => a.status === 409 && a.code !== LIMIT_CODE);
  return { customer, requests: answers.length, sold, limited, soldOut, other: answers.length - sold - limited - soldOut };
}

/** Runs the bursts and the crowd at the same time, against the product `sku` the caller made. */
export async function runLimitedSale(url: string, adminToken: string, sku: string, sale: LimitedSale): Promise<LimitedOutcome> {
  const burst = async (customer: string) =>
    tally(customer, await Promise.all(Array.from({ length: sale.burst }, () => buy(url, sku, 'card', as(customer, adminToken)))));
  const crowd: Buyer[] = Array.from({ length: sale.crowd }, (_, i) => ({ payment: 'card', headers: as(`buyer-${i + 1}`, adminToken) }));
  const answers: Answer[] = [];
  const [bursts] = await Promise.all([
    Promise.all(Array.from({ length: sale.greedy }, (_, i) => burst(greedyName(i)))),
    runSale(url, sku, crowd, sale.concurrency, (_, answer) => answers.push(answer)),
  ]);
  return { bursts, crowd: tally(`${sale.crowd} other customers`, answers) };
}
