import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { secretIds } from '../shared/secrets/secrets';
import { acknowledgeWildcardResource } from './nag';

/**
 * Everything the admin function does to the secrets it manages (DESIGN §8): exactly the calls of
 * shared/secrets/secrets-manager-store.ts. It creates secrets without tags and never describes one.
 */
export const ADMIN_SECRET_ACTIONS = [
  'secretsmanager:CreateSecret',
  'secretsmanager:PutSecretValue',
  'secretsmanager:GetSecretValue',
  'secretsmanager:DeleteSecret',
];

/**
 * IAM access to the stage's secrets by name prefix (DESIGN §7). The secrets themselves are
 * created at run time by the admin API (or by hand), never by this stack; what the stack owns is
 * who may read which kind. Names come from `shared/secrets` so a grant cannot miss the ids the
 * code uses.
 */
export class SecretAccess {
  /** Webhook secret documents, read by the webhook function. */
  readonly webhookSecretsArn: string;
  /** Bitbucket credentials, managed by the admin function and read by the processor. */
  readonly credentialsArn: string;
  /** Deploy keys, read by pipeline runners. */
  readonly deployKeysArn: string;
  /** Every secret of the stage: what the admin function manages. */
  readonly allArn: string;

  constructor(
    scope: Construct,
    readonly stage: string,
  ) {
    const stack = Stack.of(scope);
    // Secrets Manager appends `-` and six random characters to a secret's name in its ARN.
    const arn = (name: string) =>
      stack.formatArn({
        service: 'secretsmanager',
        resource: 'secret',
        resourceName: `${name}-*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    this.webhookSecretsArn = arn(secretIds.webhookSecret(stage, '*'));
    this.credentialsArn = arn(secretIds.credentials(stage, '*'));
    this.deployKeysArn = arn(secretIds.deployKey(stage, '*'));
    this.allArn = stack.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `hookgate/${stage}/*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  grantReadWebhookSecrets(grantee: iam.IGrantable): iam.Grant {
    return this.grantRead(grantee, this.webhookSecretsArn);
  }

  /** For the processor, which calls Bitbucket's REST API with an integration's credentials. */
  grantReadCredentials(grantee: iam.IGrantable): iam.Grant {
    return this.grantRead(grantee, this.credentialsArn);
  }

  /**
   * The admin function's statements (`AdminSecretsPolicy`): create, rotate, read and delete webhook secrets, credentials and deploy keys of this stage, and nothing else.
   */
  adminStatements(): iam.PolicyStatement[] {
    return [
      new iam.PolicyStatement({
        sid: 'AdminSecretsPolicy',
        actions: ADMIN_SECRET_ACTIONS,
        resources: [this.allArn],
      }),
    ];
  }

  /** Attaches `adminStatements()` to the admin function's role. */
  grantManage(grantee: iam.IGrantable): void {
    const principal = grantee.grantPrincipal;
    for (const statement of this.adminStatements()) principal.addToPrincipalPolicy(statement);
    if (Construct.isConstruct(principal)) {
      acknowledgeWildcardResource(
        principal,
        this.allArn,
        "The admin function creates, rotates and deletes this stage's webhook secrets, credentials and deploy keys, " +
          `named at run time, so it is granted the stage's prefix hookgate/${this.stage}/ and no other secret.`,
      );
    }
  }

  private grantRead(grantee: iam.IGrantable, resourceArn: string): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [resourceArn],
    });
  }
}
