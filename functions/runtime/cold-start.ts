import { InputValidationError } from '@vpc-guard/shared';
import { loadRuntimeConfig, type RuntimeConfig } from './config';
import type { FunctionName } from './function-names';
import { logger } from './observability';

/**
 * Validates the environment of `functionName` and returns its configuration: called once, at module
 * load (the cold start). A configuration error is logged as structured JSON, naming each variable,
 * then thrown, so the function fails its init instead of running half-configured.
 */
export function loadConfigAtColdStart(functionName: FunctionName): RuntimeConfig {
  try {
    return loadRuntimeConfig(functionName);
  } catch (error) {
    if (error instanceof InputValidationError) {
      logger.error('configuration rejected at cold start', { problems: error.problems });
    }
    throw error;
  }
}
