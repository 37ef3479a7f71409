import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ACCOUNT_ID_PATTERN, parseArn } from '@vpc-guard/shared';
import type { Dependencies } from './dependencies';
import { METRIC, logger, metrics } from './observability';

/**
 * Events are bound to their account. An event is untrusted input, even when EventBridge or Config
 * delivered it: the account a function acts on is the account its credentials belong to (STS), never
 * a field of the event. Every account an event names must agree; in standalone mode that account is
 * the function's own, in hub mode one of the accounts in scope. Anything else is rejected before any
 * AWS call about it: logged, and counted as `EventsRejected` with a `reason` dimension.
 */

/** Why an event was rejected (the metric's `reason` dimension). */
export type RejectionReason = 'foreign-account' | 'accounts-disagree' | 'out-of-scope';

/** One account field of an event: where it is, what it says. */
export interface AccountField {
  /** The field's path in the event, e.g. `detail.recipientAccountId`. */
  readonly field: string;
  readonly accountId: string;
}

/** What the event may act on, or why it may not. */
export type AccountBinding =
  | { readonly kind: 'bound'; readonly accountId: string }
  | {
      readonly kind: 'rejected';
      readonly reason: RejectionReason;
      readonly message: string;
      /** The account the event claimed (its first account field). */
      readonly accountId: string;
    };

/**
 * The account id of an ARN (its fifth field), when it has one. Any partition counts: an ARN whose
 * account disagrees is a reason to reject the event, however odd the rest of it.
 */
export function accountOfArn(arn: string | null | undefined): string | undefined {
  const account = arn ? parseArn(arn)?.account : undefined;
  return account !== undefined && ACCOUNT_ID_PATTERN.test(account) ? account : undefined;
}

/**
 * Binds an event to the account it may act on. Its account fields must all agree (a field that is
 * absent is not counted); then the account must be the function's own (standalone, learned from STS
 * once per cold start) or in the hub's scope.
 */
export async function bindEventAccount(
  deps: Pick<Dependencies, 'config' | 'ownAccount' | 'accountInScope'>,
  fields: readonly AccountField[],
): Promise<AccountBinding> {
  const [first] = fields;
  if (first === undefined) throw new Error('bindEventAccount: an event names at least one account');
  const other = fields.find((field) => field.accountId !== first.accountId);
  if (other !== undefined) {
    return {
      kind: 'rejected',
      reason: 'accounts-disagree',
      message: `the event's account fields disagree: ${first.field} is ${first.accountId}, ${other.field} is ${other.accountId}`,
      accountId: first.accountId,
    };
  }
  const claimed = first.accountId;
  if (deps.config.mode === 'standalone') {
    const own = await deps.ownAccount();
    if (claimed !== own) {
      return {
        kind: 'rejected',
        reason: 'foreign-account',
        message: `the event is about account ${claimed}; this function's credentials belong to ${own}, and it acts on no other account`,
        accountId: claimed,
      };
    }
    return { kind: 'bound', accountId: own };
  }
  if (!(await deps.accountInScope(claimed))) {
    return {
      kind: 'rejected',
      reason: 'out-of-scope',
      message: `account ${claimed} is not in scope of this hub (MEMBER_ACCOUNTS${deps.config.targetOrganizationalUnits.length > 0 ? ', TARGET_OUS' : ''})`,
      accountId: claimed,
    };
  }
  return { kind: 'bound', accountId: claimed };
}

/** Logs a rejected event and counts it by reason (flushed at once, with its own dimension). */
export function recordRejection(
  eventId: string,
  binding: Extract<AccountBinding, { kind: 'rejected' }>,
  fields: readonly AccountField[],
): void {
  const single = metrics.singleMetric();
  single.addDimension('reason', binding.reason);
  single.addMetric(METRIC.eventsRejected, MetricUnit.Count, 1);
  logger.warn('event rejected', {
    eventId,
    reason: binding.reason,
    detail: binding.message,
    accountFields: fields,
  });
}
