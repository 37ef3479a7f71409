import { QueryCommand, type DynamoDBDocumentClientResolvedConfig } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { InputValidationError, parseOrThrow, type InputProblem } from '../errors';
import { RULE_IDS, SEVERITIES } from '../rules/types';
import { ALERT_SINKS, type StoredFinding } from './state';

/**
 * The findings table's shape and its items: the key schema the stack creates, how a stored finding
 * is written as an item, and how an item read back is validated before it is trusted (the table is
 * shared with whatever else can write to it). The store's reads and writes live in `store.ts`.
 */

/**
 * The table's shape, for the CDK stack that creates it:
 *
 * - partition key `pk` (String): the finding key `accountId/region/vpcId/ruleId/subject`, or
 *   `event#<eventId>` for a replay claim. No sort key.
 * - GSI `open-by-scope`: partition key `scope` (String, `accountId/region`), sort key `vpcId`
 *   (String), projection ALL. Sparse: only open findings, and resolved ones whose alert is still owed,
 *   carry `scope` (removed once the resolved alert is delivered), so a query reads what a run must
 *   act on and never claim items or settled resolved ones.
 * - TTL attribute `expiresAt` (Number, epoch seconds): on resolved findings and event claims. It also
 *   bounds the retries of a resolved alert that no sink will take.
 * - Outbox attributes of a finding whose last transition's alert some sink still owes, all removed
 *   once every sink accepted it: `pendingAlert` (Map: `id`, `transition`, and for `changed` `changes`
 *   and `previousSeverity`), `pendingSinks` (String Set: `sns`, `securityhub`; a sink is deleted
 *   from it when it accepts the alert) and `alertLeaseUntil` (Number, epoch seconds: the invocation
 *   delivering it holds it until then).
 * - On-demand billing; encryption and point-in-time recovery are the stack's choice.
 */
export const FINDINGS_TABLE_SCHEMA = {
  partitionKey: { name: 'pk', type: 'S' },
  openFindingsIndex: {
    name: 'open-by-scope',
    partitionKey: { name: 'scope', type: 'S' },
    sortKey: { name: 'vpcId', type: 'S' },
    projection: 'ALL',
  },
  ttlAttribute: 'expiresAt',
  eventKeyPrefix: 'event#',
} as const;

const StoredFindingItemSchema = z.object({
  pk: z.string().min(1),
  accountId: z.string().min(1),
  region: z.string().min(1),
  vpcId: z.string().min(1),
  ruleId: z.enum(RULE_IDS),
  subject: z.string().min(1),
  resourceId: z.string().min(1),
  severity: z.enum(SEVERITIES),
  digest: z.string().min(1),
  message: z.string(),
  profile: z.string(),
  vpcName: z.string().nullable().default(null),
  firstSeen: z.string().min(1),
  lastSeen: z.string().min(1),
  state: z.enum(['open', 'resolved']),
  resolvedAt: z.string().optional(),
  resolution: z.enum(['fixed', 'exempt', 'vpc-gone']).optional(),
  expiresAt: z.number().optional(),
  pendingAlert: z
    .object({
      id: z.string().min(1),
      transition: z.enum(['opened', 'changed', 'resolved']),
      changes: z.array(z.enum(['severity', 'evidence', 'message'])).optional(),
      previousSeverity: z.enum(SEVERITIES).optional(),
    })
    .optional(),
  // A String Set as the document client reads it; names this release does not know are ignored.
  pendingSinks: z.union([z.set(z.string()), z.array(z.string())]).optional(),
  alertLeaseUntil: z.number().optional(),
});

/**
 * The problems of an item whose attributes disagree with its own key or its index partition: this
 * store never writes one, so another writer did, and it describes no finding that can be trusted.
 */
function keyProblems(
  item: Record<string, unknown>,
  parsed: z.infer<typeof StoredFindingItemSchema>,
): InputProblem[] {
  const problems: InputProblem[] = [];
  const { accountId, region, vpcId, ruleId, subject } = parsed;
  const key = `${accountId}/${region}/${vpcId}/${ruleId}/${subject}`;
  if (parsed.pk !== key) {
    problems.push({ path: 'pk', message: `expected ${key}, the finding the item describes` });
  }
  const scope = item[FINDINGS_TABLE_SCHEMA.openFindingsIndex.partitionKey.name];
  if (scope !== undefined && scope !== `${accountId}/${region}`) {
    problems.push({
      path: 'scope',
      message: `expected ${accountId}/${region}, the account and region of the item, or nothing`,
    });
  }
  return problems;
}

/** A table item read back as a stored finding; throws {@link InputValidationError} for one not to trust. */
export function toStoredFinding(item: Record<string, unknown>, tableName: string): StoredFinding {
  const pk = typeof item['pk'] === 'string' ? item['pk'] : '?';
  const source = `${tableName} ${pk}`;
  const parsed = parseOrThrow(StoredFindingItemSchema, item, source);
  const problems = keyProblems(item, parsed);
  if (problems.length > 0) throw new InputValidationError(source, problems);
  // `kind` and `scope` are the table's business: the schema strips them.
  const { pk: key, pendingAlert, pendingSinks, alertLeaseUntil, ...rest } = parsed;
  const owed = new Set(pendingSinks ?? []);
  const sinks = ALERT_SINKS.filter((sink) => owed.has(sink));
  // With no sink left (two invocations each delivered a part), nothing is owed any more.
  if (pendingAlert === undefined || sinks.length === 0) return { key, ...rest };
  return {
    key,
    ...rest,
    pendingAlert: {
      ...pendingAlert,
      sinks,
      ...(alertLeaseUntil === undefined ? {} : { leaseUntil: alertLeaseUntil }),
    },
  };
}

/**
 * The item of a stored finding: `scope` while open or while an alert is owed, which keeps the GSI
 * sparse; the pending alert split into its map, its String Set of sinks and its lease.
 */
export function toItem(record: StoredFinding): Record<string, unknown> {
  const { key, pendingAlert, ...rest } = record;
  const item: Record<string, unknown> = { pk: key, kind: 'finding' };
  for (const [name, value] of Object.entries(rest)) if (value !== undefined) item[name] = value;
  if (pendingAlert !== undefined) {
    const { sinks, leaseUntil, ...alert } = pendingAlert;
    item['pendingAlert'] = Object.fromEntries(
      Object.entries(alert).filter(([, value]) => value !== undefined),
    );
    item['pendingSinks'] = new Set(sinks);
    if (leaseUntil !== undefined) item['alertLeaseUntil'] = leaseUntil;
  }
  if (record.state === 'open' || pendingAlert !== undefined) {
    item['scope'] = `${record.accountId}/${record.region}`;
  }
  return item;
}

/**
 * A number the SDK cannot turn into a JavaScript number (a fraction past 2^53, say) makes it fail the
 * whole page it is on; read as its text, it fails only the validation of its own item.
 */
function numberOrText(text: string): number | string {
  const value = Number(text);
  return Number.isFinite(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER ? value : text;
}

/** The document client's query, reading numbers with {@link numberOrText}: items are untrusted. */
export class UntrustedItemsQueryCommand extends QueryCommand {
  protected override addMarshallingMiddleware(
    configuration: DynamoDBDocumentClientResolvedConfig,
  ): void {
    const translate = configuration.translateConfig ?? {};
    super.addMarshallingMiddleware({
      ...configuration,
      translateConfig: {
        ...translate,
        unmarshallOptions: { ...translate.unmarshallOptions, wrapNumbers: numberOrText },
      },
    });
  }
}
