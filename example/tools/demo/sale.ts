/** How the buyers' requests were answered. */
export interface SaleCounts {
  answered: number;
  sold: number;
  soldOut: number;
  declined: number;
  /** Anything else (5xx, network errors): each is a problem worth a look. */
  other: number;
}

interface Buyer {
  payment: 'card' | 'decline';
}

/** `count` buyers of one unit each; about `declineShare` of them will have their payment declined. */
export function makeBuyers(count: number, declineShare: number): Buyer[] {
  return Array.from({ length: count }, () => ({ payment: Math.random() < declineShare ? 'decline' : 'card' }));
}

async function buy(url: string, sku: string, buyer: Buyer): Promise<number> {
  try {
    const response = await fetch(`${url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku, qty: 1, payment: buyer.payment }),
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
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
  onAnswer: (counts: SaleCounts) => void,
): Promise<SaleCounts> {
  const counts: SaleCounts = { answered: 0, sold: 0, soldOut: 0, declined: 0, other: 0 };
  let next = 0;
  const worker = async () => {
    while (next < buyers.length) {
      const buyer = buyers[next++] as Buyer;
      tally(counts, await buy(url, sku, buyer));
      onAnswer(counts);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, buyers.length) }, worker));
  return counts;
}
