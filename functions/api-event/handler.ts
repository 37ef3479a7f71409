import { dependenciesAtColdStart } from '../runtime/dependencies';
import { createApiEventHandler } from './create-handler';

/**
 * EventBridge: CloudTrail EC2 calls and Config compliance changes (Lambda entry point). The
 * environment is validated here, at cold start: a bad or missing variable fails the init with its name.
 */
export const handler = createApiEventHandler(dependenciesAtColdStart('api-event'));
