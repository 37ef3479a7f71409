import type { OperationDefinition } from './context';
import { DESCRIBE_OPERATIONS } from './describe';
import { NAT_GATEWAY_OPERATIONS } from './nat-gateways';
import { ROUTE_OPERATIONS } from './routes';
import { SECURITY_GROUP_OPERATIONS } from './security-groups';
import { TAG_AND_ATTRIBUTE_OPERATIONS } from './tags-and-attributes';
import { VPC_ENDPOINT_OPERATIONS } from './vpc-endpoints';

/** Every EC2 operation the simulator implements, by operation name (the command name minus `Command`). */
export const OPERATIONS: Readonly<Record<string, OperationDefinition>> = {
  ...DESCRIBE_OPERATIONS,
  ...VPC_ENDPOINT_OPERATIONS,
  ...ROUTE_OPERATIONS,
  ...NAT_GATEWAY_OPERATIONS,
  ...SECURITY_GROUP_OPERATIONS,
  ...TAG_AND_ATTRIBUTE_OPERATIONS,
};
