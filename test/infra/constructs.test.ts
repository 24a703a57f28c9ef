import { App, type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Alarms } from '../../infra/alarms';
import { WebhookApi } from '../../infra/api';
import { DeliveryQueues } from '../../infra/queues';
import { ADMIN_SECRET_ACTIONS, SecretAccess } from '../../infra/secret-access';
import { flatten, statementsOfRole } from './template-support';

/** CloudFormation's schema check is for `npm run synth`; it takes seconds to load. */
const UNCHECKED = { builtinCloudFormationValidation: false };

/** A stand-in for a function the stack would bundle: these tests need no esbuild. */
function inlineFunction(stack: Stack, id: string): lambda.Function {
  return new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 204 });'),
  });
}

describe('WebhookApi with an admin function', () => {
  let template: Template;
  let adminRole: string;

  beforeAll(() => {
    const stack = new Stack(new App(UNCHECKED), 'AdminApi');
    const admin = inlineFunction(stack, 'TestAdmin');
    new WebhookApi(stack, 'Api', {
      stage: 'test',
      webhookFunction: inlineFunction(stack, 'TestWebhook'),
      adminFunction: admin,
      logRetention: RetentionDays.ONE_WEEK,
    });
    new SecretAccess(stack, 'test').grantManage(admin);
    template = Template.fromStack(stack);
    adminRole = stack.getLogicalId(admin.role?.node.defaultChild as CfnElement);
  });

  it('routes ANY /admin/{proxy+} to it behind IAM authorization', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'ANY /admin/{proxy+}',
      AuthorizationType: 'AWS_IAM',
    });
  });

  it('still leaves the webhook route open to Bitbucket', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'POST /webhooks/{integration}',
      AuthorizationType: 'NONE',
    });
  });

  it('has no route under /admin without IAM authorization', () => {
    const open = template.findResources('AWS::ApiGatewayV2::Route', {
      Properties: { RouteKey: Match.stringLikeRegexp('/admin'), AuthorizationType: Match.not('AWS_IAM') },
    });
    expect(open).toEqual({});
  });

  it("lets the admin function manage every kind of the stage's secrets, and only those", () => {
    const statements = statementsOfRole(template, adminRole).filter((s) => s.Sid === 'AdminSecretsPolicy');
    expect(statements).toHaveLength(1);
    expect(statements[0]?.Action).toEqual(ADMIN_SECRET_ACTIONS);
    expect(flatten(statements[0]?.Resource)).toBe(
      'arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:hookgate/test/*',
    );
  });

  it('maps no custom domain when none is given', () => {
    expect(template.findResources('AWS::ApiGatewayV2::DomainName')).toEqual({});
  });
});

describe('Alarms without an alarm email', () => {
  let template: Template;

  beforeAll(() => {
    const stack = new Stack(new App(UNCHECKED), 'QuietAlarms');
    const queues = new DeliveryQueues(stack, 'Queues', {
      stage: 'test',
      processorTimeout: Duration.seconds(60),
    });
    const api = new WebhookApi(stack, 'Api', {
      stage: 'test',
      webhookFunction: inlineFunction(stack, 'TestWebhook'),
      logRetention: RetentionDays.ONE_WEEK,
    });
    new Alarms(stack, 'Alarms', {
      stage: 'test',
      queues,
      api: api.api,
      functions: { webhook: inlineFunction(stack, 'TestFn') },
    });
    template = Template.fromStack(stack);
  });

  it('creates no topic and still creates the alarms', () => {
    expect(template.findResources('AWS::SNS::Topic')).toEqual({});
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      AlarmActions: Match.absent(),
    });
  });

  it('hides a received delivery for six processor timeouts', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'hookgate-test-deliveries.fifo',
      VisibilityTimeout: 360,
    });
  });
});
