import { dependenciesAtColdStart } from '../runtime/dependencies';
import { createSweepChildHandler } from './create-task-handlers';

/** The sweep state machine's Distributed Map child (Lambda entry point): one account-region. */
export const handler = createSweepChildHandler(dependenciesAtColdStart('sweep'));
