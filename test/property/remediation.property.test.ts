import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzeEndpointPolicy, judgeEndpointPolicy } from '../../shared/src/endpoint-policy';
import { renderEndpointPolicy } from '../../shared/src/endpoint-policy/templates';
import { evaluate } from '../../shared/src/evaluate';
import {
  GuardPolicySchema,
  REMEDIATION_ACTIONS,
  type GuardPolicy,
  type GuardPolicyInput,
} from '../../shared/src/policy/schema';
import { planRemediation } from '../../shared/src/remediation/plan';
import type { ActionParams } from '../../shared/src/remediation/actions/registry';
import type { RemediationPlan } from '../../shared/src/remediation/plan-model';
import {
  NetworkSnapshotSchema,
  type NetworkSnapshot,
  type NetworkSnapshotInput,
} from '../../shared/src/snapshot/schema';
import { DEMO_NOW, Scenario } from '../scenarios/harness';
import { propertyRuns } from '../support/property-runs';

/**
 * Properties of detection and remediation over random small estates and random policies: the
 * planner's safety rules hold for any input, and on the simulated account whatever is allowed and
 * unblocked converges in one run.
 */

const ORG = 'o-a1b2c3d4e5';
const REGION = 'us-east-1';
const ACCOUNTS = ['111111111111', '222222222222'] as const;
const ZONES = [
  { name: 'us-east-1a', id: 'use1-az1' },
  { name: 'us-east-1b', id: 'use1-az2' },
  { name: 'us-east-1c', id: 'use1-az4' },
] as const;
const PREFIX_LISTS: Readonly<Record<string, string>> = {
  s3: 'pl-63a5400a',
  dynamodb: 'pl-02cd2c6b',
};
const SERVICES = ['s3', 'dynamodb', 'sts', 'logs', 'kms'] as const;
type Service = (typeof SERVICES)[number];
const hasGateway = (service: Service) => service === 's3' || service === 'dynamodb';

/** An EC2-shaped id: prefix, then 17 hex digits made of the VPC index, a kind and a counter. */
const id = (prefix: string, vpc: number, kind: number, n = 0) =>
  `${prefix}-0${vpc.toString(16).padStart(4, '0')}${kind.toString(16).padStart(4, '0')}${n.toString(16).padStart(8, '0')}`;

// ---------------------------------------------------------------------------------------------
// Estates

const POLICY_SHAPES = ['none', 'default', 'perimeter', 'org-only', 'unparseable'] as const;

function policyText(
  shape: (typeof POLICY_SHAPES)[number],
  service: Service,
  type: 'Gateway' | 'Interface',
) {
  switch (shape) {
    case 'none':
      return undefined;
    case 'default':
      return '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}';
    case 'perimeter':
      return renderEndpointPolicy('data-perimeter', {
        organizationId: ORG,
        region: REGION,
        service,
        type,
      });
    case 'org-only':
      return JSON.stringify({
        Statement: [
          {
            Effect: 'Allow',
            Principal: '*',
            Action: '*',
            Resource: '*',
            Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG } },
          },
        ],
      });
    case 'unparseable':
      return '{"Statement": [ {"Effect": "Allow"';
  }
}

const endpointArb = fc.record({
  service: fc.constantFrom(...SERVICES),
  gateway: fc.boolean(),
  state: fc.constantFrom('available', 'available', 'available', 'pending', 'failed', 'deleted'),
  policy: fc.constantFrom(...POLICY_SHAPES),
  privateDns: fc.boolean(),
  /** Indexes into the VPC's zones (interface) or tables (gateway). */
  placement: fc.uniqueArray(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }),
  groupAdmits443: fc.boolean(),
});

const vpcArb = fc.record({
  account: fc.integer({ min: 0, max: 1 }),
  zones: fc.integer({ min: 1, max: 3 }),
  /** Subnets per zone. */
  subnets: fc.integer({ min: 1, max: 2 }),
  /** Extra route tables besides the main one; each subnet picks one (or the main, implicitly). */
  tables: fc.integer({ min: 0, max: 2 }),
  tableOfSubnet: fc.array(fc.integer({ min: -1, max: 1 }), { minLength: 6, maxLength: 6 }),
  internetGateway: fc.boolean(),
  nat: fc.constantFrom('none', 'none', 'available', 'pending', 'deleted'),
  /** The default route of the main table and each extra table. */
  defaultRoutes: fc.array(fc.constantFrom('none', 'igw', 'nat'), { minLength: 3, maxLength: 3 }),
  endpoints: fc.uniqueArray(endpointArb, { maxLength: 4, selector: (e) => e.service }),
  exemption: fc.constantFrom('none', 'none', 'valid', 'expired', 'malformed', 'too-long'),
  profileTag: fc.constantFrom(undefined, undefined, 'p0', 'p1', 'p2', 'unknown'),
  dns: fc.constantFrom('both', 'both', 'support-only', 'none', 'not-collected'),
});

type VpcSpec = typeof vpcArb extends fc.Arbitrary<infer T> ? T : never;

const EXEMPTIONS: Readonly<Record<string, string>> = {
  valid: 'until=2027-01-31; reason=CHG-1 migration',
  expired: 'until=2026-01-01; reason=CHG-0 done',
  malformed: 'until=someday',
  'too-long': 'until=2031-01-01; reason=forever',
};

/** Builds one snapshot per account from the VPC specs (ids derived from each VPC's index). */
function buildEstate(specs: readonly VpcSpec[]): NetworkSnapshot[] {
  const snapshots = ACCOUNTS.map((accountId): Required<Omit<NetworkSnapshotInput, 'scope'>> => ({
    schemaVersion: 1,
    accountId,
    region: REGION,
    collectedAt: DEMO_NOW.toISOString(),
    vpcs: [],
    subnets: [],
    routeTables: [],
    natGateways: [],
    internetGateways: [],
    egressOnlyInternetGateways: [],
    vpcEndpoints: [],
    securityGroups: [],
    elasticIps: [],
  }));
  specs.forEach((spec, index) => {
    const n = index + 1;
    const snapshot = snapshots[spec.account]!;
    const vpcId = id('vpc', n, 1);
    const cidr = `10.${n}.0.0/16`;
    const tags: Record<string, string> = { Name: `vpc-${n}` };
    if (spec.exemption !== 'none') tags['vpc-guard:exempt'] = EXEMPTIONS[spec.exemption]!;
    if (spec.profileTag) tags['vpc-guard:profile'] = spec.profileTag;
    snapshot.vpcs.push({
      vpcId,
      cidrBlocks: [cidr],
      tags,
      ...(spec.dns === 'not-collected'
        ? {}
        : { enableDnsSupport: spec.dns !== 'none', enableDnsHostnames: spec.dns === 'both' }),
    });
    const zones = ZONES.slice(0, spec.zones);
    const subnets = zones.flatMap((zone, z) =>
      Array.from({ length: spec.subnets }, (_, s) => ({
        subnetId: id('subnet', n, 1, z * 2 + s),
        vpcId,
        availabilityZone: zone.name,
        availabilityZoneId: zone.id,
        cidrBlock: `10.${n}.${z * 2 + s}.0/24`,
      })),
    );
    snapshot.subnets.push(...subnets);
    const igwId = id('igw', n, 1);
    if (spec.internetGateway)
      snapshot.internetGateways.push({
        internetGatewayId: igwId,
        attachments: [{ vpcId, state: 'available' }],
      });
    const natId = id('nat', n, 1);
    if (spec.nat !== 'none')
      snapshot.natGateways.push({
        natGatewayId: natId,
        vpcId,
        subnetId: subnets[0]!.subnetId,
        state: spec.nat,
        allocationIds: [id('eipalloc', n, 1)],
        publicIps: [`198.51.100.${n}`],
        privateIps: [`10.${n}.0.10`],
      });
    const tables = Array.from({ length: spec.tables + 1 }, (_, t) => {
      const defaultRoute = spec.defaultRoutes[t];
      const routes: NonNullable<NetworkSnapshotInput['routeTables']>[number]['routes'] = [
        { destination: cidr, target: { type: 'local', id: 'local' }, origin: 'createroutetable' },
      ];
      if (defaultRoute === 'igw' && spec.internetGateway)
        routes.push({ destination: '0.0.0.0/0', target: { type: 'igw', id: igwId } });
      if (defaultRoute === 'nat' && spec.nat !== 'none')
        routes.push({
          destination: '0.0.0.0/0',
          target: { type: 'nat', id: natId },
          state: spec.nat === 'deleted' ? 'blackhole' : 'active',
        });
      return {
        routeTableId: id('rtb', n, 1, t),
        vpcId,
        main: t === 0,
        // Subnet s is associated with extra table tableOfSubnet[s] + 1; -1 leaves it to the main one.
        subnetIds:
          t === 0
            ? []
            : subnets
                .filter((_, s) => (spec.tableOfSubnet[s] ?? -1) + 1 === t)
                .map((subnet) => subnet.subnetId),
        routes,
      };
    });
    const groupOk = id('sg', n, 1, 0);
    const groupClosed = id('sg', n, 1, 1);
    snapshot.securityGroups.push(
      {
        groupId: groupOk,
        vpcId,
        groupName: `vpc-${n}-endpoints`,
        ingress: [{ ipProtocol: 'tcp', fromPort: 443, toPort: 443, ipv4Ranges: [cidr] }],
      },
      {
        groupId: groupClosed,
        vpcId,
        groupName: `vpc-${n}-closed`,
        ingress: [{ ipProtocol: 'tcp', fromPort: 22, toPort: 22, ipv4Ranges: [cidr] }],
      },
    );
    spec.endpoints.forEach((endpoint, e) => {
      const type: 'Gateway' | 'Interface' =
        endpoint.gateway && hasGateway(endpoint.service) ? 'Gateway' : 'Interface';
      const live = endpoint.state === 'available' || endpoint.state === 'pending';
      const vpcEndpointId = id('vpce', n, 1, e);
      const policyDocument = policyText(endpoint.policy, endpoint.service, type);
      const common = {
        vpcEndpointId,
        vpcId,
        serviceName: `com.amazonaws.${REGION}.${endpoint.service}`,
        type,
        state: endpoint.state as 'available',
        ...(policyDocument === undefined ? {} : { policyDocument }),
      };
      if (type === 'Gateway') {
        const tableIds = [...new Set(endpoint.placement.map((p) => p % tables.length))].map(
          (t) => tables[t]!.routeTableId,
        );
        if (live)
          for (const table of tables)
            if (tableIds.includes(table.routeTableId))
              table.routes.push({
                destination: PREFIX_LISTS[endpoint.service]!,
                target: { type: 'vpce', id: vpcEndpointId },
              });
        snapshot.vpcEndpoints.push({ ...common, routeTableIds: tableIds });
      } else {
        const subnetIds = [...new Set(endpoint.placement.map((p) => p % zones.length))].map(
          (z) => subnets[z * spec.subnets]!.subnetId,
        );
        snapshot.vpcEndpoints.push({
          ...common,
          // A private DNS name belongs to a live endpoint only.
          privateDnsEnabled: live && endpoint.privateDns,
          subnetIds,
          securityGroupIds: [endpoint.groupAdmits443 ? groupOk : groupClosed],
        });
      }
    });
    snapshot.routeTables.push(...tables);
  });
  return snapshots
    .filter((snapshot) => snapshot.vpcs.length > 0)
    .map((snapshot) => NetworkSnapshotSchema.parse(snapshot));
}

const estateArb = fc.array(vpcArb, { minLength: 1, maxLength: 4 }).map(buildEstate);

// ---------------------------------------------------------------------------------------------
// Policies

const requiredArb = fc
  .uniqueArray(
    fc.record({
      service: fc.constantFrom(...SERVICES),
      gateway: fc.boolean(),
      privateDns: fc.constantFrom(undefined, 'required', 'optional'),
    }),
    { maxLength: 4, selector: (r) => r.service },
  )
  .map((entries) =>
    entries.map(({ service, gateway, privateDns }) => ({
      service,
      type: gateway && hasGateway(service) ? ('Gateway' as const) : ('Interface' as const),
      ...(privateDns ? { privateDns } : {}),
    })),
  );

const profileArb = fc
  .record({
    natGateway: fc.constantFrom('forbidden', 'allowed'),
    internetRoute: fc.constantFrom('forbidden', 'allowed'),
    required: requiredArb,
    privateDns: fc.constantFrom('required', 'optional'),
    coverage: fc.constantFrom('every-workload-az', 'any-az'),
    allowFullAccess: fc.boolean(),
    requirePrincipalScope: fc.boolean(),
    requireResourceScope: fc.boolean(),
    forbidWildcardActions: fc.boolean(),
    orgOnlyTemplate: fc.boolean(),
    mode: fc.constantFrom('off', 'notify', 'dry-run', 'auto', 'auto'),
    actions: fc.subarray([...REMEDIATION_ACTIONS], { minLength: 1 }),
    maxChangesPerRun: fc.integer({ min: 0, max: 5 }),
  })
  .map((p) => ({
    egress: { natGateway: p.natGateway, internetRoute: p.internetRoute },
    endpoints: { required: p.required, privateDns: p.privateDns, coverage: p.coverage },
    endpointPolicy: {
      allowFullAccess: p.allowFullAccess,
      requirePrincipalScope: p.requirePrincipalScope,
      requireResourceScope: p.requireResourceScope,
      forbidWildcardActions: p.forbidWildcardActions,
      // principal-org-only leaves resources open and allows `*`: it suits neither requireResourceScope
      // (the schema rejects that) nor forbidWildcardActions (see the template property below).
      template:
        p.orgOnlyTemplate && !p.requireResourceScope && !p.forbidWildcardActions
          ? 'principal-org-only'
          : 'data-perimeter',
    },
    remediation: { mode: p.mode, actions: p.actions, maxChangesPerRun: p.maxChangesPerRun },
  }));

const policyArb = fc
  .record({
    profiles: fc.array(profileArb, { minLength: 1, maxLength: 3 }),
    secondAccount: fc.constantFrom(undefined, 'p0', 'p1', 'p2'),
  })
  .map(({ profiles, secondAccount }): GuardPolicy => {
    const input = {
      version: 1,
      organization: { id: ORG },
      profiles: Object.fromEntries(profiles.map((profile, index) => [`p${index}`, profile])),
      assign: {
        default: 'p0',
        accounts:
          secondAccount && Number(secondAccount.slice(1)) < profiles.length
            ? { [ACCOUNTS[1]]: secondAccount }
            : {},
      },
    } as GuardPolicyInput;
    return GuardPolicySchema.parse(input);
  });

// ---------------------------------------------------------------------------------------------
// What a plan may reference

function idsInSnapshots(snapshots: readonly NetworkSnapshot[]): Set<string> {
  const ids = new Set<string>();
  for (const snapshot of snapshots) {
    for (const vpc of snapshot.vpcs) ids.add(vpc.vpcId);
    for (const subnet of snapshot.subnets) ids.add(subnet.subnetId);
    for (const table of snapshot.routeTables) {
      ids.add(table.routeTableId);
      for (const route of table.routes) ids.add(route.target.id);
    }
    for (const nat of snapshot.natGateways) {
      ids.add(nat.natGatewayId);
      for (const allocation of nat.allocationIds) ids.add(allocation);
    }
    for (const endpoint of snapshot.vpcEndpoints) ids.add(endpoint.vpcEndpointId);
    for (const group of snapshot.securityGroups) ids.add(group.groupId);
    for (const gateway of snapshot.internetGateways) ids.add(gateway.internetGatewayId);
    for (const address of snapshot.elasticIps) ids.add(address.allocationId);
  }
  return ids;
}

/** Every existing resource an action's parameters name (what it creates is not named by id). */
function idsReferenced(params: ActionParams): string[] {
  switch (params.action) {
    case 'remove-nat':
      return [
        params.natGatewayId,
        params.subnetId,
        ...params.allocationIds,
        ...params.routes.flatMap((r) => [r.routeTableId, r.target.id]),
      ];
    case 'remove-internet-route':
      return [params.route.routeTableId, params.route.target.id];
    case 'create-endpoint':
      return [
        ...params.subnetIds,
        ...params.routeTableIds,
        ...(params.securityGroup && 'reuse' in params.securityGroup
          ? [params.securityGroup.reuse]
          : []),
      ];
    case 'enable-private-dns':
      return [params.endpointId];
    case 'extend-endpoint-coverage':
      return [params.endpointId, ...params.addSubnetIds, ...params.addRouteTableIds];
    case 'replace-endpoint-policy':
      return [params.endpointId];
    // The NAT it names is deleted, so gone from the snapshot: the address is what must be there.
    case 'release-elastic-ip':
      return [params.allocationId];
  }
}

function planFor(snapshots: readonly NetworkSnapshot[], policy: GuardPolicy): RemediationPlan {
  const evaluations = evaluate(snapshots, policy, { now: DEMO_NOW });
  return planRemediation({ snapshots, evaluations, policy, now: DEMO_NOW });
}

describe('remediation over random estates and policies', () => {
  it('never plans an action to apply in an exempt, non-auto or uncertain-profile VPC, nor names a resource outside the snapshot', () => {
    fc.assert(
      fc.property(estateArb, policyArb, (snapshots, policy) => {
        // Act
        const evaluations = evaluate(snapshots, policy, { now: DEMO_NOW });
        const plan = planRemediation({ snapshots, evaluations, policy, now: DEMO_NOW });

        // Assess
        const known = idsInSnapshots(snapshots);
        for (const vpc of plan.vpcs) {
          const evaluation = evaluations.find((e) => e.vpcId === vpc.vpcId)!;
          const mode = policy.profiles[vpc.profile]!.remediation.mode;
          const exempt = evaluation.exemption.state === 'valid';
          const uncertain = evaluation.profileProblem !== undefined;
          if (exempt || uncertain || mode === 'off' || mode === 'notify')
            expect(vpc.actions).toEqual([]);
          if (mode !== 'auto')
            expect(vpc.actions.filter((a) => a.execution === 'apply')).toEqual([]);
          for (const action of vpc.actions) {
            expect(action.vpcId).toBe(vpc.vpcId);
            for (const referenced of idsReferenced(action.params))
              expect(known.has(referenced), `${action.id} names ${referenced}`).toBe(true);
          }
        }
      }),
      { numRuns: propertyRuns({ quick: 100, deep: 300 }) },
    );
  });

  it('gives every open finding with an automatic fix an action, in every VPC it may act on', () => {
    fc.assert(
      fc.property(estateArb, policyArb, (snapshots, policy) => {
        // Act
        const evaluations = evaluate(snapshots, policy, { now: DEMO_NOW });
        const plan = planRemediation({ snapshots, evaluations, policy, now: DEMO_NOW });

        // Assess
        for (const vpc of plan.vpcs) {
          if (vpc.mode !== 'auto' && vpc.mode !== 'dry-run') continue;
          const evaluation = evaluations.find((e) => e.vpcId === vpc.vpcId)!;
          if (evaluation.compliance !== 'NON_COMPLIANT' || evaluation.profileProblem) continue;
          const covered = new Set(vpc.actions.flatMap((action) => action.findingKeys));
          const orphans = evaluation.findings
            .filter((finding) => finding.fix !== null && !covered.has(finding.key))
            .map((finding) => `${finding.key} (${finding.fix!.action})`);
          expect(orphans).toEqual([]);
        }
      }),
      { numRuns: propertyRuns({ quick: 100, deep: 300 }) },
    );
  });

  it("names the profile's action list as what blocks an action the profile does not allow", () => {
    fc.assert(
      fc.property(estateArb, policyArb, (snapshots, policy) => {
        // Act
        const plan = planFor(snapshots, policy);

        // Assess
        for (const vpc of plan.vpcs) {
          const allowed = policy.profiles[vpc.profile]!.remediation.actions;
          for (const action of vpc.actions.filter((a) => !allowed.includes(a.action))) {
            expect(action.status).toBe('blocked');
            expect(action.blockedReason).toBe(
              `${action.action} is not in profiles.${vpc.profile}.remediation.actions`,
            );
          }
        }
      }),
      { numRuns: propertyRuns({ quick: 100, deep: 300 }) },
    );
  });

  it('never plans more changes for a profile than its maxChangesPerRun', () => {
    fc.assert(
      fc.property(estateArb, policyArb, (snapshots, policy) => {
        // Act
        const plan = planFor(snapshots, policy);

        // Assess
        const planned = new Map<string, number>();
        for (const vpc of plan.vpcs)
          for (const action of vpc.actions)
            if (action.status === 'planned')
              planned.set(vpc.profile, (planned.get(vpc.profile) ?? 0) + 1);
        for (const [profile, count] of planned)
          expect(count).toBeLessThanOrEqual(policy.profiles[profile]!.remediation.maxChangesPerRun);
      }),
      { numRuns: propertyRuns({ quick: 100, deep: 300 }) },
    );
  });

  it('accepts only profiles whose endpoint policy template passes their own endpoint policy rules', () => {
    const settingsArb = fc.record({
      allowFullAccess: fc.boolean(),
      requirePrincipalScope: fc.boolean(),
      requireResourceScope: fc.boolean(),
      forbidWildcardActions: fc.boolean(),
      template: fc.constantFrom('data-perimeter', 'principal-org-only'),
    });
    const endpointArb = fc
      .record({ service: fc.constantFrom(...SERVICES, 'ecr.dkr', 'ec2'), gateway: fc.boolean() })
      .map(({ service, gateway }) => ({
        service,
        type: gateway && (service === 's3' || service === 'dynamodb') ? 'Gateway' : 'Interface',
      }));
    fc.assert(
      fc.property(settingsArb, endpointArb, (settings, endpoint) => {
        // Prepare: what create-endpoint and replace-endpoint-policy would write for such a profile.
        const parsed = GuardPolicySchema.safeParse({
          version: 1,
          organization: { id: ORG },
          profiles: { p0: { endpointPolicy: settings } },
          assign: { default: 'p0' },
        });
        fc.pre(parsed.success);
        const written = renderEndpointPolicy(settings.template, {
          organizationId: ORG,
          region: REGION,
          service: endpoint.service,
          type: endpoint.type as 'Gateway' | 'Interface',
        });

        // Act
        const judgement = judgeEndpointPolicy(
          analyzeEndpointPolicy(written, { organizationId: ORG, region: REGION }),
          parsed.data.profiles['p0']!.endpointPolicy,
        );

        // Assess: else every run rewrites the same policy and the finding never closes.
        expect(judgement.violations.map((v) => `${v.statementId}: ${v.verdict}`)).toEqual([]);
      }),
      { numRuns: propertyRuns({ quick: 70, deep: 200 }) },
    );
  });

  it('evaluates the same input to the same JSON, with unique finding keys', () => {
    fc.assert(
      fc.property(estateArb, policyArb, (snapshots, policy) => {
        // Act
        const first = evaluate(snapshots, policy, { now: DEMO_NOW });
        const second = evaluate(structuredClone(snapshots), policy, { now: DEMO_NOW });

        // Assess
        expect(JSON.stringify(second)).toBe(JSON.stringify(first));
        const keys = first.flatMap((e) =>
          [...e.findings, ...e.suppressedFindings].map((f) => f.key),
        );
        expect(new Set(keys).size).toBe(keys.length);
      }),
      { numRuns: propertyRuns({ quick: 100, deep: 300 }) },
    );
  });

  it('leaves nothing to plan after one run on the simulated account, when auto profiles may do everything', async () => {
    const allowAll = (policy: GuardPolicy): GuardPolicy =>
      GuardPolicySchema.parse({
        ...policy,
        profiles: Object.fromEntries(
          Object.entries(policy.profiles).map(([name, profile]) => [
            name,
            profile.remediation.mode === 'auto'
              ? {
                  ...profile,
                  remediation: {
                    mode: 'auto',
                    actions: [...REMEDIATION_ACTIONS],
                    maxChangesPerRun: 1000,
                  },
                }
              : profile,
          ]),
        ),
      });
    await fc.assert(
      fc.asyncProperty(estateArb, policyArb.map(allowAll), async (snapshots, policy) => {
        // Prepare
        const scenario = new Scenario(snapshots, policy);

        // Act
        const run = await scenario.run();
        const next = await scenario.plan();

        // Assess: releasing a removed NAT's Elastic IP is by design a later run's work, once the
        // NAT is deleted; that, and only for the NATs this run removed, may be left.
        expect(run.record.summary.failed).toBe(0);
        const removedNats = new Set(
          run.record.actions
            .filter((action) => action.action === 'remove-nat' && action.outcome === 'verified')
            .map((action) => String(action.before['natGatewayId'])),
        );
        const left = next.plan.vpcs.flatMap((vpc) =>
          vpc.actions
            .filter((action) => action.status === 'planned' && action.execution === 'apply')
            .filter(
              (action) =>
                action.params.action !== 'release-elastic-ip' ||
                !removedNats.has(action.params.natGatewayId),
            )
            .map((action) => `${action.id}: ${action.summary}`),
        );
        expect(left).toEqual([]);
      }),
      { numRuns: propertyRuns({ quick: 10, deep: 30 }) },
    );
  });
});
