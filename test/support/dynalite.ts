import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { FINDINGS_TABLE_SCHEMA } from '@vpc-guard/shared';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';

/**
 * A real DynamoDB implementation for tests: dynalite, in this process, on 127.0.0.1 and a port the
 * system picks, with an in-memory store (nothing on disk, nothing left behind). One server per test
 * file (start in `beforeAll`, stop in `afterAll`); each test may create its own table.
 */

/** The part of dynalite's factory the tests use (the package ships no types). */
type DynaliteFactory = (options: {
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
  maxItemSizeKb?: number;
}) => Server;

const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as DynaliteFactory;

/** The region the clients sign for; dynalite ignores it but the SDK needs one. */
export const DYNALITE_REGION = 'us-east-1';

/** A running dynalite server and clients of it. */
export interface Dynalite {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** The low-level client, for writing raw items the store would never write. */
  readonly client: DynamoDBClient;
  /** The document client the store is given, configured as the functions configure theirs. */
  readonly documents: DynamoDBDocumentClient;
  /** Creates a table shaped like the findings table of the stack; resolves once it is ACTIVE. */
  createFindingsTable(tableName: string): Promise<void>;
  /** Closes the clients' sockets and the server. */
  stop(): Promise<void>;
}

/**
 * The findings table as the stack defines it (infra/lib/constructs/guard-service.ts builds it from
 * the same FINDINGS_TABLE_SCHEMA): `pk` as the only key, on-demand billing, the sparse
 * `open-by-scope` index with projection ALL. dynalite has no UpdateTimeToLive: the TTL attribute is
 * written and read like any other, and expiry is asserted on its value.
 */
export function findingsTableDefinition(tableName: string): CreateTableCommandInput {
  const { partitionKey, openFindingsIndex: index } = FINDINGS_TABLE_SCHEMA;
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: partitionKey.name, AttributeType: partitionKey.type },
      { AttributeName: index.partitionKey.name, AttributeType: index.partitionKey.type },
      { AttributeName: index.sortKey.name, AttributeType: index.sortKey.type },
    ],
    KeySchema: [{ AttributeName: partitionKey.name, KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [
      {
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: index.projection },
      },
    ],
  };
}

/** Starts dynalite on 127.0.0.1 on a free port, with clients pointed at it. */
export async function startDynalite(): Promise<Dynalite> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: DYNALITE_REGION,
    // Dummy credentials: nothing from the environment or a profile is read, nothing leaves the host.
    credentials: { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-test-secret' },
    maxAttempts: 1,
  });
  const documents = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });

  return {
    endpoint,
    client,
    documents,
    async createFindingsTable(tableName) {
      await client.send(new CreateTableCommand(findingsTableDefinition(tableName)));
      for (let attempt = 0; attempt < 100; attempt += 1) {
        const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
        if (Table?.TableStatus === 'ACTIVE') return;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      throw new Error(`table ${tableName} did not become ACTIVE`);
    },
    async stop() {
      client.destroy();
      // Keep-alive sockets would hold `close` open until they time out.
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
      });
    },
  };
}
