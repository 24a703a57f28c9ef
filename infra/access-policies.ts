import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { WebhookApi } from './api';
import { acknowledgeWildcardResource } from './nag';
import type { SecretAccess } from './secret-access';

/** What a pipeline runner does with `triggers.fifo`: receive, extend, delete. */
export const TRIGGER_CONSUMER_ACTIONS = [
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:ChangeMessageVisibility',
  'sqs:GetQueueAttributes',
];

export interface AccessPoliciesProps {
  stage: string;
  api: WebhookApi;
  triggers: sqs.IQueue;
  secrets: SecretAccess;
}

/**
 * Customer-managed policies for the people and machines around Hookgate, to attach to their own
 * roles: `admin` (the whole admin API), `read-only` (its GET routes) and `pipeline-runner`
 * (consume triggers, read deploy keys).
 */
export class AccessPolicies extends Construct {
  readonly admin: iam.ManagedPolicy;
  readonly readOnly: iam.ManagedPolicy;
  readonly pipelineRunner: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: AccessPoliciesProps) {
    super(scope, id);
    this.admin = new iam.ManagedPolicy(this, 'Admin', {
      description: `Hookgate ${props.stage}: every admin API call (/admin/*, any method)`,
      statements: [
        new iam.PolicyStatement({
          sid: 'InvokeAdminApi',
          actions: ['execute-api:Invoke'],
          resources: [props.api.adminArn('ANY')],
        }),
      ],
    });
    this.readOnly = new iam.ManagedPolicy(this, 'ReadOnly', {
      description: `Hookgate ${props.stage}: read-only admin API calls (GET /admin/*)`,
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadAdminApi',
          actions: ['execute-api:Invoke'],
          resources: [props.api.adminArn('GET')],
        }),
      ],
    });
    this.pipelineRunner = new iam.ManagedPolicy(this, 'PipelineRunner', {
      description: `Hookgate ${props.stage}: consume triggers.fifo and read deploy keys to clone`,
      statements: [
        new iam.PolicyStatement({
          sid: 'ConsumeTriggers',
          actions: TRIGGER_CONSUMER_ACTIONS,
          resources: [props.triggers.queueArn],
        }),
        new iam.PolicyStatement({
          sid: 'ReadDeployKeys',
          actions: ['secretsmanager:GetSecretValue'],
          resources: [props.secrets.deployKeysArn],
        }),
      ],
    });

    acknowledgeWildcardResource(
      this.admin,
      props.api.adminArn('ANY'),
      'The admin policy is meant to allow every admin route and method (DESIGN §8), including routes added later; ' +
        'the wildcards stay inside /admin/* of this one API (any stage) and never reach the webhook route.',
    );
    acknowledgeWildcardResource(
      this.readOnly,
      props.api.adminArn('GET'),
      "Read-only access is every GET under /admin/* of this API: the admin API's reads are exactly its GET routes, " +
        'and that set grows as routes are added. No other method and no route outside /admin/ is covered.',
    );
    acknowledgeWildcardResource(
      this.pipelineRunner,
      props.secrets.deployKeysArn,
      "Deploy keys are created per project when it is connected, so they can only be named by prefix; a runner clones any of this stage's " +
        'projects. The grant is GetSecretValue on projects/*/deploy-key only (never webhook secrets or credentials); ' +
        '-* matches the random suffix Secrets Manager appends to a secret ARN.',
    );
  }
}
