import { describe, expect, it } from 'vitest';
import { isAwsOwnedResource } from '../../../shared/src/endpoint-policy';
import { matchAwsOwnedResource } from '../../../shared/src/endpoint-policy/aws-owned';

describe('isAwsOwnedResource', () => {
  it.each([
    ['arn:aws:s3:::amazonlinux-2-repos-us-east-1/*', 'us-east-1', true],
    ['arn:aws:s3:::amazonlinux-2-repos-us-east-1', 'us-east-1', true],
    ['arn:aws:s3:::al2023-repos-eu-west-1-de612dc2/*', 'eu-west-1', true],
    ['arn:aws:s3:::packages.us-east-1.amazonaws.com/*', 'us-east-1', true],
    ['arn:aws:s3:::prod-ap-southeast-2-starport-layer-bucket/*', 'ap-southeast-2', true],
    ['arn:aws:s3:::aws-ssm-us-east-1/*', 'us-east-1', true],
    ['arn:aws-cn:s3:::amazonlinux-2-repos-cn-north-1/*', 'cn-north-1', true],
    ['arn:aws:ec2:us-east-1::image/*', 'us-east-1', true],
    ['arn:aws:ssm:us-east-1::parameter/aws/service/ami-amazon-linux-latest/*', 'us-east-1', true],
    // A pattern where the region goes names buckets anyone can create ("aws-ssm-exfil").
    ['arn:aws:s3:::amazonlinux-2-repos-*', 'us-east-1', false],
    ['arn:aws:s3:::al2023-repos-*', 'us-east-1', false],
    ['arn:aws:s3:::aws-ssm-*/*', 'us-east-1', false],
    ['arn:aws:ec2:*::image/*', 'us-east-1', false],
    // Only the documented suffix of the Amazon Linux 2023 bucket is AWS's.
    ['arn:aws:s3:::al2023-repos-us-east-1-deadbeef/*', 'us-east-1', false],
    // Another region's bucket, or the wrong partition for the region.
    ['arn:aws:s3:::amazonlinux-2-repos-eu-west-1/*', 'us-east-1', false],
    ['arn:aws:s3:::amazonlinux-2-repos-cn-north-1/*', 'cn-north-1', false],
    ['arn:aws:s3:::amazonlinux-2-repos-us-east-1-evil/*', 'us-east-1', false],
    ['arn:aws:s3:::corp-amazonlinux-2-repos-us-east-1/*', 'us-east-1', false],
    ['arn:aws:s3:::amazonlinux-2-repos-us-east-1*', 'us-east-1', false],
    ['arn:aws:s3:::*', 'us-east-1', false],
    ['arn:aws:ec2:us-east-1:111111111111:instance/*', 'us-east-1', false],
    ['*', 'us-east-1', false],
  ])('says %s in %s is an AWS-owned exception: %s', (resource, region, expected) => {
    // Prepare
    const value = resource;
    // Act
    const owned = isAwsOwnedResource(value, region);
    // Assess
    expect(owned).toBe(expected);
  });

  it("knows another region's documented bucket as AWS-owned but not exempt here", () => {
    // Prepare
    const resource = 'arn:aws:s3:::aws-ssm-eu-west-1/*';
    // Act
    const match = matchAwsOwnedResource(resource, 'us-east-1');
    // Assess
    expect(match).toEqual({ here: false });
  });

  it('exempts only reads of an AWS-owned bucket', () => {
    // Prepare
    const resource = 'arn:aws:s3:::aws-ssm-us-east-1/*';
    // Act
    const match = matchAwsOwnedResource(resource, 'us-east-1');
    // Assess
    expect(match?.here === true ? [...match.reads].sort() : null).toEqual([
      's3:getobject',
      's3:getobjectversion',
      's3:listbucket',
    ]);
  });
});
