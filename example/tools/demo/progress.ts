import type { SaleCounts } from './sale';

function line(counts: SaleCounts, total: number): string {
  const { answered, sold, soldOut, declined, other } = counts;
  const extra = other > 0 ? ` · ${other} other` : '';
  return `  ${String(answered).padStart(String(total).length)}/${total} answered · ${sold} sold · ${soldOut} sold out · ${declined} declined${extra}`;
}

/**
 * Progress of the sale: one line rewritten in place on a terminal, a line
 * per tenth of the buyers otherwise (CI logs, pipes).
 */
export function progressPrinter(total: number): { update(counts: SaleCounts): void; done(counts: SaleCounts): void } {
  const tty = process.stdout.isTTY === true;
  const step = Math.max(1, Math.round(total / 10));
  let lastDraw = 0;
  return {
    update(counts) {
      if (tty) {
        const now = Date.now();
        if (now - lastDraw < 80) return;
        lastDraw = now;
        process.stdout.write(`\r${line(counts, total)}`);
      } else if (counts.answered % step === 0 && counts.answered < total) {
        console.log(line(counts, total));
      }
    },
    done(counts) {
      if (tty) process.stdout.write(`\r${line(counts, total)}\n`);
      else console.log(line(counts, total));
    },
  };
}
