import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  networkSnapshotJsonSchema,
  networkSnapshotJsonSchemaText,
} from '../../../shared/src/snapshot/json-schema';

const root = new URL('../../../', import.meta.url);

interface ObjectSchema {
  required?: string[];
  properties: Record<string, { items?: ObjectSchema }>;
}

describe('networkSnapshotJsonSchema', () => {
  it('matches the committed docs/network-snapshot.schema.json (run `npm run schema` after a schema change)', async () => {
    // Prepare
    const committed = await readFile(new URL('docs/network-snapshot.schema.json', root), 'utf8');

    // Act
    const generated = networkSnapshotJsonSchemaText();

    // Assess
    expect(committed).toBe(generated);
  });

  it('describes the input side as draft 2020-12, with an id and a title', () => {
    // Act
    const schema = networkSnapshotJsonSchema();

    // Assess
    expect(schema).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $id: 'urn:vpc-guard:schema:network-snapshot:1',
      type: 'object',
      required: ['schemaVersion', 'accountId', 'region', 'collectedAt'],
    });
    expect(schema.title).toContain('NetworkSnapshot');
  });

  it('lists required fields that every snapshot of the demo estate has', async () => {
    // Prepare
    const schema = networkSnapshotJsonSchema() as unknown as ObjectSchema;
    const demo = JSON.parse(
      await readFile(new URL('examples/demo-account.json', root), 'utf8'),
    ) as Record<string, unknown>[];
    const collections = ['vpcs', 'subnets', 'routeTables', 'natGateways', 'vpcEndpoints'] as const;

    // Act
    const missing: string[] = [];
    demo.forEach((snapshot, index) => {
      for (const field of schema.required ?? []) {
        if (!(field in snapshot)) missing.push(`[${index}].${field}`);
      }
      for (const collection of collections) {
        const itemSchema = schema.properties[collection]?.items;
        const items = (snapshot[collection] ?? []) as Record<string, unknown>[];
        items.forEach((item, itemIndex) => {
          for (const field of itemSchema?.required ?? []) {
            if (!(field in item)) missing.push(`[${index}].${collection}[${itemIndex}].${field}`);
          }
        });
      }
    });

    // Assess
    expect(demo.length).toBeGreaterThan(0);
    expect(schema.properties.vpcEndpoints?.items?.required).toContain('vpcEndpointId');
    expect(missing).toEqual([]);
  });
});
