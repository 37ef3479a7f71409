import {
  paginateListAccountsForParent,
  paginateListOrganizationalUnitsForParent,
  type OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { listOrganizationAccounts } from '@vpc-guard/shared';
import type { MemberAccounts } from './config';

/**
 * Which accounts a hub acts on: the configured list, or the organization's active accounts (under
 * the target OUs when they are set), less the excluded accounts. The organization is listed once per cache period, not once per
 * event: a burst of events costs one listing.
 */

/** Options of {@link createAccountScope}. */
export interface AccountScopeOptions {
  readonly memberAccounts: MemberAccounts;
  /** OUs (or the root) whose accounts are in scope; empty: the whole organization. */
  readonly targetOrganizationalUnits: readonly string[];
  /**
   * Accounts out of scope whatever else says (the exclusion list, the management account).
   * @default []
   */
  readonly excludedAccounts?: readonly string[];
  readonly organizations: () => OrganizationsClient;
  readonly cacheSeconds: number;
  /** Milliseconds since the epoch. */
  readonly clock: () => number;
}

/** The accounts in scope, cached. */
export interface AccountScope {
  /** Every account in scope, sorted. */
  readonly accounts: () => Promise<readonly string[]>;
  /** Whether `accountId` is in scope. */
  readonly includes: (accountId: string) => Promise<boolean>;
}

/**
 * The ACTIVE accounts under `parents` (OUs or the root) and every OU below them: one
 * ListOrganizationalUnitsForParent and one ListAccountsForParent per OU, every page.
 */
export async function listAccountsUnder(
  organizations: OrganizationsClient,
  parents: readonly string[],
): Promise<string[]> {
  const accounts = new Set<string>();
  const seen = new Set<string>();
  let level = [...new Set(parents)];
  while (level.length > 0) {
    for (const parent of level) seen.add(parent);
    const children = await Promise.all(
      level.map(async (parentId) => {
        const found: string[] = [];
        for await (const page of paginateListAccountsForParent(
          { client: organizations },
          { ParentId: parentId },
        )) {
          for (const account of page.Accounts ?? []) {
            // State first, Status as a fallback (AWS retires Status in September 2026).
            if (account.Id && (account.State ?? account.Status) === 'ACTIVE') {
              accounts.add(account.Id);
            }
          }
        }
        for await (const page of paginateListOrganizationalUnitsForParent(
          { client: organizations },
          { ParentId: parentId },
        )) {
          for (const unit of page.OrganizationalUnits ?? []) if (unit.Id) found.push(unit.Id);
        }
        return found;
      }),
    );
    level = [...new Set(children.flat())].filter((id) => !seen.has(id));
  }
  return [...accounts].sort();
}

/** The accounts in scope of a hub, listed from Organizations at most once per cache period. */
export function createAccountScope(options: AccountScopeOptions): AccountScope {
  const members = options.memberAccounts;
  const excluded = new Set(options.excludedAccounts ?? []);
  const inScope = (id: string) => !excluded.has(id);
  if (members.kind === 'list') {
    const listed = [...members.accountIds].filter(inScope).sort();
    const set = new Set(listed);
    return {
      accounts: () => Promise.resolve(listed),
      includes: (accountId) => Promise.resolve(set.has(accountId)),
    };
  }
  let cached: { readonly at: number; readonly accounts: Promise<ReadonlySet<string>> } | undefined;
  const load = (): Promise<ReadonlySet<string>> => {
    const now = options.clock();
    if (cached && now - cached.at < options.cacheSeconds * 1000) return cached.accounts;
    const client = options.organizations();
    const listing = (
      options.targetOrganizationalUnits.length > 0
        ? listAccountsUnder(client, options.targetOrganizationalUnits)
        : listOrganizationAccounts(client).then((all) => all.map((a) => a.accountId))
    ).then((ids) => new Set(ids.filter(inScope)));
    const entry = { at: now, accounts: listing };
    cached = entry;
    // A failed listing is not kept: the next event lists again.
    listing.catch(() => {
      if (cached === entry) cached = undefined;
    });
    return listing;
  };
  return {
    accounts: async () => [...(await load())].sort(),
    includes: async (accountId) => (await load()).has(accountId),
  };
}
