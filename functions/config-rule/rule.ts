import {
  GetResourceConfigHistoryCommand,
  paginateGetComplianceDetailsByConfigRule,
  type ConfigServiceClient,
  type Evaluation as ConfigEvaluation,
  type ResourceType,
} from '@aws-sdk/client-config-service';
import {
  InputValidationError,
  VPC_RESOURCE_TYPE,
  configAnnotation,
  describeAwsError,
  profileNamed,
  type GuardPolicy,
} from '@vpc-guard/shared';
import { lookUpVpcs, lookupKindOf } from '../api-event/resolve';
import type { Dependencies } from '../runtime/dependencies';
import {
  accountOfArn,
  bindEventAccount,
  recordRejection,
  type AccountField,
} from '../runtime/event-account';
import { logger } from '../runtime/observability';
import { putEvaluationsOnly } from '../runtime/config-reporting';
import { runPipeline } from '../runtime/pipeline';
import type { PipelineReport } from '../runtime/pipeline-report';
import { EC2_ID_KINDS, findIds } from '../runtime/resource-ids';
import {
  isConfigResourceType,
  ruleLocation,
  type ConfigRuleEvent,
  type ConfigurationItemSummary,
  type RuleParameters,
} from './schema';

/**
 * The AWS Config custom rule: map the changed resource to its VPC, evaluate that VPC, and report it
 * (the VPC is the unit Config reports on, AWS-FACTS). Periodic runs evaluate every VPC of the region
 * and report NOT_APPLICABLE for VPCs reported before that are gone. The rule evaluates and alerts;
 * remediation is left to the api-event function, which the rule's compliance changes trigger.
 */

/** What the rule did with one event. */
export interface ConfigRuleResult {
  /** `rejected`: for an account this function may not act on; nothing was read or reported. */
  readonly status: 'evaluated' | 'rejected';
  /** Why it was rejected; null when evaluated. */
  readonly reason: string | null;
  readonly messageType: ConfigRuleEvent['invokingEvent']['messageType'];
  /** The configuration item's resource, for change notifications. */
  readonly resource: { readonly type: string; readonly id: string } | null;
  /** The VPCs evaluated (empty for a region-wide run: see the report). */
  readonly vpcIds: readonly string[];
  readonly report: PipelineReport;
}

/** What vpc-guard needs of a configuration item, from the notification or from the history API. */
interface ItemView {
  readonly resourceType: string;
  readonly resourceId: string;
  readonly status: string;
  readonly captureTime: Date;
  readonly configuration: unknown;
  readonly relationships: readonly { resourceType?: string | null; resourceId?: string | null }[];
  /** The change itself: for a deletion or a detachment, the previous configuration. */
  readonly diff: unknown;
}

const DELETED = new Set(['ResourceDeleted', 'ResourceDeletedNotRecorded']);

/** A tag key no VPC carries, so a rule's `profile` parameter decides every VPC's profile. */
const PROFILE_OVERRIDE_TAG = 'vpc-guard:config-rule-profile-override';

/**
 * The policy as a rule with a `profile` parameter applies it: that profile for every VPC (neither the
 * VPC's tag nor its account's entry decide), exemptions unchanged.
 *
 * @throws InputValidationError when the policy has no such profile.
 */
export function withProfileOverride(policy: GuardPolicy, profile: string): GuardPolicy {
  if (profileNamed(policy, profile) === undefined) {
    throw new InputValidationError('ruleParameters', [
      {
        path: 'profile',
        message: `expected one of the policy's profiles (${Object.keys(policy.profiles).join(', ')}), got ${JSON.stringify(profile)}`,
      },
    ]);
  }
  return { ...policy, assign: { tag: PROFILE_OVERRIDE_TAG, accounts: {}, default: profile } };
}

function policyLoader(
  deps: Dependencies,
  parameters: RuleParameters | undefined,
): () => Promise<GuardPolicy> {
  return async () => {
    const policy = await deps.policy(parameters?.policySource);
    return parameters?.profile ? withProfileOverride(policy, parameters.profile) : policy;
  };
}

/** The VPCs a configuration item belongs to: its own id, its configuration, relationships or diff. */
export function vpcsOfItem(item: ItemView): string[] {
  if (item.resourceType === VPC_RESOURCE_TYPE) return [item.resourceId];
  const related = item.relationships.flatMap((r) =>
    r.resourceType === VPC_RESOURCE_TYPE && r.resourceId && EC2_ID_KINDS.vpc.id.test(r.resourceId)
      ? [r.resourceId]
      : [],
  );
  const ids = new Set([
    ...findIds(item.configuration, 'vpc'),
    ...related,
    // A deleted resource has no configuration; a detached gateway none that names its VPC.
    ...findIds(item.diff, 'vpc'),
  ]);
  return [...ids];
}

function notApplicable(item: ItemView, reason: string): ConfigEvaluation {
  return {
    ComplianceResourceType: item.resourceType,
    ComplianceResourceId: item.resourceId,
    ComplianceType: 'NOT_APPLICABLE',
    Annotation: configAnnotation(reason, 'NOT_APPLICABLE'),
    OrderingTimestamp: item.captureTime,
  };
}

/** What an oversized notification carries of its item: the resource, its status and capture time. */
function summaryView(summary: ConfigurationItemSummary): ItemView {
  return {
    resourceType: summary.resourceType,
    resourceId: summary.resourceId,
    status: summary.configurationItemStatus,
    captureTime: new Date(summary.configurationItemCaptureTime),
    configuration: null,
    relationships: [],
    diff: null,
  };
}

/**
 * Reads an oversized notification's item (its latest version) with GetResourceConfigHistory;
 * undefined when the history holds none.
 */
async function fetchItem(
  client: ConfigServiceClient,
  summary: ConfigurationItemSummary,
): Promise<ItemView | undefined> {
  const output = await client.send(
    new GetResourceConfigHistoryCommand({
      resourceType: summary.resourceType as ResourceType,
      resourceId: summary.resourceId,
      limit: 1,
    }),
  );
  const item = output.configurationItems?.[0];
  if (item === undefined) return undefined;
  let configuration: unknown = null;
  if (item?.configuration) {
    try {
      configuration = JSON.parse(item.configuration);
    } catch {
      // The configuration is only searched for VPC ids: an unreadable one simply names none.
      configuration = null;
    }
  }
  return {
    resourceType: summary.resourceType,
    resourceId: summary.resourceId,
    status: item.configurationItemStatus ?? summary.configurationItemStatus,
    captureTime: new Date(summary.configurationItemCaptureTime),
    configuration,
    relationships: (item.relationships ?? []).map((r) => ({
      resourceType: r.resourceType ?? null,
      resourceId: r.resourceId ?? null,
    })),
    diff: null,
  };
}

/** An oversized notification's item, and its VPCs when they had to be found by describing it. */
interface OversizedItem {
  readonly item: ItemView;
  /** From describing the resource (history unreadable); undefined: from the item itself. */
  readonly vpcIds?: readonly string[];
  /** Why neither the history nor EC2 could say which VPC the resource is in. */
  readonly unresolved?: string;
}

/**
 * An oversized notification's item: from the configuration history, or, when that cannot be read
 * (or holds nothing), from what the notification carries: the resource id, described in EC2 to find
 * its VPC. Never throws for an AWS failure: the rule then still answers, with the reason.
 */
async function readOversizedItem(
  deps: Dependencies,
  accountId: string,
  region: string,
  summary: ConfigurationItemSummary,
): Promise<OversizedItem> {
  let why = 'the configuration history holds no item for it';
  try {
    const item = await fetchItem(deps.configServiceFor(accountId, region), summary);
    if (item !== undefined) return { item };
  } catch (error) {
    why = `the configuration history could not be read (${describeAwsError(error)})`;
  }
  logger.warn('oversized item: evaluated from the notification', {
    resourceType: summary.resourceType,
    resourceId: summary.resourceId,
    why,
  });
  const item = summaryView(summary);
  const kind = lookupKindOf(summary.resourceType);
  if (item.resourceType === VPC_RESOURCE_TYPE || kind === undefined) return { item };
  try {
    const vpcIds = await lookUpVpcs(deps.ec2For(accountId, region), {
      [kind]: [summary.resourceId],
    });
    return { item, vpcIds };
  } catch (error) {
    return {
      item,
      unresolved: `${why}, and describing ${summary.resourceId} failed (${describeAwsError(error)})`,
    };
  }
}

/** Every account a rule event names: all must agree, and be one this function may act on. */
function accountFields(event: ConfigRuleEvent): AccountField[] {
  const invoking = event.invokingEvent;
  const itemAccount =
    invoking.messageType === 'ConfigurationItemChangeNotification'
      ? {
          field: 'invokingEvent.configurationItem.awsAccountId',
          accountId: invoking.configurationItem.awsAccountId,
        }
      : invoking.messageType === 'OversizedConfigurationItemChangeNotification'
        ? {
            field: 'invokingEvent.configurationItemSummary.awsAccountId',
            accountId: invoking.configurationItemSummary.awsAccountId,
          }
        : { field: 'invokingEvent.awsAccountId', accountId: invoking.awsAccountId };
  const ruleAccount = accountOfArn(event.configRuleArn);
  return [
    { field: 'accountId', accountId: event.accountId },
    ...(ruleAccount === undefined ? [] : [{ field: 'configRuleArn', accountId: ruleAccount }]),
    itemAccount,
  ];
}

/** The VPCs this rule holds COMPLIANT or NON_COMPLIANT results for (every page). */
export async function listReportedVpcs(
  client: ConfigServiceClient,
  configRuleName: string,
): Promise<string[]> {
  const ids: string[] = [];
  const pages = paginateGetComplianceDetailsByConfigRule(
    { client, pageSize: 100 },
    { ConfigRuleName: configRuleName, ComplianceTypes: ['COMPLIANT', 'NON_COMPLIANT'] },
  );
  for await (const page of pages) {
    for (const result of page.EvaluationResults ?? []) {
      const qualifier = result.EvaluationResultIdentifier?.EvaluationResultQualifier;
      if (qualifier?.ResourceType === VPC_RESOURCE_TYPE && qualifier.ResourceId) {
        ids.push(qualifier.ResourceId);
      }
    }
  }
  return [...new Set(ids)];
}

/**
 * Handles one Config rule event:
 * - a change to a VPC, subnet, route table, NAT gateway, internet gateway or endpoint: the VPC it
 *   belongs to is collected (scoped), evaluated and reported;
 * - an oversized change: the item is read with GetResourceConfigHistory first;
 * - a periodic run: every VPC of the region, in batches of 100, and NOT_APPLICABLE for VPCs
 *   reported before that no longer exist;
 * - a deleted resource or one that left the rule's scope: NOT_APPLICABLE for it (and its VPC is
 *   evaluated again when a part of it was deleted).
 * Finding changes are alerted on when FINDINGS_TABLE is set.
 */
export async function evaluateConfigRuleEvent(
  event: ConfigRuleEvent,
  deps: Dependencies,
  invokedFunctionArn: string,
): Promise<ConfigRuleResult> {
  const { region } = ruleLocation(event);
  const invoking = event.invokingEvent;
  // Bound first: an invocation for an account this function may not act on reads and reports nothing.
  const fields = accountFields(event);
  const binding = await bindEventAccount(deps, fields);
  if (binding.kind === 'rejected') {
    recordRejection(event.configRuleId ?? event.configRuleName, binding, fields);
    return {
      status: 'rejected',
      reason: binding.message,
      messageType: invoking.messageType,
      resource: null,
      vpcIds: [],
      report: { trigger: 'config-rule', duplicate: false, targets: [], failures: [] },
    };
  }
  const accountId = binding.accountId;
  // On every line this invocation logs (injectLambdaContext's resetKeys clears them afterwards).
  logger.appendKeys({ accountId, region, configRuleName: event.configRuleName });
  const common = {
    trigger: 'config-rule' as const,
    accountId,
    region,
    notify: deps.findings !== null,
    remediate: false,
    invokedFunctionArn,
    loadPolicy: policyLoader(deps, event.ruleParameters),
  };

  if (invoking.messageType === 'ScheduledNotification') {
    const client = deps.configServiceFor(accountId, region);
    const report = await runPipeline(deps, {
      ...common,
      configReport: {
        resultToken: event.resultToken,
        orderingTimestamp: new Date(invoking.notificationCreationTime),
        previouslyReported: () => listReportedVpcs(client, event.configRuleName),
      },
    });
    return {
      status: 'evaluated',
      reason: null,
      messageType: invoking.messageType,
      resource: null,
      vpcIds: [],
      report,
    };
  }

  const oversized =
    invoking.messageType === 'OversizedConfigurationItemChangeNotification'
      ? await readOversizedItem(deps, accountId, region, invoking.configurationItemSummary)
      : undefined;
  const item: ItemView =
    invoking.messageType === 'ConfigurationItemChangeNotification'
      ? {
          resourceType: invoking.configurationItem.resourceType,
          resourceId: invoking.configurationItem.resourceId,
          status: invoking.configurationItem.configurationItemStatus,
          captureTime: new Date(invoking.configurationItem.configurationItemCaptureTime),
          configuration: invoking.configurationItem.configuration,
          relationships: invoking.configurationItem.relationships ?? [],
          diff: invoking.configurationItemDiff ?? null,
        }
      : oversized!.item;
  const resource = { type: item.resourceType, id: item.resourceId };
  const onlyConfig = async (
    entries: ConfigEvaluation[],
    vpcIds: string[] = [],
  ): Promise<ConfigRuleResult> => ({
    status: 'evaluated',
    reason: null,
    messageType: invoking.messageType,
    resource,
    vpcIds,
    report: await putEvaluationsOnly(deps, {
      trigger: 'config-rule',
      accountId,
      region,
      resultToken: event.resultToken,
      entries,
    }),
  });

  if (!isConfigResourceType(item.resourceType)) {
    return onlyConfig([
      notApplicable(item, `vpc-guard evaluates VPCs; ${item.resourceType} is not mapped to one.`),
    ]);
  }
  if (oversized?.unresolved !== undefined) {
    return onlyConfig([notApplicable(item, `Not evaluated: ${oversized.unresolved}.`)]);
  }
  const deleted = DELETED.has(item.status);
  if (event.eventLeftScope || deleted) {
    const why = deleted ? 'The resource was deleted.' : "The resource left the rule's scope.";
    if (item.resourceType === VPC_RESOURCE_TYPE)
      return onlyConfig([notApplicable(item, why)], [item.resourceId]);
    // A deleted NAT gateway or endpoint changes its VPC's compliance: evaluate the VPC again.
    const vpcIds = deleted ? vpcsOfItem(item) : [];
    if (vpcIds.length === 0) return onlyConfig([notApplicable(item, why)]);
    return evaluateVpcs(vpcIds, [notApplicable(item, why)]);
  }
  const vpcIds = oversized?.vpcIds ? [...oversized.vpcIds] : vpcsOfItem(item);
  if (vpcIds.length === 0) {
    logger.warn('configuration item names no VPC', { resource });
    return onlyConfig([notApplicable(item, 'The resource is not attached to a VPC.')]);
  }
  return evaluateVpcs(vpcIds, []);

  async function evaluateVpcs(
    vpcIds: string[],
    extra: ConfigEvaluation[],
  ): Promise<ConfigRuleResult> {
    const report = await runPipeline(deps, {
      ...common,
      vpcIds,
      configReport: {
        resultToken: event.resultToken,
        orderingTimestamp: item.captureTime,
        extra,
      },
    });
    return {
      status: 'evaluated',
      reason: null,
      messageType: invoking.messageType,
      resource,
      vpcIds,
      report,
    };
  }
}
