import { createHash, randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';
import { httpApiEvent, sqsEvent } from '../../../local/lambda-events';
import { MOTO_REGION, type MotoServer, startMoto } from '../../support/moto-server';
import {
  applyAwsEnvironment,
  FunctionError,
  FunctionTimeoutError,
  type LoadedFunction,
  loadFunction,
  runtimeEnvironment,
} from './lambda';
import {
  type CreatedResources,
  createTemplateResources,
  MOTO_ACCOUNT,
  type MotoClients,
  motoClients,
} from './resources';
import { type SynthesizedStack, synthesizeStack } from './synth';
import {
  type TemplateEventSource,
  type TemplateFunction,
  type TemplateRoute,
  templateEventSources,
  templateFunctions,
  templateRoutes,
} from './template';

/** The stage the tier synthesizes; its queues are `hookgate-aws-tier-*.fifo`. */
export const AWS_TIER_STAGE = 'aws-tier';

/** Who signs admin requests unless a test says otherwise (API Gateway passes the caller's ARN). */
export const ADMIN_PRINCIPAL = `arn:aws:iam::${MOTO_ACCOUNT}:user/hookgate-admin`;

export interface StartAwsStackOptions {
  /** Default AWS_TIER_STAGE. */
  stage?: string;
  /**
   * Where the functions send their AWS calls (`AWS_ENDPOINT_URL`), given moto's endpoint: a fault
   * proxy in front of moto, say. Resources are always created on moto directly. Note that queue
   * URLs name moto's host, as moto builds them from the request that created the queue.
   */
  functionEndpoint?: (motoEndpoint: string) => string | Promise<string>;
}

/** An HTTP request as a client sends it to the HTTP API. */
export interface HttpRequest {
  method: string;
  /** Path and query, e.g. `/webhooks/acme`. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /**
   * For an `AWS_IAM` route: the caller's ARN API Gateway passes to the function (default
   * ADMIN_PRINCIPAL), or false for an unsigned request, which API Gateway refuses with 403.
   */
  iamPrincipal?: string | false;
}

/** What the HTTP API answers. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
  /** When the function failed or timed out (API Gateway answers 500 then), the error. */
  functionError?: FunctionError | FunctionTimeoutError;
}

/** One round of an SQS event source: a batch received, the function's verdict, what was deleted. */
export interface PollResult {
  records: SQSEvent['Records'];
  /** Message ids the function reported failed, or every id when it threw or timed out. */
  failed: string[];
  error?: FunctionError | FunctionTimeoutError;
}

/** A message read from a queue, with its system attributes. */
export interface QueueMessageRead {
  messageId: string;
  body: string;
  attributes: Record<string, string>;
}

/**
 * A stack's resources and functions as the tests drive them: the HTTP API's routes, the SQS event
 * sources, the queues and the table. `startAwsStack` wires one to resources it creates from the
 * template; `test/aws/support/deployed-stack.ts` wires one to a stack `cdk deploy` put into moto.
 */
export interface StackHandle {
  stage: string;
  /** Clients for moto itself, for what a test reads or arranges beside the functions. */
  clients: MotoClients;
  /** The bundled functions by name (`webhook`, `processor`, `admin`, ...). */
  functions: Record<string, LoadedFunction>;
  routes: TemplateRoute[];
  eventSources: TemplateEventSource[];
  /** The table's physical name (the template defines one table). */
  tableName: string;
  /** Queues by short name (`deliveries`, `triggers`, `deliveries-dlq`, ...): URL and ARN. */
  queues: Record<string, StackQueue>;
  /** Sends a request to the HTTP API: the route is matched and its function invoked as API Gateway does. */
  request(request: HttpRequest): Promise<HttpResponse>;
  /** An IAM-signed admin call: `admin('POST', 'integrations', {...})` for `POST /admin/integrations`. */
  admin(method: string, path: string, body?: unknown): Promise<HttpResponse>;
  /**
   * Acts once as the SQS event source of `functionName` (default: the stack's only one): receives
   * up to its batch size, invokes the function, deletes what it did not report failed. Failed
   * messages stay, for SQS to redeliver after the visibility timeout, or at once with
   * `redeliverFailedNow` (ChangeMessageVisibility 0). Resolves undefined when the queue was empty.
   */
  pollOnce(options?: {
    functionName?: string;
    redeliverFailedNow?: boolean;
  }): Promise<PollResult | undefined>;
  /** `pollOnce` until the queue gives nothing (at most `maxBatches`, default 20). */
  drain(options?: {
    functionName?: string;
    redeliverFailedNow?: boolean;
    maxBatches?: number;
  }): Promise<PollResult[]>;
  /**
   * Reads what is visible on a queue (by short name), as a consumer would, at most `max`
   * (default 100); deletes what it read unless `keep`.
   */
  receiveAll(queue: string, options?: { max?: number; keep?: boolean }): Promise<QueueMessageRead[]>;
}

/** A queue of a stack: its URL (`Ref`), ARN and logical id. */
export interface StackQueue {
  url: string;
  arn: string;
  logicalId: string;
}

export interface AwsStack extends StackHandle {
  moto: MotoServer;
  synthesized: SynthesizedStack;
  /** Forgets everything in moto and re-creates the template's resources under the same names. */
  reset(): Promise<void>;
  /** Stops moto and restores the environment. */
  stop(): Promise<void>;
}

/**
 * Starts moto, synthesizes the app (cached per state of the sources), creates the template's
 * table and queues in moto, and imports every bundled function with the environment the template
 * gives it, resolved to those resources. One per test file: `beforeAll(() => startAwsStack())`,
 * with a hook timeout of a minute or two (a first synthesis takes about 15 s).
 */
export async function startAwsStack(options: StartAwsStackOptions = {}): Promise<AwsStack> {
  const stage = options.stage ?? AWS_TIER_STAGE;
  const synthesized = await synthesizeStack(stage);
  const moto = await startMoto();
  let restoreEnv = () => {};
  try {
    const clients = motoClients(moto.endpoint);
    const endpoint = options.functionEndpoint ? await options.functionEndpoint(moto.endpoint) : moto.endpoint;
    restoreEnv = applyAwsEnvironment(runtimeEnvironment(endpoint));
    const { template, outDir, stackName } = synthesized;
    const definitions = templateFunctions(template, outDir);
    const routes = templateRoutes(template, definitions);
    const eventSources = templateEventSources(template, definitions);
    let created = await createTemplateResources(template, stackName, clients);
    const names = created.names;

    const instance = randomUUID();
    const functions: Record<string, LoadedFunction> = {};
    for (const definition of definitions) {
      const environment = resolveEnvironment(definition, created);
      const physicalName = created.byLogicalId.get(definition.logicalId)?.ref ?? definition.logicalId;
      functions[definition.name] = await loadFunction(definition, physicalName, environment, instance);
    }

    const tables = [...created.byLogicalId.values()].filter((r) => r.type === 'AWS::DynamoDB::Table');
    if (tables.length !== 1)
      throw new Error(`the template defines ${tables.length} tables; the harness expects one`);
    const queues: Record<string, StackQueue> = {};
    for (const [logicalId, resource] of created.byLogicalId) {
      if (resource.type !== 'AWS::SQS::Queue') continue;
      const short = (resource.attributes.QueueName as string)
        .replace(`hookgate-${stage}-`, '')
        .replace(/\.fifo$/, '');
      queues[short] = { url: resource.ref, arn: resource.attributes.Arn as string, logicalId };
    }

    const handle = wireStack({
      stage,
      clients,
      functions,
      routes,
      eventSources,
      tableName: tables[0]?.ref as string,
      queues,
    });
    const stack: AwsStack = {
      ...handle,
      moto,
      synthesized,
      async reset() {
        await moto.reset();
        created = await createTemplateResources(template, stackName, clients, names);
      },
      async stop() {
        restoreEnv();
        clients.dynamo.destroy();
        clients.sqs.destroy();
        clients.secrets.destroy();
        await moto.stop();
      },
    };
    return stack;
  } catch (error) {
    restoreEnv();
    await moto.stop();
    throw error;
  }
}

/** The parts of a stack the tests drive, as `wireStack` takes them. */
export type StackParts = Pick<
  StackHandle,
  'stage' | 'clients' | 'functions' | 'routes' | 'eventSources' | 'tableName' | 'queues'
>;

/**
 * A handle on a stack's parts: HTTP requests routed to its functions as API Gateway would, and
 * its SQS event sources played as Lambda's poller would, on its queues.
 */
export function wireStack(parts: StackParts): StackHandle {
  const { clients, functions, routes, eventSources, queues } = parts;
  const fn = (name: string): LoadedFunction => {
    const found = functions[name];
    if (!found) throw new Error(`the stack has no function "${name}" (it has ${Object.keys(functions)})`);
    return found;
  };
  const queueOf = (short: string) => {
    const found = queues[short];
    if (!found) throw new Error(`the stack has no queue "${short}" (it has ${Object.keys(queues)})`);
    return found;
  };
  const eventSourceOf = (functionName?: string): TemplateEventSource => {
    const matching = eventSources.filter((source) => !functionName || source.functionName === functionName);
    if (matching.length !== 1) {
      throw new Error(
        `${matching.length} SQS event sources match ${functionName ?? 'any function'}; name one`,
      );
    }
    return matching[0] as TemplateEventSource;
  };

  const request = async (req: HttpRequest): Promise<HttpResponse> => {
    const url = new URL(req.path, 'https://api.local');
    const matched = matchRoute(routes, req.method, url.pathname);
    if (!matched) return apiResponse(404, { message: 'Not Found' });
    if (matched.route.authorizationType === 'AWS_IAM' && req.iamPrincipal === false) {
      return apiResponse(403, { message: 'Forbidden' });
    }
    const body = req.body === undefined ? Buffer.alloc(0) : Buffer.from(req.body);
    const event = httpApiEvent(
      {
        method: req.method,
        url: `${url.pathname}${url.search}`,
        headers: {
          host: 'api.local',
          'content-length': String(body.length),
          ...lowerCased(req.headers ?? {}),
        },
        body,
        sourceIp: '203.0.113.10',
      },
      { routeKey: matched.route.routeKey, pathParameters: matched.pathParameters },
    );
    event.requestContext.accountId = MOTO_ACCOUNT;
    if (matched.route.authorizationType === 'AWS_IAM')
      withIamAuthorizer(event, req.iamPrincipal || ADMIN_PRINCIPAL);
    try {
      return fromLambdaResult(await fn(matched.route.functionName).invoke(event));
    } catch (error) {
      if (error instanceof FunctionError || error instanceof FunctionTimeoutError) {
        // API Gateway's answer to a function error or timeout of a Lambda proxy integration.
        return { ...apiResponse(500, { message: 'Internal Server Error' }), functionError: error };
      }
      throw error;
    }
  };

  const pollOnce: StackHandle['pollOnce'] = async (pollOptions = {}) => {
    const source = eventSourceOf(pollOptions.functionName);
    const queue = [...Object.values(queues)].find((q) => q.logicalId === source.queueLogicalId);
    if (!queue) throw new Error(`no queue ${source.queueLogicalId}`);
    const received = await clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.url,
        MaxNumberOfMessages: Math.min(source.batchSize, 10),
        WaitTimeSeconds: 0,
        AttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = received.Messages ?? [];
    if (!messages.length) return undefined;
    const event = lambdaSqsEvent(queue.arn, messages);
    const all = event.Records.map((record) => record.messageId);
    let failed: string[] = all;
    let error: PollResult['error'];
    try {
      const result = (await fn(source.functionName).invoke(event)) as {
        batchItemFailures?: Array<{ itemIdentifier: string }>;
      } | null;
      // Without ReportBatchItemFailures a returned batch counts as a success of every record.
      failed = source.reportBatchItemFailures
        ? (result?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier)
        : [];
    } catch (caught) {
      if (!(caught instanceof FunctionError || caught instanceof FunctionTimeoutError)) throw caught;
      error = caught;
    }
    const handles = new Map(messages.map((m) => [m.MessageId as string, m.ReceiptHandle as string]));
    const done = all.filter((id) => !failed.includes(id));
    if (done.length) {
      const deleted = await clients.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queue.url,
          Entries: done.map((id, index) => ({ Id: `m${index}`, ReceiptHandle: handles.get(id) })),
        }),
      );
      if (deleted.Failed?.length) throw new Error(`could not delete: ${JSON.stringify(deleted.Failed)}`);
    }
    if (pollOptions.redeliverFailedNow) {
      for (const id of failed) {
        await clients.sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queue.url,
            ReceiptHandle: handles.get(id),
            VisibilityTimeout: 0,
          }),
        );
      }
    }
    return { records: event.Records, failed, ...(error ? { error } : {}) };
  };

  return {
    ...parts,
    request,
    admin: (method, path, body) =>
      request({
        method,
        path: `/admin/${path.replace(/^\/+/, '')}`,
        ...(body === undefined
          ? {}
          : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      }),
    pollOnce,
    async drain(drainOptions = {}) {
      const results: PollResult[] = [];
      for (let batch = 0; batch < (drainOptions.maxBatches ?? 20); batch++) {
        const result = await pollOnce(drainOptions);
        if (!result) break;
        results.push(result);
      }
      return results;
    },
    async receiveAll(short, readOptions = {}) {
      const queue = queueOf(short);
      const max = readOptions.max ?? 100;
      const read: QueueMessageRead[] = [];
      // Bounded: at most one round per message wanted, and a round that gives nothing ends it.
      for (let round = 0; round < max && read.length < max; round++) {
        const { Messages = [] } = await clients.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queue.url,
            MaxNumberOfMessages: Math.min(10, max - read.length),
            WaitTimeSeconds: 0,
            AttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
          }),
        );
        if (!Messages.length) break;
        for (const message of Messages) {
          read.push({
            messageId: message.MessageId as string,
            body: message.Body ?? '',
            attributes: { ...(message.Attributes ?? {}) } as Record<string, string>,
          });
        }
        if (!readOptions.keep) {
          await clients.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queue.url,
              Entries: Messages.map((m, index) => ({ Id: `m${index}`, ReceiptHandle: m.ReceiptHandle })),
            }),
          );
        }
      }
      return read;
    },
  };
}

/** A function's `Environment.Variables` with its Refs and GetAtts resolved to moto's resources. */
function resolveEnvironment(definition: TemplateFunction, created: CreatedResources): Record<string, string> {
  const resolved = created.resolve(definition.environment) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(resolved).map(([name, value]) => [name, String(value)]));
}

/** Matches a path to a route key: `{name}` is one segment, `{name+}` the rest of the path. */
function matchRoute(
  routes: readonly TemplateRoute[],
  method: string,
  path: string,
): { route: TemplateRoute; pathParameters: Record<string, string> } | undefined {
  for (const route of routes) {
    const [routeMethod, routePath] = route.routeKey.split(' ') as [string, string];
    if (routeMethod !== 'ANY' && routeMethod !== method.toUpperCase()) continue;
    const names: string[] = [];
    const pattern = routePath
      .replace(/[.*?^$()|[\]\\]/g, '\\$&')
      .replace(/\{(\w+)(\+?)\}/g, (_, name: string, greedy: string) => {
        names.push(name);
        return greedy ? '(.+)' : '([^/]+)';
      });
    const match = new RegExp(`^${pattern}$`).exec(path);
    if (!match) continue;
    const pathParameters: Record<string, string> = {};
    names.forEach((name, index) => {
      const raw = match[index + 1] as string;
      try {
        pathParameters[name] = decodeURIComponent(raw);
      } catch {
        pathParameters[name] = raw;
      }
    });
    return { route, pathParameters };
  }
  return undefined;
}

function withIamAuthorizer(event: APIGatewayProxyEventV2, principal: string): void {
  const requestContext = event.requestContext as APIGatewayProxyEventV2['requestContext'] & {
    authorizer?: unknown;
  };
  requestContext.authorizer = {
    iam: {
      accessKey: 'AKIAADMINTESTKEY0001',
      accountId: MOTO_ACCOUNT,
      callerId: 'AIDAADMINTESTCALLER1',
      cognitoIdentity: null,
      principalOrgId: null,
      userArn: principal,
      userId: 'AIDAADMINTESTCALLER1',
    },
  };
}

/** Records as Lambda's SQS event source builds them from a ReceiveMessage answer. */
function lambdaSqsEvent(queueArn: string, messages: readonly Message[]): SQSEvent {
  const queueName = queueArn.split(':').pop() as string;
  const event = sqsEvent(
    queueName,
    messages.map((message) => ({
      messageId: message.MessageId as string,
      body: message.Body ?? '',
      groupId: message.Attributes?.MessageGroupId ?? '',
      deduplicationId: message.Attributes?.MessageDeduplicationId ?? '',
      receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1),
      sentAt: Number(message.Attributes?.SentTimestamp ?? Date.now()),
    })),
  );
  event.Records.forEach((record, index) => {
    const message = messages[index] as Message;
    record.receiptHandle = message.ReceiptHandle as string;
    record.eventSourceARN = queueArn;
    record.awsRegion = MOTO_REGION;
    record.md5OfBody = message.MD5OfBody ?? createHash('md5').update(record.body).digest('hex');
    Object.assign(record.attributes, message.Attributes ?? {});
  });
  return event;
}

function fromLambdaResult(result: unknown): HttpResponse {
  // Payload format 2.0: a result without statusCode is a 200 with the result as its JSON body.
  if (!result || typeof result !== 'object' || !('statusCode' in result)) {
    return apiResponse(200, result);
  }
  const structured = result as {
    statusCode: number;
    headers?: Record<string, string>;
    body?: string;
    isBase64Encoded?: boolean;
  };
  const body = structured.isBase64Encoded
    ? Buffer.from(structured.body ?? '', 'base64').toString('utf8')
    : (structured.body ?? '');
  return {
    status: structured.statusCode,
    headers: lowerCased(structured.headers ?? {}),
    body,
    json: parseJson(body),
  };
}

function apiResponse(status: number, value: unknown): HttpResponse {
  const body = typeof value === 'string' ? value : JSON.stringify(value);
  return { status, headers: { 'content-type': 'application/json' }, body, json: parseJson(body) };
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

function lowerCased(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}
