import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
  SQSBatchResponse,
  SQSEvent,
} from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signBody } from '../../shared/bitbucket/signature';
import { ProjectSettingsSchema } from '../../shared/domain/settings';
import { TriggerMessageSchema } from '../../shared/domain/trigger-message';
import { secretIds } from '../../shared/secrets/secrets';
import { DynamoStore } from '../../shared/store/dynamo-store';
import { sdkDynamoApi } from '../../shared/store/sdk-dynamo-api';
import { runCdk, synthesize } from '../support/cdk-cli';
import { readFixtureJson } from '../support/fixtures';
import {
  emulatorTierRuns,
  MOTO_CREDENTIALS,
  MOTO_REGION,
  type MotoServer,
  startMoto,
} from '../support/moto-server';
import { integrationRecord } from '../support/records';
import { runtimeEnvironment } from './support/lambda';

// `cdk bootstrap` and `cdk deploy` of the `moto` stage into one moto server, then the deployed
// resources read back from each service and compared with the synthesised template, and one
// delivery run through the bundled functions against the deployed table and queues.

const STAGE = 'moto';
const STACK = `Hookgate-${STAGE}`;
/** moto's one account: its STS answers GetCallerIdentity with it, so the CLI deploys there. */
const MOTO_ACCOUNT = '123456789012';
const DESCRIBE_STACK = fileURLToPath(new URL('../support/describe-stack.py', import.meta.url));

/**
 * What moto's CloudFormation (moto 5.2) does not create: it logs "No Moto CloudFormation support"
 * for these types and lists them with an empty id, or, for a Lambda permission, with no physical
 * id. These are moto's limits, not the stack's; the last test asserts them from the template.
 */
const NOT_CREATED_BY_MOTO = [
  'AWS::ApiGatewayV2::Api',
  'AWS::ApiGatewayV2::Integration',
  'AWS::ApiGatewayV2::Route',
  'AWS::ApiGatewayV2::Stage',
  'AWS::Lambda::Permission',
  'AWS::SQS::QueuePolicy',
  'AWS::CloudWatch::Alarm',
  'AWS::CDK::Metadata',
];

type Json = any;
type Resources = Record<string, { Type: string; Properties?: Json; Metadata?: Json }>;

interface Deployed {
  stack: Json;
  resources: { LogicalResourceId: string; PhysicalResourceId?: string; ResourceType: string }[];
  /** By logical id, what the resource's service answers about it. */
  described: Record<string, Json>;
}

const runs = emulatorTierRuns();

describe.skipIf(!runs)('the stack deployed into moto with cdk bootstrap and cdk deploy', () => {
  let moto: MotoServer;
  let outdir: string;
  let resources: Resources;
  let template: Template;
  let deployed: Deployed;
  let physical: Record<string, string>;

  beforeAll(async () => {
    moto = await startMoto();
    outdir = mkdtempSync(join(tmpdir(), 'hookgate-deploy-'));
    const templatePath = await synthesize(STAGE, outdir);
    const json = JSON.parse(readFileSync(templatePath, 'utf8'));
    resources = json.Resources;
    template = Template.fromJSON(json);

    // moto's CloudFormation reads a TemplateURL's bucket from the URL's host (virtual-hosted
    // style) unless that host is `localhost`: with http://127.0.0.1:<port> the deploy fails with
    // "The specified bucket does not exist". So the CLI alone is given `localhost`.
    // Neither a profile of this machine nor instance metadata: moto's fake credentials only.
    const env = runtimeEnvironment(`http://localhost:${moto.port}`);
    // The default bootstrap template deploys as it is: what moto cannot create in it is skipped.
    await runCdk(['bootstrap', `aws://${MOTO_ACCOUNT}/${MOTO_REGION}`, '--app', outdir], { env });
    await runCdk(['deploy', STACK, '--app', outdir, '--require-approval', 'never', '--progress', 'events'], {
      env,
    });
    deployed = await describeStack(moto.endpoint, STACK, templatePath);
    physical = Object.fromEntries(
      deployed.resources
        .filter((r) => r.LogicalResourceId && r.PhysicalResourceId)
        .map((r) => [r.LogicalResourceId, r.PhysicalResourceId as string]),
    );
  }, 240_000);

  afterAll(async () => {
    await moto?.stop();
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

  /**
   * A template value with its intrinsics resolved to what moto deployed (`Ref` to the physical
   * id, `Fn::GetAtt …Arn` to the ARN the resource's service reports). Throws NotDeployed for a
   * reference to a resource moto did not create.
   */
  function resolve(value: Json): Json {
    if (Array.isArray(value)) return value.map(resolve);
    if (!value || typeof value !== 'object') return value;
    const [key, argument]: [string?, Json?] = Object.entries(value)[0] ?? [];
    if (key === 'Ref') return pseudo(argument) ?? deployedId(argument);
    if (key === 'Fn::GetAtt') return arnOf(argument[0], argument[1]);
    if (key === 'Fn::Join') return (resolve(argument[1]) as string[]).join(argument[0]);
    if (key === 'Fn::Sub') {
      return (argument as string).replace(/\$\{([^}]+)\}/g, (_, name: string) => {
        const [id, attribute] = name.split('.');
        return attribute ? arnOf(id as string, attribute) : (pseudo(name) ?? deployedId(name));
      });
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
  }
  const pseudo = (name: string): string | undefined =>
    ({
      'AWS::Partition': 'aws',
      'AWS::Region': MOTO_REGION,
      'AWS::AccountId': MOTO_ACCOUNT,
      'AWS::URLSuffix': 'amazonaws.com',
    })[name];
  function deployedId(logicalId: string): string {
    const id = physical[logicalId];
    if (!id) throw new NotDeployed(logicalId);
    return id;
  }
  function arnOf(logicalId: string, attribute: string): string {
    const described = deployed.described[logicalId];
    if (attribute !== 'Arn' || !described) throw new NotDeployed(`${logicalId}.${attribute}`);
    const arn =
      described.TableArn ??
      described.QueueArn ??
      described.FunctionArn ??
      described.logGroupArn ??
      described.Arn;
    if (typeof arn !== 'string') throw new NotDeployed(`${logicalId}.${attribute}`);
    return arn;
  }

  it('creates the stack, and every resource of the template except the types moto cannot create', () => {
    expect(deployed.stack.StackStatus).toBe('CREATE_COMPLETE');
    const missing = Object.entries(resources).filter(([id]) => !physical[id]);
    expect(missing.map(([, r]) => r.Type).every((type) => NOT_CREATED_BY_MOTO.includes(type))).toBe(true);
    // Every skipped type is one this stack has: the list names no limit that does not matter here.
    expect(new Set(missing.map(([, r]) => r.Type))).toEqual(new Set(NOT_CREATED_BY_MOTO));
    expect(deployed.stack.Tags).toContainEqual({ Key: 'hookgate:stage', Value: STAGE });
  });

  it("creates the table with the template's keys, both indexes, on-demand billing and deletion protection", () => {
    const [[id, table]] = ofType('AWS::DynamoDB::Table') as [[string, Json]];
    const described = deployed.described[id];
    const props = table.Properties;
    expect(described.TableStatus).toBe('ACTIVE');
    expect(described.KeySchema).toEqual(props.KeySchema);
    expect(described.AttributeDefinitions).toEqual(expect.arrayContaining(props.AttributeDefinitions));
    expect(described.BillingModeSummary.BillingMode).toBe(props.BillingMode);
    expect(described.BillingModeSummary.BillingMode).toBe('PAY_PER_REQUEST');
    expect(described.DeletionProtectionEnabled).toBe(true);
    expect(props.GlobalSecondaryIndexes).toHaveLength(2);
    for (const index of props.GlobalSecondaryIndexes) {
      expect(described.GlobalSecondaryIndexes).toContainEqual(
        expect.objectContaining({
          IndexName: index.IndexName,
          KeySchema: index.KeySchema,
          Projection: index.Projection,
          IndexStatus: 'ACTIVE',
        }),
      );
    }
    // moto's CloudFormation ignores TimeToLiveSpecification and PointInTimeRecoverySpecification,
    // so those are read from the template.
    expect(props.TimeToLiveSpecification).toEqual({ AttributeName: expect.any(String), Enabled: true });
    expect(props.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
  });

  it("creates the four FIFO queues with the template's attributes, each main queue redriving to its dead-letter queue", () => {
    const queues = ofType('AWS::SQS::Queue');
    expect(queues.map(([, q]) => q.Properties.QueueName).sort()).toEqual(
      ['deliveries', 'deliveries-dlq', 'triggers', 'triggers-dlq']
        .map((q) => `hookgate-${STAGE}-${q}.fifo`)
        .sort(),
    );
    for (const [id, queue] of queues) {
      const props = queue.Properties;
      const attributes = deployed.described[id];
      expect(physical[id]).toBe(
        `https://sqs.${MOTO_REGION}.amazonaws.com/${MOTO_ACCOUNT}/${props.QueueName}`,
      );
      expect(attributes).toMatchObject({
        FifoQueue: 'true',
        ContentBasedDeduplication: String(props.ContentBasedDeduplication),
        DeduplicationScope: props.DeduplicationScope,
        FifoThroughputLimit: props.FifoThroughputLimit,
        MessageRetentionPeriod: String(props.MessageRetentionPeriod),
        SqsManagedSseEnabled: String(props.SqsManagedSseEnabled),
        // SQS's default (30 s) where the template sets none: the dead-letter queues.
        VisibilityTimeout: String(props.VisibilityTimeout ?? 30),
      });
      if (props.RedrivePolicy) {
        expect(JSON.parse(attributes.RedrivePolicy)).toEqual(resolve(props.RedrivePolicy));
      } else {
        expect(attributes.RedrivePolicy).toBeUndefined();
      }
    }
    expect(queues.filter(([, q]) => q.Properties.RedrivePolicy)).toHaveLength(2);
  });

  it("creates the three functions with the template's runtime, handler, environment, timeout, memory and role", () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions).toHaveLength(4);
    for (const [id, fn] of functions) {
      const props = fn.Properties;
      expect(deployed.described[id]).toMatchObject({
        Runtime: props.Runtime,
        Handler: props.Handler,
        Timeout: props.Timeout,
        MemorySize: props.MemorySize,
        Description: props.Description,
        Role: resolve(props.Role),
        Environment: { Variables: resolve(props.Environment.Variables) },
      });
      // moto ignores the architecture (it reports x86_64) and the logging config: the template's.
      expect(props.Architectures).toEqual(['arm64']);
      expect(resolve(props.LoggingConfig.LogGroup)).toBe(physical[props.LoggingConfig.LogGroup.Ref]);
    }
  });

  it('connects the processor to deliveries.fifo in batches of ten with partial batch failures', () => {
    const [[id, mapping]] = ofType('AWS::Lambda::EventSourceMapping') as [[string, Json]];
    const props = mapping.Properties;
    expect(deployed.described[id]).toMatchObject({
      EventSourceArn: resolve(props.EventSourceArn),
      FunctionArn: arnOf(props.FunctionName.Ref, 'Arn'),
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      State: 'Enabled',
    });
  });

  it("creates the roles, their policies and the managed policies with the template's statements", () => {
    for (const [id, role] of ofType('AWS::IAM::Role')) {
      expect(deployed.described[id]).toMatchObject({
        AssumeRolePolicyDocument: role.Properties.AssumeRolePolicyDocument,
        Description: role.Properties.Description,
      });
    }
    const policies = ofType('AWS::IAM::Policy');
    expect(policies).toHaveLength(4);
    for (const [id, policy] of policies) {
      const [roleId] = policy.Properties.Roles.map((role: Json) => role.Ref);
      expect(deployed.described[id]).toEqual({
        [physical[roleId] as string]: resolve(policy.Properties.PolicyDocument),
      });
    }
    const managed = ofType('AWS::IAM::ManagedPolicy');
    expect(managed).toHaveLength(3);
    for (const [id, policy] of managed) {
      const document = deployed.described[id].Document;
      const statements = policy.Properties.PolicyDocument.Statement as Json[];
      expect(document.Statement).toHaveLength(statements.length);
      statements.forEach((statement, index) => {
        const actual = document.Statement[index];
        try {
          expect(actual).toEqual(resolve(statement));
        } catch (error) {
          if (!(error instanceof NotDeployed)) throw error;
          // An execute-api ARN of the HTTP API, which moto does not create (it renders the API id
          // as "None"): the statement's grant is compared here, its resource in the last test.
          expect({ ...actual, Resource: undefined }).toEqual({ ...statement, Resource: undefined });
        }
      });
      expect(deployed.described[id].Policy.Description).toBe(policy.Properties.Description);
    }
    for (const [id, group] of ofType('AWS::Logs::LogGroup')) {
      expect(deployed.described[id].retentionInDays).toBe(group.Properties.RetentionInDays);
    }
  });

  it('has in its template what moto does not create: the routes and their authorizers, queue policies, alarms', () => {
    const api = ofType('AWS::ApiGatewayV2::Api')[0]?.[0];
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      ApiId: { Ref: api },
      RouteKey: 'POST /webhooks/{integration}',
      AuthorizationType: 'NONE',
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      ApiId: { Ref: api },
      RouteKey: 'ANY /admin/{proxy+}',
      AuthorizationType: 'AWS_IAM',
    });
    for (const prefix of ['WebhookFunction', 'AdminFunction']) {
      const fn = ofType('AWS::Lambda::Function').find(([id]) => id.startsWith(prefix))?.[0];
      expect(fn).toBeDefined();
      template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
        IntegrationType: 'AWS_PROXY',
        IntegrationUri: { 'Fn::GetAtt': [fn, 'Arn'] },
      });
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [fn, 'Arn'] },
        Principal: 'apigateway.amazonaws.com',
      });
    }
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: api },
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: Match.anyValue(), ThrottlingBurstLimit: Match.anyValue() },
    });
    const adminPolicies = ofType('AWS::IAM::ManagedPolicy').filter(([id]) => !id.includes('PipelineRunner'));
    expect(adminPolicies).toHaveLength(2);
    for (const [, policy] of adminPolicies) {
      const [statement] = policy.Properties.PolicyDocument.Statement;
      expect(JSON.stringify(statement.Resource)).toContain(`{"Ref":"${api}"}`);
      expect(JSON.stringify(statement.Resource)).toContain('/admin/*');
    }

    // Every queue denies any request without TLS.
    for (const [id] of ofType('AWS::SQS::Queue')) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: [
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              Resource: { 'Fn::GetAtt': [id, 'Arn'] },
            }),
          ],
        },
      });
    }

    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties.AlarmName);
    expect(alarms).toEqual(
      expect.arrayContaining(
        [
          'deliveries-dlq-not-empty',
          'triggers-dlq-not-empty',
          'oldest-delivery-age',
          'api-5xx-rate',
          'oldest-trigger-age',
          ...['webhook', 'processor', 'admin', 'sweeper'].flatMap((fn) => [
            `${fn}-errors`,
            `${fn}-throttles`,
          ]),
        ].map((name) => `hookgate-${STAGE}-${name}`),
      ),
    );
  });

  describe('a delivery through the bundled functions, on the deployed table and queues', () => {
    const SECRET = 'deployed-stack-test-secret';
    const REPO = '{708c9715-0ecc-4a5d-87ed-63c4ba48ea06}'; // cloudbeers/temp in the jenkins-bbsource captures
    const PROJECT = 'prj-cloudbeers-temp';
    const savedEnv = { ...process.env };
    let webhook: LambdaHandler;
    let processor: LambdaHandler;
    let sqs: SQSClient;

    beforeAll(async () => {
      const clientConfig = { endpoint: moto.endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS };
      sqs = new SQSClient(clientConfig);
      const fn = (prefix: string) => {
        const found = ofType('AWS::Lambda::Function').find(([id]) => id.startsWith(prefix));
        if (!found) throw new Error(`no ${prefix} function in the template`);
        return found;
      };
      const [, webhookResource] = fn('WebhookFunction');
      const tableName = deployedId(webhookResource.Properties.Environment.Variables.TABLE_NAME.Ref);

      const at = new Date().toISOString();
      const store = new DynamoStore(sdkDynamoApi(new DynamoDBClient(clientConfig)), tableName);
      const webhookSecretId = secretIds.webhookSecret(STAGE, 'acme');
      await new SecretsManagerClient(clientConfig).send(
        new CreateSecretCommand({ Name: webhookSecretId, SecretString: JSON.stringify({ current: SECRET }) }),
      );
      await store.putIntegration(integrationRecord({ webhookSecretId, createdAt: at, updatedAt: at }));
      await store.putProject({
        id: PROJECT,
        integration: 'acme',
        provider: 'bitbucket-cloud',
        repositoryId: REPO,
        fullName: 'cloudbeers/temp',
        cloneUrls: {
          ssh: 'git@bitbucket.org:cloudbeers/temp.git',
          https: 'https://bitbucket.org/cloudbeers/temp.git',
        },
        defaultBranch: 'main',
        settings: ProjectSettingsSchema.parse({}),
        deployKeySecretId: secretIds.deployKey(STAGE, PROJECT),
        createdAt: at,
        updatedAt: at,
      });

      // The runtime's part of the environment; the rest is each function's own, as deployed.
      Object.assign(process.env, runtimeEnvironment(moto.endpoint), { POWERTOOLS_LOG_LEVEL: 'WARN' });
      webhook = await loadFunction(fn('WebhookFunction'));
      processor = await loadFunction(fn('ProcessorFunction'));
    }, 60_000);

    afterAll(() => {
      for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
      Object.assign(process.env, savedEnv);
    });

    /**
     * Imports a function's bundle from the cloud assembly (the asset its deployed Code names)
     * with the environment GetFunctionConfiguration reports for it.
     */
    async function loadFunction([id, resource]: [string, Json]): Promise<LambdaHandler> {
      const assetPath = resource.Metadata['aws:asset:path'] as string;
      expect(resource.Properties.Code.S3Key).toBe(`${assetPath.replace(/^asset\./, '')}.zip`);
      const configuration = deployed.described[id];
      for (const [name, value] of Object.entries(
        configuration.Environment.Variables as Record<string, string>,
      )) {
        // moto's CloudFormation names every queue URL with AWS's host (it has no request to take
        // a host from), and an SDK SQS client built without an explicit endpoint sends to the
        // queue URL's host even when AWS_ENDPOINT_URL is set. The URL's origin is moto's here so
        // that nothing can leave this machine; its path (account and queue) stays as deployed.
        process.env[name] = value.replace(/^https:\/\/sqs\.[a-z0-9-]+\.amazonaws\.com(?=\/)/, moto.endpoint);
      }
      // NODE_OPTIONS configures the runtime's node process; in-process it changes nothing.
      delete process.env.NODE_OPTIONS;
      process.env.AWS_LAMBDA_FUNCTION_NAME = configuration.FunctionName;
      process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE = String(configuration.MemorySize);
      const bundle = await import(pathToFileURL(join(outdir, assetPath, 'index.mjs')).href);
      const handler = bundle.handler as (event: unknown, context: Context) => Promise<unknown>;
      return (event) => handler(event, lambdaContext(configuration));
    }

    it('accepts a signed push with 202, and the processor puts one trigger on the deployed triggers.fifo', async () => {
      const deliveryId = randomUUID();
      const body = JSON.stringify(readFixtureJson('cloud/jenkins-bbsource__updatePayload.json'));
      const response = (await webhook({
        version: '2.0',
        routeKey: 'POST /webhooks/{integration}',
        rawPath: '/webhooks/acme',
        rawQueryString: '',
        headers: {
          'content-type': 'application/json',
          'x-event-key': 'repo:push',
          'x-request-uuid': deliveryId,
          'x-hub-signature': signBody(body, SECRET),
        },
        pathParameters: { integration: 'acme' },
        requestContext: { http: { method: 'POST', path: '/webhooks/acme' } },
        body,
        isBase64Encoded: false,
      } as unknown as APIGatewayProxyEventV2)) as APIGatewayProxyStructuredResultV2;
      expect(response.statusCode).toBe(202);

      // Lambda's poller, played here. moto's own mapping tries, on each send, to run the function
      // in Docker, which is not here; it fails and makes the message visible again at once.
      const deliveries = physical[
        ofType('AWS::SQS::Queue').find(([, q]) => q.Properties.QueueName.endsWith('-deliveries.fifo'))?.[0] ??
          ''
      ] as string;
      const received = await receiveAll(sqs, deliveries);
      expect(received).toHaveLength(1);
      const mapping = deployed.described[ofType('AWS::Lambda::EventSourceMapping')[0]?.[0] ?? ''];
      const event: SQSEvent = {
        Records: received.map((message: Json) => ({
          messageId: message.MessageId,
          receiptHandle: message.ReceiptHandle,
          body: message.Body,
          attributes: message.Attributes,
          messageAttributes: {},
          md5OfBody: message.MD5OfBody,
          eventSource: 'aws:sqs',
          eventSourceARN: mapping.EventSourceArn,
          awsRegion: MOTO_REGION,
        })),
      };
      expect(event.Records[0]?.attributes.MessageGroupId).toBe(`acme#${REPO}`);
      const result = (await processor(event)) as SQSBatchResponse;
      expect(result.batchItemFailures).toEqual([]);
      for (const message of received) {
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: deliveries, ReceiptHandle: message.ReceiptHandle }),
        );
      }

      const triggersQueue = physical[
        ofType('AWS::SQS::Queue').find(([, q]) => q.Properties.QueueName.endsWith('-triggers.fifo'))?.[0] ??
          ''
      ] as string;
      const triggers = await receiveAll(sqs, triggersQueue);
      expect(triggers).toHaveLength(1);
      const trigger = TriggerMessageSchema.parse(JSON.parse(triggers[0].Body));
      expect(trigger).toMatchObject({
        integration: 'acme',
        reason: 'default-branch',
        ref: { type: 'branch', name: 'main' },
        project: { id: PROJECT, repositoryId: REPO },
      });
      expect(triggers[0].Attributes.MessageGroupId).toBe(PROJECT);
      expect(await receiveAll(sqs, deliveries)).toEqual([]);
    });
  });
});

type LambdaHandler = (event: unknown) => Promise<unknown>;

class NotDeployed extends Error {
  override name = 'NotDeployed';
}

/** A context as Lambda gives it: the remaining time counts down from the function's timeout. */
function lambdaContext(configuration: Json): Context {
  const deadline = Date.now() + configuration.Timeout * 1000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: configuration.FunctionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: configuration.FunctionArn,
    memoryLimitInMB: String(configuration.MemorySize),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${configuration.FunctionName}`,
    logStreamName: `${new Date().toISOString().slice(0, 10)}/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Every message visible on a queue now (at most 50; five receives). */
async function receiveAll(sqs: SQSClient, queueUrl: string): Promise<Json[]> {
  const messages: Json[] = [];
  for (let attempt = 0; attempt < 5; attempt++) {
    const answer = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['All'],
        WaitTimeSeconds: 0,
      }),
    );
    if (!answer.Messages?.length) break;
    messages.push(...answer.Messages);
  }
  return messages;
}

/** The deployed stack as moto's services describe it (test/support/describe-stack.py). */
function describeStack(endpoint: string, stack: string, templatePath: string): Promise<Deployed> {
  const { AWS_ENDPOINT_URL: _, ...credentials } = runtimeEnvironment(endpoint);
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...credentials };
  return new Promise((resolve, reject) => {
    execFile(
      'python3',
      [DESCRIBE_STACK, endpoint, stack, templatePath],
      { env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`describe-stack.py failed (${error.message}): ${stderr.slice(-4000)}`));
        else resolve(JSON.parse(stdout) as Deployed);
      },
    );
  });
}
