import type * as z from 'zod';

/** Base class of every error vpc-guard throws on purpose. */
export class VpcGuardError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VpcGuardError';
  }
}

/**
 * A deployment setting (an environment variable's target, a secret, a parameter) holds something
 * unusable. The operator must fix the setting: retrying does not help, and it is not a bug. The message
 * names the setting and what was expected, never the setting's content (it may be a secret).
 */
export class ConfigurationError extends VpcGuardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigurationError';
  }
}

/** One problem in an input: where (`path`, dotted with `[i]` for array items) and what was expected. */
export interface InputProblem {
  readonly path: string;
  readonly message: string;
}

/**
 * Bad input: a policy, snapshot, event, flag or environment that does not match its schema. The message
 * names the source and every bad field, e.g.
 * `policy.yaml: profiles.regulated.endpoints.required[2].type: expected "Gateway" or "Interface", got "gateway"`.
 */
export class InputValidationError extends VpcGuardError {
  readonly source: string;
  readonly problems: readonly InputProblem[];

  constructor(source: string, problems: readonly InputProblem[], options?: { cause?: unknown }) {
    const lines = problems.map((problem) =>
      problem.path ? `${problem.path}: ${problem.message}` : problem.message,
    );
    const message =
      lines.length === 1
        ? `${source}: ${lines[0]}`
        : `${source}: ${lines.length} problems\n${lines.map((line) => `  - ${line}`).join('\n')}`;
    super(message, options);
    this.name = 'InputValidationError';
    this.source = source;
    this.problems = problems;
  }
}

/** Renders a path such as `["profiles", "regulated", "required", 2, "type"]` as `profiles.regulated.required[2].type`. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else {
      const key = String(segment);
      text += /^[\w$-]+$/.test(key) ? (text ? `.${key}` : key) : `[${JSON.stringify(key)}]`;
    }
  }
  return text;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  }
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  return `a ${typeof value}`;
}

function joinAlternatives(values: readonly unknown[]): string {
  const quoted = values.map((value) => JSON.stringify(value));
  if (quoted.length <= 1) return quoted.join('');
  return `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
}

/** Turns one zod issue into "what was expected, what was received" (the input must have been reported). */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const got = 'input' in issue ? describeValue(issue.input) : undefined;
  switch (issue.code) {
    case 'invalid_value':
      return `expected ${joinAlternatives(issue.values)}, got ${got}`;
    case 'invalid_type':
      return got === 'nothing'
        ? `expected ${issue.expected}, got nothing (the field is required)`
        : `expected ${issue.expected}, got ${got}`;
    case 'unrecognized_keys':
      return `unknown ${issue.keys.length === 1 ? 'key' : 'keys'} ${issue.keys.map((key) => JSON.stringify(key)).join(', ')}`;
    case 'invalid_union':
      return `${issue.message}, got ${got}`;
    case 'invalid_key': {
      const [inner] = issue.issues;
      return `bad key: ${inner ? inner.message : issue.message}, got ${got}`;
    }
    case 'custom':
      return issue.message;
    default:
      return got === undefined || issue.message.includes(', got ')
        ? issue.message
        : `${issue.message}, got ${got}`;
  }
}

/**
 * Parses `data` with `schema`; on failure throws an {@link InputValidationError} naming `source` and
 * every bad field.
 */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  data: unknown,
  source: string,
): z.output<S> {
  const result = schema.safeParse(data, { reportInput: true });
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => ({
    path: formatIssuePath(issue.path),
    message: describeIssue(issue),
  }));
  throw new InputValidationError(source, problems, { cause: result.error });
}
