import * as z from 'zod';
import { renderEndpointPolicy } from '../../endpoint-policy/templates';
import { shortServiceName } from '../../rules/vpc-topology';
import { modifyEndpoint, samePolicy } from '../ec2-calls';
import { ActionEnded, type Ending, type StepScope } from '../engine';
import { endpointCallProblems, modifiedEndpointId, problemsOf } from '../record-facts';
import { describeEndpoint, describeLiveEndpoint, liveEndpoint, named } from './endpoints';
import type { Draft, RemediationActionDefinition } from './types';

/**
 * `replace-endpoint-policy`: writes the profile's policy template over an endpoint policy judged too
 * broad, and only while the endpoint still has the policy that was judged. Its inverse writes the
 * previous policy back (or EC2's default where there was none), and only over the policy the run
 * wrote: a later change by someone else is never overwritten.
 */

const ReplaceEndpointPolicyParamsSchema = z.strictObject({
  action: z.literal('replace-endpoint-policy'),
  endpointId: z.string().min(1),
  service: z.string().min(1),
  endpointType: z.enum(['Interface', 'Gateway']),
  policyDocument: z.string(),
  /** What is there now: the record keeps it, and rollback restores it. */
  previousPolicyDocument: z.string().nullable(),
});
export type ReplaceEndpointPolicyParams = z.infer<typeof ReplaceEndpointPolicyParamsSchema>;

/** The rollback step that writes an endpoint's previous policy back. */
export interface RestoreEndpointPolicyParams {
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

/** What `before` must hold for a policy restore. */
const PolicyBeforeSchema = z.object({
  policyDocument: z.string().nullable(),
  endpointType: z.enum(['Interface', 'Gateway']),
});

/**
 * The policy EC2 attaches to an endpoint created without one (AWS-FACTS, "Endpoint policies"), as EC2
 * returns it. Written back to an interface endpoint whose previous policy was not recorded, since
 * `ResetPolicy` works only on gateway endpoints.
 */
export const AWS_DEFAULT_ENDPOINT_POLICY = JSON.stringify({
  Version: '2008-10-17',
  Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }],
});

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

async function restorePolicy(scope: StepScope, p: RestoreEndpointPolicyParams): Promise<Ending> {
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
    throw new ActionEnded(
      'skipped',
      `${p.endpointId} already has the policy it had before the run`,
    );
  if (!p.appliedPolicyDocument || !samePolicy(current, p.appliedPolicyDocument)) {
    throw new ActionEnded(
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

export const replaceEndpointPolicy: RemediationActionDefinition<
  'replace-endpoint-policy',
  typeof ReplaceEndpointPolicyParamsSchema,
  RestoreEndpointPolicyParams,
  RestoreEndpointPolicyParams
> = {
  name: 'replace-endpoint-policy',
  paramsSchema: ReplaceEndpointPolicyParamsSchema,

  plan({ context, findings, policy }) {
    const endpoints = new Map(context.vpcEndpoints.map((e) => [e.vpcEndpointId, e]));
    return findings.flatMap((finding): Draft<ReplaceEndpointPolicyParams>[] => {
      if (finding.fix?.action !== 'replace-endpoint-policy') return [];
      const endpoint = endpoints.get(finding.resourceId);
      if (!endpoint || (endpoint.type !== 'Interface' && endpoint.type !== 'Gateway')) return [];
      const service = shortServiceName(context.region, endpoint.serviceName);
      const common = {
        action: 'replace-endpoint-policy' as const,
        subject: endpoint.vpcEndpointId,
        findings: [finding],
        preconditions: [
          `${endpoint.vpcEndpointId} still has the policy that was judged (compared by content)`,
        ],
        expectedEffect: `${endpoint.vpcEndpointId} passes endpoint-policy-too-broad`,
        monthlyCostChangeUsd: 0,
      };
      if (service === undefined) {
        return [
          {
            ...common,
            summary: `~ policy of ${endpoint.vpcEndpointId} (${endpoint.serviceName})`,
            params: {
              action: 'replace-endpoint-policy',
              endpointId: endpoint.vpcEndpointId,
              service: endpoint.serviceName,
              endpointType: endpoint.type,
              policyDocument: '',
              previousPolicyDocument: endpoint.policyDocument ?? null,
            },
            blockedReason:
              'not an AWS service endpoint of this region: vpc-guard has no template for it',
          },
        ];
      }
      return [
        {
          ...common,
          summary: `~ policy of ${endpoint.vpcEndpointId} (${service}) -> ${context.profile.endpointPolicy.template} template`,
          params: {
            action: 'replace-endpoint-policy',
            endpointId: endpoint.vpcEndpointId,
            service,
            endpointType: endpoint.type,
            policyDocument: renderEndpointPolicy(context.profile.endpointPolicy.template, {
              organizationId: policy.organization.id,
              region: context.region,
              service,
              type: endpoint.type,
            }),
            previousPolicyDocument: endpoint.policyDocument ?? null,
          },
        },
      ];
    });
  },

  probeProtected: (params, probe) => probe.endpoint(params.endpointId),
  subject: (params) => params.endpointId,
  summarize: (params) => `~ policy of ${params.endpointId}`,

  async apply(scope, params) {
    const endpoint = liveEndpoint(scope, params.endpointId);
    Object.assign(scope.before, {
      policyDocument: endpoint.policyDocument ?? null,
      endpointType: endpoint.type,
    });
    if (samePolicy(endpoint.policyDocument, params.policyDocument)) {
      throw new ActionEnded(
        'skipped',
        `${endpoint.vpcEndpointId} already has the ${params.service} template policy`,
      );
    }
    if (!samePolicy(endpoint.policyDocument, params.previousPolicyDocument)) {
      throw new ActionEnded(
        'blocked',
        `the policy of ${endpoint.vpcEndpointId} changed since the plan: re-plan`,
      );
    }
    await modifyEndpoint(scope, {
      VpcEndpointId: endpoint.vpcEndpointId,
      PolicyDocument: params.policyDocument,
    });
    return `replaced the policy of ${endpoint.vpcEndpointId}`;
  },

  inverse: {
    problems: (facts) => [
      ...problemsOf(PolicyBeforeSchema, facts.before, 'before'),
      ...endpointCallProblems(facts),
    ],
    steps({ record, planned, runId }) {
      const endpointId = modifiedEndpointId(record)!;
      const before = PolicyBeforeSchema.parse(record.before);
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
    },
    kinds: {
      'restore-endpoint-policy': {
        run: restorePolicy,
        note: (params) =>
          params.restore === 'aws-default'
            ? `${params.endpointId}: no previous policy was recorded; the AWS default full-access policy is written back, as EC2 would attach it`
            : undefined,
      },
    },
  },
};
