import * as z from 'zod';
import { AccountIdSchema } from '../aws/shapes';
import { parseOrThrow } from '../errors';
import { readJsonFile, writeJsonFile } from '../json-file';
import { REMEDIATION_MODES, RemediationActionSchema } from '../policy/schema';
import { ActionParamsSchema } from './actions/registry';
import { PLAN_SCHEMA_VERSION, type RemediationPlan } from './plan-model';

/**
 * A saved remediation plan (`vpc-guard plan --out FILE`), read back by `vpc-guard apply --plan FILE`.
 * The file is checked field by field before anything acts on it: a plan is an instruction to write to
 * AWS, so a truncated or hand-edited file is refused with the path of what is wrong, never half-read.
 * Each action's parameters are checked by its own schema (`actions/<name>.ts`, via the registry).
 */

const PlannedActionSchema = z
  .strictObject({
    id: z.string().min(1),
    action: RemediationActionSchema,
    accountId: AccountIdSchema,
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
  accountId: AccountIdSchema,
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
