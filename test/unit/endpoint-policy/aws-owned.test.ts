import { describe, expect, it } from 'vitest';
import { isAwsOwnedResource } from '../../../shared/src/endpoint-policy';

describe('isAwsOwnedResource', () => {
  it.each([
    ['arn:aws:s3:::amazonlinux-2-repos-*', true],
    ['arn:aws:s3:::amazonlinux-2-repos-us-east-1/*', true],
    ['arn:aws:s3:::al2023-repos-*', true],
    ['arn:aws:s3:::al2023-repos-eu-west-1-de612dc2/*', true],
    ['arn:aws:s3:::packages.us-east-1.amazonaws.com/*', true],
    ['arn:aws:s3:::prod-ap-southeast-2-starport-layer-bucket/*', true],
    ['arn:aws-cn:s3:::amazonlinux-2-repos-cn-north-1/*', true],
    ['arn:aws:ec2:*::image/*', true],
    ['arn:aws:ssm:us-east-1::parameter/aws/service/ami-amazon-linux-latest/*', true],
    ['arn:aws:s3:::amazonlinux-2-repos-us-east-1-evil/*', false],
    ['arn:aws:s3:::corp-amazonlinux-2-repos-us-east-1/*', false],
    ['arn:aws:s3:::*', false],
    ['arn:aws:ec2:us-east-1:111111111111:instance/*', false],
    ['*', false],
  ])('says %s is AWS-owned: %s', (resource, expected) => {
    // Prepare
    const value = resource;
    // Act
    const owned = isAwsOwnedResource(value);
    // Assess
    expect(owned).toBe(expected);
  });
});
