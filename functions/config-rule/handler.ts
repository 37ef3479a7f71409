import { dependenciesAtColdStart } from '../runtime/dependencies';
import { createConfigRuleHandler } from './create-handler';

/**
 * AWS Config custom rule (Lambda entry point). The environment is validated here, at cold start: a
 * bad or missing variable fails the init with its name.
 */
export const handler = createConfigRuleHandler(dependenciesAtColdStart('config-rule'));
