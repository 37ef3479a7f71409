import * as z from 'zod';
import { NetworkSnapshotSchema, SNAPSHOT_SCHEMA_VERSION } from './schema';

/**
 * The schema's `$id`. A URN rather than a URL: the schema is published as a file in the repository
 * (docs/network-snapshot.schema.json), not served from a host of its own.
 */
export const NETWORK_SNAPSHOT_SCHEMA_ID = `urn:vpc-guard:schema:network-snapshot:${SNAPSHOT_SCHEMA_VERSION}`;

/**
 * The JSON Schema (draft 2020-12) of a NetworkSnapshot file entry, derived from
 * {@link NetworkSnapshotSchema} so it cannot disagree with what the loader accepts. It describes the
 * input side: fields with a default are optional. Cross-references (every `vpcId` names a listed VPC,
 * each VPC once) are checked by the loader only; JSON Schema cannot express them.
 */
export function networkSnapshotJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(NetworkSnapshotSchema, {
    io: 'input',
    target: 'draft-2020-12',
  }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: NETWORK_SNAPSHOT_SCHEMA_ID,
    title: `vpc-guard NetworkSnapshot (schemaVersion ${SNAPSHOT_SCHEMA_VERSION})`,
    description:
      'The network of one AWS account in one region at one moment: VPCs, subnets, route tables, NAT and ' +
      'internet gateways, VPC endpoints and their security groups. A snapshot file holds one snapshot ' +
      'or an array of them. Every vpcId must name a VPC listed in "vpcs" (checked by vpc-guard, not by ' +
      'this schema).',
    ...rest,
  };
}

/** The schema as the text of the committed file: two-space JSON with a trailing newline. */
export function networkSnapshotJsonSchemaText(): string {
  return `${JSON.stringify(networkSnapshotJsonSchema(), null, 2)}\n`;
}
