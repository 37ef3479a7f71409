import { createHash, randomUUID } from 'node:crypto';
import {
  CreateNatGatewayCommand,
  CreateRouteCommand,
  DeleteSecurityGroupCommand,
  DeleteTagsCommand,
  DeleteVpcEndpointsCommand,
  DescribeNatGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcEndpointsCommand,
  paginateDescribeVpcEndpoints,
  type EC2Client,
  type NatGateway,
  type RouteTable as Ec2RouteTable,
  type SecurityGroup as Ec2SecurityGroup,
  type Subnet as Ec2Subnet,
  type Tag as Ec2Tag,
  type VpcEndpoint as Ec2VpcEndpoint,
} from '@aws-sdk/client-ec2';
import * as z from 'zod';
import { awsErrorCode, describeAwsError } from '../aws/errors';
import { readJsonFile } from '../json-file';
import { ENDPOINT_MUTATION_BUCKET, RateLimiterRegistry } from '../aws/rate-limiter';
import {
  InputValidationError,
  VpcGuardError,
  describeIssue,
  formatIssuePath,
  parseOrThrow,
  type InputProblem,
} from '../errors';
import { REMEDIATION_ACTIONS } from '../policy/schema';
import { routeTargetOf } from '../snapshot/collect';
import {
  RELEASED_FROM_TAG,
  RELEASED_FROM_VPC_TAG,
  RouteTargetSchema,
  type RouteTarget,
} from '../snapshot/schema';
import type { ApplyDependencies } from './apply';
import {
  CallFailed,
  describeAllocation,
  modifyEndpoint,
  look,
  routeDestination,
  samePolicy,
  send,
  type CallScope,
} from './ec2-calls';
import { MANAGED_TAG, PROTECTED_TAG, isProtected } from './plan';
import type { RemediationPlan, RouteRef } from './plan-model';
import {
  IN_PROGRESS_DETAIL,
  RECORD_SCHEMA_VERSION,
  summarizeOutcomes,
  type ActionOutcome,
  type ActionRecord,
  type CallRecord,
  type CreatedResource,
  type RecordJournal,
  type RemediationRecord,
  type RollbackAction,
} from './record';
import {
  RecordIntegritySchema,
  verifyRecordIntegrity,
  type RecordTrust,
  type RecordVerdict,
} from './record-integrity';

/**
 * Rollback: the inverse of an `apply` run, planned from its record alone and carried out with the
 * same guards as the apply (describe-compare-act, DryRun, the endpoint token bucket, a record).
 * What the record shows was changed is undone; what it shows was not is left alone; what cannot be
 * restored faithfully (a deleted NAT gateway without `recreateNat`, a policy changed by someone else
 * since, a released Elastic IP) is reported as blocked, never guessed.
 */

export const ROLLBACK_PLAN_SCHEMA_VERSION = 1;

/** The tag on a NAT gateway recreated by rollback: the id of the NAT it replaces. */
export const REPLACES_TAG = 'vpc-guard:replaces';

/**
 * The policy EC2 attaches to an endpoint created without one (AWS-FACTS, "Endpoint policies"), as EC2
 * returns it. Written back to an interface endpoint whose previous policy was not recorded, since
 * `ResetPolicy` works only on gateway endpoints.
 */
export const AWS_DEFAULT_ENDPOINT_POLICY = JSON.stringify({
  Version: '2008-10-17',
  Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }],
});

/** What one rollback step does, with everything it needs to do it. */
export type RollbackParams =
  | {
      readonly action: 'restore-endpoint-policy';
      readonly endpointId: string;
      readonly service: string | null;
      readonly endpointType: 'Interface' | 'Gateway';
      /**
       * `previous`: write the recorded document. `reset`: a gateway endpoint that had none gets
       * `ResetPolicy` (EC2's default). `aws-default`: an interface endpoint that had none gets the
       * default full-access text, since interface endpoints cannot be reset.
       */
      readonly restore: 'previous' | 'reset' | 'aws-default';
      /** The document to write; null with `reset`. */
      readonly policyDocument: string | null;
      /** The document the run wrote: only a policy still equal to it is overwritten. */
      readonly appliedPolicyDocument: string | null;
    }
  | {
      readonly action: 'delete-created-endpoint';
      readonly endpointId: string;
      readonly service: string | null;
    }
  | { readonly action: 'delete-created-security-group'; readonly groupId: string }
  | {
      readonly action: 'disable-private-dns';
      readonly endpointId: string;
      readonly service: string | null;
    }
  | {
      readonly action: 'shrink-endpoint-coverage';
      readonly endpointId: string;
      readonly service: string | null;
      readonly removeSubnetIds: readonly string[];
      readonly removeRouteTableIds: readonly string[];
    }
  | {
      readonly action: 'recreate-route';
      readonly route: RouteRef;
      /** Set when the route must target the NAT gateway recreated in place of this (deleted) one. */
      readonly viaRecreatedNatOf: string | null;
    }
  | {
      readonly action: 'recreate-nat';
      /** The NAT gateway the run deleted. */
      readonly natGatewayId: string;
      readonly subnetId: string;
      readonly connectivityType: 'public' | 'private';
      /** The Elastic IP the deleted NAT held (a public NAT); the run kept it allocated. */
      readonly allocationId: string | null;
      /** Derived from the run id and the NAT id, so a retried rollback never makes a second NAT. */
      readonly clientToken: string;
      readonly tags: Readonly<Record<string, string>>;
      /** The routes that pointed at the deleted NAT, recreated by the steps that follow. */
      readonly routes: readonly RouteRef[];
    }
  | {
      /**
       * The inverse of `release-elastic-ip`, always blocked: a released address cannot be taken back
       * as it was (see `releasedAddressReason`). Present so the rollback says so.
       */
      readonly action: 'restore-elastic-ip';
      readonly allocationId: string;
      readonly publicIp: string;
      readonly natGatewayId: string;
    };

/**
 * `planned`: will run. `blocked`: will not run, `reason` says why and what would unblock it.
 * `skipped`: there is nothing to restore (e.g. a route that was a blackhole), `reason` says why.
 */
export type RollbackStepStatus = 'planned' | 'blocked' | 'skipped';

/** One step of a rollback: the inverse of (part of) one action of the apply record. */
export interface RollbackStep {
  /** `accountId/region/vpcId/action/subject`, like the ids of planned actions. */
  readonly id: string;
  readonly action: RollbackAction;
  readonly accountId: string;
  readonly region: string;
  readonly vpcId: string;
  readonly status: RollbackStepStatus;
  readonly reason?: string;
  /** The id of the action of the apply record this step undoes. */
  readonly undoes: string;
  /** One line for the diff, e.g. "+ route 0.0.0.0/0 -> igw-0abc in rtb-0def". */
  readonly summary: string;
  /** What must hold when the step runs; checked against a fresh describe. */
  readonly preconditions: readonly string[];
  readonly params: RollbackParams;
}

/** The inverse of an apply run, in the order it must run (the reverse of the run's). */
export interface RollbackPlan {
  readonly schemaVersion: typeof ROLLBACK_PLAN_SCHEMA_VERSION;
  /** The run id of the apply record. */
  readonly rollbackOf: string;
  readonly recreateNat: boolean;
  readonly steps: readonly RollbackStep[];
  /** What the record shows and no step undoes, and why. */
  readonly notes: readonly string[];
}

/** Options of {@link planRollback}. */
export interface RollbackOptions {
  /**
   * Recreate each NAT gateway the run deleted (same subnet, same Elastic IP, same connectivity type)
   * and point its routes at the new one. Without it, such a NAT is a blocked step: routes cannot
   * target a deleted NAT, and a new NAT costs money, so it is never made unasked.
   * @default false
   */
  readonly recreateNat?: boolean;
}

/** Why a record cannot be rolled back at all. */
export type RollbackRefusal = 'rollback-record' | 'dry-run-record';

/** Thrown by {@link planRollback} for a record that cannot be rolled back: a rollback, or a dry run. */
export class RollbackRefusedError extends VpcGuardError {
  readonly runId: string;
  readonly refusal: RollbackRefusal;

  constructor(runId: string, refusal: RollbackRefusal, message: string) {
    super(message);
    this.name = 'RollbackRefusedError';
    this.runId = runId;
    this.refusal = refusal;
  }
}

// ---------------------------------------------------------------------------------------------
// Reading the record
// ---------------------------------------------------------------------------------------------

const ROLLBACK_ACTION_NAMES: Readonly<Record<RollbackAction, true>> = {
  'restore-endpoint-policy': true,
  'delete-created-endpoint': true,
  'delete-created-security-group': true,
  'disable-private-dns': true,
  'shrink-endpoint-coverage': true,
  'recreate-route': true,
  'recreate-nat': true,
  'restore-elastic-ip': true,
};

const OUTCOME_NAMES: Readonly<Record<ActionOutcome, true>> = {
  verified: true,
  'still-failing': true,
  skipped: true,
  blocked: true,
  failed: true,
  'would-succeed': true,
  unauthorized: true,
};

const RouteRefSchema = z.object({
  routeTableId: z.string().min(1),
  destination: z.string().min(1),
  target: RouteTargetSchema,
});

/** What `before` must hold for a policy restore. */
const PolicyBeforeSchema = z.object({
  policyDocument: z.string().nullable(),
  endpointType: z.enum(['Interface', 'Gateway']),
});

/** What `before` must hold to recreate a deleted NAT gateway. */
const NatBeforeSchema = z.object({
  natGatewayId: z.string().min(1),
  subnetId: z.string().min(1),
  connectivityType: z.enum(['public', 'private']),
  allocationIds: z.array(z.string()),
  natState: z.string().optional(),
});

/** What `before` must hold to report a released Elastic IP. */
const ReleaseBeforeSchema = z.object({
  allocationId: z.string().min(1),
  publicIp: z.string().min(1),
  natGatewayId: z.string().min(1),
});

/** What `after` must hold to shrink coverage back. */
const CoverageAfterSchema = z.object({
  addedSubnetIds: z.array(z.string()),
  addedRouteTableIds: z.array(z.string()),
});

/** The part of an action record that decides what rollback reads. */
interface ActionFacts {
  readonly action: string;
  readonly outcome: string;
  readonly calls: readonly Pick<CallRecord, 'operation' | 'input' | 'dryRun' | 'result'>[];
  readonly before: Readonly<Record<string, unknown>>;
  readonly after: Readonly<Record<string, unknown>>;
}

/**
 * True for a write that took effect or may have: `ok`, or `pending` in the journal of a run that
 * stopped during the call. Rollback then undoes it only where AWS shows it happened.
 */
function mayHaveTakenEffect(call: Pick<CallRecord, 'result' | 'dryRun'>): boolean {
  return (call.result === 'ok' || call.result === 'pending') && !call.dryRun;
}

function succeeded(facts: ActionFacts, operation: string): CallRecord['input'] | undefined {
  return facts.calls.find((c) => c.operation === operation && mayHaveTakenEffect(c))?.input;
}

/**
 * True when the action wrote something that took effect: a verified or still-failing action, or a
 * failed one with at least one successful write (the record's calls say which).
 */
function changedSomething(facts: ActionFacts): boolean {
  if (!['verified', 'still-failing', 'failed'].includes(facts.outcome)) return false;
  return facts.calls.some((c) => mayHaveTakenEffect(c) && !c.operation.startsWith('Describe'));
}

/** The endpoint a successful ModifyVpcEndpoint of the action changed (the truth, not the plan). */
function modifiedEndpointId(facts: ActionFacts): string | undefined {
  const id = succeeded(facts, 'ModifyVpcEndpoint')?.['VpcEndpointId'];
  return typeof id === 'string' && id.length > 0 ? id : undefined;
}

interface FieldProblem {
  readonly path: PropertyKey[];
  readonly message: string;
}

function problemsOf(schema: z.ZodType, value: unknown, prefix: string): FieldProblem[] {
  const result = schema.safeParse(value, { reportInput: true });
  return result.success
    ? []
    : result.error.issues.map((issue) => ({
        path: [prefix, ...issue.path],
        message: describeIssue(issue),
      }));
}

/** The fields rollback relies on for this action, checked only where the action changed something. */
function rollbackFieldProblems(facts: ActionFacts): FieldProblem[] {
  if (!changedSomething(facts)) return [];
  const endpointCall = (): FieldProblem[] =>
    modifiedEndpointId(facts)
      ? []
      : [
          {
            path: ['calls'],
            message: 'expected a successful ModifyVpcEndpoint call naming VpcEndpointId',
          },
        ];
  switch (facts.action) {
    case 'replace-endpoint-policy':
      return [...problemsOf(PolicyBeforeSchema, facts.before, 'before'), ...endpointCall()];
    case 'enable-private-dns':
      return endpointCall();
    case 'extend-endpoint-coverage':
      return [...problemsOf(CoverageAfterSchema, facts.after, 'after'), ...endpointCall()];
    case 'remove-nat':
      return succeeded(facts, 'DeleteNatGateway')
        ? problemsOf(NatBeforeSchema, facts.before, 'before')
        : [];
    case 'release-elastic-ip':
      return problemsOf(ReleaseBeforeSchema, facts.before, 'before');
    default:
      return [];
  }
}

const CallRecordSchema = z.looseObject({
  operation: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
  dryRun: z.boolean(),
  result: z.string().min(1),
  at: z.string(),
});

const ActionRecordSchema = z
  .looseObject({
    id: z.string().min(1),
    action: z.enum([
      ...REMEDIATION_ACTIONS,
      ...(Object.keys(ROLLBACK_ACTION_NAMES) as RollbackAction[]),
    ]),
    accountId: z.string().regex(/^\d{12}$/, 'expected a 12-digit AWS account id'),
    region: z.string().min(1),
    vpcId: z.string().min(1),
    outcome: z.enum(Object.keys(OUTCOME_NAMES) as [ActionOutcome, ...ActionOutcome[]]),
    detail: z.string(),
    calls: z.array(CallRecordSchema),
    before: z.record(z.string(), z.unknown()),
    after: z.record(z.string(), z.unknown()),
    created: z.array(
      z.object({
        type: z.enum(['vpc-endpoint', 'security-group', 'nat-gateway', 'route']),
        id: z.string().min(1),
      }),
    ),
    removedRoutes: z.array(RouteRefSchema),
    remainingFindingKeys: z.array(z.string()).default([]),
  })
  .superRefine((action, ctx) => {
    for (const problem of rollbackFieldProblems(action)) {
      ctx.addIssue({ code: 'custom', message: problem.message, path: problem.path });
    }
  });

/**
 * A remediation record file as rollback reads it: every field rollback relies on is checked (the
 * actions, their calls, what they created and removed, and per action the `before` / `after` fields
 * its inverse needs); the rest (the plan, extra fields) is accepted as it is. The plan is read only
 * for the policy documents a run wrote, defensively.
 */
export const RemediationRecordSchema = z.looseObject({
  schemaVersion: z.literal(RECORD_SCHEMA_VERSION),
  runId: z.string().min(1),
  kind: z.enum(['apply', 'rollback']),
  execution: z.enum(['apply', 'dry-run']),
  startedAt: z.string(),
  finishedAt: z.string(),
  identity: z.string(),
  rollbackOf: z.string().optional(),
  plan: z.looseObject({}).nullable(),
  actions: z.array(ActionRecordSchema),
  // Recounted from the actions on reading: a stale or hand-edited summary does not matter.
  summary: z.unknown().optional(),
  status: z.literal('running').optional(),
  integrity: RecordIntegritySchema.optional(),
});

/**
 * Validates record data; throws an {@link InputValidationError} naming `source` and every bad field
 * (e.g. `actions[3].before.policyDocument`). The summary is recounted from the actions.
 */
export function parseRemediationRecord(data: unknown, source = 'record'): RemediationRecord {
  const parsed = parseOrThrow(RemediationRecordSchema, data, source);
  const actions = parsed.actions as unknown as ActionRecord[];
  return {
    ...parsed,
    // Loose on purpose (see RemediationRecordSchema): planRollback reads it defensively.
    plan: parsed.plan as unknown as RemediationPlan | null,
    actions,
    summary: summarizeOutcomes(actions),
  };
}

/** A record read from its file, with how far it can be trusted. */
export interface LoadedRecord {
  readonly record: RemediationRecord;
  /** `verified`: its MAC checks with the given key. `unsigned`: accepted unchecked, as asked. */
  readonly verdict: RecordVerdict;
}

/**
 * Reads a remediation record file (JSON), as written by `vpc-guard apply`, judges its integrity first
 * (see {@link verifyRecordIntegrity}: an unsigned record only with `acceptUnsigned`, a bad MAC
 * never), then validates it. Throws {@link RecordIntegrityError} or {@link InputValidationError}.
 */
export async function loadRemediationRecord(
  path: string,
  trust: RecordTrust,
): Promise<LoadedRecord> {
  const data = unwrapLoggedRecord(await readJsonFile(path, 'record'));
  const verdict = await verifyRecordIntegrity(data, trust, path);
  return { record: parseRemediationRecord(data, path), verdict };
}

/** The log messages under which the functions write a record (structured log, one JSON per line). */
const LOGGED_RECORD_MESSAGES = new Set(['remediation record', 'remediation journal']);

/**
 * The deployed functions log their signed records (`{ "message": "remediation record", "record":
 * {...} }`); such a log entry, saved as a file, is taken as the record it holds. The MAC is checked
 * on that record alone, so the wrapper adds nothing a forger could use.
 */
function unwrapLoggedRecord(data: unknown): unknown {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return data;
  const entry = data as Record<string, unknown>;
  const message = Object.hasOwn(entry, 'message') ? entry['message'] : undefined;
  const record = Object.hasOwn(entry, 'record') ? entry['record'] : undefined;
  return typeof message === 'string' &&
    LOGGED_RECORD_MESSAGES.has(message) &&
    record !== null &&
    typeof record === 'object'
    ? record
    : data;
}

// ---------------------------------------------------------------------------------------------
// Planning
// ---------------------------------------------------------------------------------------------

/** The few plan params rollback reads, checked because a record's plan is not validated. */
const PlanLookupSchema = z.looseObject({
  vpcs: z.array(
    z.looseObject({
      actions: z.array(
        z.looseObject({
          id: z.string(),
          params: z.looseObject({
            service: z.string().optional(),
            policyDocument: z.string().optional(),
          }),
        }),
      ),
    }),
  ),
});

type PlannedParams = { readonly service?: string; readonly policyDocument?: string };

function plannedParamsById(plan: unknown): Map<string, PlannedParams> {
  const parsed = PlanLookupSchema.safeParse(plan);
  const byId = new Map<string, PlannedParams>();
  if (!parsed.success) return byId;
  for (const vpc of parsed.data.vpcs) {
    for (const action of vpc.actions) byId.set(action.id, action.params);
  }
  return byId;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The ClientToken of a recreated NAT gateway: from the run and the NAT it replaces, so a rerun of
 * the same rollback gets the same NAT back from EC2 instead of a second one (at most 64 characters).
 */
export function natClientToken(runId: string, natGatewayId: string): string {
  return `vpcguard-rb-${sha256(`${runId}|${natGatewayId}`).slice(0, 40)}`;
}

/** CreateRoute's target parameter for a route target; undefined for what CreateRoute cannot make. */
function routeTargetParameter(target: RouteTarget): Record<string, string> | undefined {
  switch (target.type) {
    case 'igw':
    case 'vgw':
      return { GatewayId: target.id };
    case 'nat':
      return { NatGatewayId: target.id };
    case 'eigw':
      return { EgressOnlyInternetGatewayId: target.id };
    case 'tgw':
      return { TransitGatewayId: target.id };
    case 'pcx':
      return { VpcPeeringConnectionId: target.id };
    case 'eni':
      return { NetworkInterfaceId: target.id };
    case 'cagw':
      return { CarrierGatewayId: target.id };
    case 'lgw':
      return { LocalGatewayId: target.id };
    case 'vpce':
      // Gateway-endpoint routes are made by ModifyVpcEndpoint; this is a Gateway Load Balancer one.
      return { VpcEndpointId: target.id };
    case 'other':
      if (target.id.startsWith('i-')) return { InstanceId: target.id };
      if (target.id.startsWith('arn:')) return { CoreNetworkArn: target.id };
      return undefined;
    case 'local':
      return undefined;
  }
}

interface StepDraft {
  readonly action: RollbackAction;
  readonly subject: string;
  readonly status?: RollbackStepStatus;
  readonly reason?: string;
  readonly summary: string;
  readonly preconditions: readonly string[];
  readonly params: RollbackParams;
}

function named(id: string, service: string | null | undefined): string {
  return service ? `${id} (${service})` : id;
}

function routeStep(route: RouteRef, viaRecreatedNatOf: string | null, runId: string): StepDraft {
  const target = viaRecreatedNatOf
    ? `the NAT gateway recreated for ${viaRecreatedNatOf}`
    : route.target.id;
  const draft = {
    action: 'recreate-route' as const,
    subject: `${route.routeTableId}/${route.destination}`,
    summary: `+ route ${route.destination} -> ${target} in ${route.routeTableId}`,
    preconditions: [
      `${route.routeTableId} has no route for ${route.destination} (or already the same one)`,
      viaRecreatedNatOf
        ? `the NAT gateway recreated for ${viaRecreatedNatOf} is available`
        : `${route.target.id} still exists`,
    ],
    params: { action: 'recreate-route' as const, route, viaRecreatedNatOf },
  };
  if (!routeTargetParameter(route.target)) {
    return {
      ...draft,
      status: 'blocked',
      reason: `run ${runId} removed a route to a ${route.target.type} target (${route.target.id}), which CreateRoute cannot recreate`,
    };
  }
  return draft;
}

/** A removed route that was already a blackhole: nothing to recreate, `why` says how we know. */
function blackholeRouteStep(route: RouteRef, runId: string, why: string): StepDraft {
  return {
    ...routeStep(route, null, runId),
    status: 'skipped',
    reason: `${why}: EC2 cannot recreate it, and it carried no traffic`,
  };
}

function policySteps(
  action: ActionRecord,
  planned: PlannedParams | undefined,
  runId: string,
): StepDraft[] {
  const endpointId = modifiedEndpointId(action)!;
  const before = PolicyBeforeSchema.parse(action.before);
  const service = planned?.service ?? null;
  const applied = planned?.policyDocument || null;
  const restore =
    before.policyDocument !== null
      ? ('previous' as const)
      : before.endpointType === 'Gateway'
        ? ('reset' as const)
        : ('aws-default' as const);
  const what = {
    previous: `the policy it had before run ${runId}`,
    reset: 'the AWS default policy (ResetPolicy: none was recorded)',
    'aws-default':
      'the AWS default full-access policy text (no previous policy was recorded, and an interface endpoint cannot be reset)',
  }[restore];
  return [
    {
      action: 'restore-endpoint-policy',
      subject: endpointId,
      summary: `~ policy of ${named(endpointId, service)} -> ${what}`,
      preconditions: [
        `${endpointId} exists and is pending or available`,
        `its policy is still the one run ${runId} wrote (compared by content); a later change is never overwritten`,
      ],
      params: {
        action: 'restore-endpoint-policy',
        endpointId,
        service,
        endpointType: before.endpointType,
        restore,
        policyDocument:
          restore === 'previous'
            ? before.policyDocument
            : restore === 'aws-default'
              ? AWS_DEFAULT_ENDPOINT_POLICY
              : null,
        appliedPolicyDocument: applied,
      },
      ...(applied
        ? {}
        : {
            status: 'blocked' as const,
            reason: `the record does not carry the policy run ${runId} wrote (no plan), so a later change to ${endpointId} cannot be ruled out`,
          }),
    },
  ];
}

function natSteps(action: ActionRecord, runId: string, recreateNat: boolean): StepDraft[] {
  const routes = action.removedRoutes;
  if (!succeeded(action, 'DeleteNatGateway')) {
    // The NAT was not deleted by this run: its routes can point at it again, if it still lives.
    const natState = typeof action.before['natState'] === 'string' ? action.before['natState'] : '';
    const dead = natState !== '' && natState !== 'pending' && natState !== 'available';
    return routes.map((route) =>
      dead
        ? blackholeRouteStep(
            route,
            runId,
            `the route pointed at ${route.target.id}, already ${natState} before run ${runId} (a blackhole)`,
          )
        : routeStep(route, null, runId),
    );
  }
  const before = NatBeforeSchema.parse(action.before);
  const allocationId = before.allocationIds[0] ?? null;
  const routeList = routes.map((r) => `${r.routeTableId} ${r.destination}`).join(', ') || 'none';
  const natStep: StepDraft = {
    action: 'recreate-nat',
    subject: before.natGatewayId,
    summary: `+ NAT gateway in ${before.subnetId}${allocationId ? ` with ${allocationId}` : ''} (${before.connectivityType}), replacing ${before.natGatewayId}`,
    preconditions: [
      `${before.natGatewayId} is deleted (it no longer holds ${allocationId ?? 'its address'})`,
      ...(allocationId ? [`${allocationId} is allocated and not associated`] : []),
      `subnet ${before.subnetId} exists`,
    ],
    params: {
      action: 'recreate-nat',
      natGatewayId: before.natGatewayId,
      subnetId: before.subnetId,
      connectivityType: before.connectivityType,
      allocationId,
      clientToken: natClientToken(runId, before.natGatewayId),
      tags: {
        [MANAGED_TAG]: 'true',
        [REPLACES_TAG]: before.natGatewayId,
        Name: `vpc-guard-restored-${before.natGatewayId}`,
      },
      routes,
    },
  };
  if (!recreateNat) {
    return [
      {
        ...natStep,
        status: 'blocked',
        reason: `run ${runId} deleted NAT gateway ${before.natGatewayId}; its ${routes.length} route(s) (${routeList}) cannot point at a deleted NAT: rerun with --recreate-nat to create a NAT gateway in ${before.subnetId}${allocationId ? ` with ${allocationId}` : ''} and recreate them`,
      },
    ];
  }
  if (before.connectivityType === 'public' && !allocationId) {
    return [
      {
        ...natStep,
        status: 'blocked',
        reason: `the record has no Elastic IP allocation for public NAT gateway ${before.natGatewayId}`,
      },
    ];
  }
  return [natStep, ...routes.map((route) => routeStep(route, before.natGatewayId, runId))];
}

function inverseOf(
  action: ActionRecord,
  planned: PlannedParams | undefined,
  runId: string,
  recreateNat: boolean,
): StepDraft[] {
  const service = planned?.service ?? null;
  switch (action.action) {
    case 'replace-endpoint-policy':
      return policySteps(action, planned, runId);
    case 'create-endpoint': {
      const endpoints = action.created.filter((c) => c.type === 'vpc-endpoint');
      const groups = action.created.filter((c) => c.type === 'security-group');
      return [
        ...endpoints.map(({ id }): StepDraft => ({
          action: 'delete-created-endpoint',
          subject: id,
          summary: `- endpoint ${named(id, service)} (created by run ${runId})`,
          preconditions: [`${id} carries ${MANAGED_TAG}=true`],
          params: { action: 'delete-created-endpoint', endpointId: id, service },
        })),
        // After the endpoints: EC2 refuses to delete a group an endpoint still uses.
        ...groups.map(({ id }): StepDraft => ({
          action: 'delete-created-security-group',
          subject: id,
          summary: `- security group ${id} (created by run ${runId})`,
          preconditions: [
            `${id} carries ${MANAGED_TAG}=true`,
            `no endpoint uses ${id} any more (deleting ones are waited for, a bounded number of times)`,
          ],
          params: { action: 'delete-created-security-group', groupId: id },
        })),
      ];
    }
    case 'enable-private-dns': {
      const endpointId = modifiedEndpointId(action)!;
      return [
        {
          action: 'disable-private-dns',
          subject: endpointId,
          summary: `~ private DNS off for ${named(endpointId, service)}`,
          preconditions: [`${endpointId} exists with private DNS on`],
          params: { action: 'disable-private-dns', endpointId, service },
        },
      ];
    }
    case 'extend-endpoint-coverage': {
      const endpointId = modifiedEndpointId(action)!;
      const after = CoverageAfterSchema.parse(action.after);
      const removed = [...after.addedSubnetIds, ...after.addedRouteTableIds];
      if (removed.length === 0) return [];
      return [
        {
          action: 'shrink-endpoint-coverage',
          subject: endpointId,
          summary: `~ ${named(endpointId, service)} - ${removed.join(', ')}`,
          preconditions: [`${endpointId} exists`],
          params: {
            action: 'shrink-endpoint-coverage',
            endpointId,
            service,
            removeSubnetIds: after.addedSubnetIds,
            removeRouteTableIds: after.addedRouteTableIds,
          },
        },
      ];
    }
    case 'remove-internet-route': {
      const wasBlackhole = action.before['state'] === 'blackhole';
      return action.removedRoutes.map((route) =>
        wasBlackhole
          ? blackholeRouteStep(
              route,
              runId,
              `the route was a blackhole (${route.target.id} was gone before run ${runId})`,
            )
          : routeStep(route, null, runId),
      );
    }
    case 'remove-nat':
      return natSteps(action, runId, recreateNat);
    case 'release-elastic-ip': {
      const before = ReleaseBeforeSchema.parse(action.before);
      return [
        {
          action: 'restore-elastic-ip',
          subject: before.allocationId,
          status: 'blocked',
          reason: releasedAddressReason(`run ${runId}`, before.publicIp, before.allocationId),
          summary: `+ Elastic IP ${before.publicIp} (${before.allocationId}), released by run ${runId}`,
          preconditions: [`${before.publicIp} is not allocated to another account`],
          params: { action: 'restore-elastic-ip', ...before },
        },
      ];
    }
    default:
      return [];
  }
}

/**
 * A route is recreated only where the action's own calls show vpc-guard deleted it (a DeleteRoute of
 * that table and destination that took effect or may have): `removedRoutes` alone is not enough.
 */
function checkRouteWasDeleted(draft: StepDraft, action: ActionRecord, runId: string): StepDraft {
  if (draft.params.action !== 'recreate-route' || (draft.status ?? 'planned') !== 'planned')
    return draft;
  const { route } = draft.params;
  const destination = Object.entries(routeDestination(route.destination));
  const deleted = action.calls.some(
    (call) =>
      call.operation === 'DeleteRoute' &&
      mayHaveTakenEffect(call) &&
      call.input['RouteTableId'] === route.routeTableId &&
      destination.every(([key, value]) => call.input[key] === value),
  );
  return deleted
    ? draft
    : {
        ...draft,
        status: 'blocked',
        reason: `the record of run ${runId} lists ${route.destination} in ${route.routeTableId} as removed, but shows no DeleteRoute of it: not recreating a route vpc-guard is not shown to have removed`,
      };
}

/**
 * Why a released Elastic IP is not restored. AllocateAddress makes a new address; EC2 can recover a
 * released one only by asking for it (`Address`), only while no other account has it, and then under
 * a new allocation id without its tags (EC2 User Guide, "Release an Elastic IP address"). So nothing
 * that pointed at the old allocation would follow: a person decides whether to try.
 */
function releasedAddressReason(releasedBy: string, publicIp: string, allocationId: string): string {
  return `${releasedBy} released Elastic IP ${publicIp} (${allocationId}); a released address cannot be restored as it was: AllocateAddress gives a new address, and recovering ${publicIp} (AllocateAddress with Address=${publicIp}) works only if no other account took it, under a new allocation id without its tags; vpc-guard does not attempt it`;
}

/**
 * Plans the inverse of an apply run from its record alone. Pure. Every action that changed something
 * (verified, still failing, or failed after a successful write: the record's calls, `created` and
 * `removedRoutes` say what) gets its inverse steps, in the reverse order of the run: recreate NAT
 * gateways (only with `recreateNat`) and their routes, recreate removed routes, restore endpoint
 * policies, turn private DNS back off, shrink coverage back, delete the endpoints and then the
 * security groups the run created. A released Elastic IP gets a `blocked` step saying why it cannot
 * be restored. Throws {@link RollbackRefusedError} for a rollback record or a dry-run record, and
 * {@link InputValidationError} when a field an inverse needs is missing.
 */
export function planRollback(
  record: RemediationRecord,
  options: RollbackOptions = {},
): RollbackPlan {
  if (record.kind === 'rollback') {
    throw new RollbackRefusedError(
      record.runId,
      'rollback-record',
      `run ${record.runId} is a rollback${record.rollbackOf ? ` of run ${record.rollbackOf}` : ''}: a rollback is not rolled back (run plan and apply again to get the fixes back)`,
    );
  }
  if (record.execution === 'dry-run') {
    throw new RollbackRefusedError(
      record.runId,
      'dry-run-record',
      `run ${record.runId} was a dry run: it changed nothing, so there is nothing to roll back`,
    );
  }
  const problems: InputProblem[] = record.actions.flatMap((action, index) =>
    rollbackFieldProblems(action).map((problem) => ({
      path: formatIssuePath([`actions`, index, ...problem.path]),
      message: problem.message,
    })),
  );
  if (problems.length > 0) throw new InputValidationError(`record ${record.runId}`, problems);

  const recreateNat = options.recreateNat ?? false;
  const planned = plannedParamsById(record.plan);
  const steps: RollbackStep[] = [];
  const unchanged: string[] = [];
  for (const action of [...record.actions].reverse()) {
    if (!changedSomething(action)) {
      unchanged.push(action.id);
      continue;
    }
    for (const inverse of inverseOf(action, planned.get(action.id), record.runId, recreateNat)) {
      const draft = checkRouteWasDeleted(inverse, action, record.runId);
      const { subject, ...rest } = draft;
      steps.push({
        ...rest,
        id: `${action.accountId}/${action.region}/${action.vpcId}/${draft.action}/${subject}`,
        accountId: action.accountId,
        region: action.region,
        vpcId: action.vpcId,
        status: draft.status ?? 'planned',
        undoes: action.id,
      });
    }
  }
  const notes: string[] = [];
  if (unchanged.length > 0) {
    notes.push(
      `${unchanged.length} action(s) of run ${record.runId} changed nothing (skipped, blocked, dry-run or failed before any write): nothing to undo for them`,
    );
  }
  for (const step of steps) {
    if (step.params.action === 'restore-endpoint-policy' && step.params.restore === 'aws-default') {
      notes.push(
        `${step.params.endpointId}: no previous policy was recorded; the AWS default full-access policy is written back, as EC2 would attach it`,
      );
    }
  }
  return {
    schemaVersion: ROLLBACK_PLAN_SCHEMA_VERSION,
    rollbackOf: record.runId,
    recreateNat,
    steps,
    notes,
  };
}

// ---------------------------------------------------------------------------------------------
// Applying
// ---------------------------------------------------------------------------------------------

/** What {@link applyRollback} needs: the apply's dependencies, plus waiting and dry-run control. */
export interface RollbackDependencies extends Omit<ApplyDependencies, 'collect'> {
  /** Send every write with `DryRun: true` (describes still run, to decide what would be written). */
  readonly dryRun?: boolean;
  /** Waits between checks of an asynchronous change; injectable for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * How many times an asynchronous change is checked (a recreated NAT becoming available, a deleted
   * NAT releasing its address, a deleting endpoint releasing a security group) before the step
   * reports it unfinished. @default 20
   */
  readonly waitAttempts?: number;
  /** Milliseconds between those checks. @default 15000 */
  readonly waitIntervalMs?: number;
  /**
   * Where the rollback's own record is kept while it runs: written at the start and before and after
   * each write. @default - none: the record is only returned at the end
   */
  readonly journal?: RecordJournal;
}

/** Ends a step early with an outcome that is not an AWS error. */
class StepEnded extends Error {
  constructor(
    readonly outcome: ActionOutcome,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'StepEnded';
  }
}

interface RunState {
  /** Old NAT id -> the NAT recreated for it, or why there is none. */
  readonly recreatedNats: Map<string, { natGatewayId?: string; reason: string }>;
  /** Endpoints the plan deletes: a dry run knows they would free their security groups. */
  readonly endpointsDeleted: ReadonlySet<string>;
}

interface StepScope extends CallScope {
  readonly step: RollbackStep;
  /** The run the rollback undoes. */
  readonly rollbackOf: string;
  readonly limiter: { take(): Promise<void> };
  readonly sleep: (ms: number) => Promise<void>;
  readonly waitAttempts: number;
  readonly waitIntervalMs: number;
  readonly before: Record<string, unknown>;
  readonly after: Record<string, unknown>;
  readonly created: CreatedResource[];
  readonly run: RunState;
}

interface StepResult {
  readonly outcome: ActionOutcome;
  readonly detail: string;
}

const GONE_ENDPOINT_STATES = new Set(['deleting', 'deleted', 'failed', 'rejected', 'expired']);

async function describeEndpoint(
  scope: StepScope,
  endpointId: string,
): Promise<Ec2VpcEndpoint | undefined> {
  // A filter, not VpcEndpointIds: an endpoint that is gone is then an empty answer, not an error.
  const output = await look<{ VpcEndpoints?: Ec2VpcEndpoint[] }>(
    scope,
    'DescribeVpcEndpoints',
    new DescribeVpcEndpointsCommand({
      Filters: [{ Name: 'vpc-endpoint-id', Values: [endpointId] }],
    }),
  );
  return output?.VpcEndpoints?.find((e) => e.VpcEndpointId === endpointId);
}

function endpointState(endpoint: Ec2VpcEndpoint | undefined): string {
  // EC2 documents PascalCase states and returns lower case: normalise.
  return endpoint ? (endpoint.State ?? 'pending').toLowerCase() : 'gone';
}

function isLive(endpoint: Ec2VpcEndpoint | undefined): endpoint is Ec2VpcEndpoint {
  return endpoint !== undefined && !GONE_ENDPOINT_STATES.has(endpointState(endpoint));
}

/** The endpoint as EC2 describes it now; the step is blocked when it was removed after the run. */
async function describeLiveEndpoint(
  scope: StepScope,
  endpointId: string,
  consequence = '',
): Promise<Ec2VpcEndpoint> {
  const endpoint = await describeEndpoint(scope, endpointId);
  if (!isLive(endpoint)) {
    throw new StepEnded(
      'blocked',
      `${endpointId} is ${endpointState(endpoint)}: it was removed after the run${consequence}`,
    );
  }
  inRecordVpc(scope, endpointId, endpoint);
  return endpoint;
}

/**
 * Every step acts only inside the VPC its action names, as AWS describes the resource now: a record
 * (even a signed one) that names a resource of another VPC is not followed.
 */
function inRecordVpc(
  scope: StepScope,
  resourceId: string,
  resource: { readonly VpcId?: string | undefined; readonly Tags?: readonly Ec2Tag[] | undefined },
  { written = true }: { readonly written?: boolean } = {},
): void {
  const vpcId = resource.VpcId;
  if (vpcId !== scope.step.vpcId) {
    throw new StepEnded(
      'blocked',
      `${resourceId} is in ${vpcId ?? 'no VPC'}, not in ${scope.step.vpcId} where the record says run ${scope.rollbackOf} acted: not touching it`,
    );
  }
  // A resource people marked protected since the run is not written, by rollback either.
  if (written && isProtected(tagsOf(resource.Tags))) {
    throw new StepEnded(
      'blocked',
      `${resourceId} carries ${PROTECTED_TAG}: vpc-guard does not write to it; remove the tag to roll back`,
    );
  }
}

/** EC2's tag list as a record built with own properties only (a key `__proto__` stays data). */
function tagsOf(tags: readonly Ec2Tag[] | undefined): Record<string, string> {
  return Object.fromEntries((tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
}

async function describeGroup(
  scope: StepScope,
  groupId: string,
): Promise<Ec2SecurityGroup | undefined> {
  const output = await look<{ SecurityGroups?: Ec2SecurityGroup[] }>(
    scope,
    'DescribeSecurityGroups',
    new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] }),
  );
  return output?.SecurityGroups?.find((g) => g.GroupId === groupId);
}

async function describeSubnet(scope: StepScope, subnetId: string): Promise<Ec2Subnet | undefined> {
  const output = await look<{ Subnets?: Ec2Subnet[] }>(
    scope,
    'DescribeSubnets',
    new DescribeSubnetsCommand({ Filters: [{ Name: 'subnet-id', Values: [subnetId] }] }),
  );
  return output?.Subnets?.find((s) => s.SubnetId === subnetId);
}

async function describeRouteTable(
  scope: StepScope,
  routeTableId: string,
): Promise<Ec2RouteTable | undefined> {
  const output = await look<{ RouteTables?: Ec2RouteTable[] }>(
    scope,
    'DescribeRouteTables',
    new DescribeRouteTablesCommand({
      Filters: [{ Name: 'route-table-id', Values: [routeTableId] }],
    }),
  );
  return output?.RouteTables?.find((t) => t.RouteTableId === routeTableId);
}

async function describeNats(
  scope: StepScope,
  filters: { Name: string; Values: string[] }[],
): Promise<NatGateway[]> {
  const output = await look<{ NatGateways?: NatGateway[] }>(
    scope,
    'DescribeNatGateways',
    new DescribeNatGatewaysCommand({ Filter: filters }),
  );
  return output?.NatGateways ?? [];
}

async function describeNat(scope: StepScope, natGatewayId: string) {
  const nats = await describeNats(scope, [{ Name: 'nat-gateway-id', Values: [natGatewayId] }]);
  return nats.find((n) => n.NatGatewayId === natGatewayId);
}

/**
 * The NAT gateway rollback brought back holds the address again: drop the marks `remove-nat` left on
 * it, so `release-elastic-ip` never releases it should that NAT go some other way later. A failure
 * is reported in the detail, not raised: the NAT is restored either way.
 */
async function unmarkReleased(scope: StepScope, allocationId: string | null): Promise<string> {
  if (!allocationId) return '';
  const address = await describeAllocation(scope, allocationId);
  if (tagValue(address?.Tags, RELEASED_FROM_TAG) === undefined) return '';
  try {
    await send(
      scope,
      'DeleteTags',
      new DeleteTagsCommand({
        Resources: [allocationId],
        Tags: [{ Key: RELEASED_FROM_TAG }, { Key: RELEASED_FROM_VPC_TAG }],
      }),
    );
  } catch (error) {
    if (!(error instanceof CallFailed)) throw error;
    return `; ${allocationId} still carries ${RELEASED_FROM_TAG} (${error.message}): remove the tag by hand`;
  }
  return `; removed ${RELEASED_FROM_TAG} from ${allocationId}`;
}

function tagValue(tags: readonly { Key?: string; Value?: string }[] | undefined, key: string) {
  return tags?.find((t) => t.Key === key)?.Value;
}

function routeAt(table: Ec2RouteTable, destination: string) {
  const route = (table.Routes ?? []).find(
    (r) =>
      (r.DestinationCidrBlock ?? r.DestinationIpv6CidrBlock ?? r.DestinationPrefixListId) ===
      destination,
  );
  return route
    ? { target: routeTargetOf(route), state: route.State === 'blackhole' ? 'blackhole' : 'active' }
    : undefined;
}

/** Checks `check` up to the scope's number of attempts, waiting between; the last value if none passed. */
async function poll<T>(
  scope: StepScope,
  check: () => Promise<T>,
  done: (value: T) => boolean,
): Promise<{ value: T; done: boolean; attempts: number }> {
  let value = await check();
  let attempts = 1;
  while (!done(value) && attempts < scope.waitAttempts) {
    await scope.sleep(scope.waitIntervalMs);
    value = await check();
    attempts += 1;
  }
  return { value, done: done(value), attempts };
}

async function restorePolicy(
  scope: StepScope,
  p: StepParams<'restore-endpoint-policy'>,
): Promise<StepResult> {
  const restored = (document: string | null) =>
    p.restore === 'previous'
      ? samePolicy(document, p.policyDocument)
      : isAwsDefaultEndpointPolicy(document);
  const endpoint = await describeLiveEndpoint(
    scope,
    p.endpointId,
    ', there is no policy to restore',
  );
  const current = endpoint.PolicyDocument ?? null;
  Object.assign(scope.before, { policyDocument: current });
  if (restored(current))
    throw new StepEnded('skipped', `${p.endpointId} already has the policy it had before the run`);
  if (!p.appliedPolicyDocument || !samePolicy(current, p.appliedPolicyDocument)) {
    throw new StepEnded(
      'blocked',
      `the policy of ${p.endpointId} changed since the run (it is not the one vpc-guard wrote): not overwriting it`,
    );
  }
  await modifyEndpoint(scope, {
    VpcEndpointId: p.endpointId,
    ...(p.restore === 'reset' ? { ResetPolicy: true } : { PolicyDocument: p.policyDocument! }),
  });
  if (scope.dryRun)
    return { outcome: 'would-succeed', detail: `would restore the policy of ${p.endpointId}` };
  const after = await describeEndpoint(scope, p.endpointId);
  const now = after?.PolicyDocument ?? null;
  Object.assign(scope.after, { policyDocument: now });
  return restored(now)
    ? {
        outcome: 'verified',
        detail: `restored the previous policy of ${p.endpointId}${p.restore === 'previous' ? '' : ` (${p.restore === 'reset' ? 'ResetPolicy' : 'AWS default full access'})`}`,
      }
    : {
        outcome: 'still-failing',
        detail: `wrote the previous policy of ${p.endpointId}, but EC2 now shows another one`,
      };
}

async function deleteCreatedEndpoint(
  scope: StepScope,
  p: StepParams<'delete-created-endpoint'>,
): Promise<StepResult> {
  const endpoint = await describeEndpoint(scope, p.endpointId);
  Object.assign(scope.before, { state: endpointState(endpoint) });
  if (!isLive(endpoint))
    throw new StepEnded('skipped', `${p.endpointId} is already ${endpointState(endpoint)}`);
  inRecordVpc(scope, p.endpointId, endpoint);
  if (tagValue(endpoint.Tags, MANAGED_TAG) !== 'true') {
    throw new StepEnded(
      'blocked',
      `${p.endpointId} does not carry ${MANAGED_TAG}=true: vpc-guard deletes only what it created`,
    );
  }
  await scope.limiter.take();
  const output = await send<{
    Unsuccessful?: { ResourceId?: string; Error?: { Code?: string; Message?: string } }[];
  }>(
    scope,
    'DeleteVpcEndpoints',
    new DeleteVpcEndpointsCommand({ VpcEndpointIds: [p.endpointId] }),
  );
  if (scope.dryRun) return { outcome: 'would-succeed', detail: `would delete ${p.endpointId}` };
  // DeleteVpcEndpoints reports a failure per endpoint, not as an error of the call.
  const failure = output?.Unsuccessful?.find((u) => u.ResourceId === p.endpointId)?.Error;
  if (failure?.Code?.endsWith('NotFound'))
    throw new StepEnded('skipped', `${p.endpointId} was already gone`);
  if (failure)
    throw new CallFailed(
      failure.Code,
      `DeleteVpcEndpoints: ${failure.Code ?? 'error'}: ${failure.Message ?? ''}`,
    );
  const after = await describeEndpoint(scope, p.endpointId);
  Object.assign(scope.after, { state: endpointState(after) });
  return isLive(after)
    ? {
        outcome: 'still-failing',
        detail: `asked to delete ${p.endpointId}, but it is still ${endpointState(after)}`,
      }
    : { outcome: 'verified', detail: `deleted ${p.endpointId} (now ${endpointState(after)})` };
}

/** Endpoints of the VPC that still reference the group (every page). */
async function endpointsUsing(scope: StepScope, groupId: string): Promise<Ec2VpcEndpoint[]> {
  const found: Ec2VpcEndpoint[] = [];
  try {
    for await (const page of paginateDescribeVpcEndpoints(
      { client: scope.ec2, pageSize: 1000 },
      { Filters: [{ Name: 'vpc-id', Values: [scope.step.vpcId] }] },
    )) {
      for (const endpoint of page.VpcEndpoints ?? []) {
        if ((endpoint.Groups ?? []).some((g) => g.GroupId === groupId)) found.push(endpoint);
      }
    }
  } catch (error) {
    throw new CallFailed(awsErrorCode(error), `DescribeVpcEndpoints: ${describeAwsError(error)}`);
  }
  return found;
}

async function deleteCreatedSecurityGroup(
  scope: StepScope,
  p: StepParams<'delete-created-security-group'>,
): Promise<StepResult> {
  const group = await describeGroup(scope, p.groupId);
  Object.assign(scope.before, { exists: group !== undefined });
  if (!group) throw new StepEnded('skipped', `${p.groupId} is already gone`);
  inRecordVpc(scope, p.groupId, group);
  if (tagValue(group.Tags, MANAGED_TAG) !== 'true') {
    throw new StepEnded(
      'blocked',
      `${p.groupId} does not carry ${MANAGED_TAG}=true: vpc-guard deletes only what it created`,
    );
  }
  for (let attempt = 1; ; attempt += 1) {
    try {
      await send(
        scope,
        'DeleteSecurityGroup',
        new DeleteSecurityGroupCommand({ GroupId: p.groupId }),
      );
      break;
    } catch (error) {
      if (!(error instanceof CallFailed) || error.code !== 'DependencyViolation') throw error;
      const users = await endpointsUsing(scope, p.groupId);
      const live = users.filter((e) => isLive(e));
      const keeping = scope.dryRun
        ? live.filter((e) => !scope.run.endpointsDeleted.has(e.VpcEndpointId ?? ''))
        : live;
      if (keeping.length > 0) {
        throw new StepEnded(
          'blocked',
          `${p.groupId} is still used by ${keeping.map((e) => e.VpcEndpointId).join(', ')}, which this rollback does not delete`,
        );
      }
      if (scope.dryRun) {
        throw new StepEnded(
          'skipped',
          `not tried in a dry run: ${p.groupId} is used by ${live.map((e) => e.VpcEndpointId).join(', ')}, which the rollback deletes first`,
        );
      }
      if (attempt >= scope.waitAttempts) {
        const deleting = users.map((e) => e.VpcEndpointId).join(', ');
        throw new StepEnded(
          'still-failing',
          `EC2 still refuses to delete ${p.groupId} after ${attempt} attempts (DependencyViolation${deleting ? `; ${deleting} still deleting` : ''}): rerun the rollback to finish`,
        );
      }
      // A deleting endpoint keeps its network interfaces, and so the group, for a while.
      await scope.sleep(scope.waitIntervalMs);
    }
  }
  if (scope.dryRun) return { outcome: 'would-succeed', detail: `would delete ${p.groupId}` };
  const after = await describeGroup(scope, p.groupId);
  Object.assign(scope.after, { exists: after !== undefined });
  return after
    ? { outcome: 'still-failing', detail: `deleted ${p.groupId}, but EC2 still lists it` }
    : { outcome: 'verified', detail: `deleted security group ${p.groupId}` };
}

async function disablePrivateDns(
  scope: StepScope,
  p: StepParams<'disable-private-dns'>,
): Promise<StepResult> {
  const endpoint = await describeLiveEndpoint(scope, p.endpointId);
  Object.assign(scope.before, { privateDnsEnabled: endpoint.PrivateDnsEnabled ?? false });
  if (!endpoint.PrivateDnsEnabled)
    throw new StepEnded('skipped', `private DNS is already off for ${p.endpointId}`);
  await modifyEndpoint(scope, { VpcEndpointId: p.endpointId, PrivateDnsEnabled: false });
  if (scope.dryRun)
    return { outcome: 'would-succeed', detail: `would turn private DNS off for ${p.endpointId}` };
  const after = await describeEndpoint(scope, p.endpointId);
  Object.assign(scope.after, { privateDnsEnabled: after?.PrivateDnsEnabled ?? null });
  return after?.PrivateDnsEnabled === false
    ? { outcome: 'verified', detail: `turned private DNS off for ${p.endpointId}` }
    : {
        outcome: 'still-failing',
        detail: `asked EC2 to turn private DNS off for ${p.endpointId}, but it is not off`,
      };
}

async function shrinkCoverage(
  scope: StepScope,
  p: StepParams<'shrink-endpoint-coverage'>,
): Promise<StepResult> {
  const endpoint = await describeLiveEndpoint(scope, p.endpointId);
  const subnets = endpoint.SubnetIds ?? [];
  const tables = endpoint.RouteTableIds ?? [];
  Object.assign(scope.before, { subnetIds: subnets, routeTableIds: tables });
  const removeSubnetIds = p.removeSubnetIds.filter((id) => subnets.includes(id));
  const removeRouteTableIds = p.removeRouteTableIds.filter((id) => tables.includes(id));
  if (removeSubnetIds.length + removeRouteTableIds.length === 0)
    throw new StepEnded('skipped', `${p.endpointId} no longer covers what the run added`);
  await modifyEndpoint(scope, {
    VpcEndpointId: p.endpointId,
    ...(removeSubnetIds.length ? { RemoveSubnetIds: removeSubnetIds } : {}),
    ...(removeRouteTableIds.length ? { RemoveRouteTableIds: removeRouteTableIds } : {}),
  });
  const removed = [...removeSubnetIds, ...removeRouteTableIds].join(', ');
  if (scope.dryRun)
    return { outcome: 'would-succeed', detail: `would remove ${removed} from ${p.endpointId}` };
  const after = await describeEndpoint(scope, p.endpointId);
  const left = [...(after?.SubnetIds ?? []), ...(after?.RouteTableIds ?? [])];
  Object.assign(scope.after, {
    subnetIds: after?.SubnetIds ?? [],
    routeTableIds: after?.RouteTableIds ?? [],
  });
  const remaining = [...removeSubnetIds, ...removeRouteTableIds].filter((id) => left.includes(id));
  return remaining.length === 0
    ? { outcome: 'verified', detail: `removed ${removed} from ${p.endpointId}` }
    : { outcome: 'still-failing', detail: `${p.endpointId} still covers ${remaining.join(', ')}` };
}

async function waitForNat(scope: StepScope, natGatewayId: string): Promise<StepResult> {
  const result = await poll(
    scope,
    () => describeNat(scope, natGatewayId),
    (nat) => nat?.State !== 'pending',
  );
  const state = result.value?.State ?? 'gone';
  Object.assign(scope.after, {
    natGatewayId,
    state,
    subnetId: result.value?.SubnetId ?? null,
    allocationIds: (result.value?.NatGatewayAddresses ?? []).flatMap((a) =>
      a.AllocationId ? [a.AllocationId] : [],
    ),
  });
  if (state === 'available') {
    return { outcome: 'verified', detail: `NAT gateway ${natGatewayId} is available` };
  }
  if (state === 'pending') {
    return {
      outcome: 'still-failing',
      detail: `NAT gateway ${natGatewayId} is still pending after ${result.attempts} checks: rerun the rollback to finish (the same ClientToken returns the same NAT)`,
    };
  }
  const why = result.value?.FailureMessage ? `: ${result.value.FailureMessage}` : '';
  return { outcome: 'failed', detail: `NAT gateway ${natGatewayId} is ${state}${why}` };
}

async function recreateNat(scope: StepScope, p: StepParams<'recreate-nat'>): Promise<StepResult> {
  const remember = (natGatewayId: string | undefined, reason: string) =>
    scope.run.recreatedNats.set(p.natGatewayId, {
      ...(natGatewayId ? { natGatewayId } : {}),
      reason,
    });
  remember(undefined, `the recreate-nat step for ${p.natGatewayId} did not finish`);
  const subnet = await describeSubnet(scope, p.subnetId);
  if (!subnet) throw new StepEnded('blocked', `subnet ${p.subnetId} no longer exists`);
  inRecordVpc(scope, p.subnetId, subnet);
  // Describe, compare: a NAT in the subnet that replaces this one (by tag) or holds its address.
  const live = await describeNats(scope, [
    { Name: 'subnet-id', Values: [p.subnetId] },
    { Name: 'state', Values: ['pending', 'available'] },
  ]);
  const existing = live.find(
    (n) =>
      tagValue(n.Tags, REPLACES_TAG) === p.natGatewayId ||
      (p.allocationId !== null &&
        (n.NatGatewayAddresses ?? []).some((a) => a.AllocationId === p.allocationId)),
  );
  if (existing?.NatGatewayId) {
    const id = existing.NatGatewayId;
    Object.assign(scope.before, { existing: id });
    const ready = await waitForNat(scope, id);
    if (ready.outcome !== 'verified') {
      remember(undefined, ready.detail);
      return ready;
    }
    remember(id, 'already there');
    const unmarked = scope.dryRun ? '' : await unmarkReleased(scope, p.allocationId);
    return {
      outcome: 'skipped',
      detail: `NAT gateway ${id} in ${p.subnetId} already replaces ${p.natGatewayId}${unmarked}`,
    };
  }
  if (p.connectivityType === 'public' && p.allocationId) {
    // A later release-elastic-ip run may have released it: CreateNatGateway would only fail on it.
    const address = await describeAllocation(scope, p.allocationId);
    Object.assign(scope.before, { allocationExists: address !== undefined });
    if (!address) {
      throw new StepEnded(
        'blocked',
        `the original allocation ${p.allocationId} of ${p.natGatewayId} is gone (released since, e.g. by release-elastic-ip): a NAT gateway with the same address cannot be recreated; create one with a new address by hand if it is needed`,
      );
    }
  }
  // The deleted NAT holds its Elastic IP until it is `deleted` (AWS-FACTS: deletion is asynchronous).
  const old = await poll(
    scope,
    () => describeNat(scope, p.natGatewayId),
    (nat) => nat?.State !== 'deleting',
  );
  const oldState = old.value?.State ?? 'gone';
  Object.assign(scope.before, { replacedState: oldState });
  if (oldState === 'deleting') {
    throw new StepEnded(
      'still-failing',
      `${p.natGatewayId} is still deleting after ${old.attempts} checks and holds ${p.allocationId ?? 'its address'}: rerun the rollback later`,
    );
  }
  if (oldState === 'available' || oldState === 'pending') {
    throw new StepEnded(
      'blocked',
      `${p.natGatewayId} is ${oldState} again: nothing to recreate; re-plan the rollback`,
    );
  }
  const output = await send<{ NatGateway?: NatGateway }>(
    scope,
    'CreateNatGateway',
    new CreateNatGatewayCommand({
      SubnetId: p.subnetId,
      ConnectivityType: p.connectivityType,
      ...(p.connectivityType === 'public' && p.allocationId
        ? { AllocationId: p.allocationId }
        : {}),
      ClientToken: p.clientToken,
      TagSpecifications: [
        {
          ResourceType: 'natgateway',
          Tags: Object.entries(p.tags).map(([Key, Value]) => ({ Key, Value })),
        },
      ],
    }),
  );
  if (scope.dryRun) {
    remember(undefined, 'a dry run does not create it');
    return {
      outcome: 'would-succeed',
      detail: `would create a NAT gateway in ${p.subnetId}${p.allocationId ? ` with ${p.allocationId}` : ''}`,
    };
  }
  const id = output?.NatGateway?.NatGatewayId;
  if (!id) throw new StepEnded('failed', 'CreateNatGateway returned no NAT gateway id');
  scope.created.push({ type: 'nat-gateway', id });
  const ready = await waitForNat(scope, id);
  if (ready.outcome === 'verified') {
    remember(id, 'recreated');
    const unmarked = await unmarkReleased(scope, p.allocationId);
    return {
      outcome: 'verified',
      detail: `created NAT gateway ${id} in ${p.subnetId}${p.allocationId ? ` with ${p.allocationId}` : ''} in place of ${p.natGatewayId}; available${unmarked}`,
    };
  }
  remember(undefined, ready.detail);
  return ready;
}

async function recreateRoute(
  scope: StepScope,
  p: StepParams<'recreate-route'>,
): Promise<StepResult> {
  const { route } = p;
  let target = route.target;
  if (p.viaRecreatedNatOf) {
    const replacement = scope.run.recreatedNats.get(p.viaRecreatedNatOf);
    if (!replacement?.natGatewayId) {
      const reason =
        replacement?.reason ?? `the recreate-nat step for ${p.viaRecreatedNatOf} did not run`;
      throw new StepEnded(
        scope.dryRun ? 'skipped' : 'blocked',
        scope.dryRun
          ? `not tried in a dry run: the route needs the NAT gateway the recreate-nat step would create`
          : `no NAT gateway replaces ${p.viaRecreatedNatOf} yet (${reason})`,
      );
    }
    target = { type: 'nat', id: replacement.natGatewayId };
  }
  const table = await describeRouteTable(scope, route.routeTableId);
  if (!table) throw new StepEnded('blocked', `route table ${route.routeTableId} no longer exists`);
  inRecordVpc(scope, route.routeTableId, table);
  if (!p.viaRecreatedNatOf && target.type === 'nat') {
    // A route back to a NAT gateway that is still there: it must be a live one of the same VPC.
    const nat = await describeNat(scope, target.id);
    if (!nat || !['pending', 'available'].includes(nat.State ?? '')) {
      throw new StepEnded(
        'blocked',
        `NAT gateway ${target.id} is ${nat?.State ?? 'gone'}: a route to it would be a blackhole`,
      );
    }
    inRecordVpc(scope, target.id, nat, { written: false });
  }
  const current = routeAt(table, route.destination);
  Object.assign(scope.before, {
    currentTarget: current?.target ?? null,
    state: current?.state ?? null,
  });
  if (current) {
    if (current.target.id === target.id && current.state === 'active')
      throw new StepEnded(
        'skipped',
        `${route.routeTableId} already routes ${route.destination} to ${target.id}`,
      );
    throw new StepEnded(
      'blocked',
      `${route.routeTableId} now routes ${route.destination} to ${current.target.id}${current.state === 'blackhole' ? ' (blackhole)' : ''}: not replacing a route vpc-guard did not make`,
    );
  }
  await send(
    scope,
    'CreateRoute',
    new CreateRouteCommand({
      RouteTableId: route.routeTableId,
      ...routeDestination(route.destination),
      ...routeTargetParameter(target),
    }),
  );
  if (scope.dryRun)
    return {
      outcome: 'would-succeed',
      detail: `would route ${route.destination} to ${target.id} in ${route.routeTableId}`,
    };
  const after = await describeRouteTable(scope, route.routeTableId);
  const now = after ? routeAt(after, route.destination) : undefined;
  Object.assign(scope.after, { target: now?.target ?? null, state: now?.state ?? null });
  return now?.target.id === target.id && now.state === 'active'
    ? {
        outcome: 'verified',
        detail: `recreated ${route.destination} -> ${target.id} in ${route.routeTableId}`,
      }
    : {
        outcome: 'still-failing',
        detail: `created ${route.destination} -> ${target.id} in ${route.routeTableId}, but EC2 does not show it active`,
      };
}

/** Planned only as blocked; a plan edited to run it is refused all the same. */
function refuseElasticIpRestore(
  scope: StepScope,
  p: StepParams<'restore-elastic-ip'>,
): Promise<StepResult> {
  return Promise.reject(
    new StepEnded('blocked', releasedAddressReason(scope.step.undoes, p.publicIp, p.allocationId)),
  );
}

/** What each step executor is given: the params of its own action. */
type StepParams<A extends RollbackAction> = Extract<RollbackParams, { readonly action: A }>;

const STEP_EXECUTORS: {
  readonly [A in RollbackAction]: (scope: StepScope, params: StepParams<A>) => Promise<StepResult>;
} = {
  'restore-endpoint-policy': restorePolicy,
  'delete-created-endpoint': deleteCreatedEndpoint,
  'delete-created-security-group': deleteCreatedSecurityGroup,
  'disable-private-dns': disablePrivateDns,
  'shrink-endpoint-coverage': shrinkCoverage,
  'recreate-route': recreateRoute,
  'recreate-nat': recreateNat,
  'restore-elastic-ip': refuseElasticIpRestore,
};

function executeStep<A extends RollbackAction>(
  action: A,
  scope: StepScope,
  params: StepParams<A>,
): Promise<StepResult> {
  return STEP_EXECUTORS[action](scope, params);
}

/** True for EC2's default endpoint policy (Allow * to * on *, no condition), whatever its Version. */
export function isAwsDefaultEndpointPolicy(document: string | null | undefined): boolean {
  if (!document) return false;
  try {
    const policy = JSON.parse(document) as { Statement?: unknown };
    const statements = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
    if (statements.length !== 1) return false;
    const s = statements[0] as Record<string, unknown> | null;
    const star = (value: unknown) =>
      value === '*' || (Array.isArray(value) && value.length === 1 && value[0] === '*');
    const principal = s?.['Principal'];
    return (
      s !== null &&
      s?.['Effect'] === 'Allow' &&
      (star(principal) || star((principal as { AWS?: unknown } | undefined)?.AWS)) &&
      star(s['Action']) &&
      star(s['Resource']) &&
      s['Condition'] === undefined &&
      s['NotAction'] === undefined &&
      s['NotResource'] === undefined
    );
  } catch {
    return false;
  }
}

function stepRecord(
  step: RollbackStep,
  result: StepResult,
  scope?: Pick<StepScope, 'calls' | 'before' | 'after' | 'created'>,
): ActionRecord {
  return {
    id: step.id,
    action: step.action,
    accountId: step.accountId,
    region: step.region,
    vpcId: step.vpcId,
    outcome: result.outcome,
    detail: result.detail,
    calls: scope?.calls ?? [],
    before: scope?.before ?? {},
    after: scope?.after ?? {},
    created: scope?.created ?? [],
    removedRoutes: [],
    remainingFindingKeys: [],
  };
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Carries out a rollback plan, step by step in its order, as describe-compare-act: each step first
 * describes the resource and skips what is already restored (a policy equal to the previous one, a
 * route already there with the same target, an endpoint already gone), refuses what it must not
 * touch (a policy changed by someone else, a resource without the `vpc-guard:managed` tag, a route
 * slot now used by another target), then writes, then describes again: `verified` when EC2 shows
 * the previous state. Endpoint mutations go through the per account-region token bucket;
 * `dryRun` sends every write with `DryRun: true`. Waits (a NAT becoming available, a security group
 * released by a deleting endpoint) are bounded. Returns a record of kind `rollback`; never throws
 * for an AWS failure.
 */
export async function applyRollback(
  plan: RollbackPlan,
  deps: RollbackDependencies,
): Promise<RemediationRecord> {
  const clock = deps.clock ?? (() => new Date());
  const startedAt = clock().toISOString();
  const limiter = deps.endpointLimiter ?? new RateLimiterRegistry(ENDPOINT_MUTATION_BUCKET);
  const dryRun = deps.dryRun ?? false;
  const clients = new Map<string, EC2Client>();
  const run: RunState = {
    recreatedNats: new Map(),
    endpointsDeleted: new Set(
      plan.steps.flatMap((s) =>
        s.status === 'planned' && s.params.action === 'delete-created-endpoint'
          ? [s.params.endpointId]
          : [],
      ),
    ),
  };
  const actions: ActionRecord[] = [];
  const runId = deps.runId ?? randomUUID();
  const recordOf = (list: readonly ActionRecord[]): RemediationRecord => ({
    schemaVersion: RECORD_SCHEMA_VERSION,
    runId,
    kind: 'rollback',
    execution: dryRun ? 'dry-run' : 'apply',
    startedAt,
    finishedAt: clock().toISOString(),
    identity: deps.identity,
    rollbackOf: plan.rollbackOf,
    plan: null,
    actions: list,
    summary: summarizeOutcomes(list),
  });
  const journal = async (inProgress?: ActionRecord) => {
    const list = inProgress ? [...actions, inProgress] : actions;
    await deps.journal?.write({ ...recordOf(list), status: 'running' });
  };
  // The journal exists before the first AWS call: a rollback that cannot keep its record does not start.
  if (!dryRun) await journal();
  for (const step of plan.steps) {
    let record: ActionRecord;
    if (step.status !== 'planned') {
      record = stepRecord(step, {
        outcome: step.status,
        detail: step.reason ?? `${step.status} in the plan`,
      });
    } else {
      const key = `${step.accountId}/${step.region}`;
      let ec2 = clients.get(key);
      if (!ec2) {
        ec2 = deps.ec2For(step.accountId, step.region);
        clients.set(key, ec2);
      }
      const scope: StepScope = {
        ec2,
        dryRun,
        clock,
        calls: [],
        step,
        limiter: limiter.for(step.accountId, step.region),
        sleep: deps.sleep ?? realSleep,
        waitAttempts: Math.max(1, deps.waitAttempts ?? 20),
        waitIntervalMs: deps.waitIntervalMs ?? 15_000,
        before: {},
        after: {},
        created: [],
        run,
        rollbackOf: plan.rollbackOf,
        journal: () =>
          journal(stepRecord(step, { outcome: 'failed', detail: IN_PROGRESS_DETAIL }, scope)),
      };
      let result: StepResult;
      try {
        result = await executeStep(step.params.action, scope, step.params);
      } catch (error) {
        if (error instanceof StepEnded) result = { outcome: error.outcome, detail: error.detail };
        else if (error instanceof CallFailed) {
          result = {
            outcome: dryRun && error.code === 'UnauthorizedOperation' ? 'unauthorized' : 'failed',
            detail: error.message,
          };
        } else throw error;
      }
      record = stepRecord(step, result, scope);
    }
    deps.onAction?.(record);
    actions.push(record);
    if (!dryRun && step.status === 'planned') await journal();
  }
  return recordOf(actions);
}
