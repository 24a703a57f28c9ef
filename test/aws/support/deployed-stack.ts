import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type StackHandle, type StackQueue, wireStack } from './aws-stack';
import { applyAwsEnvironment, type LoadedFunction, loadFunction, runtimeEnvironment } from './lambda';
import { motoClients } from './resources';
import type { CfnTemplate } from './synth';
import { resourcesOf, type TemplateEventSource, templateFunctions, templateRoutes } from './template';

const SCRIPTS = fileURLToPath(new URL('../../support/', import.meta.url));

type Json = any;

/** A stack `cdk deploy` created in moto, as moto's services describe it. */
export interface DeployedStack {
  stack: Json;
  resources: { LogicalResourceId: string; PhysicalResourceId?: string; ResourceType: string }[];
  /**
   * By logical id, what the resource's service answers about it: DescribeTable, GetQueueAttributes,
   * GetFunctionConfiguration, GetEventSourceMapping, GetRole, ...
   */
  described: Record<string, Json>;
}

/** The deployed stack as moto's services describe it (test/support/describe-stack.py). */
export async function describeStack(
  endpoint: string,
  stack: string,
  templatePath: string,
): Promise<DeployedStack> {
  return JSON.parse(await boto(endpoint, 'describe-stack.py', [stack, templatePath])) as DeployedStack;
}

/** A handle on a deployed stack; `stop` puts the environment back. */
export interface DeployedHandle extends StackHandle {
  stop(): void;
}

export interface WireDeployedOptions {
  /** moto's endpoint: where the functions and the harness send every AWS call. */
  endpoint: string;
  stage: string;
  /** The cloud assembly `cdk deploy` deployed: the functions' bundles are its assets. */
  outDir: string;
  template: CfnTemplate;
  deployed: DeployedStack;
}

/**
 * The stack `cdk deploy` created in moto, wired for the tests as `startAwsStack` wires resources
 * it creates itself: the deployed table and queues by their physical ids; every bundled function
 * imported from the asset its deployed code names, with the handler, timeout, memory and
 * environment its deployed configuration (GetFunctionConfiguration) has; the processor's event
 * source as the deployed mapping (GetEventSourceMapping) gives it, which the handle plays since
 * moto runs no function (its own poller is switched off). The HTTP API's routes are the
 * template's: moto's CloudFormation creates no `AWS::ApiGatewayV2::*`.
 */
export async function wireDeployedStack(options: WireDeployedOptions): Promise<DeployedHandle> {
  const { endpoint, stage, outDir, template, deployed } = options;
  const physical = new Map(
    deployed.resources
      .filter((resource) => resource.PhysicalResourceId)
      .map((resource) => [resource.LogicalResourceId, resource.PhysicalResourceId as string]),
  );
  const described = (logicalId: string): Json => {
    const found = deployed.described[logicalId];
    if (!found) throw new Error(`moto deployed no ${logicalId}`);
    return found;
  };

  const tables = resourcesOf(template, 'AWS::DynamoDB::Table');
  if (tables.length !== 1)
    throw new Error(`the template defines ${tables.length} tables; the tier expects one`);
  const tableName = described(tables[0]?.[0] as string).TableName as string;

  const queues: Record<string, StackQueue> = {};
  for (const [logicalId] of resourcesOf(template, 'AWS::SQS::Queue')) {
    const url = onMoto(physical.get(logicalId) ?? '', endpoint);
    const name = url.split('/').pop() as string;
    const short = name.replace(`hookgate-${stage}-`, '').replace(/\.fifo$/, '');
    queues[short] = { url, arn: described(logicalId).QueueArn, logicalId };
  }

  const restoreEnv = applyAwsEnvironment(runtimeEnvironment(endpoint));
  const clients = motoClients(endpoint);
  try {
    const definitions = templateFunctions(template, outDir);
    const instance = randomUUID();
    const functions: Record<string, LoadedFunction> = {};
    for (const definition of definitions) {
      const resource = template.Resources[definition.logicalId];
      const assetPath = String(resource?.Metadata?.['aws:asset:path']);
      const codeKey = resource?.Properties?.Code?.S3Key;
      if (codeKey !== `${assetPath.replace(/^asset\./, '')}.zip`) {
        throw new Error(`${definition.logicalId}'s code (${codeKey}) is not the asset ${assetPath}`);
      }
      const configuration = described(definition.logicalId);
      const [file, exportName] = String(configuration.Handler).split('.') as [string, string];
      const variables = (configuration.Environment?.Variables ?? {}) as Record<string, string>;
      functions[definition.name] = await loadFunction(
        {
          ...definition,
          bundlePath: join(definition.assetDir, `${file}.mjs`),
          exportName,
          timeoutSeconds: configuration.Timeout,
          memorySize: configuration.MemorySize,
        },
        configuration.FunctionName,
        Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, onMoto(value, endpoint)])),
        instance,
      );
    }

    const byArn = (arn: string, of: (logicalId: string) => string | undefined) => {
      const found = [...physical.keys()].find((logicalId) => of(logicalId) === arn);
      if (!found) throw new Error(`no deployed resource has the ARN ${arn}`);
      return found;
    };
    const mappings = resourcesOf(template, 'AWS::Lambda::EventSourceMapping').map(([logicalId]) =>
      described(logicalId),
    );
    const eventSources: TemplateEventSource[] = mappings.map((mapping) => {
      const functionId = byArn(mapping.FunctionArn, (id) => deployed.described[id]?.FunctionArn);
      const fn = definitions.find((definition) => definition.logicalId === functionId);
      if (!fn) throw new Error(`the mapping ${mapping.UUID} names no bundled function`);
      return {
        functionName: fn.name,
        queueLogicalId: byArn(mapping.EventSourceArn, (id) => deployed.described[id]?.QueueArn),
        batchSize: mapping.BatchSize,
        reportBatchItemFailures: (mapping.FunctionResponseTypes ?? []).includes('ReportBatchItemFailures'),
      };
    });
    await boto(
      endpoint,
      'disable-event-sources.py',
      mappings.map((mapping) => mapping.UUID),
    );

    const handle = wireStack({
      stage,
      clients,
      functions,
      routes: templateRoutes(template, definitions),
      eventSources,
      tableName,
      queues,
    });
    return {
      ...handle,
      stop() {
        restoreEnv();
        clients.dynamo.destroy();
        clients.sqs.destroy();
        clients.secrets.destroy();
      },
    };
  } catch (error) {
    restoreEnv();
    clients.dynamo.destroy();
    clients.sqs.destroy();
    clients.secrets.destroy();
    throw error;
  }
}

/**
 * A queue URL of the deployed stack with moto's origin. moto's CloudFormation names every queue
 * URL with AWS's host (it has no request to take a host from). The functions send every SQS call
 * to `AWS_ENDPOINT_URL` whatever the queue URL's host (the webhook's AwsJsonClient; the
 * processor's and the admin function's SDK clients with `useQueueUrlAsEndpoint: false`), so this
 * moves no call; it keeps any call from leaving this machine should one of them ever follow the
 * URL. The path (account and queue name) stays as deployed. Any other value is returned as is.
 */
export function onMoto(value: string, endpoint: string): string {
  return value.replace(/^https:\/\/sqs\.[a-z0-9-]+\.amazonaws\.com(?=\/)/, endpoint);
}

/** Runs one of test/support's boto3 scripts against moto with moto's fake credentials only. */
function boto(endpoint: string, script: string, args: readonly string[]): Promise<string> {
  const { AWS_ENDPOINT_URL: _, ...credentials } = runtimeEnvironment(endpoint);
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...credentials };
  return new Promise((resolve, reject) => {
    execFile(
      'python3',
      [join(SCRIPTS, script), endpoint, ...args],
      { env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${script} failed (${error.message}): ${stderr.slice(-4000)}`));
        else resolve(stdout);
      },
    );
  });
}
