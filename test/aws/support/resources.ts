import { randomBytes } from 'node:crypto';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DynamoDBClient,
  UpdateContinuousBackupsCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { MOTO_CREDENTIALS, MOTO_REGION } from '../../support/moto-server';
import type { CfnTemplate } from './synth';
import { resourcesOf } from './template';

/** moto's one account. */
export const MOTO_ACCOUNT = '123456789012';

/** SDK clients pointed at moto with its fake credentials (for the harness and test assertions). */
export interface MotoClients {
  dynamo: DynamoDBClient;
  sqs: SQSClient;
  secrets: SecretsManagerClient;
}

/** The clients for moto at `endpoint`. */
export function motoClients(endpoint: string): MotoClients {
  const config = { endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS, maxAttempts: 1 };
  return {
    dynamo: new DynamoDBClient(config),
    sqs: new SQSClient(config),
    secrets: new SecretsManagerClient(config),
  };
}

/** What `Ref` and `Fn::GetAtt` give for a resource created in moto. */
export interface CreatedResource {
  type: string;
  ref: string;
  attributes: Record<string, string>;
}

/** The resources created for a template, by logical id, and a resolver for its intrinsics. */
export interface CreatedResources {
  byLogicalId: Map<string, CreatedResource>;
  /** Resolves `Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub` in a template value; throws on any other reference. */
  resolve(value: unknown): unknown;
}

/**
 * Creates in moto the template's DynamoDB tables and SQS queues as the template defines them
 * (keys, indexes, queue attributes, redrive policies resolved between queues), with names as
 * CloudFormation would give them. Function names are resolved too, for environments that name
 * one. Resources of other types are not created; a reference to one fails `resolve`.
 *
 * Created through the APIs rather than moto's CloudFormation, which cannot deploy this stack
 * (it does not create `AWS::ApiGatewayV2::*`, `AWS::SQS::QueuePolicy` or `AWS::CloudWatch::Alarm`).
 */
export async function createTemplateResources(
  template: CfnTemplate,
  stackName: string,
  clients: MotoClients,
  /** Physical names already given (a re-creation after moto's reset keeps them). */
  names: Map<string, string> = new Map(),
): Promise<CreatedResources & { names: Map<string, string> }> {
  const byLogicalId = new Map<string, CreatedResource>();
  const physicalName = (logicalId: string, given?: string) => {
    const name = given ?? names.get(logicalId) ?? `${stackName}-${logicalId}-${randomSuffix()}`;
    names.set(logicalId, name);
    return name;
  };
  const resolve = (value: unknown): unknown => resolveIntrinsics(value, byLogicalId, stackName);

  for (const [logicalId, resource] of resourcesOf(template, 'AWS::DynamoDB::Table')) {
    const { TableName, ...props } = resource.Properties ?? {};
    const name = physicalName(logicalId, TableName);
    await createTable(clients.dynamo, name, props);
    const described = await clients.dynamo.send(new DescribeTableCommand({ TableName: name }));
    byLogicalId.set(logicalId, {
      type: resource.Type,
      ref: name,
      attributes: {
        Arn: described.Table?.TableArn ?? '',
        ...(described.Table?.LatestStreamArn ? { StreamArn: described.Table.LatestStreamArn } : {}),
      },
    });
  }

  // A queue's redrive policy names its dead-letter queue: create queues once what they name exists.
  let pending = resourcesOf(template, 'AWS::SQS::Queue');
  while (pending.length) {
    const ready = pending.filter(([, resource]) =>
      referencedIds(resource.Properties).every((id) => byLogicalId.has(id)),
    );
    if (!ready.length) throw new Error(`queues reference what is not created: ${pending.map(([id]) => id)}`);
    for (const [logicalId, resource] of ready) {
      const { QueueName, Tags: _tags, ...props } = resource.Properties ?? {};
      const name = physicalName(logicalId, QueueName);
      const Attributes: Record<string, string> = {};
      for (const [key, value] of Object.entries(props)) {
        const resolved = resolve(value);
        Attributes[key] = typeof resolved === 'object' ? JSON.stringify(resolved) : String(resolved);
      }
      const { QueueUrl } = await clients.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes }));
      const { Attributes: created } = await clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
      );
      byLogicalId.set(logicalId, {
        type: resource.Type,
        ref: QueueUrl as string,
        attributes: { Arn: created?.QueueArn ?? '', QueueName: name, QueueUrl: QueueUrl as string },
      });
    }
    pending = pending.filter((entry) => !ready.includes(entry));
  }

  for (const [logicalId, resource] of resourcesOf(template, 'AWS::Lambda::Function')) {
    const name = physicalName(logicalId, resource.Properties?.FunctionName);
    byLogicalId.set(logicalId, {
      type: resource.Type,
      ref: name,
      attributes: { Arn: `arn:aws:lambda:${MOTO_REGION}:${MOTO_ACCOUNT}:function:${name}` },
    });
  }
  return { byLogicalId, resolve, names };
}

async function createTable(dynamo: DynamoDBClient, name: string, props: Record<string, any>): Promise<void> {
  const input: CreateTableCommandInput = {
    TableName: name,
    AttributeDefinitions: props.AttributeDefinitions,
    KeySchema: props.KeySchema,
    BillingMode: props.BillingMode,
    ...(props.GlobalSecondaryIndexes ? { GlobalSecondaryIndexes: props.GlobalSecondaryIndexes } : {}),
    ...(props.LocalSecondaryIndexes ? { LocalSecondaryIndexes: props.LocalSecondaryIndexes } : {}),
    ...(props.ProvisionedThroughput ? { ProvisionedThroughput: props.ProvisionedThroughput } : {}),
    ...(props.StreamSpecification ? { StreamSpecification: props.StreamSpecification } : {}),
    ...(props.DeletionProtectionEnabled !== undefined
      ? { DeletionProtectionEnabled: props.DeletionProtectionEnabled }
      : {}),
  };
  await dynamo.send(new CreateTableCommand(input));
  // moto records TTL and point-in-time recovery but never expires an item nor keeps backups.
  if (props.TimeToLiveSpecification) {
    await dynamo.send(
      new UpdateTimeToLiveCommand({
        TableName: name,
        TimeToLiveSpecification: props.TimeToLiveSpecification,
      }),
    );
  }
  if (props.PointInTimeRecoverySpecification) {
    await dynamo.send(
      new UpdateContinuousBackupsCommand({
        TableName: name,
        PointInTimeRecoverySpecification: props.PointInTimeRecoverySpecification,
      }),
    );
  }
}

function resolveIntrinsics(
  value: unknown,
  created: Map<string, CreatedResource>,
  stackName: string,
): unknown {
  const pseudo: Record<string, string> = {
    'AWS::Region': MOTO_REGION,
    'AWS::AccountId': MOTO_ACCOUNT,
    'AWS::StackName': stackName,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
  };
  const find = (logicalId: string): CreatedResource => {
    const resource = created.get(logicalId);
    if (!resource) throw new Error(`the harness does not create ${logicalId}, which the template references`);
    return resource;
  };
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (!node || typeof node !== 'object') return node;
    const entries = Object.entries(node);
    const [key, argument] = entries[0] ?? [];
    if (entries.length === 1 && key === 'Ref') {
      const name = String(argument);
      return pseudo[name] ?? find(name).ref;
    }
    if (entries.length === 1 && key === 'Fn::GetAtt') {
      const [logicalId, attribute] = argument as [string, string];
      const found = find(logicalId).attributes[attribute];
      if (found === undefined) throw new Error(`the harness has no ${attribute} for ${logicalId}`);
      return found;
    }
    if (entries.length === 1 && key === 'Fn::Join') {
      const [separator, parts] = argument as [string, unknown[]];
      return parts.map(walk).join(separator);
    }
    if (entries.length === 1 && key === 'Fn::Sub' && typeof argument === 'string') {
      return argument.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
        const [logicalId, attribute] = name.split('.');
        if (attribute) return String(walk({ 'Fn::GetAtt': [logicalId, attribute] }));
        return String(walk({ Ref: name }));
      });
    }
    if (entries.length === 1 && key?.startsWith('Fn::')) throw new Error(`the harness cannot resolve ${key}`);
    return Object.fromEntries(entries.map(([name, child]) => [name, walk(child)]));
  };
  return walk(value);
}

/** Logical ids a template value refers to through `Ref` or `Fn::GetAtt`. */
function referencedIds(value: unknown): string[] {
  const text = JSON.stringify(value ?? {});
  const refs = [...text.matchAll(/"Ref":"([^"]+)"/g)].map((match) => match[1] as string);
  const atts = [...text.matchAll(/"Fn::GetAtt":\["([^"]+)"/g)].map((match) => match[1] as string);
  return [...refs, ...atts].filter((id) => !id.startsWith('AWS::'));
}

function randomSuffix(): string {
  return randomBytes(6).toString('base64url').replace(/[-_]/g, 'X').toUpperCase().slice(0, 12);
}
