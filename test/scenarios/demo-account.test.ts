import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluate, type Evaluation } from '../../shared/src/evaluate';
import { parseGuardPolicy } from '../../shared/src/policy/load';
import { RULE_IDS, type Compliance, type RuleId } from '../../shared/src/rules/types';
import { loadNetworkSnapshots } from '../../shared/src/snapshot/file';

/**
 * The demo estate `npm start` scans (examples/demo-account.json with examples/policy.yaml) keeps its
 * story: one VPC per archetype, each with exactly the verdict and the rules it was built to show.
 * Regenerate the file with test/fixtures/generate-demo-account.ts.
 */

const root = new URL('../../', import.meta.url);
/** A day after the snapshots were collected: vendor-gateway's exemption holds, legacy-batch's has expired. */
const NOW = new Date('2026-11-21T00:00:00Z');

interface Archetype {
  readonly name: string;
  readonly what: string;
  readonly compliance: Compliance;
  readonly profile: string;
  /** Rule ids of the open findings, in report order. */
  readonly rules: readonly RuleId[];
  /** Rule ids of the findings an exemption suppresses. */
  readonly suppressed?: readonly RuleId[];
}

const ARCHETYPES: readonly Archetype[] = [
  {
    name: 'payments-prod',
    what: 'every required endpoint, org-to-org perimeter, no egress',
    compliance: 'COMPLIANT',
    profile: 'regulated',
    rules: [],
  },
  {
    name: 'orders-prod',
    what: 'a NAT gateway with default routes, and an internet gateway route',
    compliance: 'NON_COMPLIANT',
    profile: 'regulated',
    rules: ['nat-gateway-forbidden', 'internet-route-forbidden'],
  },
  {
    name: 'ledger-prod',
    what: 'missing endpoints, private DNS off, one AZ of three, a gateway missing a route table',
    compliance: 'NON_COMPLIANT',
    profile: 'regulated',
    rules: ['endpoint-missing', 'endpoint-misconfigured'],
  },
  {
    name: 'reporting-prod',
    what: 'the default full-access policy, and logs:* to anyone',
    compliance: 'NON_COMPLIANT',
    profile: 'regulated',
    rules: ['endpoint-policy-too-broad'],
  },
  {
    name: 'identity-prod',
    what: 'the aws-samples data-perimeter policies',
    compliance: 'COMPLIANT',
    profile: 'regulated',
    rules: [],
  },
  {
    name: 'checkout-prod',
    what: 'a Deny perimeter (Allow *, Deny outside the org)',
    compliance: 'COMPLIANT',
    profile: 'regulated',
    rules: [],
  },
  {
    name: 'dev-sandbox',
    what: 'a sandbox by tag, with NAT and internet gateway',
    compliance: 'COMPLIANT',
    profile: 'sandbox',
    rules: [],
  },
  {
    name: 'ml-experiments',
    what: 'a sandbox by its account, with an internet gateway',
    compliance: 'COMPLIANT',
    profile: 'sandbox',
    rules: [],
  },
  {
    name: 'vendor-gateway',
    what: 'a valid exemption over NAT, internet routes, missing endpoints and a default policy',
    compliance: 'NOT_APPLICABLE',
    profile: 'regulated',
    rules: [],
    suppressed: [
      'nat-gateway-forbidden',
      'internet-route-forbidden',
      'endpoint-missing',
      'endpoint-policy-too-broad',
    ],
  },
  {
    name: 'legacy-batch',
    what: 'an expired exemption and a NAT gateway still there',
    compliance: 'NON_COMPLIANT',
    profile: 'regulated',
    rules: ['nat-gateway-forbidden', 'internet-route-forbidden', 'exemption-expired'],
  },
  {
    name: 'payments-eu',
    what: 'a half-removed NAT: the NAT deleted, blackhole default routes left',
    compliance: 'NON_COMPLIANT',
    profile: 'regulated',
    rules: ['internet-route-forbidden'],
  },
  {
    name: 'analytics-eu',
    what: 'an endpoint policy scoped by aws:PrincipalOrgID only',
    compliance: 'NON_COMPLIANT',
    profile: 'regulated',
    rules: ['endpoint-policy-too-broad'],
  },
];

/** The distinct rule ids of some findings, in report order. */
function ruleIds(findings: Evaluation['findings']): RuleId[] {
  return [...new Set(findings.map((finding) => finding.ruleId))].sort(
    (a, b) => RULE_IDS.indexOf(a) - RULE_IDS.indexOf(b),
  );
}

describe('the demo account (examples/demo-account.json with examples/policy.yaml)', () => {
  let evaluations: Evaluation[];
  const byName = (name: string): Evaluation => {
    const found = evaluations.find((evaluation) => evaluation.vpcName === name);
    if (!found) throw new Error(`no VPC named "${name}" in the demo estate`);
    return found;
  };

  beforeAll(async () => {
    const snapshots = await loadNetworkSnapshots(
      fileURLToPath(new URL('examples/demo-account.json', root)),
    );
    const policy = parseGuardPolicy(
      await readFile(new URL('examples/policy.yaml', root), 'utf8'),
      'examples/policy.yaml',
    );
    evaluations = evaluate(snapshots, policy, { now: NOW });
  });

  it('has exactly one VPC per archetype, each named once', () => {
    // Act
    const names = evaluations.map((evaluation) => evaluation.vpcName).sort();

    // Assess
    expect(names).toEqual(ARCHETYPES.map((archetype) => archetype.name).sort());
  });

  it('spans two accounts and two regions', () => {
    // Act
    const accounts = new Set(evaluations.map((evaluation) => evaluation.accountId));
    const regions = new Set(evaluations.map((evaluation) => evaluation.region));

    // Assess
    expect([...accounts].sort()).toEqual(['111111111111', '222222222222']);
    expect([...regions].sort()).toEqual(['eu-west-1', 'us-east-1']);
  });

  it.each(ARCHETYPES)('$name ($what) is $compliance with [$rules]', (archetype) => {
    // Act
    const evaluation = byName(archetype.name);

    // Assess
    expect(evaluation.compliance).toBe(archetype.compliance);
    expect(evaluation.profile).toBe(archetype.profile);
    expect(ruleIds(evaluation.findings)).toEqual(archetype.rules);
    expect(ruleIds(evaluation.suppressedFindings)).toEqual(archetype.suppressed ?? []);
  });

  it('takes the regulated profile from the account map, and the sandbox one from a tag or the account', () => {
    // Act
    const sources = Object.fromEntries(
      ['payments-prod', 'identity-prod', 'checkout-prod', 'dev-sandbox', 'ml-experiments'].map(
        (name) => [name, byName(name).profileSource],
      ),
    );

    // Assess
    expect(sources).toEqual({
      'payments-prod': 'account',
      'identity-prod': 'account',
      'checkout-prod': 'account',
      'dev-sandbox': 'tag',
      'ml-experiments': 'account',
    });
  });

  it('reports ledger-prod endpoint by endpoint, and never counts ec2messages as anything', () => {
    // Act
    const evaluation = byName('ledger-prod');
    const subjects = evaluation.findings.map((finding) => `${finding.ruleId}:${finding.subject}`);

    // Assess
    expect(subjects.sort()).toEqual([
      'endpoint-misconfigured:ecr.api/coverage',
      'endpoint-misconfigured:logs/private-dns',
      'endpoint-misconfigured:s3/route-tables',
      'endpoint-missing:ecr.dkr',
      'endpoint-missing:kms',
      'endpoint-missing:secretsmanager',
    ]);
    expect(JSON.stringify(evaluation.findings)).not.toContain('ec2messages');
  });

  it.each([
    ['reporting-prod', 'kms', 'full-access'],
    ['reporting-prod', 'logs', 'unscoped-principal'],
    ['analytics-eu', 'secretsmanager', 'unscoped-resource'],
    ['vendor-gateway', 's3', 'full-access'],
  ])('judges the %s %s endpoint policy %s', (name, service, verdict) => {
    // Act
    const evaluation = byName(name);
    const finding = [...evaluation.findings, ...evaluation.suppressedFindings].find(
      (candidate) =>
        candidate.ruleId === 'endpoint-policy-too-broad' &&
        candidate.evidence['service'] === service,
    );

    // Assess
    expect(finding?.evidence['verdict']).toBe(verdict);
  });

  it('flags only the blackhole default routes the removed NAT left in payments-eu', () => {
    // Act
    const findings = byName('payments-eu').findings;

    // Assess
    expect(findings).toHaveLength(3);
    expect(findings.every((finding) => finding.severity === 'low')).toBe(true);
    expect(findings.every((finding) => finding.evidence['state'] === 'blackhole')).toBe(true);
  });

  it('counts the public NAT gateways the regulated profile forbids, and nothing in the sandboxes', () => {
    // Act
    const nats = evaluations.flatMap((evaluation) =>
      evaluation.findings
        .filter((finding) => finding.ruleId === 'nat-gateway-forbidden')
        .map(() => evaluation.vpcName),
    );

    // Assess
    expect(nats.sort()).toEqual(['legacy-batch', 'orders-prod']);
  });
});
