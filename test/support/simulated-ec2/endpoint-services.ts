/** An AWS service that VPC endpoints can reach, as the simulator knows it. */
export interface EndpointServiceDefinition {
  /** Short name (`s3`, `ecr.api`) expanded to `com.amazonaws.<region>.<name>`, or a full service name. */
  readonly name: string;
  /** Endpoint types the service offers. */
  readonly types: readonly ('Interface' | 'Gateway')[];
}

/**
 * Services offered in every simulated region. s3 and dynamodb offer both gateway and interface
 * endpoints; the rest are interface only. Extend with `SimulatedAccountOptions.endpointServices`.
 */
export const DEFAULT_ENDPOINT_SERVICES: readonly EndpointServiceDefinition[] = [
  { name: 's3', types: ['Gateway', 'Interface'] },
  { name: 'dynamodb', types: ['Gateway', 'Interface'] },
  ...[
    'sts',
    'logs',
    'kms',
    'ecr.api',
    'ecr.dkr',
    'secretsmanager',
    'ssm',
    'ssmmessages',
    'ec2messages',
    'ec2',
    'sqs',
    'sns',
    'monitoring',
    'events',
    'lambda',
    'execute-api',
    'states',
    'elasticloadbalancing',
    'autoscaling',
    'ecs',
    'ecs-agent',
    'ecs-telemetry',
    'kinesis-streams',
    'elasticfilesystem',
    'glue',
    'athena',
    'xray',
    'codebuild',
    'codeartifact.api',
    'codeartifact.repositories',
    'cloudformation',
    'config',
    'rds',
    'ebs',
    'backup',
    'sagemaker.api',
    'sagemaker.runtime',
  ].map((name) => ({ name, types: ['Interface'] as const })),
];

/** The endpoint types a service offers, by full service name. */
export type EndpointServiceCatalog = ReadonlyMap<string, readonly ('Interface' | 'Gateway')[]>;

/** Expands the definitions into full service names for one region. */
export function endpointServiceCatalog(
  region: string,
  definitions: readonly EndpointServiceDefinition[],
): EndpointServiceCatalog {
  const catalog = new Map<string, readonly ('Interface' | 'Gateway')[]>();
  for (const definition of definitions) {
    const fullName = definition.name.startsWith('com.amazonaws.')
      ? definition.name
      : `com.amazonaws.${region}.${definition.name}`;
    catalog.set(fullName, definition.types);
  }
  return catalog;
}

/** The DNS name private DNS claims for a service: `sts.us-east-1.amazonaws.com`. */
export function privateDnsNameOf(serviceName: string, region: string): string {
  const prefix = `com.amazonaws.${region}.`;
  const short = serviceName.startsWith(prefix) ? serviceName.slice(prefix.length) : serviceName;
  return `${short}.${region}.amazonaws.com`;
}
