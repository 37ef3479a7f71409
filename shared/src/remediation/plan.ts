import { createHash } from 'node:crypto';
import { buildVpcContexts, type Evaluation } from '../evaluate';
import type { GuardPolicy, RemediationAction } from '../policy/schema';
import type { VpcContext } from '../rules/types';
import type { NetworkSnapshot } from '../snapshot/schema';
import {
  ACTION_ORDER,
  ENDPOINT_FIXES,
  actionDefinition,
  type ActionParams,
  type ActionDefinition,
} from './actions/registry';
import type { Draft, Leftover } from './actions/types';
import {
  PLAN_SCHEMA_VERSION,
  type PlannedAction,
  type RemediationPlan,
  type VpcPlan,
} from './plan-model';
import { protectedReason, protectionProbe, vpcIntentProblem } from './tags';

/**
 * The planner: evaluations and the policy in, a {@link RemediationPlan} out. Pure. Each action
 * drafts its own changes (`actions/<name>.ts`); this module places them: the profile's mode and
 * action list, doubt about the VPC's tags, the protected tag, endpoints before egress, the
 * blast-radius cap, ids and order.
 */

/**
 * The resources an action would write to that carry the protected tag, as `kind id`, read from the
 * VPC's described state: the VPC itself, then what the action says it writes to (the NAT gateway,
 * every route table whose routes it changes, the endpoint it modifies, the subnets and security
 * group a new or extended endpoint is placed in). Elastic IPs are not in a VPC's context: the writer
 * checks them from its own describe.
 */
export function protectedResourcesOf(context: VpcContext, params: ActionParams): string[] {
  const probe = protectionProbe(context);
  actionDefinition(params.action).probeProtected(params, probe);
  return probe.found;
}

export interface PlanInput {
  readonly snapshots: readonly NetworkSnapshot[];
  readonly evaluations: readonly Evaluation[];
  readonly policy: GuardPolicy;
  readonly now: Date;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A stable JSON text: object keys sorted, so equal data always digests the same. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(
          Object.entries(item as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : item,
  );
}

/** Digest of the policy a plan was made with. */
export function policyDigest(policy: GuardPolicy): string {
  return sha256(canonical(policy)).slice(0, 16);
}

/**
 * Digest of what vpc-guard acts on in a VPC. `pending` and `available` count as one state, so an
 * endpoint finishing its creation is not a change.
 */
export function vpcFingerprint(context: VpcContext): string {
  const live = (state: string) => (state === 'pending' ? 'available' : state);
  return sha256(
    canonical({
      subnets: context.subnets.map((s) => [s.subnetId, s.availabilityZoneId]).sort(),
      routeTables: context.routeTables
        .map((t) => ({
          id: t.routeTableId,
          main: t.main,
          subnets: [...t.subnetIds].sort(),
          routes: t.routes.map((r) => [r.destination, r.target.type, r.target.id, r.state]).sort(),
        }))
        .sort((a, b) => a.id.localeCompare(b.id)),
      nats: context.natGateways
        .filter((n) => n.state === 'pending' || n.state === 'available')
        .map((n) => n.natGatewayId)
        .sort(),
      endpoints: context.vpcEndpoints
        .map((e) => ({
          id: e.vpcEndpointId,
          state: live(e.state),
          policy: e.policyDocument ?? null,
          dns: e.privateDnsEnabled,
          subnets: [...e.subnetIds].sort(),
          tables: [...e.routeTableIds].sort(),
        }))
        .sort((a, b) => a.id.localeCompare(b.id)),
    }),
  ).slice(0, 16);
}

/** What earlier runs left in a snapshot for each action to tidy up, by VPC id. */
type Leftovers = ReadonlyMap<RemediationAction, readonly Leftover<ActionParams>[]>;

function leftoversOf(snapshot: NetworkSnapshot): Map<string, Leftovers> {
  const byVpc = new Map<string, Map<RemediationAction, readonly Leftover<ActionParams>[]>>();
  for (const name of ACTION_ORDER) {
    for (const [vpcId, found] of actionDefinition(name).leftovers?.find(snapshot) ?? []) {
      const entry =
        byVpc.get(vpcId) ?? new Map<RemediationAction, readonly Leftover<ActionParams>[]>();
      entry.set(name, found);
      byVpc.set(vpcId, entry);
    }
  }
  return byVpc;
}

/** What stays as it is, one phrase per action, when the VPC's profile does not remediate. */
function leftoverNote(leftovers: Leftovers): string {
  return [...leftovers]
    .map(([name, found]) => actionDefinition(name).leftovers?.note(found.length))
    .join('; ');
}

/** Every draft for one VPC, in execution order: by action, then by subject. */
function draftsFor(
  context: VpcContext,
  evaluation: Evaluation,
  policy: GuardPolicy,
  digest: string,
  leftovers: Leftovers,
): Draft<ActionParams>[] {
  const input = { context, findings: evaluation.findings, policy, policyDigest: digest };
  const drafts: Draft<ActionParams>[] = [
    ...[...leftovers.values()].flat().map((leftover) => leftover.draft(context)),
    ...ACTION_ORDER.flatMap((name) => actionDefinition(name).plan(input)),
  ];
  return drafts.sort(
    (a, b) =>
      ACTION_ORDER.indexOf(a.action) - ACTION_ORDER.indexOf(b.action) ||
      a.subject.localeCompare(b.subject),
  );
}

/** True when the draft takes egress away (removing a live NAT or internet route). */
function cutsEgress(definition: ActionDefinition, draft: Draft<ActionParams>): boolean {
  return definition.cutsEgress?.(draft) ?? false;
}

/**
 * Plans the remediation of every evaluated VPC. Pure: same input, same plan. Honours each profile's
 * mode (`off` and `notify` plan nothing; `dry-run` plans DryRun calls; `auto` plans changes), its
 * allowed actions and its `maxChangesPerRun` (counted per profile across the run, worst findings
 * first). Exempt VPCs and VPCs whose profile is uncertain get no action: uncertainty fails closed.
 * A VPC whose vpc-guard tags cannot be read (see {@link vpcIntentProblem}) gets every action blocked
 * with the reason, and an action that would write to a resource tagged `vpc-guard:protected` is
 * blocked too.
 * An Elastic IP left by a NAT gateway vpc-guard deleted is released in a later run, once that NAT is
 * gone from the snapshot and the address is unassociated, under the profile of the VPC the NAT was
 * in; such a VPC gets a plan even when it is otherwise compliant.
 */
export function planRemediation(input: PlanInput): RemediationPlan {
  const { policy, now } = input;
  const digest = policyDigest(policy);
  const evaluations = new Map(
    input.evaluations.map((e) => [`${e.accountId}/${e.region}/${e.vpcId}`, e]),
  );
  const budget = new Map<string, number>();
  const vpcs: VpcPlan[] = [];
  for (const snapshot of input.snapshots) {
    const leftoversByVpc = leftoversOf(snapshot);
    for (const { context, profileProblem } of buildVpcContexts(snapshot, policy, { now })) {
      const key = `${context.accountId}/${context.region}/${context.vpc.vpcId}`;
      const evaluation = evaluations.get(key);
      const leftovers: Leftovers = leftoversByVpc.get(context.vpc.vpcId) ?? new Map();
      if (!evaluation || (evaluation.compliance === 'COMPLIANT' && leftovers.size === 0)) continue;
      const settings = context.profile.remediation;
      const base = {
        accountId: context.accountId,
        region: context.region,
        vpcId: context.vpc.vpcId,
        vpcName: evaluation.vpcName,
        profile: context.profileName,
        mode: settings.mode,
        fingerprint: vpcFingerprint(context),
      };
      const notes: string[] = [];
      if (evaluation.compliance === 'NOT_APPLICABLE')
        notes.push(`exempt: ${evaluation.annotation}`);
      else if (profileProblem) notes.push(`profile uncertain, nothing planned: ${profileProblem}`);
      else if (settings.mode === 'off' || settings.mode === 'notify') {
        notes.push(
          evaluation.compliance === 'COMPLIANT'
            ? `profile "${context.profileName}" is in ${settings.mode} mode: ${leftoverNote(leftovers)}`
            : `profile "${context.profileName}" is in ${settings.mode} mode: findings are reported, not fixed`,
        );
      }
      if (notes.length > 0) {
        vpcs.push({ ...base, actions: [], notes });
        continue;
      }
      const allowed = new Set(settings.actions);
      // Tags that leave the operator's intent unclear: findings are reported, nothing is written.
      const uncertain = vpcIntentProblem(context, policy);
      if (uncertain) notes.push(`intent uncertain, nothing is written: ${uncertain}`);
      const actions: PlannedAction[] = [];
      for (const draft of draftsFor(context, evaluation, policy, digest, leftovers)) {
        const used = budget.get(context.profileName) ?? 0;
        // The profile's action list first: neither a tag fix nor a DNS attribute would unblock an
        // action it does not allow (and the DNS attributes are not even read for it), so the reason
        // must say so. Then doubt and protection: nothing else could unblock them.
        let blockedReason = !allowed.has(draft.action)
          ? `${draft.action} is not in profiles.${context.profileName}.remediation.actions`
          : uncertain
            ? `intent uncertain: ${uncertain}; fix the tag to let vpc-guard act`
            : (protectedReason(protectedResourcesOf(context, draft.params)) ?? draft.blockedReason);
        if (!blockedReason && cutsEgress(actionDefinition(draft.action), draft)) {
          // Workloads that lose their NAT or internet route reach AWS only through endpoints: cutting
          // egress while a required endpoint fix is held back would cut them off AWS APIs.
          const held = actions.filter(
            (a) => ENDPOINT_FIXES.has(a.action) && a.status === 'blocked',
          );
          if (held.length > 0) {
            blockedReason = `${held.length} endpoint fix${held.length === 1 ? ' is' : 'es are'} blocked in this VPC (${held.map((a) => a.action).join(', ')}): egress is removed only once the required endpoints are in place`;
          }
        }
        if (!blockedReason && used >= settings.maxChangesPerRun) {
          blockedReason = `over the blast-radius cap: profiles.${context.profileName}.remediation.maxChangesPerRun is ${settings.maxChangesPerRun}; the next run continues`;
        }
        if (!blockedReason) budget.set(context.profileName, used + 1);
        actions.push({
          id: `${key}/${draft.action}/${draft.subject}`,
          action: draft.action,
          accountId: context.accountId,
          region: context.region,
          vpcId: context.vpc.vpcId,
          status: blockedReason ? 'blocked' : 'planned',
          ...(blockedReason ? { blockedReason } : {}),
          execution: settings.mode === 'auto' ? 'apply' : 'dry-run',
          summary: draft.summary,
          findingKeys: draft.findings.map((f) => f.key),
          reason: draft.reason ?? draft.findings.map((f) => f.message).join('; '),
          preconditions: draft.preconditions,
          expectedEffect: draft.expectedEffect,
          monthlyCostChangeUsd: Math.round(draft.monthlyCostChangeUsd * 100) / 100,
          params: draft.params,
        });
      }
      const unfixed = evaluation.findings.filter((f) => f.fix === null).length;
      if (unfixed > 0)
        notes.push(`${unfixed} finding${unfixed === 1 ? ' has' : 's have'} no automatic fix`);
      vpcs.push({ ...base, actions, notes });
    }
  }
  vpcs.sort(
    (a, b) =>
      a.accountId.localeCompare(b.accountId) ||
      a.region.localeCompare(b.region) ||
      a.vpcId.localeCompare(b.vpcId),
  );
  const all = vpcs.flatMap((v) => v.actions);
  const planned = all.filter((a) => a.status === 'planned');
  return {
    schemaVersion: PLAN_SCHEMA_VERSION,
    createdAt: now.toISOString(),
    organizationId: policy.organization.id,
    policyDigest: digest,
    vpcs,
    totals: {
      actions: all.length,
      planned: planned.length,
      blocked: all.length - planned.length,
      monthlyCostChangeUsd:
        Math.round(planned.reduce((t, a) => t + a.monthlyCostChangeUsd, 0) * 100) / 100,
    },
  };
}
