import type { Vpc } from '../snapshot/schema';
import type { GuardPolicy, Profile } from './schema';

/** How a VPC's profile was decided. `unknown-tag` means its tag named no profile: the default applies and remediation fails closed. */
export type ProfileSource = 'tag' | 'account' | 'default' | 'unknown-tag';

export interface ResolvedProfile {
  readonly name: string;
  readonly profile: Profile;
  readonly source: ProfileSource;
  /** Set when the resolution is uncertain; remediation refuses to act on an uncertain profile. */
  readonly problem?: string;
}

/** The profile a VPC follows: its tag, else its account's entry, else the policy default. */
export function resolveProfile(policy: GuardPolicy, accountId: string, vpc: Vpc): ResolvedProfile {
  const defaultName = policy.assign.default;
  const fallback = policy.profiles[defaultName];
  if (!fallback) throw new Error(`policy default profile "${defaultName}" is not defined`);
  const tagged = vpc.tags[policy.assign.tag];
  if (tagged !== undefined) {
    const profile = policy.profiles[tagged];
    if (profile) return { name: tagged, profile, source: 'tag' };
    const accountName = policy.assign.accounts[accountId] ?? defaultName;
    return {
      name: accountName,
      profile: policy.profiles[accountName] ?? fallback,
      source: 'unknown-tag',
      problem: `tag ${policy.assign.tag}="${tagged}" names no profile; evaluated as "${accountName}"`,
    };
  }
  const accountName = policy.assign.accounts[accountId];
  if (accountName !== undefined) {
    const profile = policy.profiles[accountName];
    if (profile) return { name: accountName, profile, source: 'account' };
  }
  return { name: defaultName, profile: fallback, source: 'default' };
}
