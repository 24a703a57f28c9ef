import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { lambdaContext } from '../../../local/lambda-events';
import { MOTO_CREDENTIALS, MOTO_REGION } from '../../support/moto-server';
import { MOTO_ACCOUNT } from './resources';
import type { TemplateFunction } from './template';

/** A function's handler threw (or its promise rejected): what Lambda reports as a function error. */
export class FunctionError extends Error {
  override name = 'FunctionError';
  constructor(
    readonly functionName: string,
    cause: unknown,
  ) {
    super(`${functionName} failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

/** The handler had not answered when its `Timeout` ran out: Lambda's "Task timed out". */
export class FunctionTimeoutError extends Error {
  override name = 'FunctionTimeoutError';
  constructor(
    readonly functionName: string,
    readonly timeoutSeconds: number,
  ) {
    super(`${functionName}: Task timed out after ${timeoutSeconds.toFixed(2)} seconds`);
  }
}

/** One deployed function loaded in this process. */
export interface LoadedFunction {
  /** The template's function this is. */
  definition: TemplateFunction;
  /** Its physical name, as CloudFormation would give it. */
  physicalName: string;
  /** The environment the bundle was imported with (template's, resolved, plus Lambda's own). */
  environment: Record<string, string>;
  /**
   * Invokes the handler as Lambda does: a context whose `getRemainingTimeInMillis()` counts down
   * from the function's `Timeout` in real time, the result passed through JSON. Throws
   * FunctionError when the handler fails and FunctionTimeoutError when it outlives its timeout
   * (the handler's work is not stopped: Lambda would freeze it, a test process cannot).
   */
  invoke(event: unknown, options?: { timeoutSeconds?: number }): Promise<unknown>;
}

/**
 * What Lambda's runtime and the harness put in every function's environment: region, moto's fake
 * credentials (session token included, which moto checks the form of) and the endpoint. Set for
 * the life of a stack, since the SDK reads credentials and endpoints at the first call, not at
 * import. Every other `AWS_*` of the host is removed so no call can reach a real account.
 */
export function runtimeEnvironment(endpoint: string): Record<string, string> {
  return {
    AWS_REGION: MOTO_REGION,
    AWS_DEFAULT_REGION: MOTO_REGION,
    AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: MOTO_CREDENTIALS.sessionToken,
    AWS_ENDPOINT_URL: endpoint,
    AWS_CONFIG_FILE: '/nonexistent/hookgate-aws-tier/config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/hookgate-aws-tier/credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/** Replaces every `AWS_*` variable with `values`; returns a function that puts the old ones back. */
export function applyAwsEnvironment(values: Record<string, string>): () => void {
  const saved: Record<string, string | undefined> = {};
  for (const name of Object.keys(process.env)) {
    if (name.startsWith('AWS_')) {
      saved[name] = process.env[name];
      delete process.env[name];
    }
  }
  for (const [name, value] of Object.entries(values)) {
    if (!(name in saved)) saved[name] = process.env[name];
    process.env[name] = value;
  }
  return () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/**
 * Imports a function's bundle (the `.mjs` CDK built) with `environment` set, since the bundles read
 * their configuration at import time, then restores every variable it set. Each call imports a
 * fresh module instance (the URL carries a hash of the environment and `instance`), so two stacks
 * in one worker never share a cold start.
 */
export async function loadFunction(
  definition: TemplateFunction,
  physicalName: string,
  environment: Record<string, string>,
  instance: string,
): Promise<LoadedFunction> {
  const env: Record<string, string> = {
    ...environment,
    // Lambda's own variables. NODE_OPTIONS from the template cannot apply in-process.
    AWS_LAMBDA_FUNCTION_NAME: physicalName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(definition.memorySize),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${physicalName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: '2025/01/01/[$LATEST]00000000000000000000000000000000',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    LAMBDA_TASK_ROOT: definition.assetDir,
  };
  const saved = new Map<string, string | undefined>();
  for (const [name, value] of Object.entries(env)) {
    saved.set(name, process.env[name]);
    process.env[name] = value;
  }
  let module: Record<string, unknown>;
  try {
    const key = createHash('sha256').update(JSON.stringify(env)).update(instance).digest('hex').slice(0, 12);
    module = await import(/* @vite-ignore */ `${pathToFileURL(definition.bundlePath).href}?instance=${key}`);
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
  const handler = module[definition.exportName];
  if (typeof handler !== 'function') {
    throw new Error(`${definition.bundlePath} exports no function "${definition.exportName}"`);
  }
  const run = handler as (event: unknown, context: Context) => Promise<unknown>;
  return {
    definition,
    physicalName,
    environment: env,
    async invoke(event, options = {}) {
      const timeoutSeconds = options.timeoutSeconds ?? definition.timeoutSeconds;
      const context: Context = {
        ...lambdaContext(physicalName, timeoutSeconds * 1000),
        invokedFunctionArn: `arn:aws:lambda:${MOTO_REGION}:${MOTO_ACCOUNT}:function:${physicalName}`,
        memoryLimitInMB: String(definition.memorySize),
      };
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new FunctionTimeoutError(definition.name, timeoutSeconds)),
          timeoutSeconds * 1000,
        );
      });
      try {
        const result = await Promise.race([
          Promise.resolve()
            .then(() => run(event, context))
            .catch((error: unknown) => {
              throw new FunctionError(definition.name, error);
            }),
          timedOut,
        ]);
        // Lambda hands the caller the JSON of the result, not the object.
        return result === undefined ? null : JSON.parse(JSON.stringify(result));
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
