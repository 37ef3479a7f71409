import { CreateTagsCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import {
  Scenario,
  evaluationNamed,
  mutatingCallsTouching,
  resourceIdsOf,
  vpcIdNamed,
} from '../scenarios/harness';

/**
 * Uncertain intent never writes. A VPC whose vpc-guard tags cannot be read (an exemption that does
 * not parse, a misspelt or unknown vpc-guard tag) gets its findings reported and nothing written:
 * the planner blocks every action with the reason, and apply, planning again from what it describes,
 * does the same for a plan made before the tag was put on.
 */

const ACCOUNT = '111111111111';
const US = 'us-east-1';
/** orders-prod: a regulated VPC with a NAT gateway the example policy removes. */
const VPC = 'orders-prod';

const UNREADABLE: readonly {
  readonly key: string;
  readonly value: string;
  readonly says: string;
}[] = [
  {
    key: 'vpc-guard:exempt',
    value: 'migration until 2027-01-31',
    says: 'vpc-guard:exempt cannot be read',
  },
  { key: 'vpc-guard:exempt', value: 'until=2027-01-31', says: 'missing "reason=' },
  { key: 'vpc-guard:exempt', value: 'until=2030-01-31; reason=vendor', says: 'days ahead' },
  {
    key: 'vpc-guard:Exempt',
    value: 'until=2026-12-01; reason=CHG-1',
    says: 'not spelt as vpc-guard reads it',
  },
  {
    key: 'vpc-guard:exemption',
    value: 'until=2026-12-01; reason=CHG-1',
    says: 'not a tag vpc-guard knows',
  },
  { key: 'vpc-guard:protect', value: 'true', says: 'not a tag vpc-guard knows' },
  { key: 'vpc-guard:managed', value: 'yes', says: 'vpc-guard:managed="yes" cannot be read' },
];

async function tagVpc(scenario: Scenario, key: string, value: string): Promise<string> {
  const vpcId = vpcIdNamed(await scenario.scan(), VPC);
  await scenario
    .ec2For(ACCOUNT, US)
    .send(new CreateTagsCommand({ Resources: [vpcId], Tags: [{ Key: key, Value: value }] }));
  return vpcId;
}

describe('a VPC whose vpc-guard tags cannot be read', () => {
  it.each(UNREADABLE)(
    'is reported and left untouched when tagged $key=$value',
    async ({ key, value, says }) => {
      // Prepare
      const scenario = await Scenario.demo();
      const vpcId = await tagVpc(scenario, key, value);

      // Act
      const run = await scenario.run();

      // Assess
      const evaluation = evaluationNamed(run, VPC);
      expect(evaluation.findings.map((f) => f.ruleId)).toContain('nat-gateway-forbidden');
      const vpcPlan = run.plan.vpcs.find((vpc) => vpc.vpcId === vpcId)!;
      expect(vpcPlan.actions.length).toBeGreaterThan(0);
      // Every action is blocked; those the profile allows, for the doubt (the others name the
      // profile's action list, which no tag fix would change).
      const allowed = new Set(scenario.policy.profiles[vpcPlan.profile]?.remediation.actions);
      const allowedActions = vpcPlan.actions.filter((action) => allowed.has(action.action));
      expect(allowedActions.length).toBeGreaterThan(0);
      for (const action of vpcPlan.actions) expect(action.status).toBe('blocked');
      for (const action of allowedActions) {
        expect(action.blockedReason).toContain('intent uncertain');
        expect(action.blockedReason).toContain(says);
      }
      expect(mutatingCallsTouching(run.applyCalls, resourceIdsOf(run, vpcId))).toEqual([]);
    },
  );

  it('is left untouched by apply when the tag went on after the plan was made', async () => {
    // Prepare: a plan that removes the NAT, then the operator's (malformed) exemption
    const scenario = await Scenario.demo();
    const { plan } = await scenario.plan();
    const vpcId = await tagVpc(scenario, 'vpc-guard:exempt', 'migration until 2027-01-31');
    const planned = plan.vpcs.find((vpc) => vpc.vpcId === vpcId)!.actions;
    expect(planned.some((action) => action.status === 'planned')).toBe(true);
    const from = scenario.account.calls.length;
    const before = await scenario.scan();

    // Act
    const record = await scenario.apply(plan);

    // Assess
    const calls = scenario.account.calls.slice(from);
    expect(mutatingCallsTouching(calls, resourceIdsOf(before, vpcId))).toEqual([]);
    for (const action of record.actions.filter((a) => a.vpcId === vpcId)) {
      expect(action.outcome).toBe('blocked');
    }
    expect(
      record.actions
        .filter((a) => a.vpcId === vpcId)
        .map((a) => a.detail)
        .join('\n'),
    ).toContain('intent uncertain');
  });
});
