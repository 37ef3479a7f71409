/** How many cases a property test draws, in the default run and in the deep one. */
export interface PropertyRuns {
  /** The default run (`npm test`): enough to exercise every branch of the property. */
  readonly quick: number;
  /** The deep run (`npm run test:deep`, i.e. `FAST_CHECK_RUNS=deep`). */
  readonly deep: number;
}

/**
 * The `numRuns` of a property. `npm test` draws `quick` cases, a new draw on every local run;
 * `FAST_CHECK_RUNS=deep` draws `deep`, and `FAST_CHECK_RUNS=<n>` draws exactly `n` for every property
 * (with `FAST_CHECK_SEED`, to replay a counterexample found in a deep run).
 */
export function propertyRuns(runs: PropertyRuns): number {
  const setting = process.env['FAST_CHECK_RUNS'];
  if (setting === undefined || setting === '') return runs.quick;
  if (setting === 'deep') return runs.deep;
  const count = Number(setting);
  if (!Number.isInteger(count) || count < 1) {
    throw new Error(`FAST_CHECK_RUNS: expected "deep" or a positive integer, got "${setting}"`);
  }
  return count;
}
