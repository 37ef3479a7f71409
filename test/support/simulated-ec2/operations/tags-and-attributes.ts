import type {
  CreateTagsRequest,
  DeleteTagsRequest,
  ModifyVpcAttributeRequest,
} from '@aws-sdk/client-ec2';
import type { Tags } from '@vpc-guard/shared';
import { fault } from '../errors';
import type { RegionState } from '../state';
import { fromWireTags } from '../wire';
import { defineOperation, findOrThrow, required, stopIfDryRun, validateTags } from './context';

interface Taggable {
  tags: Tags;
}

/** Where a resource id lives, by its prefix, and the NotFound code EC2 uses for it. */
const TAGGABLE_RESOURCES: readonly {
  readonly prefix: string;
  readonly records: (state: RegionState) => ReadonlyMap<string, Taggable>;
  readonly notFound: string;
  readonly noun: string;
}[] = [
  {
    prefix: 'vpc-',
    records: (state) => state.vpcs,
    notFound: 'InvalidVpcID.NotFound',
    noun: 'vpc ID',
  },
  {
    prefix: 'subnet-',
    records: (state) => state.subnets,
    notFound: 'InvalidSubnetID.NotFound',
    noun: 'subnet ID',
  },
  {
    prefix: 'rtb-',
    records: (state) => state.routeTables,
    notFound: 'InvalidRouteTableID.NotFound',
    noun: 'routeTable ID',
  },
  {
    prefix: 'nat-',
    records: (state) => state.natGateways,
    notFound: 'InvalidNatGatewayID.NotFound',
    noun: 'natGateway ID',
  },
  {
    prefix: 'igw-',
    records: (state) => state.internetGateways,
    notFound: 'InvalidInternetGatewayID.NotFound',
    noun: 'internetGateway ID',
  },
  {
    prefix: 'eigw-',
    records: (state) => state.egressOnlyInternetGateways,
    notFound: 'InvalidEgressOnlyInternetGatewayId.NotFound',
    noun: 'egress-only internet gateway ID',
  },
  {
    prefix: 'vpce-',
    records: (state) => state.vpcEndpoints,
    notFound: 'InvalidVpcEndpointId.NotFound',
    noun: 'Vpc Endpoint Id',
  },
  {
    prefix: 'sg-',
    records: (state) => state.securityGroups,
    notFound: 'InvalidGroup.NotFound',
    noun: 'security group',
  },
  {
    prefix: 'eipalloc-',
    records: (state) => state.addresses,
    notFound: 'InvalidAllocationID.NotFound',
    noun: 'allocation ID',
  },
];

function taggable(state: RegionState, resourceId: string): Taggable {
  const kind = TAGGABLE_RESOURCES.find((candidate) => resourceId.startsWith(candidate.prefix));
  if (!kind) {
    throw fault('InvalidID', `The ID '${resourceId}' is not valid`);
  }
  return findOrThrow(
    kind.records(state),
    resourceId,
    kind.notFound,
    (id) => `The ${kind.noun} '${id}' does not exist`,
  );
}

const createTags = defineOperation<CreateTagsRequest, object>(true, 'mutate', (context, input) => {
  const resources = required(input.Resources, 'ResourceId').map((id) =>
    taggable(context.state, id),
  );
  const tags = fromWireTags(required(input.Tags, 'Tag'));
  for (const resource of resources) {
    validateTags({ ...resource.tags, ...tags });
  }
  stopIfDryRun(input);
  for (const resource of resources) {
    Object.assign(resource.tags, tags);
  }
  return {};
});

const deleteTags = defineOperation<DeleteTagsRequest, object>(true, 'mutate', (context, input) => {
  const resources = required(input.Resources, 'ResourceId').map((id) =>
    taggable(context.state, id),
  );
  stopIfDryRun(input);
  for (const resource of resources) {
    if (input.Tags === undefined) {
      // Without Tags, EC2 deletes every tag the caller may delete (all but aws: ones).
      for (const key of Object.keys(resource.tags)) {
        if (!key.startsWith('aws:')) {
          delete resource.tags[key];
        }
      }
      continue;
    }
    for (const tag of input.Tags) {
      // With a value, only a tag holding that value goes; without one, the key goes whatever its value.
      if (
        tag.Key !== undefined &&
        (tag.Value === undefined || resource.tags[tag.Key] === tag.Value)
      ) {
        delete resource.tags[tag.Key];
      }
    }
  }
  return {};
});

const modifyVpcAttribute = defineOperation<ModifyVpcAttributeRequest, object>(
  true,
  'mutate',
  (context, input) => {
    const vpc = findOrThrow(
      context.state.vpcs,
      required(input.VpcId, 'VpcId'),
      'InvalidVpcID.NotFound',
      (id) => `The vpc ID '${id}' does not exist`,
    );
    const given = (
      [
        ['enableDnsSupport', input.EnableDnsSupport?.Value],
        ['enableDnsHostnames', input.EnableDnsHostnames?.Value],
        ['enableNetworkAddressUsageMetrics', input.EnableNetworkAddressUsageMetrics?.Value],
      ] as const
    ).filter(([, value]) => value !== undefined);
    if (given.length !== 1) {
      throw fault(
        given.length === 0 ? 'MissingParameter' : 'InvalidParameterCombination',
        'Exactly one VPC attribute may be modified per request.',
      );
    }
    // ModifyVpcAttribute is one of the few EC2 writes without a DryRun parameter.
    const [attribute, value] = given[0]!;
    if (attribute === 'enableDnsSupport') {
      vpc.enableDnsSupport = value === true;
    } else if (attribute === 'enableDnsHostnames') {
      vpc.enableDnsHostnames = value === true;
    }
    return {};
  },
);

export const TAG_AND_ATTRIBUTE_OPERATIONS = {
  CreateTags: createTags,
  DeleteTags: deleteTags,
  ModifyVpcAttribute: modifyVpcAttribute,
};
