import { dependenciesAtColdStart } from '../runtime/dependencies';
import { createSweepHandler } from './create-handler';

/**
 * Scheduled sweep of every configured region and account (Lambda entry point). The environment is
 * validated here, at cold start: a bad or missing variable fails the init with its name.
 */
export const handler = createSweepHandler(dependenciesAtColdStart('sweep'));
