import * as z from 'zod';
import { parseOrThrow } from '../errors';
import { readJsonFile, writeJsonFile } from '../json-file';
import { REMEDIATION_MODES, RemediationActionSchema } from '../policy/schema';
import { RouteTargetSchema } from '../snapshot/schema';
import { PLAN_SCHEMA_VERSION, type RemediationPlan } from './plan-model';

/**
 * A saved remediation plan (`vpc-guard plan --out FILE`), read back by `vpc-guard apply --plan FILE`.
 * The file is checked field by field before anything acts on it: a plan is an instruction to write to
 * AWS, so a truncated or hand-edited file is refused with the path of what is wrong, never half-read.
 */

const RouteRefSchema = z.strictObject({
  routeTableId: z.string().min(1),
  destination: z.string().min(1),
  target: RouteTargetSchema,
});

const ActionParamsSchema = z.discriminatedUnion('action', [
  z.strictObject({
    action: z.literal('remove-nat'),
    natGatewayId: z.string().min(1),
    subnetId: z.string().min(1),
    connectivityType: z.enum(['public', 'private']),
    allocationIds: z.array(z.string()),
    publicIps: z.array(z.string()),
    routes: z.array(RouteRefSchema),
  }),
  z.strictObject({ action: z.literal('remove-internet-route'), route: RouteRefSchema }),
  z.strictObject({
    action: z.literal('create-endpoint'),
    service: z.string().min(1),
    serviceName: z.string().min(1),
    type: z.enum(['Interface', 'Gateway']),
    subnetIds: z.array(z.string()),
    routeTableIds: z.array(z.string()),
    securityGroup: z
      .union([
        z.strictObject({ reuse: z.string().min(1) }),
        z.strictObject({
          create: z.strictObject({
            groupName: z.string().min(1),
            description: z.string(),
            ingressCidrs: z.array(z.string()),
          }),
        }),
      ])
      .nullable(),
    privateDnsEnabled: z.boolean(),
    policyDocument: z.string(),
    clientToken: z.string().min(1).max(64),
    tags: z.record(z.string(), z.string()),
  }),
  z.strictObject({
    action: z.literal('enable-private-dns'),
    endpointId: z.string().min(1),
    service: z.string().min(1),
  }),
  z.strictObject({
    action: z.literal('extend-endpoint-coverage'),
    endpointId: z.string().min(1),
    service: z.string().min(1),
    addSubnetIds: z.array(z.string()),
    addRouteTableIds: z.array(z.string()),
  }),
  z.strictObject({
    action: z.literal('replace-endpoint-policy'),
    endpointId: z.string().min(1),
    service: z.string().min(1),
    endpointType: z.enum(['Interface', 'Gateway']),
    policyDocument: z.string(),
    previousPolicyDocument: z.string().nullable(),
  }),
  z.strictObject({
    action: z.literal('release-elastic-ip'),
    allocationId: z.string().min(1),
    publicIp: z.string().min(1),
    natGatewayId: z.string().min(1),
  }),
]);

const PlannedActionSchema = z
  .strictObject({
    id: z.string().min(1),
    action: RemediationActionSchema,
    accountId: z.string().regex(/^\d{12}$/, 'expected a 12-digit AWS account id'),
    region: z.string().min(1),
    vpcId: z.string().min(1),
    status: z.enum(['planned', 'blocked']),
    blockedReason: z.string().optional(),
    execution: z.enum(['apply', 'dry-run']),
    summary: z.string(),
    findingKeys: z.array(z.string()),
    reason: z.string(),
    preconditions: z.array(z.string()),
    expectedEffect: z.string(),
    monthlyCostChangeUsd: z.number(),
    params: ActionParamsSchema,
  })
  .refine((action) => action.params.action === action.action, {
    message: 'expected params.action to equal action',
    path: ['params', 'action'],
  });

const VpcPlanSchema = z.strictObject({
  accountId: z.string().regex(/^\d{12}$/, 'expected a 12-digit AWS account id'),
  region: z.string().min(1),
  vpcId: z.string().min(1),
  vpcName: z.string().nullable(),
  profile: z.string().min(1),
  mode: z.enum(REMEDIATION_MODES),
  fingerprint: z.string().min(1),
  actions: z.array(PlannedActionSchema),
  notes: z.array(z.string()),
});

/**
 * What ties a plan together: each action belongs to the VPC entry it is listed under (its account,
 * region and VPC, and an id that names them), no action id and no VPC appears twice.
 */
function checkPlanCoherence(
  plan: { vpcs: readonly z.infer<typeof VpcPlanSchema>[] },
  ctx: z.core.$RefinementCtx,
): void {
  const ids = new Set<string>();
  const vpcs = new Set<string>();
  plan.vpcs.forEach((vpc, v) => {
    const key = `${vpc.accountId}/${vpc.region}/${vpc.vpcId}`;
    if (vpcs.has(key)) {
      ctx.addIssue({
        code: 'custom',
        path: ['vpcs', v, 'vpcId'],
        message: `${key} appears more than once in the plan`,
      });
    }
    vpcs.add(key);
    vpc.actions.forEach((action, a) => {
      const at = ['vpcs', v, 'actions', a];
      for (const field of ['accountId', 'region', 'vpcId'] as const) {
        if (action[field] !== vpc[field]) {
          ctx.addIssue({
            code: 'custom',
            path: [...at, field],
            message: `expected ${vpc[field]}, the ${field} of the VPC entry it is listed under`,
          });
        }
      }
      if (!action.id.startsWith(`${key}/${action.action}/`)) {
        ctx.addIssue({
          code: 'custom',
          path: [...at, 'id'],
          message: `expected "${key}/${action.action}/<subject>"`,
        });
      }
      if (ids.has(action.id)) {
        ctx.addIssue({
          code: 'custom',
          path: [...at, 'id'],
          message: `"${action.id}" appears more than once in the plan`,
        });
      }
      ids.add(action.id);
    });
  });
}

/** The shape of a saved {@link RemediationPlan}. */
export const RemediationPlanSchema = z
  .strictObject({
    schemaVersion: z.literal(PLAN_SCHEMA_VERSION),
    createdAt: z.iso.datetime({ offset: true }),
    organizationId: z.string().min(1),
    policyDigest: z.string().min(1),
    vpcs: z.array(VpcPlanSchema),
    totals: z.strictObject({
      actions: z.number().int().min(0),
      planned: z.number().int().min(0),
      blocked: z.number().int().min(0),
      monthlyCostChangeUsd: z.number(),
    }),
  })
  .superRefine(checkPlanCoherence);

/** Validates plan data; throws an {@link InputValidationError} naming `source` and every bad field. */
export function parseRemediationPlan(data: unknown, source = 'plan'): RemediationPlan {
  return parseOrThrow(RemediationPlanSchema, data, source);
}

/** Reads and validates a plan file written by {@link saveRemediationPlan}. */
export async function loadRemediationPlan(path: string): Promise<RemediationPlan> {
  return parseRemediationPlan(await readJsonFile(path, 'plan'), path);
}

/** Writes a plan as JSON, readable by {@link loadRemediationPlan}. */
export async function saveRemediationPlan(path: string, plan: RemediationPlan): Promise<void> {
  await writeJsonFile(path, plan);
}
