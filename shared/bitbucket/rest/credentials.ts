import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import type { Provider } from '../../domain/events';
import { ValidationError } from '../../errors';
import { isRecord } from '../../is-record';
import type { SecretReader } from '../../secrets/secrets';
import type { IntegrationRecord } from '../../store/store';
import { listIssues, matches, oneOf, safeParse } from '../../validation';
import type { Authorizer } from './http';
import { basicAuth, DEFAULT_OAUTH_TOKEN_URL, type OAuthOptions, oauthTokenSource } from './oauth';

/**
 * Why app passwords are refused. Atlassian's "Deprecation notice: Bitbucket Cloud app password
 * brownout schedule" (community.atlassian.com, ba-p/3237429) moved the full removal from
 * 2026-06-09 (the earlier announcement, reference/bitbucket-protocol.md §4 [S32]–[S35]) to
 * 2026-07-28, with brownouts (401s) from 2026-06-09 to 2026-07-27.
 */
export const APP_PASSWORDS_REFUSED =
  'Bitbucket Cloud removed app passwords on 2026-07-28 (after brownouts from 2026-06-09): use an API token ' +
  "(kind 'api-token' with your " +
  "Atlassian account email and the token) or an access token (kind 'access-token') instead";

// Tokens go into a header: refuse whitespace (a pasted newline) rather than send a broken one.
const Secret = z.string().check(matches(/^\S+$/, 'must be a non-empty string without whitespace'));

/**
 * What z.email accepts (zod's "practical" email pattern), as a plain regex check: z.email and
 * z.regexes would bundle a string-format class and all of zod's patterns.
 */
const EMAIL =
  /^(?:[A-Za-z0-9_'+-]+\.)*[A-Za-z0-9_'+-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9-]*\.)+[A-Za-z]{2,}$/;

/** Cloud API token: HTTP Basic with the Atlassian account email and the token. */
export const ApiTokenCredentialsSchema = z.object({
  kind: oneOf(['api-token']),
  email: z.string().check(matches(EMAIL, 'must be the Atlassian account email')),
  token: Secret,
});

/** Cloud repository, project or workspace access token: Bearer. */
export const AccessTokenCredentialsSchema = z.object({ kind: oneOf(['access-token']), token: Secret });

/** Data Center HTTP access token (personal, project or repository): Bearer. */
export const HttpAccessTokenCredentialsSchema = z.object({
  kind: oneOf(['http-access-token']),
  token: Secret,
});

/** Cloud OAuth 2.0 consumer, used with the client credentials grant: Bearer. */
export const OAuthClientCredentialsSchema = z.object({
  kind: oneOf(['oauth-client-credentials']),
  clientId: Secret,
  clientSecret: Secret,
});

/** The schema of each of the four kinds of credentials Hookgate accepts. */
const SCHEMAS = {
  'api-token': ApiTokenCredentialsSchema,
  'access-token': AccessTokenCredentialsSchema,
  'http-access-token': HttpAccessTokenCredentialsSchema,
  'oauth-client-credentials': OAuthClientCredentialsSchema,
} as const;

/** Stored Bitbucket credentials, one of the four kinds Hookgate accepts. */
export type Credentials = z.output<(typeof SCHEMAS)[keyof typeof SCHEMAS]>;
export type CredentialsKind = Credentials['kind'];

export type CredentialsResult = { success: true; data: Credentials } | { success: false; problems: string[] };

/**
 * Checks credentials of any kind against the schema their `kind` names (a discriminated union,
 * without bundling zod's). Problems read `path: message`.
 */
export function safeParseCredentials(input: unknown): CredentialsResult {
  if (!isRecord(input)) return { success: false, problems: ['credentials: must be an object with a kind'] };
  const kind = input.kind;
  if (typeof kind !== 'string' || !Object.hasOwn(SCHEMAS, kind)) {
    return { success: false, problems: [`kind: must be one of '${Object.keys(SCHEMAS).join("', '")}'`] };
  }
  const result = safeParse(SCHEMAS[kind as CredentialsKind], input);
  if (result.success) return result;
  return {
    success: false,
    problems: listIssues(result.error.issues, { topLevel: 'credentials' }),
  };
}

/**
 * An integration's stored credentials, or undefined when it has none: read from the secret store,
 * parsed and checked against their kind's schema. Throws ValidationError when they are missing,
 * not JSON or malformed (reading them again gives the same bytes), and the secret store's
 * DependencyError when it could not be read.
 */
export async function loadCredentials(
  secrets: SecretReader,
  integration: Pick<IntegrationRecord, 'name' | 'credentialsSecretId'>,
): Promise<Credentials | undefined> {
  if (!integration.credentialsSecretId) return undefined;
  const unusable = (why: string) =>
    new ValidationError(`the credentials of integration "${integration.name}" are ${why}`);
  const text = await secrets.get(integration.credentialsSecretId);
  if (text === undefined) throw unusable('missing from the secret store');
  let parsed: CredentialsResult;
  try {
    parsed = safeParseCredentials(JSON.parse(text));
  } catch {
    throw unusable('not JSON');
  }
  if (!parsed.success) throw unusable(`malformed (${parsed.problems.join('; ')})`);
  return parsed.data;
}

const KINDS: Record<Provider, readonly CredentialsKind[]> = {
  'bitbucket-cloud': ['api-token', 'access-token', 'oauth-client-credentials'],
  'bitbucket-data-center': ['http-access-token'],
};

/**
 * Validates credentials for a provider. Throws ValidationError naming the problem; app
 * passwords get the message that they no longer work and what to use instead.
 */
export function parseCredentials(input: unknown, provider: Provider): Credentials {
  if (looksLikeAppPassword(input, provider)) throw new ValidationError(APP_PASSWORDS_REFUSED);
  const result = safeParseCredentials(input);
  if (!result.success) {
    throw new ValidationError(`invalid credentials: ${result.problems.join('; ')}; ${expected(provider)}`);
  }
  if (!KINDS[provider].includes(result.data.kind)) {
    throw new ValidationError(
      `credentials of kind '${result.data.kind}' do not work with ${provider}: ${expected(provider)}`,
    );
  }
  return result.data;
}

function looksLikeAppPassword(record: unknown, provider: Provider): boolean {
  if (!isRecord(record)) return false;
  const kind = typeof record.kind === 'string' ? record.kind.toLowerCase().replace(/[_\s]/g, '-') : undefined;
  if (kind === 'app-password' || 'appPassword' in record || 'app_password' in record) return true;
  // Cloud Basic auth with a username and a password was the app-password form.
  return provider === 'bitbucket-cloud' && 'username' in record && 'password' in record;
}

function expected(provider: Provider): string {
  return provider === 'bitbucket-cloud'
    ? "Bitbucket Cloud takes kind 'api-token' {email, token}, 'access-token' {token} or 'oauth-client-credentials' {clientId, clientSecret}"
    : "Bitbucket Data Center takes kind 'http-access-token' {token}";
}

export type AuthorizerOptions = OAuthOptions;

/**
 * An Authorizer for the credentials: a fixed Basic or Bearer header, or for OAuth a token
 * source that fetches and caches access tokens.
 */
export function createAuthorizer(credentials: Credentials, options: AuthorizerOptions = {}): Authorizer {
  if (credentials.kind === 'oauth-client-credentials') return oauthTokenSource(credentials, options);
  const header =
    credentials.kind === 'api-token'
      ? basicAuth(credentials.email, credentials.token)
      : `Bearer ${credentials.token}`;
  return { header: async () => header };
}

// One token source per OAuth consumer and token URL for the life of the process (a warm Lambda
// reuses its token), keyed by a hash so no secret is kept as a map key.
const sharedTokenSources = new Map<string, Authorizer>();

/**
 * The `Authorization` header value for the credentials. Async because OAuth client credentials
 * first exchange the consumer for an access token (cached until shortly before it expires).
 * Throws BitbucketAuthError or BitbucketUnavailableError when that exchange fails.
 */
export async function authorizationHeader(
  credentials: Credentials,
  options: AuthorizerOptions = {},
): Promise<string> {
  if (credentials.kind !== 'oauth-client-credentials') return createAuthorizer(credentials).header();
  const key = createHash('sha256')
    .update(
      JSON.stringify([
        options.tokenUrl ?? DEFAULT_OAUTH_TOKEN_URL,
        credentials.clientId,
        credentials.clientSecret,
      ]),
    )
    .digest('hex');
  let source = sharedTokenSources.get(key);
  if (!source) {
    source = createAuthorizer(credentials, options);
    sharedTokenSources.set(key, source);
  }
  return source.header();
}
