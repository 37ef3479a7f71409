/**
 * Reads an endpoint policy the way IAM does, into a normalised shape the analysis can walk without
 * re-checking types: every list is an array, every condition operator is split into its parts, every
 * condition key is lower-cased. Anything IAM would reject is a parse error, never an exception.
 */

/** The largest endpoint policy AWS accepts, whitespace included (VPC user guide, "Considerations"). */
export const MAX_ENDPOINT_POLICY_LENGTH = 20_480;

/** Policy language versions IAM accepts. */
const POLICY_VERSIONS = new Set(['2012-10-17', '2008-10-17']);
const POLICY_KEYS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_KEYS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);
const PRINCIPAL_TYPES = ['AWS', 'Service', 'Federated', 'CanonicalUser'] as const;

/** Condition operators IAM knows, lower-cased, without `ForAnyValue:`/`ForAllValues:` or `IfExists`. */
const CONDITION_OPERATORS = new Set([
  'stringequals',
  'stringnotequals',
  'stringequalsignorecase',
  'stringnotequalsignorecase',
  'stringlike',
  'stringnotlike',
  'numericequals',
  'numericnotequals',
  'numericlessthan',
  'numericlessthanequals',
  'numericgreaterthan',
  'numericgreaterthanequals',
  'dateequals',
  'datenotequals',
  'datelessthan',
  'datelessthanequals',
  'dategreaterthan',
  'dategreaterthanequals',
  'bool',
  'binaryequals',
  'ipaddress',
  'notipaddress',
  'arnequals',
  'arnlike',
  'arnnotequals',
  'arnnotlike',
  'null',
]);

/** A principal type of the `Principal` element. */
export type PrincipalType = (typeof PRINCIPAL_TYPES)[number];

/** The `Principal` or `NotPrincipal` element. */
export interface ParsedPrincipal {
  /** True for `NotPrincipal`. */
  readonly negated: boolean;
  /** True for the bare string `"*"`. */
  readonly wildcard: boolean;
  /** The typed entries (`{"AWS": [...]}`), empty for the bare `"*"`. */
  readonly entries: readonly { readonly type: PrincipalType; readonly values: readonly string[] }[];
  /** The element as written, compact, for messages. */
  readonly text: string;
}

/** `Action`/`NotAction` or `Resource`/`NotResource`. */
export interface ParsedList {
  readonly negated: boolean;
  readonly values: readonly string[];
}

/** One key of one condition operator, e.g. `StringEqualsIfExists` / `aws:PrincipalOrgID`. */
export interface ParsedCondition {
  /** The operator as written. */
  readonly operator: string;
  /** The base operator, lower-cased: `stringequals` for `ForAnyValue:StringEqualsIfExists`. */
  readonly base: string;
  readonly ifExists: boolean;
  readonly setOperator: 'ForAnyValue' | 'ForAllValues' | null;
  /** The key, lower-cased (IAM condition keys are case-insensitive). */
  readonly key: string;
  /** The key as written. */
  readonly keyText: string;
  /** The values as strings (`true` and `"true"` are the same to IAM). */
  readonly values: readonly string[];
}

/** One statement, normalised. */
export interface ParsedStatement {
  readonly index: number;
  /** `Sid`, else `#<index>`. */
  readonly id: string;
  readonly effect: 'Allow' | 'Deny';
  readonly principal: ParsedPrincipal;
  readonly actions: ParsedList;
  readonly resources: ParsedList;
  readonly conditions: readonly ParsedCondition[];
}

/** A policy IAM would accept, normalised. */
export interface ParsedPolicy {
  readonly statements: readonly ParsedStatement[];
}

/** The outcome of {@link parseEndpointPolicy}: a policy, or why there is none. */
export type ParseResult =
  | { readonly ok: true; readonly policy: ParsedPolicy }
  | { readonly ok: false; readonly error: string };

class PolicyShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyShapeError';
  }
}

function fail(message: string): never {
  throw new PolicyShapeError(message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  // JSON.stringify gives undefined for functions and symbols, which no parsed JSON holds.
  const text = (JSON.stringify(value) as string | undefined) ?? typeof value;
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function compact(value: unknown, limit = 80): string {
  const text = (JSON.stringify(value) as string | undefined) ?? typeof value;
  return text.length > limit ? `${text.slice(0, limit - 3)}...` : text;
}

function stringList(value: unknown, path: string): string[] {
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0) fail(`${path}: expected a string or a non-empty list of strings, got []`);
  return items.map((item, index) => {
    if (typeof item !== 'string' || item === '') {
      fail(
        `${path}${Array.isArray(value) ? `[${index}]` : ''}: expected a non-empty string, got ${describeValue(item)}`,
      );
    }
    return item;
  });
}

function parsePrincipal(statement: Record<string, unknown>, path: string): ParsedPrincipal {
  const hasPrincipal = 'Principal' in statement;
  const hasNot = 'NotPrincipal' in statement;
  if (hasPrincipal && hasNot) fail(`${path}: expected Principal or NotPrincipal, got both`);
  // An endpoint policy "must contain a Principal element" (VPC user guide, "Considerations").
  if (!hasPrincipal && !hasNot) fail(`${path}: expected a Principal element, got none`);
  const name = hasPrincipal ? 'Principal' : 'NotPrincipal';
  const element = statement[name];
  const text = `${name} ${compact(element)}`;
  if (element === '*') return { negated: hasNot, wildcard: true, entries: [], text };
  if (!isRecord(element)) {
    fail(`${path}.${name}: expected "*" or an object, got ${describeValue(element)}`);
  }
  const entries: { type: PrincipalType; values: string[] }[] = [];
  for (const [type, values] of Object.entries(element)) {
    if (!(PRINCIPAL_TYPES as readonly string[]).includes(type)) {
      fail(
        `${path}.${name}: expected the keys AWS, Service, Federated or CanonicalUser, got ${JSON.stringify(type)}`,
      );
    }
    entries.push({
      type: type as PrincipalType,
      values: stringList(values, `${path}.${name}.${type}`),
    });
  }
  if (entries.length === 0) fail(`${path}.${name}: expected at least one principal, got {}`);
  return { negated: hasNot, wildcard: false, entries, text };
}

function parseList(
  statement: Record<string, unknown>,
  path: string,
  name: 'Action' | 'Resource',
): ParsedList {
  const notName = `Not${name}`;
  const has = name in statement;
  const hasNot = notName in statement;
  if (has && hasNot) fail(`${path}: expected ${name} or ${notName}, got both`);
  if (!has && !hasNot) fail(`${path}: expected ${name} or ${notName}, got neither`);
  const key = has ? name : notName;
  return { negated: hasNot, values: stringList(statement[key], `${path}.${key}`) };
}

function conditionValue(value: unknown, path: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  return fail(`${path}: expected a string, number or boolean, got ${describeValue(value)}`);
}

function parseConditions(value: unknown, path: string): ParsedCondition[] {
  if (value === undefined) return [];
  if (!isRecord(value)) {
    fail(`${path}: expected an object of operators, got ${describeValue(value)}`);
  }
  const conditions: ParsedCondition[] = [];
  for (const [operator, block] of Object.entries(value)) {
    let rest = operator.toLowerCase();
    let setOperator: ParsedCondition['setOperator'] = null;
    if (rest.startsWith('foranyvalue:')) {
      setOperator = 'ForAnyValue';
      rest = rest.slice('foranyvalue:'.length);
    } else if (rest.startsWith('forallvalues:')) {
      setOperator = 'ForAllValues';
      rest = rest.slice('forallvalues:'.length);
    }
    // `Null` has no IfExists form; every other operator may carry the suffix.
    const ifExists = rest !== 'null' && rest.endsWith('ifexists');
    const base = ifExists ? rest.slice(0, -'ifexists'.length) : rest;
    if (!CONDITION_OPERATORS.has(base)) {
      fail(`${path}: unknown condition operator ${JSON.stringify(operator)}`);
    }
    if (!isRecord(block)) {
      fail(
        `${path}.${operator}: expected an object of condition keys, got ${describeValue(block)}`,
      );
    }
    for (const [keyText, raw] of Object.entries(block)) {
      const keyPath = `${path}.${operator}[${JSON.stringify(keyText)}]`;
      const values = Array.isArray(raw)
        ? raw.map((item, index) => conditionValue(item, `${keyPath}[${index}]`))
        : [conditionValue(raw, keyPath)];
      conditions.push({
        operator,
        base,
        ifExists,
        setOperator,
        key: keyText.toLowerCase(),
        keyText,
        values,
      });
    }
  }
  return conditions;
}

function parseStatement(raw: unknown, index: number, path: string): ParsedStatement {
  if (!isRecord(raw)) fail(`${path}: expected a statement object, got ${describeValue(raw)}`);
  for (const key of Object.keys(raw)) {
    if (!STATEMENT_KEYS.has(key)) fail(`${path}: unknown element ${JSON.stringify(key)}`);
  }
  const sid = raw['Sid'];
  if (sid !== undefined && typeof sid !== 'string') {
    fail(`${path}.Sid: expected a string, got ${describeValue(sid)}`);
  }
  const effect = raw['Effect'];
  // IAM's Effect values are case-sensitive: "allow" is rejected, not read as "Allow".
  if (effect !== 'Allow' && effect !== 'Deny') {
    fail(`${path}.Effect: expected "Allow" or "Deny", got ${describeValue(effect)}`);
  }
  return {
    index,
    id: sid !== undefined && sid !== '' ? sid : `#${index}`,
    effect,
    principal: parsePrincipal(raw, path),
    actions: parseList(raw, path, 'Action'),
    resources: parseList(raw, path, 'Resource'),
    conditions: parseConditions(raw['Condition'], `${path}.Condition`),
  };
}

function readDocument(document: string | object): unknown {
  if (typeof document !== 'string') {
    const text = JSON.stringify(document);
    if (text.length > MAX_ENDPOINT_POLICY_LENGTH) {
      fail(
        `policy is ${text.length} characters, over the ${MAX_ENDPOINT_POLICY_LENGTH} AWS accepts`,
      );
    }
    return document;
  }
  let text = document;
  // IAM returns policies URL-encoded; EC2 does not, but a document copied from elsewhere may be.
  if (/^\s*%7B/i.test(text)) {
    try {
      text = decodeURIComponent(text);
    } catch {
      fail('policy looks URL-encoded but does not decode');
    }
  }
  if (text.length > MAX_ENDPOINT_POLICY_LENGTH) {
    fail(`policy is ${text.length} characters, over the ${MAX_ENDPOINT_POLICY_LENGTH} AWS accepts`);
  }
  if (text.trim() === '') fail('policy is empty');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    return fail(
      `policy is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/**
 * Parses an endpoint policy (a JSON string, or an already parsed object) as IAM would. Returns the
 * reason instead of throwing: bad JSON, more than {@link MAX_ENDPOINT_POLICY_LENGTH} characters, no
 * `Statement`, an `Effect` other than `"Allow"`/`"Deny"`, a missing `Principal`, `Action` or
 * `Resource`, an unknown element or condition operator.
 */
export function parseEndpointPolicy(document: string | object): ParseResult {
  try {
    const root = readDocument(document);
    if (!isRecord(root)) fail(`policy: expected a JSON object, got ${describeValue(root)}`);
    for (const key of Object.keys(root)) {
      if (!POLICY_KEYS.has(key)) fail(`policy: unknown element ${JSON.stringify(key)}`);
    }
    const version = root['Version'];
    if (version !== undefined && !(typeof version === 'string' && POLICY_VERSIONS.has(version))) {
      fail(`Version: expected "2012-10-17" or "2008-10-17", got ${describeValue(version)}`);
    }
    const statement = root['Statement'];
    if (statement === undefined) fail('policy: expected a Statement element, got none');
    const raws = Array.isArray(statement) ? statement : [statement];
    if (raws.length === 0) fail('Statement: expected at least one statement, got []');
    const statements = raws.map((raw, index) =>
      parseStatement(raw, index, Array.isArray(statement) ? `Statement[${index}]` : 'Statement'),
    );
    return { ok: true, policy: { statements } };
  } catch (error) {
    if (error instanceof PolicyShapeError) return { ok: false, error: error.message };
    return { ok: false, error: `policy could not be read: ${String(error)}` };
  }
}
