import type { Provider } from '../../domain/events';
import { ValidationError } from '../../errors';
import { checkBaseUrl, type NetworkPolicy } from './address-policy';
import { type ClientOptions, type Connection, checkRepoRef, type RepoRef } from './client';
import { createAuthorizer } from './credentials';
import { createHttpClient } from './http';

/** Bitbucket Cloud's REST API root. */
export const CLOUD_API_URL = 'https://api.bitbucket.org/2.0';

/** A connection and the platform it speaks to: what the functions of `./pull-requests` take. */
export interface ProviderConnection {
  readonly provider: Provider;
  readonly connection: Connection;
}

/**
 * How to reach an integration's repositories, without the admin operations of a full client
 * (the processor bundles only this). `baseUrl` is optional on Cloud and the server root on Data
 * Center; it is checked against `options.network` (`checkBaseUrl`). Throws ValidationError for
 * credentials of the other platform, a missing Data Center base URL or an unusable base URL.
 */
export function createConnection(
  provider: Provider,
  options: ClientOptions & { baseUrl?: string },
): ProviderConnection {
  const { credentials, tokenUrl, baseUrl, ...http } = options;
  const root = apiRootOf(provider, baseUrl, http.network ?? 'aws');
  if (provider === 'bitbucket-cloud') {
    if (credentials.kind === 'http-access-token') {
      throw new ValidationError(
        'an HTTP access token is a Data Center credential; Cloud takes an API token, an access token or an OAuth consumer',
      );
    }
    return {
      provider,
      connection: {
        http: createHttpClient({
          ...http,
          baseUrl: root,
          authorizer: createAuthorizer(credentials, { ...http, tokenUrl }),
        }),
        repoPath: (ref: RepoRef) =>
          `/repositories/${encodeURIComponent(checkRepoRef(ref).owner)}/${encodeURIComponent(ref.slug)}`,
      },
    };
  }
  if (credentials.kind !== 'http-access-token') {
    throw new ValidationError(
      `Data Center takes an HTTP access token, not credentials of kind '${credentials.kind}'`,
    );
  }
  return {
    provider,
    connection: {
      http: createHttpClient({ ...http, baseUrl: root, authorizer: createAuthorizer(credentials) }),
      // `latest` is what the 9.x OpenAPI spec uses; `1.0` names the same resources.
      repoPath: (ref: RepoRef) => `/api/latest/${dataCenterRepoPart(ref)}`,
    },
  };
}

/**
 * The REST API root of an integration: Cloud's own or its base URL, a Data Center server root
 * with `/rest` (given with or without it). Throws checkBaseUrl's ValidationError.
 */
function apiRootOf(provider: Provider, baseUrl: string | undefined, policy: NetworkPolicy): string {
  if (provider === 'bitbucket-cloud') return checkBaseUrl(provider, baseUrl, policy) ?? CLOUD_API_URL;
  return `${checkBaseUrl(provider, baseUrl, policy).replace(/\/rest$/, '')}/rest`;
}

/** `projects/{key}/repos/{slug}`: the part of a Data Center path that names a repository. */
export function dataCenterRepoPart(ref: RepoRef): string {
  return `projects/${encodeURIComponent(checkRepoRef(ref).owner)}/repos/${encodeURIComponent(ref.slug)}`;
}
