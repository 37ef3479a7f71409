import fc from 'fast-check';

/**
 * Property tests explore new random cases on every local run; under CI (`CI=true`) they replay one
 * seed, so a submission's result does not depend on the draw. `FAST_CHECK_SEED` picks the seed (to
 * replay a counterexample a local run printed, or to explore in CI).
 */
const seed = process.env['FAST_CHECK_SEED'] ?? (process.env['CI'] ? '20261203' : undefined);
if (seed !== undefined) fc.configureGlobal({ seed: Number(seed) });
