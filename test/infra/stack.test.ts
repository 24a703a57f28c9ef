import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { App, CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_FILE, ENTRIES, esbuildOptions } from '../../infra/bundling';
import { createHookgateApp } from '../../infra/hookgate-app';
import type { HookgateStack } from '../../infra/hookgate-stack';
import { ADMIN_SECRET_ACTIONS } from '../../infra/secret-access';
import { secretIds } from '../../shared/secrets/secrets';
import { INDEX_PROJECTED_ATTRIBUTES, TABLE_KEYS } from '../../shared/store/table';
import { flatten, type Resource, type Statement, statementsOfRole } from './template-support';

const STAGE = 'test';
const DOMAIN = 'hooks.example.com';
const CERTIFICATE = 'arn:aws:acm:eu-west-1:111122223333:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b';
const ALARM_EMAIL = 'ops@example.com';
/** Not the default (24), so the admin function's value is seen to come from the settings. */
const ROTATION_GRACE_HOURS = 36;

const KB = 1024;
/**
 * Own code (the SDK external). 100 KB is the webhook's goal (bench/README.md): it is on Bitbucket's
 * request path. The processor and admin functions, off it, carry the REST client and the
 * deadline and parking logic of DESIGN §11; their guard is looser. The admin function's is looser
 * still: it alone carries the admin operations, manual builds (ref and pull-request lookups)
 * among them, and the wording of validation messages (what was given, what is expected), and
 * nobody waits on its cold start but an admin. Both grew with the path filters' diffstat and
 * compare listings and the draft and title-marker rules (processor 118 → 130 KB, admin 142 →
 * 149 KB); the processor's SDK clients, which the webhook replaced with AwsJsonClient, are where
 * it can shrink again.
 */
const OWN_CODE_LIMIT: Record<string, number> = { webhook: 100 * KB, processor: 136 * KB, admin: 156 * KB };
const WHOLE_BUNDLE_LIMIT = 700 * KB;

let outdir: string;
let app: App;
let stack: HookgateStack;
let template: Template;

// One synthesis (with every esbuild bundle) for the whole file: it is the slow part.
beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'hookgate-cdk-'));
  ({ app, stack } = createHookgateApp({
    outdir,
    // CloudFormation's schema check is `npm run synth`'s job; it takes seconds to load.
    builtinCloudFormationValidation: false,
    context: {
      stage: STAGE,
      alarmEmail: ALARM_EMAIL,
      domainName: DOMAIN,
      certificateArn: CERTIFICATE,
      rotationGraceHours: String(ROTATION_GRACE_HOURS),
    },
  }));
  template = Template.fromStack(stack);
}, 120_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

const FUNCTIONS = ['webhook', 'processor', 'admin'] as const;
type FunctionName = (typeof FUNCTIONS)[number] | 'sweeper';

/** The function resource of the stack's construct of that name. */
function lambdaFunction(name: FunctionName): { id: string; resource: Resource } {
  const id = stack.getLogicalId(stack[name].function.node.defaultChild as CfnElement);
  const resource = template.findResources('AWS::Lambda::Function')[id];
  expect(resource).toBeDefined();
  return { id, resource: resource as Resource };
}

function roleOf(name: FunctionName): string {
  return lambdaFunction(name).resource.Properties.Role['Fn::GetAtt'][0];
}

/**
 * Whether an IAM resource pattern (flattened) matches an ARN: `*` is any run of characters, as in
 * IAM. Pseudo parameters stay as `<AWS::Region>` on both sides.
 */
function covers(pattern: string, arn: string): boolean {
  const regex = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${regex}$`).test(arn);
}

/** A secret's ARN as Secrets Manager names it: its name, `-` and six random characters. */
const secretArn = (name: string) =>
  `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${name}-Ab12Cd`;

const SECRET_KINDS = {
  'webhook secrets': secretIds.webhookSecret(STAGE, 'acme'),
  credentials: secretIds.credentials(STAGE, 'acme'),
  'deploy keys': secretIds.deployKey(STAGE, 'prj-0123456789abcdef'),
};

/** Whether the role may call `action` on the secret named `name`. */
function mayOnSecret(role: string, action: string, name: string): boolean {
  return statementsOfRole(template, role).some(
    (s) =>
      s.Effect === 'Allow' &&
      [s.Action].flat().some((granted) => covers(granted, action)) &&
      [s.Resource].flat().some((resource) => covers(flatten(resource), secretArn(name))),
  );
}

function queueId(queueName: string): string {
  const ids = Object.keys(
    template.findResources('AWS::SQS::Queue', { Properties: { QueueName: queueName } }),
  );
  expect(ids).toHaveLength(1);
  return ids[0] as string;
}

const secretActions = (statements: Statement[]) =>
  statements.filter((s) => [s.Action].flat().some((action) => action.startsWith('secretsmanager:')));

describe('the Hookgate stack', () => {
  it('is named after its stage and passes the AwsSolutions checks with every finding acknowledged', () => {
    expect(stack.stackName).toBe('Hookgate-test');
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });

  describe('storage', () => {
    it('keeps the table: on demand, point-in-time recovery, TTL on expiresAt, deletion protection, retained', () => {
      template.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: Match.objectLike({
          BillingMode: 'PAY_PER_REQUEST',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
          DeletionProtectionEnabled: true,
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
        }),
      });
    });

    it('has the indexes the store writes, with the keys of shared/store/table.ts', () => {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        GlobalSecondaryIndexes: Match.arrayWith(
          TABLE_KEYS.indexes.map((index) =>
            Match.objectLike({
              IndexName: index.name,
              KeySchema: [
                { AttributeName: index.partitionKey, KeyType: 'HASH' },
                { AttributeName: index.sortKey, KeyType: 'RANGE' },
              ],
              // The summary only: never the gzipped body, the headers or the decisions.
              Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...INDEX_PROJECTED_ATTRIBUTES] },
            }),
          ),
        ),
      });
    });
  });

  describe('queues', () => {
    it.each([
      ['deliveries', 15],
      ['triggers', 5],
    ])(
      'gives %s.fifo a dead-letter queue after %i receives, SQS-managed encryption and high throughput',
      (name, receives) => {
        const dlq = queueId(`hookgate-${STAGE}-${name}-dlq.fifo`);
        template.hasResourceProperties('AWS::SQS::Queue', {
          QueueName: `hookgate-${STAGE}-${name}.fifo`,
          FifoQueue: true,
          DeduplicationScope: 'messageGroup',
          FifoThroughputLimit: 'perMessageGroupId',
          SqsManagedSseEnabled: true,
          RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] }, maxReceiveCount: receives },
        });
        template.hasResourceProperties('AWS::SQS::Queue', {
          QueueName: `hookgate-${STAGE}-${name}-dlq.fifo`,
          FifoQueue: true,
          SqsManagedSseEnabled: true,
        });
      },
    );

    it('refuses every request to every queue that is not over TLS', () => {
      for (const id of Object.keys(template.findResources('AWS::SQS::Queue'))) {
        template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: id }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Effect: 'Deny',
                Action: 'sqs:*',
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              }),
            ]),
          },
        });
      }
    });

    it('hides a received delivery for at least six times the processor timeout', () => {
      const processorTimeout = lambdaFunction('processor').resource.Properties.Timeout as number;
      const deliveries = template.findResources('AWS::SQS::Queue', {
        Properties: { QueueName: `hookgate-${STAGE}-deliveries.fifo` },
      });
      const visibility = Object.values(deliveries)[0]?.Properties.VisibilityTimeout as number;
      expect(visibility).toBeGreaterThanOrEqual(6 * processorTimeout);
    });
  });

  describe('functions', () => {
    it.each(FUNCTIONS)(
      'runs the %s function on nodejs24.x and arm64, 1024 MB, with source maps enabled',
      (name) => {
        const { resource } = lambdaFunction(name);
        expect(resource.Properties).toMatchObject({
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          MemorySize: 1024,
          Handler: 'index.handler',
          Environment: { Variables: { NODE_OPTIONS: '--enable-source-maps' } },
        });
      },
    );

    it.each(FUNCTIONS)(
      'logs the %s function to its own log group kept for 30 days, writable by its role only',
      (name) => {
        const { resource } = lambdaFunction(name);
        const logGroup = resource.Properties.LoggingConfig.LogGroup.Ref as string;
        expect(template.findResources('AWS::Logs::LogGroup')[logGroup]?.Properties.RetentionInDays).toBe(30);
        const logStatements = statementsOfRole(template, roleOf(name)).filter((s) =>
          [s.Action].flat().some((action) => action.startsWith('logs:')),
        );
        expect(logStatements.map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': [logGroup, 'Arn'] }]);
        expect(
          template.findResources('AWS::IAM::Role')[roleOf(name)]?.Properties.ManagedPolicyArns,
        ).toBeUndefined();
      },
    );

    it('gives each function the environment its config requires', () => {
      expect(Object.keys(lambdaFunction('webhook').resource.Properties.Environment.Variables).sort()).toEqual(
        ['DELIVERIES_QUEUE_URL', 'NODE_OPTIONS', 'TABLE_NAME'],
      );
      expect(
        Object.keys(lambdaFunction('processor').resource.Properties.Environment.Variables).sort(),
      ).toEqual(['NODE_OPTIONS', 'TABLE_NAME', 'TRIGGERS_QUEUE_URL']);
    });

    it("gives the admin function its stage, the table, deliveries.fifo, the rotation grace and the custom domain's URL", () => {
      const tableId = Object.keys(template.findResources('AWS::DynamoDB::Table'))[0];
      expect(lambdaFunction('admin').resource.Properties.Environment.Variables).toEqual({
        NODE_OPTIONS: '--enable-source-maps',
        TABLE_NAME: { Ref: tableId },
        STAGE: STAGE,
        DELIVERIES_QUEUE_URL: { Ref: queueId(`hookgate-${STAGE}-deliveries.fifo`) },
        ROTATION_GRACE_HOURS: String(ROTATION_GRACE_HOURS),
        WEBHOOK_BASE_URL: `https://${DOMAIN}`,
      });
    });

    it("ends the admin function before API Gateway's 30 s integration timeout", () => {
      const timeout = lambdaFunction('admin').resource.Properties.Timeout as number;
      expect(timeout).toBeGreaterThanOrEqual(10);
      expect(timeout).toBeLessThan(30);
    });

    it('runs the sweeper every five minutes, one at a time, without retries that could overlap', () => {
      const { id } = lambdaFunction('sweeper');
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(5 minutes)',
        State: 'ENABLED',
        Targets: [
          Match.objectLike({ Arn: { 'Fn::GetAtt': [id, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } }),
        ],
      });
      expect(lambdaFunction('sweeper').resource.Properties).toMatchObject({
        ReservedConcurrentExecutions: 1,
        Timeout: 60,
        Environment: {
          Variables: { TABLE_NAME: expect.anything(), DELIVERIES_QUEUE_URL: expect.anything() },
        },
      });
    });

    it('caps the processor event source at 20 concurrent invocations and reserves none', () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: lambdaFunction('processor').id },
        ScalingConfig: { MaximumConcurrency: 20 },
      });
      expect(lambdaFunction('processor').resource.Properties.ReservedConcurrentExecutions).toBeUndefined();
      expect(lambdaFunction('webhook').resource.Properties.ReservedConcurrentExecutions).toBeUndefined();
    });

    it('feeds deliveries.fifo to the processor reporting batch item failures', () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: lambdaFunction('processor').id },
        EventSourceArn: { 'Fn::GetAtt': [queueId(`hookgate-${STAGE}-deliveries.fifo`), 'Arn'] },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    });
  });

  describe('least privilege', () => {
    it.each(Object.entries(SECRET_KINDS).filter(([kind]) => kind !== 'webhook secrets'))(
      'keeps the webhook function from reading %s',
      (_kind, name) => {
        expect(mayOnSecret(roleOf('webhook'), 'secretsmanager:GetSecretValue', name)).toBe(false);
      },
    );

    it.each(Object.entries(SECRET_KINDS))(
      'lets the admin function create, read, rotate and delete %s of its stage',
      (_kind, name) => {
        for (const action of ADMIN_SECRET_ACTIONS)
          expect(mayOnSecret(roleOf('admin'), action, name)).toBe(true);
        const otherStage = name.replace(`hookgate/${STAGE}/`, 'hookgate/prod/');
        expect(mayOnSecret(roleOf('admin'), 'secretsmanager:GetSecretValue', otherStage)).toBe(false);
      },
    );

    it('lets the webhook function read webhook secrets and no other secret', () => {
      expect(
        mayOnSecret(roleOf('webhook'), 'secretsmanager:GetSecretValue', SECRET_KINDS['webhook secrets']),
      ).toBe(true);
      const statements = secretActions(statementsOfRole(template, roleOf('webhook')));
      expect(statements.length).toBeGreaterThan(0);
      for (const statement of statements) {
        expect(statement.Effect).toBe('Allow');
        expect([statement.Action].flat()).toEqual(['secretsmanager:GetSecretValue']);
        const resources = [statement.Resource].flat().map(flatten);
        for (const resource of resources) {
          expect(resource).not.toBe('*');
          expect(resource).not.toMatch(/projects\/.*deploy-key/);
          expect(resource).not.toMatch(/credentials/);
          expect(resource).toMatch(
            new RegExp(
              `^arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:hookgate/${STAGE}/integrations/\\*/webhook-secret-\\*$`,
            ),
          );
        }
      }
    });

    it('gives no function a wildcard action or a * resource', () => {
      for (const name of FUNCTIONS) {
        for (const statement of statementsOfRole(template, roleOf(name))) {
          expect([statement.Action].flat().filter((action) => action.includes('*'))).toEqual([]);
          expect([statement.Resource].flat().map(flatten)).not.toContain('*');
        }
      }
    });

    it("grants the processor GetSecretValue on its stage's Bitbucket credentials only", () => {
      const statements = secretActions(statementsOfRole(template, roleOf('processor')));
      expect(statements.length).toBeGreaterThan(0);
      for (const statement of statements) {
        expect(statement.Effect).toBe('Allow');
        expect([statement.Action].flat()).toEqual(['secretsmanager:GetSecretValue']);
        for (const resource of [statement.Resource].flat().map(flatten)) {
          expect(resource).toMatch(
            new RegExp(
              `^arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:hookgate/${STAGE}/integrations/\\*/credentials-\\*$`,
            ),
          );
        }
      }
    });

    /** The role's DynamoDB grants: resource, actions and the partition-key prefixes it is held to. */
    const dynamoGrants = (name: FunctionName) =>
      statementsOfRole(template, roleOf(name))
        .filter((s) => [s.Action].flat().some((action) => action.startsWith('dynamodb:')))
        .flatMap((s) =>
          [s.Resource].flat().map((resource) => ({
            resource: flatten(resource),
            actions: [s.Action].flat(),
            leadingKeys: (s as Statement & { Condition?: any }).Condition?.['ForAllValues:StringLike']?.[
              'dynamodb:LeadingKeys'
            ],
          })),
        );
    const tableArn = () => `<${Object.keys(template.findResources('AWS::DynamoDB::Table'))[0]}.Arn>`;

    it('grants the webhook function and the processor the base table only, never its indexes', () => {
      for (const name of ['webhook', 'processor'] as const) {
        expect(new Set(dynamoGrants(name).map((grant) => grant.resource))).toEqual(new Set([tableArn()]));
      }
    });

    it('lets the webhook function read any item but write and delete delivery items only', () => {
      expect(dynamoGrants('webhook')).toEqual([
        { resource: tableArn(), actions: ['dynamodb:GetItem'], leadingKeys: undefined },
        {
          resource: tableArn(),
          actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
          leadingKeys: ['DLV#*'],
        },
      ]);
    });

    it('lets the processor write deliveries, project state and trigger claims only', () => {
      expect(dynamoGrants('processor')).toEqual([
        { resource: tableArn(), actions: ['dynamodb:GetItem', 'dynamodb:Query'], leadingKeys: undefined },
        {
          resource: tableArn(),
          actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
          leadingKeys: ['DLV#*', 'PRJ#*', 'TRG#*'],
        },
      ]);
    });

    it('lets the sweeper query the indexes, keep its checkpoints and send to deliveries.fifo, and nothing else', () => {
      expect(dynamoGrants('sweeper')).toEqual([
        ...TABLE_KEYS.indexes.map((index) => ({
          resource: `${tableArn()}/index/${index.name}`,
          actions: ['dynamodb:Query'],
          leadingKeys: undefined,
        })),
        { resource: tableArn(), actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], leadingKeys: ['SWEEP#*'] },
      ]);
      const statements = statementsOfRole(template, roleOf('sweeper'));
      const sqs = statements.filter((s) => [s.Action].flat().some((action) => action.startsWith('sqs:')));
      expect(sqs.flatMap((s) => [s.Resource].flat().map(flatten))).toEqual([
        `<${queueId(`hookgate-${STAGE}-deliveries.fifo`)}.Arn>`,
      ]);
      expect(secretActions(statements)).toEqual([]);
    });

    it('lets the admin function read and write items, and query the base table and each index (no Scan)', () => {
      const grants = dynamoGrants('admin');
      expect(grants).toEqual([
        {
          resource: tableArn(),
          actions: [
            'dynamodb:GetItem',
            'dynamodb:PutItem',
            'dynamodb:UpdateItem',
            'dynamodb:DeleteItem',
            'dynamodb:Query',
            'dynamodb:BatchGetItem',
          ],
          leadingKeys: undefined,
        },
        ...TABLE_KEYS.indexes.map((index) => ({
          resource: `${tableArn()}/index/${index.name}`,
          actions: ['dynamodb:Query'],
          leadingKeys: undefined,
        })),
      ]);
    });

    it('lets the admin function send replays to deliveries.fifo and never to triggers.fifo', () => {
      const sends = statementsOfRole(template, roleOf('admin')).filter((s) =>
        [s.Action].flat().includes('sqs:SendMessage'),
      );
      expect(sends.flatMap((s) => [s.Resource].flat().map(flatten))).toEqual([
        `<${queueId(`hookgate-${STAGE}-deliveries.fifo`)}.Arn>`,
      ]);
    });
  });

  describe('API', () => {
    it('leaves POST /webhooks/{integration} without an authorizer', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: 'POST /webhooks/{integration}',
        AuthorizationType: 'NONE',
      });
    });

    it('routes ANY /admin/{proxy+} to the admin function behind IAM authorization', () => {
      const integrations = template.findResources('AWS::ApiGatewayV2::Integration', {
        Properties: { IntegrationUri: { 'Fn::GetAtt': [lambdaFunction('admin').id, 'Arn'] } },
      });
      expect(Object.keys(integrations)).toHaveLength(1);
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: 'ANY /admin/{proxy+}',
        AuthorizationType: 'AWS_IAM',
        Target: { 'Fn::Join': ['', ['integrations/', { Ref: Object.keys(integrations)[0] }]] },
      });
    });

    it('has no route under /admin without IAM authorization', () => {
      const open = template.findResources('AWS::ApiGatewayV2::Route', {
        Properties: { RouteKey: Match.stringLikeRegexp('/admin'), AuthorizationType: Match.not('AWS_IAM') },
      });
      expect(open).toEqual({});
    });

    it('throttles the default stage and writes JSON access logs to a log group', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        AutoDeploy: true,
        // Bitbucket does not retry a 429: room for a mass push or a mirror sync (README, AWS).
        DefaultRouteSettings: { ThrottlingRateLimit: 1_000, ThrottlingBurstLimit: 2_000 },
        AccessLogSettings: {
          DestinationArn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] },
          Format: Match.anyValue(),
        },
      });
      const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0] as Resource;
      const format = JSON.parse(stage.Properties.AccessLogSettings.Format);
      expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
      const logGroup = stage.Properties.AccessLogSettings.DestinationArn['Fn::GetAtt'][0];
      expect(template.findResources('AWS::Logs::LogGroup')[logGroup]?.Properties.RetentionInDays).toBe(30);
    });

    it('serves the custom domain when a domain name and certificate are given', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
        DomainName: DOMAIN,
        DomainNameConfigurations: [Match.objectLike({ CertificateArn: CERTIFICATE })],
      });
      template.hasResourceProperties('AWS::ApiGatewayV2::ApiMapping', { Stage: Match.anyValue() });
      template.hasOutput('CustomWebhookBaseUrl', { Value: `https://${DOMAIN}/webhooks/` });
    });
  });

  describe('alarms', () => {
    const topic = () => Object.keys(template.findResources('AWS::SNS::Topic'))[0] as string;

    it('emails the alarm address through an SNS topic that refuses plain HTTP', () => {
      template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: ALARM_EMAIL,
        TopicArn: { Ref: topic() },
      });
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });

    it.each(['deliveries', 'triggers'])(
      'alarms as soon as the %s dead-letter queue holds a message',
      (name) => {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Dimensions: [
            {
              Name: 'QueueName',
              Value: { 'Fn::GetAtt': [queueId(`hookgate-${STAGE}-${name}-dlq.fifo`), 'QueueName'] },
            },
          ],
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          AlarmActions: [{ Ref: topic() }],
        });
      },
    );

    it('lets CloudWatch alarms of this stage, and of this account only, publish to the topic', () => {
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [{ Ref: topic() }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: 'sns:Publish',
              Resource: { Ref: topic() },
              Condition: {
                ArnLike: { 'aws:SourceArn': Match.anyValue() },
                StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              },
            }),
          ]),
        },
      });
      const policy = Object.values(template.findResources('AWS::SNS::TopicPolicy'))[0] as Resource;
      const allow = policy.Properties.PolicyDocument.Statement.find((s: Statement) => s.Effect === 'Allow');
      expect(flatten(allow.Condition.ArnLike['aws:SourceArn'])).toMatch(
        /:cloudwatch:.*:alarm:hookgate-test-\*$/,
      );
    });

    it('alarms when a trigger waits an hour in triggers.fifo (no runner consuming)', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [
          {
            Name: 'QueueName',
            Value: { 'Fn::GetAtt': [queueId(`hookgate-${STAGE}-triggers.fifo`), 'QueueName'] },
          },
        ],
        Threshold: 3_600,
        AlarmActions: [{ Ref: topic() }],
      });
    });

    it.each(['DeliveriesRequeued', 'DeliveriesParked', 'DeliveriesStuck'])(
      'alarms as soon as the sweeper counts one of %s',
      (metricName) => {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'Hookgate',
          MetricName: metricName,
          Dimensions: [{ Name: 'service', Value: 'hookgate' }],
          Statistic: 'Sum',
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          AlarmActions: [{ Ref: topic() }],
        });
      },
    );

    it('alarms when the oldest delivery waits too long', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [
          {
            Name: 'QueueName',
            Value: { 'Fn::GetAtt': [queueId(`hookgate-${STAGE}-deliveries.fifo`), 'QueueName'] },
          },
        ],
        AlarmActions: [{ Ref: topic() }],
      });
    });

    it('alarms on the rate of 5xx answers of the API', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Metrics: Match.arrayWith([
          Match.objectLike({ Expression: Match.stringLikeRegexp('errors / requests') }),
          Match.objectLike({
            MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: '5xx' }) }),
          }),
          Match.objectLike({
            MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'Count' }) }),
          }),
        ]),
        AlarmActions: [{ Ref: topic() }],
      });
    });

    it.each(FUNCTIONS.flatMap((name) => ['Errors', 'Throttles'].map((metric) => [name, metric] as const)))(
      'alarms on the %s function %s',
      (name, metric) => {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: lambdaFunction(name).id } }],
          AlarmActions: [{ Ref: topic() }],
          OKActions: [{ Ref: topic() }],
        });
      },
    );
  });

  describe('access policies', () => {
    const policyWith = (statement: object) =>
      template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
        PolicyDocument: { Statement: [Match.objectLike(statement)] },
      });
    const executeApi = (method: string) => ({
      'Fn::Join': [
        '',
        Match.arrayWith([Match.objectLike({ Ref: Match.stringLikeRegexp('^Api') }), `/*/${method}/admin/*`]),
      ],
    });

    it('lets admins invoke every method under /admin/* of this API', () => {
      policyWith({ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: executeApi('*') });
    });

    it('lets read-only users invoke GET under /admin/* only', () => {
      policyWith({ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: executeApi('GET') });
    });

    it('lets admins ask for a manual build (POST …/builds), and neither read-only users nor pipeline runners', () => {
      const policies = Object.values(template.findResources('AWS::IAM::ManagedPolicy')) as Resource[];
      const invokable = (sid: string) =>
        policies
          .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[])
          .filter((s) => s.Sid === sid && [s.Action].flat().includes('execute-api:Invoke'))
          .flatMap((s) => [s.Resource].flat().map(flatten));
      const api = Object.keys(template.findResources('AWS::ApiGatewayV2::Api'))[0];
      const build = `arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${api}>/$default/POST/admin/projects/prj-0123456789abcdef/builds`;
      expect(invokable('InvokeAdminApi').some((resource) => covers(resource, build))).toBe(true);
      expect(invokable('ReadAdminApi')).toHaveLength(1);
      expect(invokable('ReadAdminApi').some((resource) => covers(resource, build))).toBe(false);
      const runner = policies.find((policy) =>
        (policy.Properties.PolicyDocument.Statement as Statement[]).some((s) => s.Sid === 'ConsumeTriggers'),
      );
      expect(runner).toBeDefined();
      const runnerActions = ((runner as Resource).Properties.PolicyDocument.Statement as Statement[]).flatMap(
        (s) => [s.Action].flat(),
      );
      expect(runnerActions.filter((action) => action.startsWith('execute-api:'))).toEqual([]);
    });

    it('lets pipeline runners consume triggers.fifo and read deploy keys, and nothing more', () => {
      const triggers = queueId(`hookgate-${STAGE}-triggers.fifo`);
      const policies = Object.values(template.findResources('AWS::IAM::ManagedPolicy')).filter((policy) =>
        (policy.Properties.PolicyDocument.Statement as Statement[]).some((s) => s.Sid === 'ConsumeTriggers'),
      );
      expect(policies).toHaveLength(1);
      const statements = (policies[0] as Resource).Properties.PolicyDocument.Statement as Statement[];
      expect(statements.map((s) => ({ action: s.Action, resource: flatten(s.Resource) }))).toEqual([
        {
          action: [
            'sqs:ReceiveMessage',
            'sqs:DeleteMessage',
            'sqs:ChangeMessageVisibility',
            'sqs:GetQueueAttributes',
          ],
          resource: `<${triggers}.Arn>`,
        },
        {
          action: 'secretsmanager:GetSecretValue',
          resource: `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:hookgate/${STAGE}/projects/*/deploy-key-*`,
        },
      ]);
    });
  });

  it('outputs the webhook and admin URLs, the triggers queue and the table', () => {
    const endpoint = { 'Fn::GetAtt': [Match.stringLikeRegexp('^Api'), 'ApiEndpoint'] };
    template.hasOutput('WebhookBaseUrl', { Value: { 'Fn::Join': ['', [endpoint, '/webhooks/']] } });
    template.hasOutput('AdminUrl', { Value: { 'Fn::Join': ['', [endpoint, '/admin/']] } });
    const triggers = queueId(`hookgate-${STAGE}-triggers.fifo`);
    template.hasOutput('TriggersQueueUrl', { Value: { Ref: triggers } });
    template.hasOutput('TriggersQueueArn', { Value: { 'Fn::GetAtt': [triggers, 'Arn'] } });
    template.hasOutput('TableName', { Value: { Ref: Match.stringLikeRegexp('^StorageTable') } });
  });

  it.each([
    ['Deliveries', 'deliveries'],
    ['Triggers', 'triggers'],
  ])('outputs the URL and ARN of the %s dead-letter queue, for a redrive', (output, name) => {
    const dlq = queueId(`hookgate-${STAGE}-${name}-dlq.fifo`);
    template.hasOutput(`${output}DeadLetterQueueUrl`, { Value: { Ref: dlq } });
    template.hasOutput(`${output}DeadLetterQueueArn`, { Value: { 'Fn::GetAtt': [dlq, 'Arn'] } });
  });

  describe.each(FUNCTIONS)('the %s bundle', (name) => {
    const assetFile = () => {
      const key = lambdaFunction(name).resource.Properties.Code.S3Key as string;
      return join(app.outdir, `asset.${key.replace(/\.zip$/, '')}`, BUNDLE_FILE);
    };
    const bundle = async (external: string[] = []) => {
      const dir = mkdtempSync(join(tmpdir(), 'hookgate-bundle-'));
      try {
        const result = await build({ ...esbuildOptions(ENTRIES[name], dir, external), write: false });
        const js = result.outputFiles?.find((file) => file.path.endsWith(BUNDLE_FILE));
        if (!js) throw new Error('esbuild wrote no bundle');
        return js.text;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };

    it('is exactly what the exported BUNDLING settings build', async () => {
      expect(await bundle()).toBe(readFileSync(assetFile(), 'utf8'));
    });

    it('stays within 700 KB whole (SDK included)', () => {
      expect(readFileSync(assetFile()).byteLength).toBeLessThanOrEqual(WHOLE_BUNDLE_LIMIT);
    });

    it('stays within its own-code budget (100 KB for the webhook)', async () => {
      const own = Buffer.byteLength(await bundle(['@aws-sdk/*']));
      expect(own).toBeLessThanOrEqual(OWN_CODE_LIMIT[name] ?? 100 * KB);
      const whole = readFileSync(assetFile()).byteLength;
      // The webhook calls AWS through AwsJsonClient and bundles no SDK; the others bundle theirs.
      if (name === 'webhook') expect(own).toBe(whole);
      else expect(own).toBeLessThan(whole);
    });

    it('loads as an ES module on Node with only the environment the stack gives it', () => {
      const variables = lambdaFunction(name).resource.Properties.Environment.Variables as Record<
        string,
        unknown
      >;
      const env: Record<string, string> = { PATH: process.env.PATH ?? '', AWS_REGION: 'eu-west-1' };
      for (const [key, value] of Object.entries(variables))
        env[key] = typeof value === 'string' ? value : 'placeholder';
      const script = `import(${JSON.stringify(pathToFileURL(assetFile()).href)}).then((m) => console.log(typeof m.handler))`;
      const out = execFileSync(process.execPath, ['-e', script], { env, encoding: 'utf8', stdio: 'pipe' });
      expect(out.trim()).toBe('function');
      // esbuild's stand-in for `require` in ESM output throws at run time: a bundle needing it would
      // need a createRequire banner in BUNDLING.
      expect(readFileSync(assetFile(), 'utf8')).not.toContain('Dynamic require of');
    });
  });
});

const unbundledApp = () =>
  createHookgateApp({
    outdir: mkdtempSync(join(tmpdir(), 'hookgate-cdk-')),
    builtinCloudFormationValidation: false,
    // No esbuild: these stacks are only checked, never deployed.
    context: { stage: STAGE, 'aws:cdk:bundling-stacks': [] },
  });

describe('the Hookgate stack without a custom domain', () => {
  it("leaves the admin function's WEBHOOK_BASE_URL unset, so it names the domain a request came to", () => {
    const { app: plain, stack: plainStack } = unbundledApp();
    try {
      const admin =
        Template.fromStack(plainStack).findResources('AWS::Lambda::Function')[
          plainStack.getLogicalId(plainStack.admin.function.node.defaultChild as CfnElement)
        ];
      expect(Object.keys(admin?.Properties.Environment.Variables ?? {})).not.toContain('WEBHOOK_BASE_URL');
      expect(admin?.Properties.Environment.Variables).toMatchObject({ STAGE, ROTATION_GRACE_HOURS: '24' });
    } finally {
      rmSync(plain.outdir, { recursive: true, force: true });
    }
  });
});

describe('the cdk-nag gate', () => {
  it('fails synth when the webhook function is given another wildcard, such as the deploy keys', () => {
    const { app: gated, stack: gatedStack } = unbundledApp();
    try {
      gatedStack.webhook.function.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          resources: [gatedStack.secrets.deployKeysArn],
        }),
      );
      expect(() => gated.synth()).toThrow(/AwsSolutions-IAM5/);
    } finally {
      rmSync(gated.outdir, { recursive: true, force: true });
    }
  });
});
