import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { REGION_PATTERN, parseArn } from '@vpc-guard/shared/aws/shapes';
import { InputValidationError } from '@vpc-guard/shared/errors';
import { guardPolicyAsJson } from '@vpc-guard/shared/policy/load';
import type { FunctionName } from '../../runtime/function-names';
import { createLocalContext } from '../../runtime/local-context';
import { PipelineError } from '../../runtime/pipeline-report';
import { CliInputError, EXIT_CODES, type CliContext, type ExitCode } from '../context';

/**
 * `vpc-guard invoke <function> --event FILE`: runs a Lambda handler here, the real module with a
 * Lambda-like context, against whatever AWS the SDK is pointed at (credentials from the standard
 * chain, `AWS_ENDPOINT_URL` honoured), so a real event can be replayed before deploying. The
 * function's environment comes from this process's; `--policy FILE` (YAML or JSON) is validated,
 * written as JSON to a scratch file (the functions read JSON, as the stack publishes it) and
 * POLICY_SOURCE set to that file.
 */

/** The options of `vpc-guard invoke`, as commander parses them. */
export interface InvokeCommandOptions {
  readonly event: string;
  readonly policy?: string;
  /** Seconds before the context says time is up. */
  readonly timeout: number;
}

/** A handler as Lambda calls it. */
type LambdaHandler = (
  event: unknown,
  context: ReturnType<typeof createLocalContext>,
) => Promise<unknown>;

/**
 * Each function's handler module (the entries of runtime/bundling.ts). The specifiers are literal so
 * that the compiled CLI carries each handler as a chunk of its own, loaded only by `invoke` and
 * sharing the SDK and the core with the other commands; from source they are the same modules.
 */
const HANDLER_MODULES: Readonly<Record<FunctionName, () => Promise<unknown>>> = {
  'config-rule': () => import('../../config-rule/handler'),
  'api-event': () => import('../../api-event/handler'),
  sweep: () => import('../../sweep/handler'),
  'slack-notifier': () => import('../../slack-notifier/handler'),
};

/** The region an event belongs to: EventBridge's `region`, the Config rule ARN's, the SNS topic's. */
export function regionOfEvent(event: unknown): string | undefined {
  if (event === null || typeof event !== 'object') return undefined;
  const record = event as Record<string, unknown>;
  const candidates = [
    record['region'],
    typeof record['configRuleArn'] === 'string'
      ? parseArn(record['configRuleArn'])?.region
      : undefined,
  ];
  const records = record['Records'];
  if (Array.isArray(records)) {
    const sns = (records[0] as { Sns?: { TopicArn?: unknown } } | undefined)?.Sns;
    if (typeof sns?.TopicArn === 'string') candidates.push(parseArn(sns.TopicArn)?.region);
  }
  return candidates.find(
    (value): value is string => typeof value === 'string' && REGION_PATTERN.test(value),
  );
}

/** Exit 1 when the handler's result reports a non-compliant VPC, as `scan` would. */
function nonCompliantIn(result: unknown): boolean {
  const report = (result as { report?: { targets?: { nonCompliant?: number }[] } } | null)?.report;
  return (report?.targets ?? []).some((target) => (target.nonCompliant ?? 0) > 0);
}

/**
 * The policy file given with `--policy`, validated and written as JSON (the form the functions read)
 * into a scratch directory; returns that file. Errors name the file as the user gave it.
 */
async function writePolicyAsJson(path: string, context: CliContext, directory: string) {
  let text: string;
  try {
    text = await readFile(resolve(context.cwd, path), 'utf8');
  } catch (error) {
    throw new CliInputError(`${path}: cannot read the policy file (${(error as Error).message})`, {
      cause: error,
    });
  }
  const file = join(directory, 'policy.json');
  await writeFile(file, guardPolicyAsJson(text, path), 'utf8');
  return file;
}

async function readEvent(path: string, context: CliContext): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(resolve(context.cwd, path), 'utf8');
  } catch (error) {
    throw new CliInputError(`${path}: cannot read the event file (${(error as Error).message})`, {
      cause: error,
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CliInputError(`${path}: not valid JSON (${(error as Error).message})`, {
      cause: error,
    });
  }
}

/**
 * Runs `fn` with stdout sent to stderr: the handler's logs and metrics are not this command's
 * output, its result is (so `vpc-guard invoke ... | jq` works).
 */
async function withLogsOnStderr<T>(context: CliContext, fn: () => Promise<T>): Promise<T> {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk: string | Uint8Array) => {
    context.printer.err(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  try {
    return await fn();
  } finally {
    process.stdout.write = write;
  }
}

/**
 * Runs `vpc-guard invoke`. Exit 0 when the handler returned and found nothing non-compliant; 1 when
 * it found something non-compliant, or failed in part (the report of what worked is printed); 2 when
 * the event, the environment or the policy is invalid (the message names the field or variable).
 */
export async function runInvoke(
  functionName: FunctionName,
  options: InvokeCommandOptions,
  context: CliContext,
): Promise<ExitCode> {
  const event = await readEvent(options.event, context);
  // The function reads its environment at cold start, from this process: set what the flags say.
  const region = context.env['AWS_REGION'] ?? regionOfEvent(event);
  if (region !== undefined) process.env['AWS_REGION'] = region;
  const policy = options.policy;
  const scratch =
    policy === undefined ? undefined : await mkdtemp(join(tmpdir(), 'vpc-guard-invoke-'));
  const lambdaContext = createLocalContext({
    functionName: `vpc-guard-${functionName}`,
    region: region ?? 'us-east-1',
    timeoutMs: options.timeout * 1000,
    clock: () => context.now().getTime(),
  });
  try {
    if (policy !== undefined && scratch !== undefined) {
      process.env['POLICY_SOURCE'] = `file:${await writePolicyAsJson(policy, context, scratch)}`;
    }
    const result = await withLogsOnStderr(context, async () => {
      const { handler } = (await HANDLER_MODULES[functionName]()) as { handler: LambdaHandler };
      return handler(event, lambdaContext);
    });
    context.printer.out(`${JSON.stringify(result, null, 2)}\n`);
    return nonCompliantIn(result) ? EXIT_CODES.nonCompliant : EXIT_CODES.ok;
  } catch (error) {
    if (error instanceof PipelineError) {
      context.printer.err(`vpc-guard: ${error.message}\n`);
      context.printer.out(`${JSON.stringify(error.report, null, 2)}\n`);
      return EXIT_CODES.nonCompliant;
    }
    if (error instanceof InputValidationError) {
      context.printer.err(`vpc-guard: error: ${error.message}\n`);
      return EXIT_CODES.usage;
    }
    throw error;
  } finally {
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  }
}
