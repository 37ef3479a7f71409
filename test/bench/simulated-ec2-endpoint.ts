import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as ec2 from '@aws-sdk/client-ec2';
import { XmlShapeSerializer } from '@aws-sdk/core/protocols';
import { NormalizedSchema } from '@smithy/core/schema';
import type { SimulatedAccount } from '../support/simulated-ec2';

/**
 * The simulated EC2 account behind a real HTTP endpoint on 127.0.0.1, speaking EC2's query protocol
 * (form-encoded requests, XML responses) and answering STS `GetCallerIdentity`, so that a `vpc-guard`
 * process started with `AWS_ENDPOINT_URL` pointing here runs its live commands unchanged: its own SDK
 * clients sign, send, retry and parse XML as they would against AWS, whatever way the command is
 * built or bundled. Requests are decoded and responses encoded with the SDK's own EC2 schemas, so the
 * wire format is the one the SDK expects. The endpoint runs in the benchmark's process, never in the
 * measured one: the command's CPU time and memory are its own.
 */

/** A running endpoint. */
export interface SimulatedEc2Endpoint {
  /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL`. */
  readonly url: string;
  /** Requests answered so far (EC2 and STS). */
  readonly requests: () => number;
  close(): Promise<void>;
}

const EC2_XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';

/** A static schema (`ec2.DescribeVpcs$`) as the SDK exports them: operations are `[9, ns, name, traits, input, output]`. */
type StaticSchema = readonly unknown[];

/** The region a request was signed for, from its SigV4 `Authorization` credential scope. */
function signedRegion(request: IncomingMessage): string | undefined {
  const authorization = request.headers.authorization ?? '';
  return /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(authorization)?.[1];
}

type QueryTree = { [key: string]: QueryTree | string };

/** `Filter.1.Value.2=x` pairs -> a tree keyed by the dotted segments. */
function queryTree(params: URLSearchParams): QueryTree {
  const root: QueryTree = {};
  for (const [key, value] of params) {
    const segments = key.split('.');
    let node = root;
    for (const segment of segments.slice(0, -1)) {
      const next = node[segment];
      if (typeof next === 'object') {
        node = next;
      } else {
        const created: QueryTree = {};
        node[segment] = created;
        node = created;
      }
    }
    node[segments[segments.length - 1]!] = value;
  }
  return root;
}

/**
 * The inverse of the SDK's EC2 query serializer (`QueryShapeSerializer` with EC2's settings): a
 * member's key is its `ec2QueryName`, else its capitalized `xmlName` or name; lists are flattened
 * (`Name.1`, `Name.2`).
 */
function decodeQuery(schema: NormalizedSchema, node: QueryTree | string): unknown {
  if (schema.isListSchema()) {
    if (typeof node !== 'object') return [];
    const member = schema.getValueSchema();
    return Object.keys(node)
      .sort((a, b) => Number(a) - Number(b))
      .map((index) => decodeQuery(member, node[index]!));
  }
  if (schema.isStructSchema()) {
    if (typeof node !== 'object') return {};
    const value: Record<string, unknown> = {};
    for (const [name, member] of schema.structIterator()) {
      const traits = member.getMergedTraits();
      const base = traits.xmlName ?? name;
      const key =
        (traits.ec2QueryName as string | undefined) ?? base[0]!.toUpperCase() + base.slice(1);
      const child = node[key];
      if (child !== undefined) value[name] = decodeQuery(member, child);
    }
    return value;
  }
  if (typeof node !== 'string') return undefined;
  if (schema.isBooleanSchema()) return node === 'true';
  if (schema.isNumericSchema()) return Number(node);
  if (schema.isTimestampSchema()) return new Date(node);
  return node;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** An operation's output as EC2 sends it: the result's members under `<XxxResponse>`. */
function encodeOutput(operation: string, outputSchema: StaticSchema, output: object): string {
  const serializer = new XmlShapeSerializer({
    timestampFormat: { useTrait: true, default: 5 },
    httpBindings: false,
    xmlNamespace: EC2_XMLNS,
    serviceNamespace: 'com.amazonaws.ec2',
  });
  serializer.write(outputSchema as never, output);
  const xml = String(serializer.flush());
  // The serializer names the root after the result shape; EC2 names it `<Operation>Response`.
  const inner = xml.slice(xml.indexOf('>') + 1, xml.lastIndexOf('</'));
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${operation}Response xmlns="${EC2_XMLNS}">${inner}</${operation}Response>`;
}

function ec2Error(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>simulated</RequestID></Response>`;
}

function callerIdentity(accountId: string): string {
  return `<GetCallerIdentityResponse xmlns="${STS_XMLNS}"><GetCallerIdentityResult><Arn>arn:aws:iam::${accountId}:user/vpc-guard-bench</Arn><UserId>AIDASIMULATEDBENCH</UserId><Account>${accountId}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>simulated</RequestId></ResponseMetadata></GetCallerIdentityResponse>`;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Serves `account` on 127.0.0.1 (a free port) as account `accountId`. Every EC2 call goes through
 * the account's own client, so its options (latency, throttling, faults) apply.
 */
export async function serveSimulatedAccount(
  account: SimulatedAccount,
  accountId: string,
): Promise<SimulatedEc2Endpoint> {
  // The SDK's Node version notice would come from this process, the simulator's, not the command's.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
  const clients = new Map<string, ec2.EC2Client>();
  const clientFor = (region: string) => {
    let client = clients.get(region);
    if (!client) {
      // One attempt: the caller's own SDK retries, as it would against AWS.
      client = account.client({ accountId, region, maxAttempts: 1 });
      clients.set(region, client);
    }
    return client;
  };
  const operations = ec2 as unknown as Record<string, unknown>;
  let requests = 0;

  const answer = async (request: IncomingMessage, response: ServerResponse) => {
    requests += 1;
    const params = new URLSearchParams(await readBody(request));
    const action = params.get('Action') ?? '';
    const send = (status: number, body: string) => {
      response.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8' });
      response.end(body);
    };
    if (action === 'GetCallerIdentity') {
      send(200, callerIdentity(accountId));
      return;
    }
    const operationSchema = operations[`${action}$`] as StaticSchema | undefined;
    const Command = operations[`${action}Command`] as
      (new (input: unknown) => ec2.DescribeVpcsCommand) | undefined;
    if (!operationSchema || !Command) {
      send(400, ec2Error('InvalidAction', `The action ${action} is not valid for this endpoint.`));
      return;
    }
    const input = decodeQuery(NormalizedSchema.of(operationSchema[4] as never), queryTree(params));
    try {
      const output: Record<string, unknown> = {
        ...(await clientFor(signedRegion(request) ?? 'us-east-1').send(new Command(input))),
      };
      // Response metadata travels in HTTP, not in the body.
      delete output['$metadata'];
      send(200, encodeOutput(action, operationSchema[5] as StaticSchema, output));
    } catch (error) {
      const fault = error as {
        name?: string;
        message?: string;
        $metadata?: { httpStatusCode?: number };
      };
      send(
        fault.$metadata?.httpStatusCode ?? 500,
        ec2Error(fault.name ?? 'InternalError', fault.message ?? String(error)),
      );
    }
  };

  const server = createServer((request, response) => {
    answer(request, response).catch((error: unknown) => {
      response.writeHead(500).end(ec2Error('InternalError', String(error)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: () =>
      new Promise((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
