/*
 * The Lambda functions, by name, in a module of their own: the CLI lists them in `invoke --help`
 * without loading the configuration schema.
 */

/** The Lambda functions; each needs a different part of the environment. */
export const FUNCTION_NAMES = ['config-rule', 'api-event', 'sweep', 'slack-notifier'] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];
