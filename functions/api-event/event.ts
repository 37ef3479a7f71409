import { VPC_RESOURCE_TYPE, VpcGuardError, describeAwsError } from '@vpc-guard/shared';
import type { Dependencies } from '../runtime/dependencies';
import {
  accountOfArn,
  bindEventAccount,
  recordRejection,
  type AccountField,
} from '../runtime/event-account';
import { METRIC, countMetric, logger } from '../runtime/observability';
import { runPipeline, type Decision } from '../runtime/pipeline';
import type { PipelineReport } from '../runtime/pipeline-report';
import type { Ec2IdKind } from '../runtime/resource-ids';
import { lookUpVpcs, lookupKindOf, ownIdentityMatch, vpcReferences } from './resolve';
import type { ApiEvent, ComplianceChangeEvent, CloudTrailEvent } from './schema';

/**
 * The api-event function: an EC2 change seen by CloudTrail, or a Config compliance change, leads to
 * the VPCs it touched being collected, evaluated, alerted on and remediated per their profile.
 * vpc-guard's own changes are ignored (no loop), and a replayed event id does nothing twice.
 */

/** How long an event id stays claimed: EventBridge and Lambda retry within a day. */
export const EVENT_CLAIM_TTL_SECONDS = 86_400;

/** What the function did with an event. */
export interface ApiEventResult {
  /**
   * `ignored`: not vpc-guard's business (or its own change); `duplicate`: a replay, nothing done;
   * `rejected`: about an account this function may not act on (or its account fields disagree).
   */
  readonly status: 'handled' | 'ignored' | 'duplicate' | 'rejected';
  readonly reason: string | null;
  readonly eventId: string;
  /** The CloudTrail event name, or `Config Rules Compliance Change`. */
  readonly event: string;
  readonly accountId: string;
  readonly region: string;
  /** The VPCs evaluated; `region` when the change could not be tied to a VPC (a region-wide run). */
  readonly vpcIds: readonly string[] | 'region';
  readonly report: PipelineReport | null;
}

/** Options of {@link handleApiEvent}. */
export interface ApiEventOptions {
  readonly invokedFunctionArn: string;
  /** Called when the decision is made (the latency benchmark). */
  readonly onDecision?: (decision: Decision) => void;
}

interface Target {
  readonly accountId: string;
  readonly region: string;
  /** VPCs named by the event, or resources to describe for them. */
  readonly vpcIds: readonly string[];
  readonly lookups: Partial<Record<Ec2IdKind, readonly string[]>>;
  readonly event: string;
}

function ignored(
  event: ApiEvent,
  target: Pick<Target, 'accountId' | 'region' | 'event'>,
  reason: string,
): ApiEventResult {
  countMetric(METRIC.eventsIgnored);
  logger.info('event ignored', { eventId: event.id, reason });
  return {
    status: 'ignored',
    reason,
    eventId: event.id,
    event: target.event,
    accountId: target.accountId,
    region: target.region,
    vpcIds: [],
    report: null,
  };
}

/** The target of a CloudTrail record, or why it is ignored. */
function cloudTrailTarget(event: CloudTrailEvent, deps: Dependencies): Target | string {
  const detail = event.detail;
  if (detail.errorCode !== undefined)
    return `the call failed (${detail.errorCode}): nothing changed`;
  const own = ownIdentityMatch(detail.userIdentity, deps.config.ownRoleArns);
  if (own !== undefined) return `made by vpc-guard itself (${own}): not evaluated again, no loop`;
  const references = vpcReferences(detail);
  return {
    accountId: detail.recipientAccountId,
    region: detail.awsRegion,
    vpcIds: references.vpcIds,
    lookups: references.lookups,
    event: detail.eventName,
  };
}

/** The target of a compliance change, or why it is ignored. */
function complianceTarget(event: ComplianceChangeEvent, deps: Dependencies): Target | string {
  const detail = event.detail;
  const ruleName = deps.config.configRuleName;
  if (ruleName !== null && detail.configRuleName !== ruleName) {
    return `a compliance change of rule ${detail.configRuleName}, not ${ruleName}`;
  }
  const base = {
    accountId: detail.awsAccountId,
    region: detail.awsRegion,
    event: event['detail-type'],
  };
  if (detail.resourceType === VPC_RESOURCE_TYPE)
    return { ...base, vpcIds: [detail.resourceId], lookups: {} };
  const kind = lookupKindOf(detail.resourceType);
  if (kind === undefined)
    return `${detail.resourceType} is not a resource type vpc-guard maps to a VPC`;
  return { ...base, vpcIds: [], lookups: { [kind]: [detail.resourceId] } };
}

/** Every account an event names: all must agree, and be one this function may act on. */
function accountFields(event: ApiEvent): AccountField[] {
  const fields: AccountField[] = [{ field: 'account', accountId: event.account }];
  if (event['detail-type'] === 'AWS API Call via CloudTrail') {
    const detail = event.detail;
    fields.push({ field: 'detail.recipientAccountId', accountId: detail.recipientAccountId });
    if (detail.userIdentity.accountId !== undefined) {
      fields.push({
        field: 'detail.userIdentity.accountId',
        accountId: detail.userIdentity.accountId,
      });
    }
    return fields;
  }
  const detail = event.detail;
  fields.push({ field: 'detail.awsAccountId', accountId: detail.awsAccountId });
  const ruleAccount = accountOfArn(detail.configRuleARN);
  if (ruleAccount !== undefined)
    fields.push({ field: 'detail.configRuleARN', accountId: ruleAccount });
  return fields;
}

/** The event could not be processed; its claim was released so a retry processes it. */
export class EventProcessingError extends VpcGuardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EventProcessingError';
  }
}

/**
 * Handles one EventBridge event. A CloudTrail record of a failed call, or of a call made by one of
 * vpc-guard's own roles, is ignored; so is a compliance change of another rule. Otherwise the event id
 * is claimed (a replay stops before any write), the VPCs are found (from the record, or by describing
 * the route table, NAT gateway, endpoint, subnet or gateway it names; the whole region when they are
 * gone), and the pipeline runs with alerts and remediation. When anything fails the claim is released,
 * so the retry does the work again.
 */
export async function handleApiEvent(
  event: ApiEvent,
  deps: Dependencies,
  options: ApiEventOptions,
): Promise<ApiEventResult> {
  // Bound first: an event about an account this function may not act on causes no AWS call at all.
  const fields = accountFields(event);
  const binding = await bindEventAccount(deps, fields);
  if (binding.kind === 'rejected') {
    recordRejection(event.id, binding, fields);
    return {
      status: 'rejected',
      reason: binding.message,
      eventId: event.id,
      event:
        event['detail-type'] === 'AWS API Call via CloudTrail'
          ? event.detail.eventName
          : event['detail-type'],
      accountId: binding.accountId,
      region: event.detail.awsRegion,
      vpcIds: [],
      report: null,
    };
  }
  const found =
    event['detail-type'] === 'AWS API Call via CloudTrail'
      ? cloudTrailTarget(event, deps)
      : complianceTarget(event, deps);
  // The account acted on is the one the binding established, whatever field the target came from.
  const target = typeof found === 'string' ? found : { ...found, accountId: binding.accountId };
  if (typeof target === 'string') {
    const where =
      event['detail-type'] === 'AWS API Call via CloudTrail'
        ? {
            accountId: event.detail.recipientAccountId,
            region: event.detail.awsRegion,
            event: event.detail.eventName,
          }
        : {
            accountId: event.detail.awsAccountId,
            region: event.detail.awsRegion,
            event: event['detail-type'],
          };
    return ignored(event, where, target);
  }
  // On every line this invocation logs (injectLambdaContext's resetKeys clears them afterwards).
  logger.appendKeys({ eventId: event.id, accountId: target.accountId, region: target.region });
  const store = deps.findings;
  if (store === null) throw new EventProcessingError('FINDINGS_TABLE is required to handle events');
  const claimKey = `api-event/${event.id}`;
  let claimed = false;
  // The claim goes out with the first reads: a replay costs reads, never a write.
  const claim = store.claimEvent(claimKey, EVENT_CLAIM_TTL_SECONDS).then((won) => (claimed = won));
  claim.catch(() => undefined);
  const release = async (why: unknown) => {
    if (!claimed) return;
    try {
      await store.releaseEvent(claimKey);
    } catch (error) {
      logger.error('could not release the event claim: a retry will be taken for a replay', {
        eventId: event.id,
        error: describeAwsError(error),
        cause: describeAwsError(why),
      });
    }
  };
  try {
    let vpcIds: readonly string[] | undefined = target.vpcIds;
    if (vpcIds.length === 0) {
      vpcIds = await lookUpVpcs(deps.ec2For(target.accountId, target.region), target.lookups);
      if (vpcIds.length === 0) {
        // The resource is gone already: the region's VPCs are evaluated, so nothing is missed.
        logger.warn('the changed resource no longer names a VPC: evaluating the whole region', {
          eventId: event.id,
          lookups: target.lookups,
        });
        vpcIds = undefined;
      }
    }
    const report = await runPipeline(deps, {
      trigger: 'api-event',
      accountId: target.accountId,
      region: target.region,
      ...(vpcIds ? { vpcIds } : {}),
      notify: true,
      remediate: true,
      invokedFunctionArn: options.invokedFunctionArn,
      claim: () => claim,
      ...(options.onDecision ? { onDecision: options.onDecision } : {}),
    });
    if (report.duplicate) {
      countMetric(METRIC.eventsDuplicate);
      logger.info('event already processed: nothing done', { eventId: event.id });
      return {
        status: 'duplicate',
        reason: 'this event id was processed before',
        eventId: event.id,
        event: target.event,
        accountId: target.accountId,
        region: target.region,
        vpcIds: vpcIds ?? 'region',
        report,
      };
    }
    if (report.failures.length > 0) await release(report.failures[0]);
    return {
      status: 'handled',
      reason: null,
      eventId: event.id,
      event: target.event,
      accountId: target.accountId,
      region: target.region,
      vpcIds: vpcIds ?? 'region',
      report,
    };
  } catch (error) {
    await claim.catch(() => undefined);
    await release(error);
    throw error;
  }
}
