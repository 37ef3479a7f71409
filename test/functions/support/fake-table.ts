import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DeleteCommandInput,
  type DynamoDBDocumentClient,
  type PutCommandInput,
  type QueryCommandInput,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { AwsClientStub } from 'aws-sdk-client-mock';

/**
 * The findings table in memory, behind the mocked DynamoDB document client: the queries and
 * conditional writes FindingsStore makes, with DynamoDB's semantics (a failed condition throws
 * ConditionalCheckFailedException). Any other condition is refused loudly, so a change in the store
 * cannot pass the tests by accident.
 */

type Item = Record<string, unknown>;

function conditionFailed(): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: { httpStatusCode: 400 },
  });
}

/** Evaluates the condition expressions FindingsStore writes with. */
function holds(
  expression: string | undefined,
  item: Item | undefined,
  names: Record<string, string> = {},
  values: Record<string, unknown> = {},
): boolean {
  if (expression === undefined) return true;
  const attr = (placeholder: string) => item?.[names[placeholder] ?? placeholder];
  switch (expression) {
    case 'attribute_not_exists(pk) OR #state = :resolved':
      return item === undefined || attr('#state') === values[':resolved'];
    case '#state = :open AND #digest = :digest':
      return (
        item !== undefined &&
        attr('#state') === values[':open'] &&
        attr('#digest') === values[':digest']
      );
    case 'attribute_not_exists(pk) OR #expiresAt < :now':
      return item === undefined || (attr('#expiresAt') as number) < (values[':now'] as number);
    default:
      throw new Error(`FakeFindingsTable: unsupported condition ${JSON.stringify(expression)}`);
  }
}

/** An in-memory findings table wired to a DynamoDBDocumentClient mock. */
export class FakeFindingsTable {
  readonly items = new Map<string, Item>();
  /** Writes that went through (puts, updates, deletes). */
  writes = 0;
  /** Writes refused by their condition. */
  conditionFailures = 0;
  /** Latency added to every call, for benchmarks. */
  latencyMs = 0;
  /** When each call started, for benchmarks. */
  readonly calls: { readonly operation: string; readonly at: number }[] = [];

  constructor(readonly tableName: string) {}

  /** Installs the table's behaviour on the mock (call again after the mock is reset). */
  install(mock: AwsClientStub<DynamoDBDocumentClient>): void {
    mock
      .on(QueryCommand)
      .callsFake((input: QueryCommandInput) => this.delay('query', () => this.query(input)));
    mock
      .on(PutCommand)
      .callsFake((input: PutCommandInput) => this.delay('put', () => this.put(input)));
    mock
      .on(UpdateCommand)
      .callsFake((input: UpdateCommandInput) => this.delay('update', () => this.update(input)));
    mock
      .on(DeleteCommand)
      .callsFake((input: DeleteCommandInput) => this.delay('delete', () => this.delete(input)));
  }

  /** The finding items (not event claims), by key. */
  findings(): Item[] {
    return [...this.items.values()].filter((item) => item['kind'] === 'finding');
  }

  private async delay<T>(operation: string, work: () => T): Promise<T> {
    this.calls.push({ operation, at: Date.now() });
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    return work();
  }

  private query(input: QueryCommandInput) {
    const values = input.ExpressionAttributeValues ?? {};
    if (input.IndexName !== 'open-by-scope')
      throw new Error(`FakeFindingsTable: unexpected index ${input.IndexName}`);
    const items = [...this.items.values()].filter(
      (item) =>
        item['scope'] === values[':scope'] &&
        (values[':vpcId'] === undefined || item['vpcId'] === values[':vpcId']),
    );
    return { Items: structuredClone(items), Count: items.length };
  }

  private put(input: PutCommandInput) {
    const item = input.Item as Item;
    const key = String(item['pk']);
    if (
      !holds(
        input.ConditionExpression,
        this.items.get(key),
        input.ExpressionAttributeNames,
        input.ExpressionAttributeValues,
      )
    ) {
      this.conditionFailures += 1;
      throw conditionFailed();
    }
    this.items.set(key, structuredClone(item));
    this.writes += 1;
    return {};
  }

  private update(input: UpdateCommandInput) {
    const key = String((input.Key as Item)['pk']);
    const current = this.items.get(key);
    const names = input.ExpressionAttributeNames ?? {};
    const values = input.ExpressionAttributeValues ?? {};
    if (!holds(input.ConditionExpression, current, names, values)) {
      this.conditionFailures += 1;
      throw conditionFailed();
    }
    const next: Item = { ...(current ?? { pk: key }) };
    const assignments = (input.UpdateExpression ?? '').replace(/^SET\s+/, '').split(',');
    for (const assignment of assignments) {
      const [name, value] = assignment.split('=').map((part) => part.trim());
      if (!name || !value)
        throw new Error(`FakeFindingsTable: unsupported update ${input.UpdateExpression}`);
      next[names[name] ?? name] = values[value];
    }
    this.items.set(key, next);
    this.writes += 1;
    return {};
  }

  private delete(input: DeleteCommandInput) {
    this.items.delete(String((input.Key as Item)['pk']));
    this.writes += 1;
    return {};
  }
}
