import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterEach, describe, expect, it } from 'vitest';
import { Sha256 } from '../../cli/admin-client';
import {
  AwsDeadlineError,
  AwsJsonClient,
  type AwsJsonClientOptions,
  AwsNetworkError,
  AwsServiceError,
  type AwsTransport,
  MIN_ATTEMPT_MS,
} from '../../shared/aws/aws-json-client';
import { signPost } from '../../shared/aws/sigv4';
import {
  awsJsonConnections,
  awsJsonEnvironment,
  credentialsFromEnvironment,
  parseEnvironment,
} from '../../shared/config';
import { Deadline, withDeadline } from '../../shared/deadline';
import { DependencyError } from '../../shared/errors';
import { sqsJsonApi } from '../../shared/queue/sqs-api';
import { SqsQueue } from '../../shared/queue/sqs-queue';
import { getSecretValueJson, SecretsManagerReader } from '../../shared/secrets/secrets-manager-reader';

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const AT = new Date('2026-11-22T10:11:12.345Z');

describe('SigV4 signing of JSON-protocol requests', () => {
  it('gives the signature the SDK signer gives, with and without a session token', async () => {
    for (const sessionToken of [undefined, 'FwoGZXIvYXdzEXAMPLETOKEN']) {
      const given = { ...credentials, ...(sessionToken ? { sessionToken } : {}) };
      const url = new URL('https://dynamodb.eu-west-1.amazonaws.com/');
      const body = JSON.stringify({ TableName: 't', Key: { pk: { S: 'INT#acme' }, sk: { S: 'META' } } });
      const headers = {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.GetItem',
      };
      const ours = signPost({ url, headers, body }, given, 'eu-west-1', 'dynamodb', AT);

      const sdk = await new SignatureV4({
        service: 'dynamodb',
        region: 'eu-west-1',
        credentials: given,
        sha256: Sha256,
        applyChecksum: false,
      }).sign(
        {
          method: 'POST',
          protocol: 'https:',
          hostname: url.hostname,
          path: '/',
          headers: { ...headers, host: url.host },
          body,
        },
        { signingDate: AT },
      );
      expect(ours.authorization).toBe(sdk.headers.authorization);
      expect(ours['x-amz-date']).toBe('20261122T101112Z');
      expect(ours['x-amz-security-token']).toBe(sessionToken);
    }
  });
});

/** A transport answering from a script, one answer (or fault) per attempt. */
function scripted(answers: Array<{ status: number; body: unknown } | Error>) {
  const seen: Array<{ target: string; body: string; authorization: string }> = [];
  const transport: AwsTransport = async (request) => {
    seen.push({
      target: request.headers['x-amz-target'] ?? '',
      body: request.body,
      authorization: request.headers.authorization ?? '',
    });
    const answer = answers.shift();
    if (!answer) throw new Error('no more answers');
    if (answer instanceof Error) throw answer;
    return {
      status: answer.status,
      body: typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body),
    };
  };
  return { transport, seen };
}

function client(transport: AwsTransport, extra: Partial<AwsJsonClientOptions> = {}) {
  const waits: number[] = [];
  const json = new AwsJsonClient({
    service: 'dynamodb',
    targetPrefix: 'DynamoDB_20120810',
    jsonVersion: '1.0',
    region: 'us-east-1',
    credentials,
    transport,
    sleep: async (ms) => {
      waits.push(ms);
    },
    random: () => 0.5,
    ...extra,
  });
  return { json, waits };
}

const throttled = {
  status: 400,
  body: {
    __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
    message: 'slow down',
  },
};

describe('AwsJsonClient', () => {
  it('sends the operation as X-Amz-Target and parses the answer', async () => {
    const { transport, seen } = scripted([{ status: 200, body: { Item: { pk: { S: 'x' } } } }]);
    const { json } = client(transport);
    expect(await json.call('GetItem', { TableName: 't' })).toEqual({ Item: { pk: { S: 'x' } } });
    expect(seen).toEqual([
      {
        target: 'DynamoDB_20120810.GetItem',
        body: '{"TableName":"t"}',
        authorization: expect.stringMatching(
          /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/dynamodb\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=[0-9a-f]{64}$/,
        ),
      },
    ]);
  });

  it('retries throttling, 5xx and network faults with growing jittered waits, up to 3 attempts', async () => {
    const { transport, seen } = scripted([
      throttled,
      { status: 503, body: '<html>busy</html>' },
      { status: 200, body: {} },
    ]);
    const { json, waits } = client(transport);
    expect(await json.call('PutItem', {})).toEqual({});
    expect(seen).toHaveLength(3);
    expect(waits).toEqual([50, 100]);

    const down = scripted([new Error('ECONNRESET'), new Error('ECONNRESET'), new Error('ECONNRESET')]);
    const error = await client(down.transport)
      .json.call('PutItem', {})
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AwsNetworkError);
    expect(down.seen).toHaveLength(3);
  });

  it('gives up after the last attempt with the service error, its code as name', async () => {
    const { transport } = scripted([throttled, throttled, throttled]);
    const error = await client(transport)
      .json.call('PutItem', {})
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AwsServiceError);
    expect(error).toMatchObject({
      name: 'ProvisionedThroughputExceededException',
      message: 'slow down',
      status: 400,
      attempts: 3,
    });
  });

  it('does not retry a client error, and keeps the error document (a failed condition carries the item)', async () => {
    const { transport, seen } = scripted([
      {
        status: 400,
        body: {
          __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
          message: 'The conditional request failed',
          Item: { status: { S: 'received' } },
        },
      },
    ]);
    const error = await client(transport)
      .json.call('PutItem', {})
      .catch((caught: unknown) => caught);
    expect(seen).toHaveLength(1);
    expect(error).toMatchObject({
      name: 'ConditionalCheckFailedException',
      details: { Item: { status: { S: 'received' } } },
    });
  });

  it('reads region, endpoint and credentials from the environment as Lambda sets them', async () => {
    const env: Record<string, string> = {
      AWS_REGION: 'eu-central-1',
      AWS_ACCESS_KEY_ID: 'ASIAENV',
      AWS_SECRET_ACCESS_KEY: 'env-secret',
      AWS_SESSION_TOKEN: 'env-token',
    };
    const urls: string[] = [];
    const headers: Array<Record<string, string>> = [];
    const json = new AwsJsonClient({
      ...connectionsFrom(env).sqs,
      service: 'sqs',
      targetPrefix: 'AmazonSQS',
      jsonVersion: '1.0',
      transport: async (request) => {
        urls.push(request.url.href);
        headers.push(request.headers);
        return { status: 200, body: '{}' };
      },
    });
    await json.call('SendMessage', {});
    expect(urls).toEqual(['https://sqs.eu-central-1.amazonaws.com/']);
    expect(headers[0]?.authorization).toContain('Credential=ASIAENV/');
    expect(headers[0]?.['x-amz-security-token']).toBe('env-token');

    // Read again for every request, as Lambda's variables were read before they moved to config.
    env.AWS_ACCESS_KEY_ID = 'ASIANEXT';
    delete env.AWS_SESSION_TOKEN;
    await json.call('SendMessage', {});
    expect(headers[1]?.authorization).toContain('Credential=ASIANEXT/');
    expect(headers[1]).not.toHaveProperty('x-amz-security-token');
  });
});

/** Each service's connection as a function's config.ts builds it from `env`. */
function connectionsFrom(env: Record<string, string>) {
  return awsJsonConnections(parseEnvironment(awsJsonEnvironment({}), env), () =>
    credentialsFromEnvironment(env),
  );
}

/** A transport that never answers, recording each attempt's timeout and whether it was aborted. */
function hanging() {
  const attempts: Array<{ timeoutMs: number | undefined; aborted: () => boolean }> = [];
  const transport: AwsTransport = (request) => {
    attempts.push({ timeoutMs: request.timeoutMs, aborted: () => request.signal?.aborted ?? false });
    return new Promise(() => undefined);
  };
  return { transport, attempts };
}

describe('AwsJsonClient inside a deadline', () => {
  it('cuts a hung attempt to what is left of the budget and gives up without retrying', async () => {
    const { transport, attempts } = hanging();
    const { json, waits } = client(transport, { timeoutMs: 5_000 });
    const started = Date.now();

    const error = await withDeadline(Deadline.in(300), () => json.call('PutItem', {})).catch(
      (e: unknown) => e,
    );

    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(AwsNetworkError);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]?.timeoutMs).toBeLessThanOrEqual(300);
    expect(attempts[0]?.aborted()).toBe(true);
    expect(waits).toEqual([]);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(450);
  });

  it('enforces the per-attempt limit on a transport that ignores it, retrying while retries fit', async () => {
    const { transport, attempts } = hanging();
    const { json, waits } = client(transport, { timeoutMs: 150, random: () => 0 });

    const error = await withDeadline(Deadline.in(2_000), () => json.call('GetItem', {})).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(AwsNetworkError);
    expect(attempts.map((attempt) => attempt.timeoutMs)).toEqual([150, 150, 150]);
    expect(waits).toEqual([0, 0]);
  });

  it('does not retry when the backoff and a minimal attempt no longer fit', async () => {
    const { transport, seen } = scripted([throttled, { status: 200, body: {} }]);
    // random() = 1: the first backoff is the full 100 ms, and 100 + MIN_ATTEMPT_MS > 150.
    const { json, waits } = client(transport, { random: () => 1 });

    const error = await withDeadline(Deadline.in(150), () => json.call('GetItem', {})).catch(
      (e: unknown) => e,
    );

    expect(error).toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    expect(seen).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it('sends nothing and throws AwsDeadlineError at once when the budget is spent', async () => {
    const { transport, seen } = scripted([{ status: 200, body: {} }]);
    const { json } = client(transport);
    const started = Date.now();

    const error = await withDeadline(Deadline.in(MIN_ATTEMPT_MS - 1), () => json.call('GetItem', {})).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(AwsDeadlineError);
    expect(error).toBeInstanceOf(AwsNetworkError);
    expect(seen).toEqual([]);
    expect(Date.now() - started).toBeLessThan(50);
  });

  it('turns a spent budget into a DependencyError in the adapters', async () => {
    const { transport } = hanging();
    const queue = new SqsQueue(sqsJsonApi({ region: 'us-east-1', credentials, transport }), 'https://q');

    const error = await withDeadline(Deadline.in(0), () =>
      queue.send({ body: '{}', groupId: 'g', deduplicationId: 'd' }),
    ).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DependencyError);
    expect((error as Error).cause).toBeInstanceOf(AwsDeadlineError);
  });
});

describe('AwsJsonClient endpoints', () => {
  async function urlOf(service: 'dynamodb' | 'sqs' | 'secretsmanager', env: Record<string, string>) {
    const urls: string[] = [];
    const json = new AwsJsonClient({
      ...connectionsFrom({ AWS_REGION: 'us-east-1', ...env })[service],
      service,
      targetPrefix: 'x',
      jsonVersion: '1.0',
      credentials,
      transport: async (request) => {
        urls.push(request.url.href);
        return { status: 200, body: '{}' };
      },
    });
    await json.call('Op', {});
    return urls[0] ?? '';
  }

  it('reads each service’s endpoint from the variable the AWS SDK reads, then AWS_ENDPOINT_URL', async () => {
    const env: Record<string, string> = {
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4000',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:4001',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:4003',
      // Not the SDK's name: ignored.
      AWS_ENDPOINT_URL_SECRETSMANAGER: 'http://127.0.0.1:4999',
    };
    expect(await urlOf('dynamodb', env)).toBe('http://127.0.0.1:4001/');
    expect(await urlOf('sqs', env)).toBe('http://127.0.0.1:4000/');
    expect(await urlOf('secretsmanager', env)).toBe('http://127.0.0.1:4003/');
    env.AWS_ENDPOINT_URL_SQS = 'http://127.0.0.1:4002';
    expect(await urlOf('sqs', env)).toBe('http://127.0.0.1:4002/');
  });
});

describe('AwsJsonClient over HTTP', () => {
  let server: Server | undefined;

  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
    const started = createServer(handler);
    server = started;
    await new Promise<void>((resolve) => started.listen(0, '127.0.0.1', () => resolve()));
    return `http://127.0.0.1:${(started.address() as AddressInfo).port}`;
  }

  it('sends SQS messages and reads Secrets Manager secrets through the adapters', async () => {
    const received: Array<{ target: string | undefined; type: string | undefined; body: unknown }> = [];
    const endpoint = await serve((request, response) => {
      let text = '';
      request.on('data', (chunk) => {
        text += chunk;
      });
      request.on('end', () => {
        const body = JSON.parse(text);
        received.push({
          target: request.headers['x-amz-target'] as string,
          type: request.headers['content-type'],
          body,
        });
        if (body.SecretId === 'missing') {
          response
            .writeHead(400)
            .end(JSON.stringify({ __type: 'ResourceNotFoundException', Message: 'gone' }));
        } else if (body.SecretId) {
          response.end(JSON.stringify({ SecretString: 'value' }));
        } else {
          response.end(JSON.stringify({ MessageId: 'm-1' }));
        }
      });
    });
    const options = { endpoint, region: 'us-east-1', credentials };
    const queue = new SqsQueue(sqsJsonApi(options), 'https://sqs.example/q.fifo');
    await queue.send({ body: '{"a":1}', groupId: 'g', deduplicationId: 'd' });
    const secrets = new SecretsManagerReader(getSecretValueJson(options));
    expect(await secrets.get('hookgate/x')).toBe('value');
    expect(await secrets.get('missing')).toBeUndefined();
    expect(received).toEqual([
      {
        target: 'AmazonSQS.SendMessage',
        type: 'application/x-amz-json-1.0',
        body: {
          QueueUrl: 'https://sqs.example/q.fifo',
          MessageBody: '{"a":1}',
          MessageGroupId: 'g',
          MessageDeduplicationId: 'd',
        },
      },
      {
        target: 'secretsmanager.GetSecretValue',
        type: 'application/x-amz-json-1.1',
        body: { SecretId: 'hookgate/x' },
      },
      {
        target: 'secretsmanager.GetSecretValue',
        type: 'application/x-amz-json-1.1',
        body: { SecretId: 'missing' },
      },
    ]);
  });

  it('times out a request that gets no answer, and the queue reports it as a DependencyError', async () => {
    const endpoint = await serve(() => {
      // Never answers.
    });
    const queue = new SqsQueue(
      sqsJsonApi({
        endpoint,
        region: 'us-east-1',
        credentials,
        timeoutMs: 50,
        maxAttempts: 2,
        sleep: async () => {},
      }),
      'q',
    );
    const error = await queue
      .send({ body: '{}', groupId: 'g', deduplicationId: 'd' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DependencyError);
    expect((error as Error).cause).toBeInstanceOf(AwsNetworkError);
    expect(((error as Error).cause as Error).message).toMatch(/no answer within 50 ms/);
    server?.closeAllConnections();
  });
});
