import { createSweepSummaryHandler } from './create-task-handlers';

/** The sweep state machine's last task (Lambda entry point): the run summary. Needs no AWS client. */
export const handler = createSweepSummaryHandler();
