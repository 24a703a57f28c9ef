import { CfnOutput, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AccessPolicies } from './access-policies';
import { Alarms } from './alarms';
import { WebhookApi } from './api';
import {
  AdminFunction,
  DeliverySweeper,
  PROCESSOR_TIMEOUT,
  ProcessorFunction,
  WebhookFunction,
} from './functions';
import { PrivateNetwork } from './network';
import { DeliveryQueues } from './queues';
import { SecretAccess } from './secret-access';
import type { HookgateSettings } from './settings';
import { Storage } from './storage';

export type HookgateStackProps = StackProps & HookgateSettings;

/** Everything Hookgate runs on in one AWS account and region (DESIGN §2). */
export class HookgateStack extends Stack {
  readonly settings: HookgateSettings;
  readonly storage: Storage;
  /** The VPC placement of the processor and admin function, when `vpcId` is set. */
  readonly network?: PrivateNetwork;
  readonly queues: DeliveryQueues;
  readonly secrets: SecretAccess;
  readonly webhook: WebhookFunction;
  readonly processor: ProcessorFunction;
  readonly admin: AdminFunction;
  readonly sweeper: DeliverySweeper;
  readonly api: WebhookApi;
  readonly alarms: Alarms;
  readonly accessPolicies: AccessPolicies;

  constructor(scope: Construct, id: string, props: HookgateStackProps) {
    const {
      stage,
      domain,
      logRetention,
      alarmEmail,
      rotationGraceHours,
      throttleRateLimit,
      throttleBurstLimit,
      vpc,
      ...stackProps
    } = props;
    super(scope, id, {
      description: `Hookgate (${stage}): Bitbucket webhooks in, pipeline triggers out`,
      ...stackProps,
    });
    this.settings = {
      stage,
      domain,
      logRetention,
      alarmEmail,
      rotationGraceHours,
      throttleRateLimit,
      throttleBurstLimit,
      ...(vpc ? { vpc } : {}),
    };
    Tags.of(this).add('hookgate:stage', stage);

    this.storage = new Storage(this, 'Storage');
    // Only the functions that call Bitbucket go into the VPC: the webhook function and the
    // sweeper call AWS alone and stay outside, with no endpoint or NAT to depend on.
    if (vpc) this.network = new PrivateNetwork(this, 'Network', vpc);
    const network = this.network ? { network: this.network } : {};
    this.queues = new DeliveryQueues(this, 'Queues', { stage, processorTimeout: PROCESSOR_TIMEOUT });
    this.secrets = new SecretAccess(this, stage);
    this.webhook = new WebhookFunction(this, 'Webhook', {
      storage: this.storage,
      queues: this.queues,
      secrets: this.secrets,
      logRetention,
    });
    this.processor = new ProcessorFunction(this, 'Processor', {
      storage: this.storage,
      queues: this.queues,
      secrets: this.secrets,
      logRetention,
      ...network,
    });
    this.admin = new AdminFunction(this, 'Admin', {
      stage,
      storage: this.storage,
      queues: this.queues,
      secrets: this.secrets,
      logRetention,
      rotationGraceHours,
      // Webhook URLs the admin API hands out name the custom domain, not the execute-api host.
      ...(domain ? { webhookBaseUrl: `https://${domain.domainName}` } : {}),
      ...network,
    });
    this.sweeper = new DeliverySweeper(this, 'Sweeper', {
      storage: this.storage,
      queues: this.queues,
      logRetention,
    });
    this.api = new WebhookApi(this, 'Api', {
      stage,
      webhookFunction: this.webhook.function,
      adminFunction: this.admin.function,
      logRetention,
      throttle: { rateLimit: throttleRateLimit, burstLimit: throttleBurstLimit },
      ...(domain ? { domain } : {}),
    });
    this.alarms = new Alarms(this, 'Alarms', {
      stage,
      queues: this.queues,
      api: this.api.api,
      functions: {
        webhook: this.webhook.function,
        processor: this.processor.function,
        admin: this.admin.function,
        sweeper: this.sweeper.function,
      },
      ...(alarmEmail ? { alarmEmail } : {}),
    });
    this.accessPolicies = new AccessPolicies(this, 'AccessPolicies', {
      stage,
      api: this.api,
      triggers: this.queues.triggers,
      secrets: this.secrets,
    });

    this.outputs();
  }

  private outputs(): void {
    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    output(
      'WebhookBaseUrl',
      `${this.api.url}webhooks/`,
      'Bitbucket webhook URL: append the integration name',
    );
    output('AdminUrl', `${this.api.url}admin/`, 'Admin API base URL (IAM-authorised: SigV4)');
    const customUrl = this.api.customUrl;
    if (customUrl && this.api.domainName) {
      output('CustomWebhookBaseUrl', `${customUrl}webhooks/`, 'Webhook URL on the custom domain');
      output('CustomAdminUrl', `${customUrl}admin/`, 'Admin API base URL on the custom domain');
      output(
        'CustomDomainTarget',
        this.api.domainName.regionalDomainName,
        'Point the custom domain here (CNAME or alias record)',
      );
    }
    output(
      'TriggersQueueUrl',
      this.queues.triggers.queueUrl,
      'triggers.fifo: pipeline runners receive from it',
    );
    output('TriggersQueueArn', this.queues.triggers.queueArn, 'triggers.fifo ARN, for runner IAM policies');
    const deadLetters = [
      ['Deliveries', this.queues.deliveriesDeadLetters, 'deliveries.fifo'],
      ['Triggers', this.queues.triggersDeadLetters, 'triggers.fifo'],
    ] as const;
    for (const [name, queue, source] of deadLetters) {
      output(`${name}DeadLetterQueueUrl`, queue.queueUrl, `Dead-letter queue of ${source}`);
      output(
        `${name}DeadLetterQueueArn`,
        queue.queueArn,
        `Dead-letter queue of ${source}: the --source-arn of aws sqs start-message-move-task (README, Redrive)`,
      );
    }
    output(
      'TableName',
      this.storage.table.tableName,
      'The DynamoDB table (integrations, projects, deliveries)',
    );
    output(
      'AdminPolicyArn',
      this.accessPolicies.admin.managedPolicyArn,
      'Managed policy: the whole admin API',
    );
    output(
      'ReadOnlyPolicyArn',
      this.accessPolicies.readOnly.managedPolicyArn,
      'Managed policy: GET /admin/*',
    );
    output(
      'PipelineRunnerPolicyArn',
      this.accessPolicies.pipelineRunner.managedPolicyArn,
      'Managed policy: consume triggers.fifo and read deploy keys',
    );
  }
}
