import {
  AccountIdSchema,
  EC2_API_CALL_EVENT_NAMES,
  RegionSchema,
  type Ec2ApiCallEventName,
} from '@vpc-guard/shared';
import * as z from 'zod';
import { EventBridgeSchema, EventIdSchema, TimestampSchema } from '../runtime/event-envelopes';
import { findIds, type Ec2IdKind } from '../runtime/resource-ids';

/**
 * The EventBridge events the api-event function takes: CloudTrail records of the EC2 calls that change
 * what vpc-guard judges, and AWS Config compliance changes (AWS-FACTS: "EventBridge"). The envelope is
 * Powertools' EventBridge schema (runtime/event-envelopes.ts); the details are vpc-guard's.
 */

/**
 * Where each call names its VPC, or a resource to describe for it. CloudTrail writes the newer EC2
 * calls wrapped (`CreateNatGatewayRequest.SubnetId`), older ones flat (`routeTableId`), lists as
 * `{ tag, content }` items. The VPC id itself is taken wherever it appears; failing that, the first
 * of `lookup` that the record holds is described. `path` is reported when neither is there.
 */
export const VPC_SOURCES: Readonly<
  Record<
    Ec2ApiCallEventName,
    { readonly lookup: readonly Ec2IdKind[]; readonly path: string; readonly what: string }
  >
> = {
  CreateNatGateway: {
    lookup: ['subnet', 'natGateway'],
    path: 'requestParameters.CreateNatGatewayRequest.SubnetId',
    what: 'the subnet of the NAT gateway',
  },
  DeleteNatGateway: {
    lookup: ['natGateway'],
    path: 'requestParameters.DeleteNatGatewayRequest.NatGatewayId',
    what: 'the NAT gateway deleted',
  },
  CreateVpcEndpoint: {
    lookup: ['vpcEndpoint', 'subnet', 'routeTable'],
    path: 'requestParameters.CreateVpcEndpointRequest.VpcId',
    what: 'the VPC of the endpoint',
  },
  ModifyVpcEndpoint: {
    lookup: ['vpcEndpoint'],
    path: 'requestParameters.ModifyVpcEndpointRequest.VpcEndpointId',
    what: 'the endpoint modified',
  },
  DeleteVpcEndpoints: {
    lookup: ['vpcEndpoint'],
    path: 'requestParameters.DeleteVpcEndpointsRequest.VpcEndpointId',
    what: 'the endpoints deleted',
  },
  CreateRoute: {
    lookup: ['routeTable'],
    path: 'requestParameters.routeTableId',
    what: 'the route table',
  },
  ReplaceRoute: {
    lookup: ['routeTable'],
    path: 'requestParameters.routeTableId',
    what: 'the route table',
  },
  DeleteRoute: {
    lookup: ['routeTable'],
    path: 'requestParameters.routeTableId',
    what: 'the route table',
  },
  AttachInternetGateway: {
    lookup: ['internetGateway'],
    path: 'requestParameters.vpcId',
    what: 'the VPC the gateway is attached to',
  },
  AssociateRouteTable: {
    lookup: ['routeTable', 'subnet'],
    path: 'requestParameters.routeTableId',
    what: 'the route table associated',
  },
  CreateSubnet: {
    lookup: [],
    path: 'requestParameters.vpcId',
    what: 'the VPC of the subnet',
  },
};

const SessionIssuerSchema = z.object({
  type: z.string().optional(),
  principalId: z.string().optional(),
  arn: z.string().optional(),
  accountId: z.string().optional(),
  userName: z.string().optional(),
});

/** Who made the call: the loop guard reads the role ARNs here. */
const UserIdentitySchema = z.object({
  type: z.string().min(1),
  principalId: z.string().optional(),
  arn: z.string().optional(),
  accountId: z.string().optional(),
  accessKeyId: z.string().optional(),
  userName: z.string().optional(),
  invokedBy: z.string().optional(),
  sessionContext: z
    .object({
      sessionIssuer: SessionIssuerSchema.optional(),
      attributes: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
});
export type UserIdentity = z.output<typeof UserIdentitySchema>;

const JsonObjectSchema = z.record(z.string(), z.unknown());

/** A CloudTrail management event for one of the EC2 calls (eventVersion 1.x). */
export const CloudTrailDetailSchema = z.object({
  eventVersion: z
    .string()
    .regex(/^1\.\d{1,3}$/, 'expected a CloudTrail event version such as "1.09"'),
  userIdentity: UserIdentitySchema,
  eventTime: TimestampSchema,
  eventSource: z.literal('ec2.amazonaws.com'),
  eventName: z.enum(EC2_API_CALL_EVENT_NAMES),
  awsRegion: RegionSchema,
  sourceIPAddress: z.string().optional(),
  userAgent: z.string().optional(),
  errorCode: z.string().optional(),
  errorMessage: z.string().optional(),
  requestParameters: JsonObjectSchema.nullable(),
  responseElements: JsonObjectSchema.nullable(),
  requestID: z.string().optional(),
  eventID: z.string().min(1),
  readOnly: z.boolean().optional(),
  eventType: z.literal('AwsApiCall'),
  managementEvent: z.boolean().optional(),
  recipientAccountId: AccountIdSchema,
  eventCategory: z.string().optional(),
});
export type CloudTrailDetail = z.output<typeof CloudTrailDetailSchema>;

export const CloudTrailEventSchema = EventBridgeSchema.extend({
  id: EventIdSchema,
  source: z.literal('aws.ec2'),
  'detail-type': z.literal('AWS API Call via CloudTrail'),
  detail: CloudTrailDetailSchema,
}).superRefine((event, ctx) => {
  const detail = event.detail;
  // A failed call changed nothing (the rule filters them out; a replayed archive may not).
  if (detail.errorCode !== undefined) return;
  const found =
    findIds(detail.responseElements, 'vpc').length +
      findIds(detail.requestParameters, 'vpc').length >
      0 ||
    VPC_SOURCES[detail.eventName].lookup.some(
      (kind) =>
        findIds(detail.requestParameters, kind).length +
          findIds(detail.responseElements, kind).length >
        0,
    );
  if (!found) {
    const source = VPC_SOURCES[detail.eventName];
    ctx.addIssue({
      code: 'custom',
      path: ['detail', ...source.path.split('.')],
      message: `expected ${source.what}: ${detail.eventName} names no VPC${source.lookup.length ? ` and no ${source.lookup.join(' or ')} id` : ''}`,
    });
  }
});
export type CloudTrailEvent = z.output<typeof CloudTrailEventSchema>;

export const COMPLIANCE_TYPES = [
  'COMPLIANT',
  'NON_COMPLIANT',
  'NOT_APPLICABLE',
  'INSUFFICIENT_DATA',
] as const;

const EvaluationResultSchema = z.object({
  evaluationResultIdentifier: z
    .object({
      evaluationResultQualifier: z
        .object({
          configRuleName: z.string().optional(),
          resourceType: z.string().optional(),
          resourceId: z.string().optional(),
        })
        .optional(),
      orderingTimestamp: z.string().optional(),
    })
    .optional(),
  complianceType: z.enum(COMPLIANCE_TYPES),
  resultRecordedTime: z.string().optional(),
  configRuleInvokedTime: z.string().optional(),
  annotation: z.string().optional(),
});

/** A Config Rules Compliance Change detail. */
export const ComplianceChangeDetailSchema = z.object({
  resourceId: z.string().min(1).max(768),
  awsRegion: RegionSchema,
  awsAccountId: AccountIdSchema,
  configRuleName: z.string().min(1).max(128),
  recordVersion: z.string().optional(),
  configRuleARN: z.string().optional(),
  messageType: z.literal('ComplianceChangeNotification'),
  newEvaluationResult: EvaluationResultSchema,
  oldEvaluationResult: EvaluationResultSchema.nullish(),
  notificationCreationTime: z.string().optional(),
  resourceType: z.string().min(1),
});
export type ComplianceChangeDetail = z.output<typeof ComplianceChangeDetailSchema>;

export const ComplianceChangeEventSchema = EventBridgeSchema.extend({
  id: EventIdSchema,
  source: z.literal('aws.config'),
  'detail-type': z.literal('Config Rules Compliance Change'),
  detail: ComplianceChangeDetailSchema,
});
export type ComplianceChangeEvent = z.output<typeof ComplianceChangeEventSchema>;

/** What the api-event function takes: a CloudTrail EC2 call or a Config compliance change. */
export const ApiEventSchema = z.discriminatedUnion('detail-type', [
  CloudTrailEventSchema,
  ComplianceChangeEventSchema,
]);
export type ApiEvent = z.output<typeof ApiEventSchema>;
