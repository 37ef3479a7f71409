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

/**
 * The profile the policy defines under `name`, or undefined. Names come from outside (tag values, a
 * Config rule parameter, a saved plan): only the policy's own entries count, never what every object
 * inherits (`toString`, `constructor`, `__proto__`).
 */
export function profileNamed(policy: GuardPolicy, name: string): Profile | undefined {
  return Object.hasOwn(policy.profiles, name) ? policy.profiles[name] : undefined;
}

/** The value of the tag `key` in `tags`, or undefined: own entries only, whatever the key. */
export function tagValue(tags: Readonly<Record<string, string>>, key: string): string | undefined {
  return Object.hasOwn(tags, key) ? tags[key] : undefined;
}

/** The profile name the policy's account map gives `accountId`, or undefined. */
function accountProfileName(policy: GuardPolicy, accountId: string): string | undefined {
  const accounts = policy.assign.accounts;
  return Object.hasOwn(accounts, accountId) ? accounts[accountId] : undefined;
}

/** The profile a VPC follows: its tag, else its account's entry, else the policy default. */
export function resolveProfile(policy: GuardPolicy, accountId: string, vpc: Vpc): ResolvedProfile {
  const defaultName = policy.assign.default;
  const fallback = profileNamed(policy, defaultName);
  if (!fallback) throw new Error(`policy default profile "${defaultName}" is not defined`);
  const tagged = tagValue(vpc.tags, policy.assign.tag);
  if (tagged !== undefined) {
    const profile = profileNamed(policy, tagged);
    if (profile) return { name: tagged, profile, source: 'tag' };
    const accountName = accountProfileName(policy, accountId) ?? defaultName;
    return {
      name: accountName,
      profile: profileNamed(policy, accountName) ?? fallback,
      source: 'unknown-tag',
      problem: `tag ${policy.assign.tag}="${tagged}" names no profile; evaluated as "${accountName}"`,
    };
  }
  const accountName = accountProfileName(policy, accountId);
  if (accountName !== undefined) {
    const profile = profileNamed(policy, accountName);
    if (profile) return { name: accountName, profile, source: 'account' };
  }
  return { name: defaultName, profile: fallback, source: 'default' };
}
