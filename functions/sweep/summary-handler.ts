import { dependenciesAtColdStart } from '../runtime/dependencies';
import { createSweepSummaryHandler } from './create-task-handlers';

/** The sweep state machine's last task (Lambda entry point): the run summary (S3 for run files). */
export const handler = createSweepSummaryHandler(dependenciesAtColdStart('sweep'));
