import { DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, STSClient as NestedStsClient } from '@aws-sdk/nested-clients/sts';
import { ListAccountsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, describe, expect, it } from 'vitest';
import { listOrganizationAccounts } from '../../../shared/src/aws/organizations';
import { parseAccountList, parseRegionSelection } from '../../../shared/src/aws/target-selection';
import {
  assumeRoleCredentials,
  getCallerIdentity,
  listEnabledRegions,
  memberRoleArn,
} from '../../../shared/src/aws/targets';
import { InputValidationError } from '../../../shared/src/errors';

const MASTER = { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' };
/** Temporary credentials as STS returns them, valid for an hour. */
function temporary(accessKeyId: string) {
  return {
    AccessKeyId: accessKeyId,
    SecretAccessKey: 'member-secret',
    SessionToken: 'token',
    Expiration: new Date(Date.now() + 3600_000),
  };
}
const TEMPLATE = 'arn:aws:iam::{accountId}:role/VpcGuardMember';

// fromTemporaryCredentials calls AssumeRole through the SDK's nested STS client, not client-sts's.
const assumeRole = mockClient(NestedStsClient);
const sts = mockClient(STSClient);
const organizations = mockClient(OrganizationsClient);
const ec2 = mockClient(EC2Client);

afterEach(() => {
  assumeRole.reset();
  sts.reset();
  organizations.reset();
  ec2.reset();
});

function stsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: {} });
}

describe('getCallerIdentity', () => {
  it('returns the account for a single-account run and the ARN for records', async () => {
    // Prepare
    sts.on(GetCallerIdentityCommand).resolves({
      Account: '111111111111',
      Arn: 'arn:aws:sts::111111111111:assumed-role/Audit/alice',
    });

    // Act
    const identity = await getCallerIdentity(new STSClient({ region: 'us-east-1' }));

    // Assess
    expect(identity).toEqual({
      accountId: '111111111111',
      arn: 'arn:aws:sts::111111111111:assumed-role/Audit/alice',
    });
    expect(sts).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 1);
  });

  it('throws when STS answers without an account', async () => {
    // Prepare
    sts.on(GetCallerIdentityCommand).resolves({});

    // Act
    const result = getCallerIdentity(new STSClient({ region: 'us-east-1' }));

    // Assess
    await expect(result).rejects.toThrow('STS GetCallerIdentity returned no account or ARN');
  });
});

describe('listOrganizationAccounts', () => {
  it('follows every ListAccounts page and keeps only ACTIVE accounts, sorted', async () => {
    // Prepare
    organizations
      .on(ListAccountsCommand)
      .resolvesOnce({
        Accounts: [
          { Id: '333333333333', Name: 'data', State: 'ACTIVE' },
          { Id: '444444444444', Name: 'closing', State: 'PENDING_CLOSURE' },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        Accounts: [
          { Id: '111111111111', Name: 'payments', State: 'ACTIVE' },
          { Id: '555555555555', Name: 'old', Status: 'SUSPENDED' },
          { Id: '222222222222', Name: 'legacy field only', Status: 'ACTIVE' },
          { Id: '666666666666', Name: 'closed', State: 'CLOSED', Status: 'ACTIVE' },
        ],
      });

    // Act
    const accounts = await listOrganizationAccounts(
      new OrganizationsClient({ region: 'us-east-1' }),
    );

    // Assess
    expect(accounts).toEqual([
      { accountId: '111111111111', name: 'payments' },
      { accountId: '222222222222', name: 'legacy field only' },
      { accountId: '333333333333', name: 'data' },
    ]);
    expect(organizations).toHaveReceivedCommandTimes(ListAccountsCommand, 2);
    expect(organizations).toHaveReceivedNthCommandWith(ListAccountsCommand, 2, {
      NextToken: 'page-2',
    });
  });
});

describe('listEnabledRegions', () => {
  it('asks DescribeRegions for the enabled regions only and sorts them', async () => {
    // Prepare
    ec2.on(DescribeRegionsCommand).resolves({
      Regions: [{ RegionName: 'us-east-1' }, { RegionName: 'eu-west-1' }, { Endpoint: 'x' }],
    });

    // Act
    const regions = await listEnabledRegions(new EC2Client({ region: 'us-east-1' }));

    // Assess
    expect(regions).toEqual(['eu-west-1', 'us-east-1']);
    expect(ec2).toHaveReceivedCommandExactlyOnceWith(DescribeRegionsCommand, { AllRegions: false });
  });
});

describe('memberRoleArn', () => {
  it.each([
    [TEMPLATE, '222222222222', 'arn:aws:iam::222222222222:role/VpcGuardMember'],
    [
      'arn:aws:iam::{accountId}:role/security/VpcGuardMember',
      '222222222222',
      'arn:aws:iam::222222222222:role/security/VpcGuardMember',
    ],
    [
      'arn:aws-us-gov:iam::{accountId}:role/VpcGuardMember',
      '333333333333',
      'arn:aws-us-gov:iam::333333333333:role/VpcGuardMember',
    ],
    [
      'arn:aws:iam::444444444444:role/Fixed',
      '444444444444',
      'arn:aws:iam::444444444444:role/Fixed',
    ],
  ])('turns %s into the role of account %s', (template, accountId, expected) => {
    // Act
    const arn = memberRoleArn(template, accountId);

    // Assess
    expect(arn).toBe(expected);
  });

  it.each([
    ['arn:aws:iam::111111111111:role/Fixed', 'is a role of account 111111111111, not 222222222222'],
    ['VpcGuardMember', 'expected an IAM role ARN template'],
    ['arn:aws:iam::{accountId}:user/alice', 'expected an IAM role ARN template'],
  ])('throws for %s', (template, message) => {
    // Act
    const act = () => memberRoleArn(template, '222222222222');

    // Assess
    expect(act).toThrow(InputValidationError);
    expect(act).toThrow(message);
  });
});

describe('assumeRoleCredentials', () => {
  it('assumes the role with session name vpc-guard and the external id, once for many clients', async () => {
    // Prepare
    assumeRole.on(AssumeRoleCommand).resolves({ Credentials: temporary('ASIAMEMBER') });
    const provider = assumeRoleCredentials({
      roleArn: memberRoleArn(TEMPLATE, '222222222222'),
      externalId: 'vpc-guard-ext',
      region: 'eu-west-1',
      masterCredentials: () => Promise.resolve(MASTER),
    });

    // Act
    const [first, second] = await Promise.all([provider(), provider()]);
    const third = await provider();

    // Assess
    expect(first).toMatchObject({ accessKeyId: 'ASIAMEMBER', sessionToken: 'token' });
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    expect(assumeRole).toHaveReceivedCommandExactlyOnceWith(AssumeRoleCommand, {
      RoleArn: 'arn:aws:iam::222222222222:role/VpcGuardMember',
      RoleSessionName: 'vpc-guard',
      ExternalId: 'vpc-guard-ext',
    });
  });

  it('sends no ExternalId when none is given', async () => {
    // Prepare
    assumeRole.on(AssumeRoleCommand).resolves({ Credentials: temporary('ASIA') });
    const provider = assumeRoleCredentials({
      roleArn: 'arn:aws:iam::222222222222:role/VpcGuardMember',
      region: 'us-east-1',
      masterCredentials: () => Promise.resolve(MASTER),
    });

    // Act
    await provider();

    // Assess
    const input = assumeRole.commandCalls(AssumeRoleCommand)[0]!.args[0].input;
    expect(input).not.toHaveProperty('ExternalId');
  });

  it('does not keep a failure: the next call tries AssumeRole again', async () => {
    // Prepare
    assumeRole
      .on(AssumeRoleCommand)
      .rejectsOnce(stsError('AccessDenied', 'not authorized to perform: sts:AssumeRole'))
      .resolves({ Credentials: temporary('ASIA') });
    const provider = assumeRoleCredentials({
      roleArn: 'arn:aws:iam::222222222222:role/VpcGuardMember',
      region: 'us-east-1',
      masterCredentials: () => Promise.resolve(MASTER),
    });

    // Act
    const first = provider();
    await expect(first).rejects.toThrow('not authorized');
    const second = await provider();

    // Assess
    expect(second.accessKeyId).toBe('ASIA');
    expect(assumeRole).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
  });

  it('refuses an external id STS would reject', () => {
    // Act
    const act = () =>
      assumeRoleCredentials({
        roleArn: 'arn:aws:iam::222222222222:role/VpcGuardMember',
        externalId: 'has spaces',
        region: 'us-east-1',
      });

    // Assess
    expect(act).toThrow('--external-id');
  });
});

describe('flag parsing', () => {
  it.each([
    ['all', { kind: 'all' }],
    ['us-east-1', { kind: 'list', regions: ['us-east-1'] }],
    [
      ' eu-west-1, us-gov-west-1 ,eu-west-1',
      { kind: 'list', regions: ['eu-west-1', 'us-gov-west-1'] },
    ],
  ])('reads --regions %j', (value, expected) => {
    // Act
    const selection = parseRegionSelection(value);

    // Assess
    expect(selection).toEqual(expected);
  });

  it.each(['', 'US-EAST-1', 'us-east', 'all,us-east-1'])('rejects --regions %j', (value) => {
    // Act
    const act = () => parseRegionSelection(value);

    // Assess
    expect(act).toThrow('expected "all" or comma-separated region names');
  });

  it('reads --accounts, dropping duplicates and keeping the order', () => {
    // Act
    const accounts = parseAccountList('222222222222,111111111111, 222222222222');

    // Assess
    expect(accounts).toEqual(['222222222222', '111111111111']);
  });

  it.each(['', '12345', '111111111111,abc'])('rejects --accounts %j', (value) => {
    // Act
    const act = () => parseAccountList(value);

    // Assess
    expect(act).toThrow('expected comma-separated 12-digit account ids');
  });
});
