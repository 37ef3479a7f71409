import { REGION_PATTERN } from './shapes';

/**
 * The regions AWS offers, per partition, so a typo (`us-east-9`) is refused before any call instead of
 * failing late in the SDK. Taken from the AWS SDK for JavaScript's partition data (the `regions` of
 * each partition in `@aws-sdk/core`, 3.98x); pseudo-regions such as `aws-global` are left out.
 *
 * A region AWS opens after this list was taken is accepted once named in the environment variable
 * {@link EXTRA_REGIONS_VARIABLE} (comma-separated), until the list here is updated.
 */

/** The environment variable that adds regions to {@link KNOWN_REGIONS_BY_PARTITION}. */
export const EXTRA_REGIONS_VARIABLE = 'VPC_GUARD_EXTRA_REGIONS';

/** Every region of each partition, as the SDK's partition data lists them. */
export const KNOWN_REGIONS_BY_PARTITION: ReadonlyMap<string, readonly string[]> = new Map([
  [
    'aws',
    [
      'af-south-1',
      'ap-east-1',
      'ap-east-2',
      'ap-northeast-1',
      'ap-northeast-2',
      'ap-northeast-3',
      'ap-south-1',
      'ap-south-2',
      'ap-southeast-1',
      'ap-southeast-2',
      'ap-southeast-3',
      'ap-southeast-4',
      'ap-southeast-5',
      'ap-southeast-6',
      'ap-southeast-7',
      'ca-central-1',
      'ca-west-1',
      'eu-central-1',
      'eu-central-2',
      'eu-north-1',
      'eu-south-1',
      'eu-south-2',
      'eu-west-1',
      'eu-west-2',
      'eu-west-3',
      'il-central-1',
      'me-central-1',
      'me-south-1',
      'me-west-1',
      'mx-central-1',
      'sa-east-1',
      'sa-west-1',
      'us-east-1',
      'us-east-2',
      'us-west-1',
      'us-west-2',
    ],
  ],
  ['aws-cn', ['cn-north-1', 'cn-northwest-1']],
  ['aws-us-gov', ['us-gov-east-1', 'us-gov-west-1']],
  ['aws-iso', ['us-iso-east-1', 'us-iso-west-1']],
  ['aws-iso-b', ['us-isob-east-1', 'us-isob-west-1']],
  ['aws-iso-e', ['eu-isoe-west-1']],
  ['aws-iso-f', ['us-isof-east-1', 'us-isof-south-1']],
]);

const KNOWN_REGIONS: ReadonlySet<string> = new Set([...KNOWN_REGIONS_BY_PARTITION.values()].flat());

/**
 * True when `region` is one AWS offers: on the list above, or named in `extra` (the regions of
 * {@link EXTRA_REGIONS_VARIABLE}) and of the right shape.
 */
export function isKnownRegion(region: string, extra: readonly string[] = []): boolean {
  return KNOWN_REGIONS.has(region) || (REGION_PATTERN.test(region) && extra.includes(region));
}
