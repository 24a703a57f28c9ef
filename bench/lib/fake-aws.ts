import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { AwsTransport } from '../../shared/aws/aws-json-client';
import { TABLE_KEYS } from '../../shared/store/table';
import {
  failedWriteUsage,
  getUsage,
  NO_UNITS,
  queryUsage,
  TABLE_INDEXES,
  type Units,
  writeUsage,
} from './capacity';

/** A DynamoDB attribute value as the JSON protocol carries it (binary as base64 text). */
export type Attr = {
  S?: string;
  N?: string;
  B?: string;
  BOOL?: boolean;
  NULL?: boolean;
  L?: Attr[];
  M?: Record<string, Attr>;
};
export type Item = Record<string, Attr>;

export interface FakeReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface SentMessage {
  queueUrl: string;
  body: string;
  groupId?: string;
  deduplicationId?: string;
}

/** One call the fake answered, with what AWS would bill for it. */
export interface MeteredCall {
  /** `DynamoDB`, `SQS` or `SecretsManager`. */
  service: string;
  operation: string;
  status: number;
  /** The error type of a refused call (`ConditionalCheckFailedException`, …). */
  error?: string;
  /** DynamoDB request units (lib/capacity.ts); none for the other services. */
  units: Units;
  /** SQS requests billed: one per started 64 KB of the message; 0 for the other services. */
  sqsRequests: number;
}

/** SQS bills each 64 KB chunk of a payload as one request. */
export const SQS_CHUNK_BYTES = 64 * 1024;

const SERVICE_NAMES: Record<string, string> = {
  DynamoDB_20120810: 'DynamoDB',
  AmazonSQS: 'SQS',
  secretsmanager: 'SecretsManager',
};

const JSON_1_0 = 'application/x-amz-json-1.0';
const JSON_1_1 = 'application/x-amz-json-1.1';
const DYNAMO_ERRORS = 'com.amazonaws.dynamodb.v20120810#';

class FakeError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
    /** More of the error document (the current `Item` of a failed condition, when asked for). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/**
 * Just enough of DynamoDB, SQS and Secrets Manager, over their JSON protocols, for the webhook,
 * processor and admin handlers to run without a network: one table with the real key schema
 * (items, conditional writes, SET updates, key-condition queries on the table and its indexes,
 * BatchGetItem),
 * SendMessage (with the MD5 the SDK checks) and GetSecretValue. An expression it does not
 * understand is answered with a ValidationException, so a gap shows instead of passing silently.
 */
export class FakeAws {
  /** Items by partition key, then sort key. */
  readonly partitions = new Map<string, Map<string, Item>>();
  readonly secrets = new Map<string, string>();
  readonly messages: SentMessage[] = [];
  /** Calls per `X-Amz-Target`. */
  readonly calls = new Map<string, number>();
  /** Keep each sent message (tests); a long benchmark only counts them. */
  keepMessages = true;
  sentCount = 0;
  /** Told of every call answered, with its billed units (the bench's call accounting). */
  meter?: (call: MeteredCall) => void;
  /** Units of the call being answered, set by the operation that knows the items. */
  private units: Units = NO_UNITS;
  private sqsRequests = 0;

  /** Answers one request: `target` is the `X-Amz-Target` header, `body` the JSON request. */
  answer(target: string, body: string): FakeReply {
    this.calls.set(target, (this.calls.get(target) ?? 0) + 1);
    const [service = '', operation = ''] = target.split('.');
    const json = service === 'secretsmanager' ? JSON_1_1 : JSON_1_0;
    this.units = NO_UNITS;
    this.sqsRequests = 0;
    let reply: FakeReply;
    let errorType: string | undefined;
    try {
      const input = JSON.parse(body || '{}') as Record<string, unknown>;
      const output = this.dispatch(service, operation, input);
      reply = { status: 200, headers: this.headers(json), body: JSON.stringify(output) };
    } catch (error) {
      const fault = error instanceof FakeError ? error : new FakeError('InternalFailure', String(error), 500);
      const type = service.startsWith('DynamoDB') ? `${DYNAMO_ERRORS}${fault.type}` : fault.type;
      errorType = fault.type;
      reply = {
        status: fault.status,
        headers: { ...this.headers(json), 'x-amzn-errortype': fault.type },
        body: JSON.stringify({ __type: type, message: fault.message, ...fault.extra }),
      };
    }
    this.meter?.({
      service: SERVICE_NAMES[service] ?? service,
      operation,
      status: reply.status,
      ...(errorType ? { error: errorType } : {}),
      units: this.units,
      sqsRequests: this.sqsRequests,
    });
    return reply;
  }

  private headers(contentType: string): Record<string, string> {
    return { 'content-type': contentType, 'x-amzn-requestid': randomUUID() };
  }

  private dispatch(service: string, operation: string, input: Record<string, unknown>): unknown {
    if (service === 'DynamoDB_20120810') return this.dynamo(operation, input);
    if (service === 'AmazonSQS' && operation === 'SendMessage') return this.sendMessage(input);
    if (service === 'secretsmanager' && operation === 'GetSecretValue') return this.getSecret(input);
    throw new FakeError('UnknownOperationException', `the fake does not implement ${service}.${operation}`);
  }

  private dynamo(operation: string, input: Record<string, unknown>): unknown {
    const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
    const values = (input.ExpressionAttributeValues ?? {}) as Item;
    const condition = input.ConditionExpression as string | undefined;
    switch (operation) {
      case 'GetItem': {
        const item = this.getItem(input.Key as Item);
        this.units = getUsage(item, input.ConsistentRead === true);
        return item ? { Item: item } : {};
      }
      case 'PutItem': {
        const item = input.Item as Item;
        const existing = this.getItem(item);
        this.units = failedWriteUsage(existing);
        this.check(condition, existing, names, values, input.ReturnValuesOnConditionCheckFailure);
        this.units = writeUsage(existing, item);
        this.putItem(item);
        return {};
      }
      case 'UpdateItem': {
        const keyItem = input.Key as Item;
        const existing = this.getItem(keyItem);
        this.units = failedWriteUsage(existing);
        this.check(condition, existing, names, values);
        const item: Item = { ...(existing ?? keyItem) };
        applySet(item, input.UpdateExpression as string, names, values);
        this.units = writeUsage(existing, item);
        this.putItem(item);
        return {};
      }
      case 'DeleteItem': {
        const [pk, sk] = keyOf(input.Key as Item);
        const existing = this.partitions.get(pk)?.get(sk);
        this.units = failedWriteUsage(existing);
        this.check(condition, existing, names, values);
        this.units = writeUsage(existing, undefined);
        this.partitions.get(pk)?.delete(sk);
        return {};
      }
      case 'BatchGetItem': {
        // Each key is read as a GetItem of its own (and billed so), found or not.
        const requests = (input.RequestItems ?? {}) as Record<
          string,
          { Keys?: Item[]; ConsistentRead?: boolean }
        >;
        const responses: Record<string, Item[]> = {};
        let read = 0;
        for (const [table, request] of Object.entries(requests)) {
          const found: Item[] = [];
          for (const key of request.Keys ?? []) {
            const item = this.getItem(key);
            read += getUsage(item, request.ConsistentRead === true).read;
            if (item) found.push(item);
          }
          responses[table] = found;
        }
        this.units = { read, write: 0, indexWrites: {} };
        return { Responses: responses, UnprocessedKeys: {} };
      }
      case 'Query': {
        const items = this.query(input, names, values);
        const index = TABLE_INDEXES.find((candidate) => candidate.name === input.IndexName);
        this.units = queryUsage(items, input.ConsistentRead === true, index);
        return { Items: items, Count: 0 };
      }
      default:
        throw new FakeError('UnknownOperationException', `the fake has no DynamoDB ${operation}`);
    }
  }

  /** The item with `key`'s pk and sk, if stored. */
  getItem(key: Item): Item | undefined {
    const [pk, sk] = keyOf(key);
    return this.partitions.get(pk)?.get(sk);
  }

  putItem(item: Item): void {
    const [pk, sk] = keyOf(item);
    let partition = this.partitions.get(pk);
    if (!partition) {
      partition = new Map();
      this.partitions.set(pk, partition);
    }
    partition.set(sk, item);
  }

  /** Every stored item. */
  *allItems(): IterableIterator<Item> {
    for (const partition of this.partitions.values()) yield* partition.values();
  }

  private check(
    condition: string | undefined,
    item: Item | undefined,
    names: Record<string, string>,
    values: Item,
    returnOnFailure?: unknown,
  ) {
    if (condition && !evaluateCondition(condition, item, names, values)) {
      const extra = returnOnFailure === 'ALL_OLD' && item ? { Item: item } : {};
      throw new FakeError('ConditionalCheckFailedException', 'The conditional request failed', 400, extra);
    }
  }

  private query(input: Record<string, unknown>, names: Record<string, string>, values: Item): Item[] {
    const index = TABLE_KEYS.indexes.find((candidate) => candidate.name === input.IndexName);
    if (input.IndexName && !index) throw new FakeError('ValidationException', `no index ${input.IndexName}`);
    const sortKey = index ? index.sortKey : TABLE_KEYS.sortKey;
    const terms = (input.KeyConditionExpression as string).split(/\s+AND\s+/i);
    // A query of the table reads one partition; an index query scans (only the admin API makes one).
    const pk = index ? undefined : values[/^\S+\s*=\s*(:\w+)/.exec(terms[0] ?? '')?.[1] ?? '']?.S;
    const candidates =
      pk === undefined ? [...this.allItems()] : [...(this.partitions.get(pk)?.values() ?? [])];
    const matches = candidates.filter((item) =>
      terms.every((term) => evaluateTerm(term, item, names, values)),
    );
    matches.sort((a, b) => (a[sortKey]?.S ?? '').localeCompare(b[sortKey]?.S ?? ''));
    if (input.ScanIndexForward === false) matches.reverse();
    // No pagination: every match in one page (the handlers read partitions of a few items).
    return matches;
  }

  private sendMessage(input: Record<string, unknown>): unknown {
    const body = String(input.MessageBody ?? '');
    this.sentCount += 1;
    this.sqsRequests = Math.max(1, Math.ceil(Buffer.byteLength(body) / SQS_CHUNK_BYTES));
    if (this.keepMessages) {
      this.messages.push({
        queueUrl: String(input.QueueUrl),
        body,
        ...(input.MessageGroupId ? { groupId: String(input.MessageGroupId) } : {}),
        ...(input.MessageDeduplicationId ? { deduplicationId: String(input.MessageDeduplicationId) } : {}),
      });
    }
    return {
      MessageId: randomUUID(),
      MD5OfMessageBody: createHash('md5').update(body).digest('hex'),
      SequenceNumber: String(this.sentCount).padStart(20, '0'),
    };
  }

  private getSecret(input: Record<string, unknown>): unknown {
    const id = String(input.SecretId);
    const value = this.secrets.get(id);
    if (value === undefined) {
      throw new FakeError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    }
    return {
      ARN: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${id}-AbCdEf`,
      Name: id,
      SecretString: value,
      VersionId: '00000000-0000-0000-0000-000000000001',
      VersionStages: ['AWSCURRENT'],
      CreatedDate: 1_700_000_000,
    };
  }
}

function keyOf(item: Item): [string, string] {
  const pk = item[TABLE_KEYS.partitionKey]?.S;
  const sk = item[TABLE_KEYS.sortKey]?.S;
  if (pk === undefined || sk === undefined)
    throw new FakeError('ValidationException', 'key is missing pk or sk');
  return [pk, sk];
}

/** `A OR B AND C …` without parentheses: OR of ANDs, as the handlers write them. */
export function evaluateCondition(
  expression: string,
  item: Item | undefined,
  names: Record<string, string>,
  values: Item,
): boolean {
  return expression
    .split(/\s+OR\s+/i)
    .some((conjunction) =>
      conjunction.split(/\s+AND\s+/i).every((term) => evaluateTerm(term, item, names, values)),
    );
}

function evaluateTerm(
  term: string,
  item: Item | undefined,
  names: Record<string, string>,
  values: Item,
): boolean {
  const text = term.trim();
  const call =
    /^(attribute_exists|attribute_not_exists|begins_with)\(\s*([^,\s)]+)\s*(?:,\s*([^)\s]+)\s*)?\)$/.exec(
      text,
    );
  if (call) {
    const [, fn, path = '', operand] = call;
    const attr = item?.[nameOf(path, names)];
    if (fn === 'attribute_exists') return attr !== undefined;
    if (fn === 'attribute_not_exists') return attr === undefined;
    const prefix = operand ? operandOf(operand, item, names, values)?.S : undefined;
    return attr?.S !== undefined && prefix !== undefined && attr.S.startsWith(prefix);
  }
  const comparison = /^(\S+)\s*(=|<>|<=|>=|<|>)\s*(\S+)$/.exec(text);
  if (!comparison) throw new FakeError('ValidationException', `the fake cannot evaluate "${text}"`);
  const [, left = '', op = '', right = ''] = comparison;
  const a = operandOf(left, item, names, values);
  const b = operandOf(right, item, names, values);
  if (!a || !b) return false;
  const x = a.N !== undefined ? Number(a.N) : (a.S ?? (a.BOOL === undefined ? undefined : String(a.BOOL)));
  const y = b.N !== undefined ? Number(b.N) : (b.S ?? (b.BOOL === undefined ? undefined : String(b.BOOL)));
  if (x === undefined || y === undefined) return false;
  switch (op) {
    case '=':
      return x === y;
    case '<>':
      return x !== y;
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    default:
      return x >= y;
  }
}

function nameOf(path: string, names: Record<string, string>): string {
  if (!path.startsWith('#')) return path;
  const name = names[path];
  if (name === undefined)
    throw new FakeError('ValidationException', `no ExpressionAttributeNames entry ${path}`);
  return name;
}

function operandOf(
  token: string,
  item: Item | undefined,
  names: Record<string, string>,
  values: Item,
): Attr | undefined {
  if (!/^[#:]?[A-Za-z_]\w*$/.test(token)) {
    throw new FakeError('ValidationException', `the fake cannot evaluate the operand "${token}"`);
  }
  if (token.startsWith(':')) {
    const value = values[token];
    if (!value) throw new FakeError('ValidationException', `no ExpressionAttributeValues entry ${token}`);
    return value;
  }
  return item?.[nameOf(token, names)];
}

/** Applies `SET a = :v, b = #c, d = if_not_exists(#d, :v)` to `item`. */
function applySet(item: Item, expression: string, names: Record<string, string>, values: Item): void {
  const match = /^\s*SET\s+(.*)$/is.exec(expression ?? '');
  if (!match?.[1])
    throw new FakeError('ValidationException', `the fake supports SET updates only: ${expression}`);
  const before = { ...item };
  for (const clause of splitTopLevel(match[1])) {
    const [left = '', right = ''] = clause.split(/=(.*)/s).map((part) => part.trim());
    const target = nameOf(left, names);
    const ifNotExists = /^if_not_exists\(\s*([^,\s]+)\s*,\s*([^)\s]+)\s*\)$/.exec(right);
    const value = ifNotExists
      ? (before[nameOf(ifNotExists[1] ?? '', names)] ??
        operandOf(ifNotExists[2] ?? '', before, names, values))
      : operandOf(right, before, names, values);
    if (value) item[target] = value;
  }
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '(') depth += 1;
    else if (char === ')') depth -= 1;
    else if (char === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((part) => part.trim()).filter(Boolean);
}

/** The SDK's view of an HTTP request: what a request handler is given. */
interface SdkHttpRequest {
  headers: Record<string, string>;
  body?: unknown;
}

/** The body of an SDK request as text (the JSON protocols send strings). */
export function requestText(body: unknown): string {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  // The SDK's JSON bodies are Uint8Array subclasses whose string methods warn: read the bytes.
  if (body instanceof Uint8Array)
    return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  throw new TypeError('the fake takes string or byte request bodies only');
}

/** An SDK response for a fake reply; the body is a stream, as from a socket. */
export function sdkResponse(reply: FakeReply) {
  return {
    response: {
      statusCode: reply.status,
      reason: '',
      headers: reply.headers,
      body: Readable.from([Buffer.from(reply.body)]),
    },
  };
}

/**
 * A `requestHandler` for SDK clients that answers from `fake` in-process: the whole SDK
 * middleware stack (serialisation, signing, retries, parsing) runs; only the socket is skipped.
 */
export function fakeRequestHandler(fake: FakeAws) {
  return {
    metadata: { handlerProtocol: 'http/1.1' },
    async handle(request: SdkHttpRequest) {
      return sdkResponse(fake.answer(targetOf(request.headers), requestText(request.body)));
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
    destroy() {},
  };
}

/**
 * An AwsJsonClient transport that answers from `fake` in-process: signing, serialisation,
 * retries and parsing run; only the socket is skipped.
 */
export function fakeTransport(fake: FakeAws): AwsTransport {
  return async (request) => {
    const reply = fake.answer(targetOf(request.headers), request.body);
    return { status: reply.status, body: reply.body };
  };
}

export function targetOf(headers: Record<string, string | string[] | undefined>): string {
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === 'x-amz-target') return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
  }
  return '';
}

/** Serves `fake` on a loopback port, for processes that reach it through `AWS_ENDPOINT_URL`. */
export async function startFakeAwsServer(fake: FakeAws): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const reply = fake.answer(targetOf(request.headers), Buffer.concat(chunks).toString('utf8'));
      response.writeHead(reply.status, reply.headers);
      response.end(reply.body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
