/**
 * Two data-layer jobs in alternating rounds (A B, B A, ...), so that the
 * shared machine's drifting load falls on both sides of their ratio alike.
 */

/** One side's share of a round: run `calls` calls. */
export type Segment = (calls: number) => Promise<void>;

/** Runs `first` and `second` in `rounds` alternating rounds that add up to `calls` calls each. */
export async function alternateRounds(rounds: number, calls: number, [first, second]: [Segment, Segment]): Promise<void> {
  for (let r = 0; r < rounds; r++) {
    // Round r gets its share of the calls, so that the rounds add up exactly.
    const share = Math.floor((calls * (r + 1)) / rounds) - Math.floor((calls * r) / rounds);
    for (const segment of r % 2 === 0 ? [first, second] : [second, first]) await segment(share);
  }
}
