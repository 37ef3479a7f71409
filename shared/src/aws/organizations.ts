import { OrganizationsClient, paginateListAccounts } from '@aws-sdk/client-organizations';
import { CONTROL_PLANE_ATTEMPTS } from './targets';

/*
 * The accounts of an organization, for `--org` runs. A module of its own so that the Organizations
 * client is loaded only by the runs that list accounts.
 */

/** An Organizations client on the standard credential chain, adaptive retries. */
export function createOrganizationsClient(region: string): OrganizationsClient {
  return new OrganizationsClient({
    region,
    retryMode: 'adaptive',
    maxAttempts: CONTROL_PLANE_ATTEMPTS,
  });
}

/** An account of the organization, as ListAccounts reports it. */
export interface OrganizationAccount {
  readonly accountId: string;
  readonly name: string | null;
}

/**
 * The organization's ACTIVE accounts (Organizations ListAccounts, every page), sorted by id. Suspended,
 * closing and closed accounts are left out: roles cannot be assumed there. `State` is read first,
 * `Status` as a fallback (AWS retires `Status` in September 2026).
 */
export async function listOrganizationAccounts(
  organizations: OrganizationsClient,
): Promise<OrganizationAccount[]> {
  const accounts: OrganizationAccount[] = [];
  for await (const page of paginateListAccounts({ client: organizations }, {})) {
    for (const account of page.Accounts ?? []) {
      const state = account.State ?? account.Status;
      if (!account.Id || state !== 'ACTIVE') continue;
      accounts.push({ accountId: account.Id, name: account.Name ?? null });
    }
  }
  return accounts.sort((a, b) => a.accountId.localeCompare(b.accountId));
}
