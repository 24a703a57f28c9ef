import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { INDEX_PROJECTED_ATTRIBUTES, TABLE_KEYS } from '../shared/store/table';

/** Item-level DynamoDB actions a function may be granted on the table. */
export type TableItemAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:Query'
  | 'dynamodb:BatchGetItem';

/**
 * Hookgate's one table (DESIGN §7), keyed as `shared/store/table.ts` says so the adapter and the
 * table cannot drift apart. It holds integrations and projects that exist nowhere else, so it is
 * retained and deletion-protected: removing the stack never removes it.
 */
export class Storage extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const string = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: string(TABLE_KEYS.partitionKey),
      sortKey: string(TABLE_KEYS.sortKey),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TABLE_KEYS.timeToLiveAttribute,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of TABLE_KEYS.indexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: string(index.partitionKey),
        sortKey: string(index.sortKey),
        projectionType: dynamodb.ProjectionType.INCLUDE,
        nonKeyAttributes: [...INDEX_PROJECTED_ATTRIBUTES],
      });
    }
  }

  /**
   * Grants item actions on the base table only. The ingest functions never read an index (the
   * indexes serve the admin API), so unlike `table.grant()` this adds no `index/*` resource.
   */
  grantItems(grantee: iam.IGrantable, ...actions: TableItemAction[]): void {
    iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [this.table.tableArn] });
  }

  /**
   * Grants item actions on the base table for items whose partition key starts with one of
   * `prefixes` only (`dynamodb:LeadingKeys`), e.g. `DLV#` for a function that writes deliveries.
   */
  grantItemsUnder(grantee: iam.IGrantable, prefixes: readonly string[], ...actions: TableItemAction[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions,
        resources: [this.table.tableArn],
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': prefixes.map((prefix) => `${prefix}*`) },
        },
      }),
    );
  }

  /**
   * Grants `dynamodb:Query` on each index of `shared/store/table.ts` by its exact ARN (no
   * `index/*`): what the admin API lists integrations, projects and deliveries from, and the sweeper
   * reads integration names and deliveries by receive time from.
   */
  grantQueryIndexes(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:Query'],
      resourceArns: TABLE_KEYS.indexes.map((index) => `${this.table.tableArn}/index/${index.name}`),
    });
  }
}
