import type {
  AllocateAddressRequest,
  AllocateAddressResult,
  CreateNatGatewayRequest,
  CreateNatGatewayResult,
  DeleteNatGatewayRequest,
  DeleteNatGatewayResult,
  ReleaseAddressRequest,
} from '@aws-sdk/client-ec2';
import { fault } from '../errors';
import type { AddressRecord, NatGatewayRecord } from '../state';
import { toWireNatGateway } from '../wire';
import {
  defineOperation,
  findOrThrow,
  notFound,
  rememberClientToken,
  replayedRecord,
  required,
  stopIfDryRun,
  tagsFromSpecifications,
  type OperationContext,
  RESOURCE_KINDS,
} from './context';

function wire(context: OperationContext, nat: NatGatewayRecord) {
  return toWireNatGateway(nat, (subnetId) => context.state.subnets.get(subnetId)?.availabilityZone);
}

/** A private address inside the subnet's CIDR, past the five EC2 reserves. */
function addressInSubnet(cidr: string | undefined, n: number): string {
  const [base = '10.0.0.0', prefix = '24'] = (cidr ?? '10.0.0.0/24').split('/');
  const start = base.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
  const size = 2 ** (32 - Number(prefix));
  const value = start + 4 + (n % Math.max(1, size - 5));
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** Public addresses from the documentation ranges (RFC 5737), so they never look like real ones. */
function documentationAddress(n: number): string {
  const ranges = ['203.0.113', '198.51.100', '192.0.2'];
  return `${ranges[Math.floor(n / 254) % ranges.length]}.${(n % 254) + 1}`;
}

function allocationOf(context: OperationContext, allocationId: string): AddressRecord {
  return findOrThrow(context.state.addresses, allocationId, RESOURCE_KINDS.address);
}

const createNatGateway = defineOperation<CreateNatGatewayRequest, CreateNatGatewayResult>(
  true,
  'nat',
  (context, input) => {
    const { state } = context;
    const subnetId = required(input.SubnetId, 'SubnetId');
    const existing = replayedRecord(context, input, state.natGateways);
    if (existing) {
      return { ClientToken: input.ClientToken, NatGateway: wire(context, existing) };
    }
    const subnet = findOrThrow(state.subnets, subnetId, RESOURCE_KINDS.subnet);
    const connectivityType = input.ConnectivityType ?? 'public';
    const tags = tagsFromSpecifications(input.TagSpecifications, 'natgateway');
    let address: AddressRecord | undefined;
    if (connectivityType === 'public') {
      address = allocationOf(context, required(input.AllocationId, 'AllocationId'));
      if (address.networkInterfaceId !== undefined) {
        throw fault(
          'Resource.AlreadyAssociated',
          `Elastic IP address [${address.allocationId}] is already associated`,
        );
      }
    } else if (input.AllocationId !== undefined) {
      throw fault(
        'InvalidParameterCombination',
        'An Elastic IP address cannot be given for a private NAT gateway.',
      );
    }
    stopIfDryRun(input);

    const natGatewayId = context.ids.next('nat');
    const networkInterfaceId = context.ids.next('eni');
    const privateIp =
      input.PrivateIpAddress ?? addressInSubnet(subnet.cidrBlock, context.ids.nextNumber());
    const nat: NatGatewayRecord = {
      natGatewayId,
      vpcId: subnet.vpcId,
      subnetId,
      state: 'pending',
      connectivityType,
      addresses: [
        {
          allocationId: address?.allocationId,
          publicIp: address?.publicIp,
          privateIp,
          networkInterfaceId,
          isPrimary: true,
        },
      ],
      createTime: context.nowIso(),
      deleteTime: undefined,
      tags,
    };
    state.natGateways.set(natGatewayId, nat);
    if (address) {
      address.natGatewayId = natGatewayId;
      address.networkInterfaceId = networkInterfaceId;
      address.privateIpAddress = privateIp;
    }
    state.schedule(context.delays.natCreation, () => {
      if (nat.state === 'pending') {
        nat.state = 'available';
      }
    });
    rememberClientToken(context, input.ClientToken, input, natGatewayId);
    return { ClientToken: input.ClientToken, NatGateway: wire(context, nat) };
  },
);

const deleteNatGateway = defineOperation<DeleteNatGatewayRequest, DeleteNatGatewayResult>(
  true,
  'nat',
  (context, input) => {
    const { state } = context;
    const natGatewayId = required(input.NatGatewayId, 'NatGatewayId');
    if (!/^nat-[0-9a-f]{8,17}$/.test(natGatewayId)) {
      throw notFound(RESOURCE_KINDS.natGateway, natGatewayId);
    }
    const nat = state.natGateways.get(natGatewayId);
    if (!nat || nat.state === 'deleted') {
      throw fault('NatGatewayNotFound', `The Nat Gateway ${natGatewayId} was not found`);
    }
    stopIfDryRun(input);
    if (nat.state !== 'deleting') {
      nat.state = 'deleting';
      nat.deleteTime = context.nowIso();
      // AWS-FACTS.md: routes that pointed at the NAT stay, as blackholes.
      for (const table of state.routeTables.values()) {
        for (const route of table.routes) {
          if (route.target.type === 'nat' && route.target.id === natGatewayId) {
            route.state = 'blackhole';
          }
        }
      }
      state.schedule(context.delays.natDeletion, () => {
        nat.state = 'deleted';
        // The Elastic IP is disassociated, not released: it stays allocated (and billed).
        for (const address of state.addresses.values()) {
          if (address.natGatewayId === natGatewayId) {
            address.natGatewayId = undefined;
            address.networkInterfaceId = undefined;
            address.privateIpAddress = undefined;
          }
        }
      });
    }
    return { NatGatewayId: natGatewayId };
  },
);

const allocateAddress = defineOperation<AllocateAddressRequest, AllocateAddressResult>(
  true,
  'mutate',
  (context, input) => {
    const { state } = context;
    if (input.Domain !== undefined && input.Domain !== 'vpc') {
      throw fault(
        'InvalidParameterValue',
        `Value (${input.Domain}) for parameter domain is invalid.`,
      );
    }
    const tags = tagsFromSpecifications(input.TagSpecifications, 'elastic-ip');
    stopIfDryRun(input);
    const address: AddressRecord = {
      allocationId: context.ids.next('eipalloc'),
      publicIp: documentationAddress(context.ids.nextNumber()),
      natGatewayId: undefined,
      networkInterfaceId: undefined,
      privateIpAddress: undefined,
      tags,
    };
    state.addresses.set(address.allocationId, address);
    return {
      AllocationId: address.allocationId,
      PublicIp: address.publicIp,
      Domain: 'vpc',
      PublicIpv4Pool: 'amazon',
      NetworkBorderGroup: state.region,
    };
  },
);

const releaseAddress = defineOperation<ReleaseAddressRequest, object>(
  true,
  'mutate',
  (context, input) => {
    const address = allocationOf(context, required(input.AllocationId, 'AllocationId'));
    if (address.natGatewayId !== undefined) {
      // What EC2 answers for an address a NAT gateway (a service-managed interface) still holds.
      throw fault('AuthFailure', 'You do not have permission to access the specified resource.');
    }
    if (address.networkInterfaceId !== undefined) {
      throw fault('InvalidIPAddress.InUse', `Address ${address.publicIp} is in use.`);
    }
    stopIfDryRun(input);
    context.state.addresses.delete(address.allocationId);
    return {};
  },
);

export const NAT_GATEWAY_OPERATIONS = {
  CreateNatGateway: createNatGateway,
  DeleteNatGateway: deleteNatGateway,
  AllocateAddress: allocateAddress,
  ReleaseAddress: releaseAddress,
};
