import 'aws-sdk-client-mock-vitest/extend';
import {
  GetResourceConfigHistoryCommand,
  PutEvaluationsCommand,
} from '@aws-sdk/client-config-service';
import {
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { EC2Client } from '@aws-sdk/client-ec2';
import { collectNetworkSnapshot } from '@vpc-guard/shared';
import { mockClient } from 'aws-sdk-client-mock';
import { Template } from 'aws-cdk-lib/assertions';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApiEventHandler } from '../../functions/api-event/create-handler';
import type { ApiEventResult } from '../../functions/api-event/event';
import { ownIdentityMatch } from '../../functions/api-event/resolve';
import { createConfigRuleHandler } from '../../functions/config-rule/create-handler';
import { createSweepHandler } from '../../functions/sweep/create-handler';
import {
  ACCOUNT,
  REGION,
  VPC,
  FunctionHarness,
  loadEvent,
  mocks,
  resetMocks,
  runCapturingFailure,
  smallAccount,
  type HarnessOptions,
} from '../functions/support/harness';
import { addDeployment } from '../../infra/lib/deployment';
import { ORGANIZATION_CONFIG_RULE_ARNS } from '../../infra/lib/hub-stack';
import { createTestApp, exampleConfig } from '../infra/support';

/**
 * Events are bound to their account: the account a function acts on is the account its credentials
 * belong to, never a field of the event. Each test here is an attack that worked before.
 */

const organizations = mockClient(OrganizationsClient);

afterEach(() => {
  resetMocks();
  organizations.reset();
  vi.restoreAllMocks();
});

const FOREIGN = '222222222222';
const HUB_ENV = { MODE: 'hub', EXTERNAL_ID_PARAMETER: '/vpc-guard/external-id' } as const;

/**
 * Account 111111111111 is only watched (notify); 222222222222 is remediated. The VPCs carry no
 * profile tag this policy reads, so the account decides.
 */
const ACCOUNT_PROFILES_POLICY = `
version: 1
organization: { id: o-a1b2c3d4e5 }
profiles:
  watch:
    egress: { natGateway: forbidden, internetRoute: forbidden }
    endpoints: { required: [] }
    remediation: { mode: notify }
  enforce:
    egress: { natGateway: forbidden, internetRoute: forbidden }
    endpoints: { required: [] }
    remediation:
      mode: auto
      actions: [remove-nat, remove-internet-route]
      maxChangesPerRun: 10
assign:
  tag: vpc-guard:tier
  accounts: { '111111111111': watch, '222222222222': enforce }
  default: watch
exemptions: { tag: vpc-guard:exempt }
`;

/**
 * A standalone function in account 111111111111: whatever account a client is asked for, its
 * credentials read 111111111111 (what Lambda's own role does).
 */
function standalone(options: HarnessOptions = {}): FunctionHarness {
  const harness: FunctionHarness = new FunctionHarness({
    policy: ACCOUNT_PROFILES_POLICY,
    killSwitch: 'off',
    ...options,
    overrides: {
      ec2Client: (target) =>
        harness.account.client({ accountId: ACCOUNT, region: target.region, retryBackoff: 'none' }),
      ...options.overrides,
    },
  });
  return harness;
}

/** Every mocked AWS call (SNS, Security Hub, Config, EventBridge, DynamoDB, Organizations). */
function mockedCalls(): number {
  return [...Object.values(mocks), organizations].reduce((n, m) => n + m.calls().length, 0);
}

/** The EventsRejected metric lines (embedded metric format) with their reason dimension. */
function rejectionMetrics(text: string): { reason: unknown; value: unknown }[] {
  return text
    .split('\n')
    .filter((line) => line.includes('"EventsRejected"') && line.includes('"reason"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .map((line) => ({ reason: line['reason'], value: line['EventsRejected'] }));
}

/** A CloudTrail record of `fixture` whose every account field names `accountId`. */
function cloudTrailFor(fixture: string, accountId: string) {
  const event = loadEvent(`api-event/${fixture}.json`) as {
    account: string;
    detail: {
      recipientAccountId: string;
      userIdentity: {
        accountId?: string;
        arn?: string;
        sessionContext?: { sessionIssuer?: { arn?: string; accountId?: string } };
      };
    };
  };
  event.account = accountId;
  event.detail.recipientAccountId = accountId;
  const identity = event.detail.userIdentity;
  identity.accountId = accountId;
  identity.arn = identity.arn?.replace(ACCOUNT, accountId);
  const issuer = identity.sessionContext?.sessionIssuer;
  if (issuer) {
    issuer.accountId = accountId;
    issuer.arn = issuer.arn?.replace(ACCOUNT, accountId);
  }
  return event;
}

/** A Config compliance change for the regulated VPC, reported by `accountId`. */
function complianceChangeFor(accountId: string) {
  const event = loadEvent('api-event/config-compliance-change.json') as {
    account: string;
    resources: string[];
    detail: { awsAccountId: string; configRuleARN?: string };
  };
  event.account = accountId;
  event.resources = event.resources.map((arn) => arn.replace(ACCOUNT, accountId));
  event.detail.awsAccountId = accountId;
  event.detail.configRuleARN = event.detail.configRuleARN?.replace(ACCOUNT, accountId);
  return event;
}

/** A Config rule invocation from `accountId` (rule ARN, account and item all of that account). */
function ruleInvocationFor(fixture: string, accountId: string) {
  const event = loadEvent(`config-rule/${fixture}.json`);
  const text = JSON.stringify(event).split(ACCOUNT).join(accountId);
  return JSON.parse(text) as Record<string, unknown>;
}

describe('events in standalone mode are bound to the function account', () => {
  it('rejects a CloudTrail record of another account: no AWS call, no NAT deleted', async () => {
    // Prepare
    const harness = standalone();
    const event = cloudTrailFor('create-nat-gateway', FOREIGN);

    // Act
    const run = await runCapturingFailure(
      createApiEventHandler(harness.deps),
      event,
      harness.context(),
    );

    // Assess
    expect(harness.ec2Writes()).toEqual([]);
    expect(harness.account.calls).toEqual([]);
    expect(mockedCalls()).toBe(0);
    expect(run.result).toMatchObject({ status: 'rejected', accountId: FOREIGN });
    expect(rejectionMetrics(run.output.text())).toEqual([{ reason: 'foreign-account', value: 1 }]);
    const logged = run.output.logs().find((line) => line['message'] === 'event rejected');
    expect(logged).toMatchObject({ reason: 'foreign-account' });
  });

  it('rejects a Config compliance change of another account before any AWS call', async () => {
    // Prepare
    const harness = standalone();

    // Act
    const run = await runCapturingFailure(
      createApiEventHandler(harness.deps),
      complianceChangeFor(FOREIGN),
      harness.context(),
    );

    // Assess
    expect(run.result).toMatchObject({ status: 'rejected' });
    expect(harness.account.calls).toEqual([]);
    expect(mockedCalls()).toBe(0);
  });

  it('rejects a Config rule invocation for another account: nothing read, nothing reported', async () => {
    // Prepare
    const harness = standalone({
      functionName: 'config-rule',
      env: { FINDINGS_TABLE: undefined, TOPIC_ARN: undefined, OWN_ROLE_ARNS: undefined },
    });

    // Act
    const run = await runCapturingFailure(
      createConfigRuleHandler(harness.deps),
      ruleInvocationFor('vpc-change', FOREIGN),
      harness.context(),
    );

    // Assess
    expect(run.result).toMatchObject({ status: 'rejected', reason: expect.any(String) });
    expect(harness.account.calls).toEqual([]);
    expect(mocks.config).not.toHaveReceivedCommand(PutEvaluationsCommand);
    expect(rejectionMetrics(run.output.text())).toEqual([{ reason: 'foreign-account', value: 1 }]);
  });

  it('rejects a scheduled sweep event of another account instead of sweeping under its id', async () => {
    // Prepare
    const harness = standalone({ functionName: 'sweep' });
    const event = loadEvent('sweep/scheduled-event.json');
    event['account'] = FOREIGN;

    // Act
    const run = await runCapturingFailure(
      createSweepHandler(harness.deps),
      event,
      harness.context(),
    );

    // Assess
    expect(run.result).toMatchObject({ status: 'rejected' });
    expect(harness.account.calls).toEqual([]);
    expect(mockedCalls()).toBe(0);
  });

  it('rejects a record whose account fields disagree, even when one of them is its own', async () => {
    // Prepare
    const harness = standalone();
    const event = cloudTrailFor('create-route', ACCOUNT);
    event.detail.recipientAccountId = FOREIGN;

    // Act
    const run = await runCapturingFailure(
      createApiEventHandler(harness.deps),
      event,
      harness.context(),
    );

    // Assess
    expect(run.result).toMatchObject({ status: 'rejected' });
    expect(rejectionMetrics(run.output.text())).toEqual([
      { reason: 'accounts-disagree', value: 1 },
    ]);
    expect(harness.account.calls).toEqual([]);
  });

  it("learns its own account from STS, once per cold start, not from the event's envelope", async () => {
    // Prepare
    const identities: string[] = [];
    const harness = standalone({
      overrides: {
        callerIdentity: (credentials) => {
          identities.push(credentials === undefined ? 'own' : 'member');
          return Promise.resolve({
            accountId: ACCOUNT,
            arn: `arn:aws:sts::${ACCOUNT}:assumed-role/vpc-guard-api-event-role/fn`,
          });
        },
      },
    });
    const handler = createApiEventHandler(harness.deps);

    // Act
    await runCapturingFailure(handler, cloudTrailFor('create-route', ACCOUNT), harness.context());
    const foreign = await runCapturingFailure(
      handler,
      cloudTrailFor('create-route', FOREIGN),
      harness.context(),
    );

    // Assess
    expect(identities).toEqual(['own']);
    expect((foreign.result as ApiEventResult).status).toBe('rejected');
  });
});

describe('events in hub mode are bound to the accounts in scope', () => {
  it('rejects an event for an account outside the configured member list', async () => {
    // Prepare
    const harness = new FunctionHarness({
      env: { ...HUB_ENV, MEMBER_ACCOUNTS: ACCOUNT },
      overrides: {
        assumeRole: () => () => Promise.resolve({ accessKeyId: 'ASIA', secretAccessKey: 's' }),
      },
    });

    // Act
    const run = await runCapturingFailure(
      createApiEventHandler(harness.deps),
      cloudTrailFor('create-route', FOREIGN),
      harness.context(),
    );

    // Assess
    expect(run.result).toMatchObject({ status: 'rejected' });
    expect(rejectionMetrics(run.output.text())).toEqual([{ reason: 'out-of-scope', value: 1 }]);
    expect(harness.account.calls).toEqual([]);
    expect(mockedCalls()).toBe(0);
  });

  it('admits only accounts under the target OUs, listing them once for many events', async () => {
    // Prepare
    organizations
      .on(ListOrganizationalUnitsForParentCommand)
      .resolves({ OrganizationalUnits: [] })
      .on(ListAccountsForParentCommand, { ParentId: 'ou-ab12-workload1' })
      .resolves({ Accounts: [{ Id: ACCOUNT, State: 'ACTIVE' }] });
    organizations
      .on(ListAccountsCommand)
      .resolves({ Accounts: [{ Id: FOREIGN, State: 'ACTIVE' }] });
    const harness = new FunctionHarness({
      env: { ...HUB_ENV, MEMBER_ACCOUNTS: 'organization', TARGET_OUS: 'ou-ab12-workload1' },
      snapshots: [smallAccount()],
      overrides: {
        assumeRole: () => () => Promise.resolve({ accessKeyId: 'ASIA', secretAccessKey: 's' }),
      },
    });
    const handler = createApiEventHandler(harness.deps);

    // Act
    const outside = await runCapturingFailure(
      handler,
      cloudTrailFor('create-route', FOREIGN),
      harness.context(),
    );
    const inside = await runCapturingFailure(
      handler,
      cloudTrailFor('create-route', ACCOUNT),
      harness.context(),
    );

    // Assess
    expect(outside.result).toMatchObject({ status: 'rejected', reason: /not in scope/ });
    expect(inside.result).toMatchObject({ status: 'handled', accountId: ACCOUNT });
    expect(organizations).toHaveReceivedCommandTimes(ListAccountsForParentCommand, 1);
    expect(harness.account.calls.every((call) => call.accountId === ACCOUNT)).toBe(true);
  });

  it('rejects a Config rule invocation whose rule ARN names another account than the event', async () => {
    // Prepare
    const harness = new FunctionHarness({
      functionName: 'config-rule',
      env: { ...HUB_ENV, MEMBER_ACCOUNTS: `${ACCOUNT},${FOREIGN}`, OWN_ROLE_ARNS: undefined },
      overrides: {
        assumeRole: () => () => Promise.resolve({ accessKeyId: 'ASIA', secretAccessKey: 's' }),
      },
    });
    const event = ruleInvocationFor('vpc-change', ACCOUNT);
    event['configRuleArn'] = String(event['configRuleArn']).replace(ACCOUNT, FOREIGN);

    // Act
    const run = await runCapturingFailure(
      createConfigRuleHandler(harness.deps),
      event,
      harness.context(),
    );

    // Assess
    expect(run.result).toMatchObject({ status: 'rejected' });
    expect(harness.account.calls).toEqual([]);
    expect(mocks.config).not.toHaveReceivedCommand(PutEvaluationsCommand);
  });

  it('refuses member credentials that belong to another account than the one asked for', async () => {
    // Prepare: the member role of 111111111111 hands out credentials of 222222222222. The EC2
    // clients sign with the credentials they are given, as the SDK does.
    const harness: FunctionHarness = new FunctionHarness({
      env: { ...HUB_ENV, MEMBER_ACCOUNTS: ACCOUNT },
      overrides: {
        assumeRole: () => () =>
          Promise.resolve({ accessKeyId: 'ASIA', secretAccessKey: 's', accountId: FOREIGN }),
        ec2Client: (target) =>
          harness.account.attach(
            new EC2Client({
              region: target.region,
              credentials: target.credentials ?? { accessKeyId: 'AKIA', secretAccessKey: 's' },
              maxAttempts: 1,
            }),
            { accountId: target.accountId },
          ),
      },
    });

    // Act
    const run = await runCapturingFailure(
      createApiEventHandler(harness.deps),
      cloudTrailFor('attach-internet-gateway', ACCOUNT),
      harness.context(),
    );

    // Assess
    expect(run.error).toBeDefined();
    expect(String((run.error as Error).message)).toMatch(
      /assumed for account 111111111111 returned credentials of account 222222222222/,
    );
    expect(harness.account.calls).toEqual([]);
  });
});

describe('the collector labels only what the credentials own', () => {
  it('refuses to label what one account read with another account id', async () => {
    // Prepare
    const harness = new FunctionHarness();
    const ec2 = harness.account.client({ accountId: ACCOUNT, region: REGION });

    // Act
    const attempt = collectNetworkSnapshot({
      ec2,
      accountId: FOREIGN,
      region: REGION,
      callerAccountId: () => Promise.resolve(ACCOUNT),
    });

    // Assess
    await expect(attempt).rejects.toThrow(/111111111111.*222222222222|222222222222.*111111111111/);
  });

  it('never labels a VPC owned by another account (a shared VPC) with the reading account', async () => {
    // Prepare
    const harness = new FunctionHarness();
    const ec2 = harness.account.client({ accountId: ACCOUNT, region: REGION });

    // Act
    const snapshot = await collectNetworkSnapshot({ ec2, accountId: FOREIGN, region: REGION });

    // Assess
    expect(snapshot.vpcs).toEqual([]);
    expect(snapshot.natGateways).toEqual([]);
  });
});

describe("the loop guard recognises vpc-guard's own roles structurally", () => {
  const MEMBER_PATTERN = 'arn:*:iam::*:role/VpcGuardMember';

  it.each([
    [
      'an IAM user whose name ends like the role',
      { type: 'IAMUser', arn: 'arn:aws:iam::111111111111:user/a:role/VpcGuardMember' },
      [MEMBER_PATTERN],
    ],
    [
      'a role on a deeper path than the pattern anchors',
      {
        type: 'AssumedRole',
        sessionContext: {
          sessionIssuer: { type: 'Role', arn: 'arn:aws:iam::111111111111:role/a/b/VpcGuardMember' },
        },
      },
      ['arn:aws:iam::*:role/*/VpcGuardMember'],
    ],
    [
      'a wildcard name that would have to cross a path separator',
      {
        type: 'AssumedRole',
        sessionContext: {
          sessionIssuer: { type: 'Role', arn: 'arn:aws:iam::111111111111:role/vpc-guard-x/admin' },
        },
      },
      ['arn:aws:iam::*:role/vpc-guard-*'],
    ],
    [
      'an account wildcard that would have to cross a colon',
      { type: 'IAMUser', arn: 'arn:aws:iam::111111111111:user/x:role/VpcGuardMember' },
      ['arn:aws:iam::*:role/VpcGuardMember', 'arn:aws:iam:*:role/VpcGuardMember'],
    ],
  ])('does not take %s for vpc-guard', (_name, identity, patterns) => {
    expect(ownIdentityMatch(identity, patterns)).toBeUndefined();
  });
});

describe('events about what no longer exists', () => {
  it('resolves the findings of a VPC that was deleted instead of failing into the DLQ', async () => {
    // Prepare: the regulated VPC's findings are open; then the VPC and all it held are deleted.
    const before = new FunctionHarness();
    await runCapturingFailure(
      createApiEventHandler(before.deps),
      complianceChangeFor(ACCOUNT),
      before.context(),
    );
    expect(before.table.findings()).toHaveLength(6);
    const empty = {
      ...smallAccount(),
      vpcs: [],
      subnets: [],
      routeTables: [],
      natGateways: [],
      internetGateways: [],
      egressOnlyInternetGateways: [],
      vpcEndpoints: [],
      securityGroups: [],
      elasticIps: [],
    };
    const after = new FunctionHarness({ snapshots: [empty] });
    for (const [key, item] of before.table.items) after.table.items.set(key, item);
    const gone = complianceChangeFor(ACCOUNT) as unknown as { id: string };
    gone.id = '00000099-5e1d-4c2b-9a7f-000000000099';

    // Act
    const run = await runCapturingFailure(createApiEventHandler(after.deps), gone, after.context());

    // Assess
    expect(run.error).toBeUndefined();
    expect(run.result).toMatchObject({ status: 'handled', vpcIds: [VPC] });
    expect((run.result as ApiEventResult).report?.targets[0]?.transitions?.resolved).toBe(6);
  });

  it('answers an oversized notification whose history lookup fails from the resource id', async () => {
    // Prepare
    const harness = new FunctionHarness({
      functionName: 'config-rule',
      env: { FINDINGS_TABLE: undefined, TOPIC_ARN: undefined, OWN_ROLE_ARNS: undefined },
    });
    mocks.config.on(GetResourceConfigHistoryCommand).rejects(
      Object.assign(new Error('not authorized to perform config:GetResourceConfigHistory'), {
        name: 'AccessDeniedException',
        $metadata: {},
      }),
    );

    // Act
    const run = await runCapturingFailure(
      createConfigRuleHandler(harness.deps),
      loadEvent('config-rule/oversized-route-table.json'),
      harness.context(),
    );

    // Assess
    expect(run.error).toBeUndefined();
    const sent = mocks.config
      .commandCalls(PutEvaluationsCommand)
      .flatMap((call) => call.args[0].input.Evaluations ?? []);
    expect(sent).toEqual([
      expect.objectContaining({ ComplianceResourceId: VPC, ComplianceType: 'NON_COMPLIANT' }),
    ]);
  });
});

describe('infra: who may invoke the hub Config rule function', () => {
  it("admits only the Config rules an organization rule created, never any account's own rule", () => {
    // Act
    const deployment = addDeployment(createTestApp(), exampleConfig('hub'));
    const template = Template.fromStack(deployment.hubStack!);

    // Assess
    const permissions = Object.values(
      template.findResources('AWS::Lambda::Permission', {
        Properties: { Principal: 'config.amazonaws.com' },
      }),
    ).map((resource) => (resource as { Properties: Record<string, unknown> }).Properties);
    expect(permissions).toHaveLength(1);
    expect(permissions[0]).toMatchObject({
      SourceArn: { 'Fn::Sub': ORGANIZATION_CONFIG_RULE_ARNS },
    });
    expect(ORGANIZATION_CONFIG_RULE_ARNS).toMatch(
      /:config-rule\/aws-service-rule\/config-multiaccountsetup\.amazonaws\.com\/\*$/,
    );
  });
});
