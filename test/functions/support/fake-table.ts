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
  const attr = (path: string) =>
    path
      .split('.')
      .reduce<unknown>(
        (node, part) =>
          node !== null && typeof node === 'object'
            ? (node as Item)[names[part] ?? part]
            : undefined,
        item,
      );
  const sameAlert = item !== undefined && attr('#pendingAlert.#id') === values[':id'];
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
    case '#pendingAlert.#id = :id AND (attribute_not_exists(#alertLeaseUntil) OR #alertLeaseUntil < :now)': {
      const lease = attr('#alertLeaseUntil');
      return sameAlert && (lease === undefined || (lease as number) < (values[':now'] as number));
    }
    case '#pendingAlert.#id = :id AND #alertLeaseUntil = :leaseUntil':
      return sameAlert && attr('#alertLeaseUntil') === values[':leaseUntil'];
    case '#pendingAlert.#id = :id':
      return sameAlert;
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
    const name = (placeholder: string) => names[placeholder] ?? placeholder;
    // The clauses the store writes: SET a = :v, ...; REMOVE a, ...; DELETE a :set (String Sets).
    const clauses = [
      ...(input.UpdateExpression ?? '').matchAll(
        /\b(SET|REMOVE|DELETE)\s+(.*?)(?=\s+\b(?:SET|REMOVE|DELETE)\b|$)/g,
      ),
    ];
    if (clauses.length === 0)
      throw new Error(`FakeFindingsTable: unsupported update ${input.UpdateExpression}`);
    for (const [, action, body] of clauses) {
      for (const part of body!.split(',').map((text) => text.trim())) {
        if (action === 'SET') {
          const [target, value] = part.split('=').map((text) => text.trim());
          if (!target || !value) throw new Error(`FakeFindingsTable: unsupported SET ${part}`);
          next[name(target)] = values[value];
        } else if (action === 'REMOVE') {
          delete next[name(part)];
        } else {
          const [target, value] = part.split(/\s+/);
          const set = next[name(target!)] ?? new Set();
          const removed = values[value!];
          if (!(set instanceof Set) || !(removed instanceof Set))
            throw new Error(`FakeFindingsTable: DELETE needs String Sets: ${part}`);
          const left = new Set([...set].filter((entry) => !removed.has(entry)));
          // DynamoDB removes a set that becomes empty.
          if (left.size === 0) delete next[name(target!)];
          else next[name(target!)] = left;
        }
      }
    }
    this.items.set(key, next);
    this.writes += 1;
    return input.ReturnValues === 'ALL_NEW' ? { Attributes: structuredClone(next) } : {};
  }

  private delete(input: DeleteCommandInput) {
    this.items.delete(String((input.Key as Item)['pk']));
    this.writes += 1;
    return {};
  }
}
