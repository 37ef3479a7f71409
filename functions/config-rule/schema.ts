import {
  AccountIdSchema,
  CONFIG_RESOURCE_TYPES,
  CONFIG_RULE_ARN_PATTERN,
  ConfigRuleArnSchema,
  ConfigRuleNameSchema,
  RegionSchema,
  type ConfigResourceType,
} from '@vpc-guard/shared';
import * as z from 'zod';
import { JSONStringified, TimestampSchema } from '../runtime/event-envelopes';
import { PolicySourceSchema } from '../runtime/config';
import { EC2_ID_KINDS } from '../runtime/resource-ids';

/**
 * The AWS Config custom Lambda rule event. Powertools has no schema for it. `invokingEvent` and
 * `ruleParameters` arrive as JSON strings and are decoded with `JSONStringified`. Only the fields
 * vpc-guard relies on are required; the rest are optional, so a new field from Config never rejects an
 * event (AWS-FACTS: "AWS Config custom Lambda rules").
 */

/** The id format of each scoped resource type. */
const ID_FORMAT: Readonly<Record<ConfigResourceType, RegExp>> = {
  'AWS::EC2::VPC': EC2_ID_KINDS.vpc.id,
  'AWS::EC2::Subnet': EC2_ID_KINDS.subnet.id,
  'AWS::EC2::RouteTable': EC2_ID_KINDS.routeTable.id,
  'AWS::EC2::NatGateway': EC2_ID_KINDS.natGateway.id,
  'AWS::EC2::InternetGateway': EC2_ID_KINDS.internetGateway.id,
  'AWS::EC2::VPCEndpoint': EC2_ID_KINDS.vpcEndpoint.id,
};

/** True when `type` is one of the rule's resource types. */
export function isConfigResourceType(type: string): type is ConfigResourceType {
  return (CONFIG_RESOURCE_TYPES as readonly string[]).includes(type);
}

/** A scoped resource type's id must have that type's format (`rtb-...` for a route table). */
function checkResourceId(
  item: { resourceType: string; resourceId: string },
  ctx: z.RefinementCtx,
): void {
  if (!isConfigResourceType(item.resourceType)) return;
  const format = ID_FORMAT[item.resourceType];
  if (!format.test(item.resourceId)) {
    ctx.addIssue({
      code: 'custom',
      path: ['resourceId'],
      message: `expected a ${item.resourceType} id (${format.source}), got ${JSON.stringify(item.resourceId.slice(0, 60))}`,
    });
  }
}

export const CONFIGURATION_ITEM_STATUSES = [
  'OK',
  'ResourceDiscovered',
  'ResourceNotRecorded',
  'ResourceDeleted',
  'ResourceDeletedNotRecorded',
] as const;

const RelationshipSchema = z.object({
  resourceId: z.string().nullish(),
  resourceName: z.string().nullish(),
  resourceType: z.string(),
  name: z.string().nullish(),
});

/** The fields a configuration item and its oversized summary have in common. */
const ITEM_FIELDS = {
  configurationItemVersion: z.string().optional(),
  configurationItemCaptureTime: TimestampSchema,
  configurationStateId: z.union([z.number(), z.string()]).optional(),
  awsAccountId: AccountIdSchema,
  configurationItemStatus: z.enum(CONFIGURATION_ITEM_STATUSES),
  resourceType: z.string().min(1),
  resourceId: z.string().min(1).max(768),
  resourceName: z.string().nullish(),
  ARN: z.string().nullish(),
  awsRegion: RegionSchema,
  availabilityZone: z.string().nullish(),
  configurationStateMd5Hash: z.string().nullish(),
  resourceCreationTime: z.string().nullish(),
};

/** A configuration item as the change notification carries it. */
export const ConfigurationItemSchema = z
  .object({
    ...ITEM_FIELDS,
    tags: z.record(z.string(), z.string()).nullish(),
    relatedEvents: z.array(z.unknown()).nullish(),
    relationships: z.array(RelationshipSchema).nullish(),
    // Null for a deleted resource.
    configuration: z.record(z.string(), z.unknown()).nullable(),
    supplementaryConfiguration: z.record(z.string(), z.unknown()).nullish(),
  })
  .superRefine(checkResourceId);
export type ConfigurationItem = z.output<typeof ConfigurationItemSchema>;

/** What an oversized notification carries instead of the item. */
export const ConfigurationItemSummarySchema = z
  .object({ changeType: z.string().optional(), ...ITEM_FIELDS })
  .superRefine(checkResourceId);
export type ConfigurationItemSummary = z.output<typeof ConfigurationItemSummarySchema>;

const ChangeNotificationSchema = z.object({
  messageType: z.literal('ConfigurationItemChangeNotification'),
  configurationItem: ConfigurationItemSchema,
  // Config sends null for a new resource; for a deletion it holds the previous configuration.
  configurationItemDiff: z.record(z.string(), z.unknown()).nullish(),
  notificationCreationTime: TimestampSchema,
  recordVersion: z.string(),
});

const OversizedNotificationSchema = z.object({
  messageType: z.literal('OversizedConfigurationItemChangeNotification'),
  configurationItemSummary: ConfigurationItemSummarySchema,
  s3DeliverySummary: z.record(z.string(), z.unknown()).nullish(),
  notificationCreationTime: TimestampSchema,
  recordVersion: z.string(),
});

const ScheduledNotificationSchema = z.object({
  messageType: z.literal('ScheduledNotification'),
  awsAccountId: AccountIdSchema,
  notificationCreationTime: TimestampSchema,
  recordVersion: z.string(),
});

/** `invokingEvent`, decoded: which of Config's three notifications invoked the rule. */
export const InvokingEventSchema = z.discriminatedUnion('messageType', [
  ChangeNotificationSchema,
  OversizedNotificationSchema,
  ScheduledNotificationSchema,
]);
export type InvokingEvent = z.output<typeof InvokingEventSchema>;

/**
 * The rule's parameters (all strings in Config): `policySource` reads the policy from elsewhere than
 * POLICY_SOURCE, `profile` evaluates every VPC with that profile whatever its tags say. Unknown keys
 * are rejected: a misspelt parameter must not be silently ignored.
 */
export const RuleParametersSchema = z.strictObject({
  policySource: PolicySourceSchema.optional(),
  profile: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/,
      'expected a profile name of letters, digits, - and _',
    )
    .optional(),
});
export type RuleParameters = z.output<typeof RuleParametersSchema>;

/** The Config rule event, with `invokingEvent` and `ruleParameters` decoded. */
export const ConfigRuleEventSchema = z
  .object({
    version: z.string(),
    invokingEvent: JSONStringified(InvokingEventSchema),
    ruleParameters: JSONStringified(RuleParametersSchema).optional(),
    resultToken: z.string().min(1),
    eventLeftScope: z.boolean().default(false),
    executionRoleArn: z.string().optional(),
    configRuleArn: ConfigRuleArnSchema,
    configRuleName: ConfigRuleNameSchema,
    configRuleId: z.string().optional(),
    accountId: AccountIdSchema,
    evaluationMode: z.enum(['DETECTIVE', 'PROACTIVE']).optional(),
  })
  .superRefine((event, ctx) => {
    // The evaluations go to the rule's account: an item from another account cannot be reported there.
    const invoking = event.invokingEvent;
    const owner =
      invoking.messageType === 'ConfigurationItemChangeNotification'
        ? { path: 'configurationItem', accountId: invoking.configurationItem.awsAccountId }
        : invoking.messageType === 'OversizedConfigurationItemChangeNotification'
          ? {
              path: 'configurationItemSummary',
              accountId: invoking.configurationItemSummary.awsAccountId,
            }
          : { path: '', accountId: invoking.awsAccountId };
    if (owner.accountId !== event.accountId) {
      ctx.addIssue({
        code: 'custom',
        path: ['invokingEvent', ...(owner.path ? [owner.path] : []), 'awsAccountId'],
        message: `expected the rule's account ${event.accountId}, got ${owner.accountId}`,
      });
    }
  });
export type ConfigRuleEvent = z.output<typeof ConfigRuleEventSchema>;

/** The region and account of the rule, from its ARN (the region the evaluations belong to). */
export function ruleLocation(event: Pick<ConfigRuleEvent, 'configRuleArn'>): {
  region: string;
  accountId: string;
} {
  const match = CONFIG_RULE_ARN_PATTERN.exec(event.configRuleArn);
  return { region: match?.[1] ?? '', accountId: match?.[2] ?? '' };
}
