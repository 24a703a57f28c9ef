import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCdk, synthesize } from '../support/cdk-cli';
import { emulatorTierRuns, MOTO_REGION, type MotoServer, startMoto } from '../support/moto-server';
import {
  type DeployedHandle,
  type DeployedStack,
  describeStack,
  onMoto,
  wireDeployedStack,
} from './support/deployed-stack';
import { runtimeEnvironment } from './support/lambda';
import { ingestScenarios } from './support/scenarios';
import type { CfnTemplate } from './support/synth';

// `cdk bootstrap` and `cdk deploy` of the `moto` stage into one moto server, then the deployed
// resources read back from each service and compared with the synthesised template, and the ingest
// scenarios (support/scenarios.ts, as functions.test.ts runs them) through the bundled functions
// on the deployed table, queues and secrets, each function with its deployed environment.

const STAGE = 'moto';
const STACK = `Hookgate-${STAGE}`;
/** moto's one account: its STS answers GetCallerIdentity with it, so the CLI deploys there. */
const MOTO_ACCOUNT = '123456789012';

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

const runs = emulatorTierRuns();

describe.skipIf(!runs)('the stack deployed into moto with cdk bootstrap and cdk deploy', () => {
  let moto: MotoServer;
  let outdir: string;
  let resources: Resources;
  let template: Template;
  let json: CfnTemplate;
  let deployed: DeployedStack;
  let physical: Record<string, string>;

  beforeAll(async () => {
    moto = await startMoto();
    outdir = mkdtempSync(join(tmpdir(), 'hookgate-deploy-'));
    const templatePath = await synthesize(STAGE, outdir);
    json = JSON.parse(readFileSync(templatePath, 'utf8')) as CfnTemplate;
    resources = json.Resources as Resources;
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

  describe('the ingest scenarios of functions.test.ts, through the bundled functions on the deployed table, queues and secrets', () => {
    let handle: DeployedHandle;

    beforeAll(async () => {
      handle = await wireDeployedStack({
        endpoint: moto.endpoint,
        stage: STAGE,
        outDir: outdir,
        template: json,
        deployed,
      });
    }, 60_000);

    afterAll(() => {
      handle?.stop();
    });

    it("runs every bundled function from the code moto deployed, with its deployed configuration's environment, and the deployed mapping as the processor's event source", () => {
      expect(Object.keys(handle.functions).sort()).toEqual(['admin', 'processor', 'sweeper', 'webhook']);
      for (const loaded of Object.values(handle.functions)) {
        const configuration = deployed.described[loaded.definition.logicalId];
        expect(loaded.physicalName).toBe(configuration.FunctionName);
        // The zip `cdk deploy` made of the asset folder the bundle is imported from, and uploaded.
        const S3Key = String(resources[loaded.definition.logicalId]?.Properties?.Code?.S3Key);
        const zip = readFileSync(join(outdir, '.cache', S3Key));
        expect(createHash('sha256').update(zip).digest('base64')).toBe(configuration.CodeSha256);
        expect(loaded.definition.assetDir).toBe(join(outdir, `asset.${S3Key.replace(/\.zip$/, '')}`));
        expect(loaded.definition).toMatchObject({
          timeoutSeconds: configuration.Timeout,
          memorySize: configuration.MemorySize,
          exportName: 'handler',
        });
        expect(configuration.Handler).toBe('index.handler');
        const variables = configuration.Environment.Variables as Record<string, string>;
        expect(Object.keys(variables).length).toBeGreaterThan(1);
        for (const [name, value] of Object.entries(variables)) {
          expect(loaded.environment[name]).toBe(onMoto(value, moto.endpoint));
        }
      }
      const [tableId] = ofType('AWS::DynamoDB::Table')[0] as [string, Json];
      const queueOf = (suffix: string) =>
        ofType('AWS::SQS::Queue').find(([, q]) => q.Properties.QueueName.endsWith(suffix))?.[0] as string;
      const deliveries = onMoto(deployedId(queueOf('-deliveries.fifo')), moto.endpoint);
      expect(handle.functions.webhook?.environment).toMatchObject({
        TABLE_NAME: physical[tableId],
        DELIVERIES_QUEUE_URL: deliveries,
      });
      expect(handle.functions.processor?.environment.TRIGGERS_QUEUE_URL).toBe(
        onMoto(deployedId(queueOf('-triggers.fifo')), moto.endpoint),
      );
      expect(handle.functions.admin?.environment).toMatchObject({ STAGE, DELIVERIES_QUEUE_URL: deliveries });
      expect(handle.queues.deliveries?.url).toBe(deliveries);
      expect(handle.eventSources).toEqual([
        {
          functionName: 'processor',
          queueLogicalId: queueOf('-deliveries.fifo'),
          batchSize: 10,
          reportBatchItemFailures: true,
        },
      ]);
    });

    ingestScenarios(() => handle);
  });
});

class NotDeployed extends Error {
  override name = 'NotDeployed';
}
