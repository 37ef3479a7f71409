import { dependenciesAtColdStart } from '../runtime/dependencies';
import { createSweepListTargetsHandler } from './create-task-handlers';

/** The sweep state machine's first task (Lambda entry point): the run's account-regions. */
export const handler = createSweepListTargetsHandler(dependenciesAtColdStart('sweep'));
