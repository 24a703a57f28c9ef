import { afterEach, describe, expect, it, vi } from 'vitest';

const CONFIGS = {
  webhook: () => import('../../functions/webhook/config'),
  processor: () => import('../../functions/processor/config'),
  admin: () => import('../../functions/admin/config'),
  sweeper: () => import('../../functions/sweeper/config'),
};

/** Every variable a config reads, so the machine's own environment never leaks into a case. */
const VARIABLES = [
  'TABLE_NAME',
  'STAGE',
  'DELIVERIES_QUEUE_URL',
  'TRIGGERS_QUEUE_URL',
  'INTEGRATION_CACHE_SECONDS',
  'SECRET_CACHE_SECONDS',
  'WEBHOOK_BASE_URL',
  'ROTATION_GRACE_HOURS',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_ENDPOINT_URL_SQS',
  'AWS_ENDPOINT_URL_SECRETS_MANAGER',
  'POWERTOOLS_LOG_LEVEL',
  'LOG_LEVEL',
];

const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/hookgate-deliveries.fifo';

/** Loads a function's config.ts afresh, as a cold start does, in exactly this environment. */
async function coldStart<K extends keyof typeof CONFIGS>(
  name: K,
  env: Record<string, string>,
): Promise<Awaited<ReturnType<(typeof CONFIGS)[K]>>['config']> {
  vi.resetModules();
  for (const variable of VARIABLES) vi.stubEnv(variable, undefined);
  for (const [variable, value] of Object.entries(env)) vi.stubEnv(variable, value);
  const module = (await CONFIGS[name]()) as Awaited<ReturnType<(typeof CONFIGS)[K]>>;
  return module.config;
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('the webhook config', () => {
  const stack = { TABLE_NAME: 'hookgate-table', DELIVERIES_QUEUE_URL: QUEUE, AWS_REGION: 'eu-west-1' };

  it('takes what the stack sets, and caches integrations 30 s and secrets 300 s by default', async () => {
    expect(await coldStart('webhook', stack)).toEqual({
      tableName: 'hookgate-table',
      deliveriesQueueUrl: QUEUE,
      integrationCacheMs: 30_000,
      secretCacheMs: 300_000,
      aws: {
        dynamodb: { region: 'eu-west-1', endpoint: undefined, credentials: expect.any(Function) },
        sqs: { region: 'eu-west-1', endpoint: undefined, credentials: expect.any(Function) },
        secretsmanager: { region: 'eu-west-1', endpoint: undefined, credentials: expect.any(Function) },
      },
    });
  });

  it('connects each service where the SDK would: its own endpoint variable, then AWS_ENDPOINT_URL', async () => {
    const { aws } = await coldStart('webhook', {
      TABLE_NAME: 't',
      DELIVERIES_QUEUE_URL: QUEUE,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4000',
      AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:4002',
    });
    expect(aws.dynamodb).toMatchObject({ region: 'us-east-1', endpoint: 'http://127.0.0.1:4000' });
    expect(aws.sqs).toMatchObject({ region: 'us-east-1', endpoint: 'http://127.0.0.1:4002' });
  });

  it('reads the credentials Lambda sets when a request is signed, not at the cold start', async () => {
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
      vi.stubEnv(name, undefined);
    }
    const { aws } = await coldStart('webhook', stack);
    const read = aws.sqs.credentials as () => unknown;
    expect(read).toThrow('no AWS credentials');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'ASIALATER');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'later-secret');
    vi.stubEnv('AWS_SESSION_TOKEN', 'later-token');
    expect(read()).toEqual({
      accessKeyId: 'ASIALATER',
      secretAccessKey: 'later-secret',
      sessionToken: 'later-token',
    });
  });

  it('fails the cold start without a region, or with an endpoint that is not a URL', async () => {
    const { AWS_REGION: _, ...withoutRegion } = stack;
    await expect(coldStart('webhook', withoutRegion)).rejects.toThrow(
      'invalid environment: AWS_REGION is not set (nor AWS_DEFAULT_REGION)',
    );
    await expect(
      coldStart('webhook', { ...stack, AWS_ENDPOINT_URL_DYNAMODB: 'localhost:4566' }),
    ).rejects.toThrow('AWS_ENDPOINT_URL_DYNAMODB must be an http or https URL (got "localhost:4566")');
  });

  it('takes cache times in seconds, 0 turning a cache off; an empty value is the default', async () => {
    const config = await coldStart('webhook', {
      ...stack,
      INTEGRATION_CACHE_SECONDS: '0',
      SECRET_CACHE_SECONDS: '1.5',
    });
    expect(config).toMatchObject({ integrationCacheMs: 0, secretCacheMs: 1_500 });
    expect(await coldStart('webhook', { ...stack, INTEGRATION_CACHE_SECONDS: '' })).toMatchObject({
      integrationCacheMs: 30_000,
    });
  });

  it('fails the cold start on a cache time that is not a number, naming the variable and the value', async () => {
    await expect(coldStart('webhook', { ...stack, INTEGRATION_CACHE_SECONDS: '30s' })).rejects.toThrow(
      'INTEGRATION_CACHE_SECONDS must be a number of seconds, 0 or more (got "30s")',
    );
    await expect(coldStart('webhook', { ...stack, SECRET_CACHE_SECONDS: '-5' })).rejects.toThrow(
      /SECRET_CACHE_SECONDS must be a number of seconds, 0 or more \(got "-5"\)/,
    );
  });

  it('names every missing variable at once', async () => {
    await expect(coldStart('webhook', {})).rejects.toThrow(
      'invalid environment: TABLE_NAME is not set; DELIVERIES_QUEUE_URL is not set; AWS_REGION is not set (nor AWS_DEFAULT_REGION)',
    );
    await expect(coldStart('webhook', { ...stack, TABLE_NAME: '' })).rejects.toThrow('TABLE_NAME is not set');
  });
});

describe('the processor config', () => {
  it('takes the table and the triggers queue, failing when either is missing', async () => {
    const triggers = 'https://sqs.eu-west-1.amazonaws.com/123456789012/hookgate-triggers.fifo';
    expect(await coldStart('processor', { TABLE_NAME: 't', TRIGGERS_QUEUE_URL: triggers })).toEqual({
      tableName: 't',
      triggersQueueUrl: triggers,
    });
    await expect(coldStart('processor', { TABLE_NAME: 't' })).rejects.toThrow(
      'invalid environment: TRIGGERS_QUEUE_URL is not set',
    );
  });
});

describe('the sweeper config', () => {
  it('takes the table and the deliveries queue, failing when either is missing', async () => {
    const region = { AWS_REGION: 'eu-west-1' };
    expect(
      await coldStart('sweeper', { TABLE_NAME: 't', DELIVERIES_QUEUE_URL: QUEUE, ...region }),
    ).toMatchObject({
      tableName: 't',
      deliveriesQueueUrl: QUEUE,
      aws: { dynamodb: { region: 'eu-west-1' }, sqs: { region: 'eu-west-1' } },
    });
    await expect(coldStart('sweeper', { DELIVERIES_QUEUE_URL: QUEUE, ...region })).rejects.toThrow(
      'invalid environment: TABLE_NAME is not set',
    );
  });
});

describe('the admin config', () => {
  const stack = {
    TABLE_NAME: 'hookgate-table',
    STAGE: 'prod',
    DELIVERIES_QUEUE_URL: QUEUE,
    ROTATION_GRACE_HOURS: '36',
  };

  it('takes what the stack sets; no WEBHOOK_BASE_URL means the request’s domain', async () => {
    expect(await coldStart('admin', stack)).toEqual({
      tableName: 'hookgate-table',
      stage: 'prod',
      deliveriesQueueUrl: QUEUE,
      webhookBaseUrl: undefined,
      rotationGraceHours: 36,
      logLevel: undefined,
      traceId: expect.any(Function),
    });
    expect(
      await coldStart('admin', { ...stack, WEBHOOK_BASE_URL: 'https://hooks.example.com' }),
    ).toMatchObject({ webhookBaseUrl: 'https://hooks.example.com' });
    expect(await coldStart('admin', { ...stack, WEBHOOK_BASE_URL: '' })).toMatchObject({
      webhookBaseUrl: undefined,
    });
  });

  it('keeps the previous webhook secret 24 hours by default', async () => {
    const { ROTATION_GRACE_HOURS: _, ...withoutGrace } = stack;
    expect(await coldStart('admin', withoutGrace)).toMatchObject({ rotationGraceHours: 24 });
  });

  it('fails the cold start on a grace that is not a positive number of hours', async () => {
    for (const value of ['0', '-1', 'a day', 'Infinity']) {
      await expect(coldStart('admin', { ...stack, ROTATION_GRACE_HOURS: value })).rejects.toThrow(
        `ROTATION_GRACE_HOURS must be a positive number of hours (got "${value}")`,
      );
    }
  });

  it('fails the cold start on a WEBHOOK_BASE_URL that is not an http or https URL', async () => {
    await expect(coldStart('admin', { ...stack, WEBHOOK_BASE_URL: 'hooks.example.com' })).rejects.toThrow(
      'WEBHOOK_BASE_URL must be an http or https URL (got "hooks.example.com")',
    );
  });

  it('logs at the level Powertools would: POWERTOOLS_LOG_LEVEL, then LOG_LEVEL', async () => {
    expect(await coldStart('admin', { ...stack, LOG_LEVEL: 'debug' })).toMatchObject({ logLevel: 'debug' });
    expect(
      await coldStart('admin', { ...stack, POWERTOOLS_LOG_LEVEL: 'ERROR', LOG_LEVEL: 'debug' }),
    ).toMatchObject({ logLevel: 'ERROR' });
  });

  it('reads the X-Ray trace id as each invocation starts, since Lambda sets it per invocation', async () => {
    const { traceId } = await coldStart('admin', stack);
    vi.stubEnv('_X_AMZN_TRACE_ID', 'Root=1-first');
    expect(traceId()).toBe('Root=1-first');
    vi.stubEnv('_X_AMZN_TRACE_ID', 'Root=1-second');
    expect(traceId()).toBe('Root=1-second');
  });
});
