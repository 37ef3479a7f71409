import type {
  CreateTagsRequest,
  Tag,
  DeleteTagsRequest,
  ModifyVpcAttributeRequest,
} from '@aws-sdk/client-ec2';
import type { Tags } from '@vpc-guard/shared';
import { fault } from '../errors';
import type { RegionState } from '../state';
import { fromWireTags } from '../wire';
import {
  defineOperation,
  findOrThrow,
  required,
  RESOURCE_KINDS,
  stopIfDryRun,
  validateTags,
  type ResourceKind,
} from './context';

interface Taggable {
  tags: Tags;
}

/** Where a resource id lives, by its kind's id prefix. */
const TAGGABLE_RESOURCES: readonly {
  readonly kind: ResourceKind;
  readonly records: (state: RegionState) => ReadonlyMap<string, Taggable>;
}[] = [
  { kind: RESOURCE_KINDS.vpc, records: (state) => state.vpcs },
  { kind: RESOURCE_KINDS.subnet, records: (state) => state.subnets },
  { kind: RESOURCE_KINDS.routeTable, records: (state) => state.routeTables },
  { kind: RESOURCE_KINDS.natGateway, records: (state) => state.natGateways },
  { kind: RESOURCE_KINDS.internetGateway, records: (state) => state.internetGateways },
  {
    kind: RESOURCE_KINDS.egressOnlyInternetGateway,
    records: (state) => state.egressOnlyInternetGateways,
  },
  { kind: RESOURCE_KINDS.vpcEndpoint, records: (state) => state.vpcEndpoints },
  { kind: RESOURCE_KINDS.securityGroup, records: (state) => state.securityGroups },
  { kind: RESOURCE_KINDS.address, records: (state) => state.addresses },
];

function taggable(state: RegionState, resourceId: string): Taggable {
  const resource = TAGGABLE_RESOURCES.find(({ kind }) => resourceId.startsWith(`${kind.prefix}-`));
  if (!resource) {
    throw fault('InvalidID', `The ID '${resourceId}' is not valid`);
  }
  return findOrThrow(resource.records(state), resourceId, resource.kind);
}

/**
 * DeleteTags: without Tags, every tag the caller may delete goes (all but `aws:` ones); a tag with a
 * value goes only while it holds that value, one without goes whatever its value.
 */
function deleteTagsFrom(tags: Tags, requested: readonly Tag[] | undefined): void {
  const doomed =
    requested === undefined
      ? Object.keys(tags).filter((key) => !key.startsWith('aws:'))
      : requested.flatMap(({ Key: key, Value: value }) =>
          key !== undefined && (value === undefined || tags[key] === value) ? [key] : [],
        );
  for (const key of doomed) {
    delete tags[key];
  }
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
    deleteTagsFrom(resource.tags, input.Tags);
  }
  return {};
});

const modifyVpcAttribute = defineOperation<ModifyVpcAttributeRequest, object>(
  true,
  'mutate',
  (context, input) => {
    const vpc = findOrThrow(context.state.vpcs, required(input.VpcId, 'VpcId'), RESOURCE_KINDS.vpc);
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
