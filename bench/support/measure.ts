/** One benchmark case: `run` performs one call and must be awaited. */
export interface BenchCase {
  readonly name: string;
  readonly run: () => Promise<unknown>;
}

/** Nanoseconds per call of `run`, over `iterations` sequential awaited calls. */
async function timeRound(run: () => Promise<unknown>, iterations: number): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await run();
  return Number(process.hrtime.bigint() - started) / iterations;
}

/**
 * Median ns/call of each case. Rounds are interleaved (case A, case B, ... then again) so that a slow patch of the
 * machine affects every case alike; the first rounds warm the JIT and are discarded.
 */
export async function measure(
  cases: readonly BenchCase[],
  { iterations = 100_000, rounds = 7, warmupRounds = 2 } = {},
): Promise<Map<string, number>> {
  const samples = new Map<string, number[]>(cases.map((entry) => [entry.name, []]));
  for (let round = 0; round < warmupRounds + rounds; round++) {
    for (const entry of cases) {
      const nsPerCall = await timeRound(entry.run, iterations);
      if (round >= warmupRounds) samples.get(entry.name)!.push(nsPerCall);
    }
  }
  return new Map([...samples].map(([name, values]) => [name, median(values)]));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * The middle of `values` as the bench scripts report it: the element at half the length once sorted, so for an even
 * count the upper of the two middle values, and always a figure that was measured.
 */
export function middleValue(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}
