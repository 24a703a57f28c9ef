import * as z from 'zod/mini';
import type { AwsConnection } from './aws/aws-json-client';
import type { AwsCredentials } from './aws/sigv4';

/** The process environment, or a record of variables standing in for it. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** A variable that must be set (an empty value counts as unset). */
export const requiredVariable = z.string({ error: 'is not set' });

/** An http or https URL, such as a custom domain or an endpoint override. */
export const urlVariable = z.url({ protocol: /^https?$/, error: 'must be an http or https URL' });

/**
 * A number of `unit` (`seconds`, `hours`): more than 0 when `positive`, else 0 or more. Parsed
 * to a number; text that is not one (`30s`, `NaN`, `Infinity`) is refused, not read as NaN.
 */
export function numberVariable(unit: string, { positive }: { positive: boolean }) {
  const fits = (text: string) => {
    const value = Number(text);
    return text.trim() !== '' && Number.isFinite(value) && (positive ? value > 0 : value >= 0);
  };
  const error = positive ? `must be a positive number of ${unit}` : `must be a number of ${unit}, 0 or more`;
  return z.pipe(z.string().check(z.refine(fits, { error })), z.transform(Number));
}

/**
 * Reads the variables `schema` names from `env` and parses them; an empty value counts as unset.
 * A function's config.ts calls it once at module load, so a bad environment fails the cold start.
 * Throws an Error naming every variable that is missing or wrong, and what is wrong with it.
 */
export function parseEnvironment<Schema extends z.ZodMiniObject>(
  schema: Schema,
  env: Environment,
): z.output<Schema> {
  const input: Record<string, string | undefined> = {};
  for (const name of Object.keys(schema.shape)) input[name] = env[name] || undefined;
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '');
    const value = input[name];
    return `${name} ${issue.message}${value === undefined ? '' : ` (got "${value}")`}`;
  });
  throw new Error(`invalid environment: ${problems.join('; ')}`);
}

/**
 * Where AwsJsonClient connects, under the names Lambda and the AWS SDK use: the region Lambda
 * sets, and the SDK's endpoint overrides (its service names: DYNAMODB, SQS, SECRETS_MANAGER).
 */
const AWS_JSON_VARIABLES = {
  AWS_REGION: z.optional(z.string()),
  AWS_DEFAULT_REGION: z.optional(z.string()),
  AWS_ENDPOINT_URL: z.optional(urlVariable),
  AWS_ENDPOINT_URL_DYNAMODB: z.optional(urlVariable),
  AWS_ENDPOINT_URL_SQS: z.optional(urlVariable),
  AWS_ENDPOINT_URL_SECRETS_MANAGER: z.optional(urlVariable),
};

type AwsJsonVariables = z.output<z.ZodMiniObject<typeof AWS_JSON_VARIABLES>>;

/** The schema of a function that calls AWS through AwsJsonClient: `shape` and where AWS is. */
export function awsJsonEnvironment<Shape extends z.core.$ZodShape>(shape: Shape) {
  return z.object({ ...AWS_JSON_VARIABLES, ...shape }).check(
    z.refine((env: Record<string, unknown>) => Boolean(env.AWS_REGION || env.AWS_DEFAULT_REGION), {
      path: ['AWS_REGION'],
      error: 'is not set (nor AWS_DEFAULT_REGION)',
      // Also when another variable is wrong: the message names every problem at once.
      when: () => true,
    }),
  );
}

/**
 * AwsJsonClient's settings for each service, from the variables `awsJsonEnvironment` parsed: the
 * service's own endpoint variable, then AWS_ENDPOINT_URL, else the region's public endpoint.
 * `credentials` is called at every signing. The functions pass a read of Lambda's variables, which
 * AwsJsonClient did itself before: Lambda sets them at init and nothing changes them in a running
 * sandbox, so reading once would sign the same; read late, a bundle still loads without them
 * (the stack's load test, a benchmark's setup) and only a call fails, not the cold start.
 */
export function awsJsonConnections(
  env: AwsJsonVariables,
  credentials: () => AwsCredentials,
): Record<'dynamodb' | 'sqs' | 'secretsmanager', AwsConnection> {
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || '';
  const connect = (endpoint: string | undefined): AwsConnection => ({
    region,
    endpoint: endpoint ?? env.AWS_ENDPOINT_URL,
    credentials,
  });
  return {
    dynamodb: connect(env.AWS_ENDPOINT_URL_DYNAMODB),
    sqs: connect(env.AWS_ENDPOINT_URL_SQS),
    secretsmanager: connect(env.AWS_ENDPOINT_URL_SECRETS_MANAGER),
  };
}

/**
 * The execution role's credentials, which Lambda puts in the environment of every sandbox
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN). Throws when a key is not set.
 */
export function credentialsFromEnvironment(env: Environment): AwsCredentials {
  const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN } = env;
  if (!AWS_ACCESS_KEY_ID || !AWS_SECRET_ACCESS_KEY) {
    throw new Error('no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set');
  }
  return {
    accessKeyId: AWS_ACCESS_KEY_ID,
    secretAccessKey: AWS_SECRET_ACCESS_KEY,
    ...(AWS_SESSION_TOKEN ? { sessionToken: AWS_SESSION_TOKEN } : {}),
  };
}

/** The variables Powertools reads for the lowest level logged, for a logger that is not Powertools. */
export const LOG_LEVEL_VARIABLES = {
  POWERTOOLS_LOG_LEVEL: z.optional(z.string()),
  LOG_LEVEL: z.optional(z.string()),
};

/** The lowest level to log, as Powertools takes it: POWERTOOLS_LOG_LEVEL, else LOG_LEVEL. */
export function logLevelOf(env: { POWERTOOLS_LOG_LEVEL?: string; LOG_LEVEL?: string }): string | undefined {
  return env.POWERTOOLS_LOG_LEVEL || env.LOG_LEVEL || undefined;
}
