import 'aws-sdk-client-mock-vitest/extend';
import {
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { createAccountScope } from '../../functions/runtime/account-scope';
import { loadRuntimeConfig } from '../../functions/runtime/config';
import { TEST_ENVIRONMENT } from './support/harness';

const organizations = mockClient(OrganizationsClient);
afterEach(() => organizations.reset());

const MANAGEMENT = '999999999999';
const WORKLOADS = '111111111111';
const PAYMENTS = '222222222222';

function scope(
  memberAccounts: Parameters<typeof createAccountScope>[0]['memberAccounts'],
  options: { targetOrganizationalUnits?: string[]; excludedAccounts?: string[] } = {},
) {
  return createAccountScope({
    memberAccounts,
    targetOrganizationalUnits: options.targetOrganizationalUnits ?? [],
    ...(options.excludedAccounts ? { excludedAccounts: options.excludedAccounts } : {}),
    organizations: () => new OrganizationsClient({ region: 'us-east-1' }),
    cacheSeconds: 300,
    clock: () => 0,
  });
}

describe('account scope exclusions', () => {
  it('leaves the excluded accounts out of the organization listing', async () => {
    // Prepare
    organizations.on(ListAccountsCommand).resolves({
      Accounts: [
        { Id: MANAGEMENT, State: 'ACTIVE' },
        { Id: WORKLOADS, State: 'ACTIVE' },
        { Id: PAYMENTS, State: 'ACTIVE' },
      ],
    });
    const accounts = scope({ kind: 'organization' }, { excludedAccounts: [MANAGEMENT] });

    // Act / Assess
    expect(await accounts.accounts()).toEqual([WORKLOADS, PAYMENTS]);
    expect(await accounts.includes(MANAGEMENT)).toBe(false);
    expect(await accounts.includes(PAYMENTS)).toBe(true);
  });

  it('leaves the excluded accounts out of the accounts under the target OUs', async () => {
    // Prepare
    organizations
      .on(ListAccountsForParentCommand, { ParentId: 'r-ab12' })
      .resolves({ Accounts: [{ Id: MANAGEMENT, State: 'ACTIVE' }] })
      .on(ListAccountsForParentCommand, { ParentId: 'ou-ab12-workload1' })
      .resolves({
        Accounts: [
          { Id: WORKLOADS, State: 'ACTIVE' },
          { Id: PAYMENTS, State: 'ACTIVE' },
        ],
      })
      .on(ListOrganizationalUnitsForParentCommand, { ParentId: 'r-ab12' })
      .resolves({ OrganizationalUnits: [{ Id: 'ou-ab12-workload1' }] })
      .on(ListOrganizationalUnitsForParentCommand, { ParentId: 'ou-ab12-workload1' })
      .resolves({ OrganizationalUnits: [] });
    const accounts = scope(
      { kind: 'organization' },
      { targetOrganizationalUnits: ['r-ab12'], excludedAccounts: [MANAGEMENT, PAYMENTS] },
    );

    // Act / Assess
    expect(await accounts.accounts()).toEqual([WORKLOADS]);
    expect(await accounts.includes(PAYMENTS)).toBe(false);
  });

  it('leaves the excluded accounts out of a configured list', async () => {
    const accounts = scope(
      { kind: 'list', accountIds: [PAYMENTS, WORKLOADS] },
      { excludedAccounts: [PAYMENTS] },
    );
    expect(await accounts.accounts()).toEqual([WORKLOADS]);
    expect(await accounts.includes(PAYMENTS)).toBe(false);
    expect(organizations).not.toHaveReceivedAnyCommand();
  });

  it('excludes nothing by default', async () => {
    const accounts = scope({ kind: 'list', accountIds: [PAYMENTS, WORKLOADS] });
    expect(await accounts.accounts()).toEqual([WORKLOADS, PAYMENTS]);
  });
});

describe('EXCLUDED_ACCOUNTS', () => {
  const hub = {
    ...TEST_ENVIRONMENT,
    MODE: 'hub',
    EXTERNAL_ID_PARAMETER: '/vpc-guard/external-id',
  };

  it('reads a comma-separated list of account ids in hub mode', () => {
    const config = loadRuntimeConfig('sweep', {
      ...hub,
      EXCLUDED_ACCOUNTS: ` ${MANAGEMENT}, ${PAYMENTS},${MANAGEMENT}`,
    });
    expect(config.excludedAccounts).toEqual([MANAGEMENT, PAYMENTS]);
  });

  it('excludes nothing when unset or blank', () => {
    expect(loadRuntimeConfig('sweep', hub).excludedAccounts).toEqual([]);
    expect(loadRuntimeConfig('sweep', { ...hub, EXCLUDED_ACCOUNTS: ' ' }).excludedAccounts).toEqual(
      [],
    );
  });

  it('refuses a value that is not an account id, naming it', () => {
    expect(() =>
      loadRuntimeConfig('api-event', { ...hub, EXCLUDED_ACCOUNTS: `${MANAGEMENT},12345` }),
    ).toThrow(/EXCLUDED_ACCOUNTS: expected comma-separated 12-digit account ids, got "12345"/);
  });

  it('is refused in standalone mode', () => {
    expect(() =>
      loadRuntimeConfig('sweep', { ...TEST_ENVIRONMENT, EXCLUDED_ACCOUNTS: MANAGEMENT }),
    ).toThrow(/EXCLUDED_ACCOUNTS: only meaningful in hub mode/);
  });
});
