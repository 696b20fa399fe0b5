/** How the buyers' requests were answered. */
export interface SaleCounts {
  answered: number;
  sold: number;
  soldOut: number;
  declined: number;
  /** Anything else (5xx, network errors): each is a problem worth a look. */
  other: number;
}

export interface Buyer {
  payment: 'card' | 'decline';
  /** Sent with the order: X-Customer-Id (with the admin token) names the customer, say. */
  headers?: Record<string, string>;
}

/** `count` buyers of one unit each; about `declineShare` of them will have their payment declined. */
export function makeBuyers(count: number, declineShare: number): Buyer[] {
  return Array.from({ length: count }, () => ({ payment: Math.random() < declineShare ? 'decline' : 'card' }));
}

/** How the shop answered one order: its status (0: no answer) and, for an error, its code. */
export interface Answer {
  status: number;
  code?: string;
}

/** One unit of `sku` through `POST /orders`; `headers` name the customer, say. Never throws. */
export async function buy(url: string, sku: string, payment: string, headers: Record<string, string> = {}): Promise<Answer> {
  try {
    const response = await fetch(`${url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ sku, qty: 1, payment }),
    });
    const body = (await response.json().catch(() => ({}))) as { error?: { code?: string } };
    return { status: response.status, code: body.error?.code };
  } catch {
    return { status: 0 };
  }
}

function tally(counts: SaleCounts, status: number): void {
  counts.answered++;
  if (status === 201) counts.sold++;
  else if (status === 409) counts.soldOut++;
  else if (status === 402) counts.declined++;
  else counts.other++;
}

/** Sends every buyer, at most `concurrency` at a time, calling `onAnswer` after each answer. */
export async function runSale(
  url: string,
  sku: string,
  buyers: Buyer[],
  concurrency: number,
  onAnswer: (counts: SaleCounts, answer: Answer) => void,
): Promise<SaleCounts> {
  const counts: SaleCounts = { answered: 0, sold: 0, soldOut: 0, declined: 0, other: 0 };
  let next = 0;
  const worker = async () => {
    while (next < buyers.length) {
      const buyer = buyers[next++] as Buyer;
      const answer = await buy(url, sku, buyer.payment, buyer.headers);
      tally(counts, answer.status);
      onAnswer(counts, answer);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, buyers.length) }, worker));
  return counts;
}
