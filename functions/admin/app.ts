import { createHash, timingSafeEqual } from 'node:crypto';
import middy from '@middy/core';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyEventV2WithIAMAuthorizer,
  APIGatewayProxyResultV2,
} from 'aws-lambda';
import type {
  AdminAuth,
  AdminContext,
  AdminDeps,
  AdminRequest,
  AdminResult,
  BitbucketClientFactory,
} from '../../shared/admin/context';
import { UnauthorizedError } from '../../shared/admin/errors';
import type { NetworkPolicy } from '../../shared/bitbucket/rest/address-policy';
import { createBitbucketClient } from '../../shared/bitbucket/rest/create-client';
import { ValidationError } from '../../shared/errors';
import { httpErrors, jsonResponse } from '../../shared/http/http-errors';
import { adminIndex, INDEX_PATH, route } from './routes';

/** The principal named in audit lines for local mode's bearer token. */
export const LOCAL_ADMIN = 'local-admin';

export type AdminAdapters = Omit<AdminDeps, 'bitbucket' | 'now' | 'network'> & {
  bitbucket?: BitbucketClientFactory;
  now?: () => Date;
  /** ['aws'] Local mode passes `local`, so a Data Center on loopback can be reached. */
  network?: NetworkPolicy;
};

/** Wires the admin function's dependencies from its adapters (AWS, local mode's, or a test's). */
export function adminDeps(adapters: AdminAdapters): AdminDeps {
  const network = adapters.network ?? 'aws';
  return {
    ...adapters,
    network,
    now: adapters.now ?? (() => new Date()),
    bitbucket:
      adapters.bitbucket ??
      ((integration, credentials) =>
        createBitbucketClient(integration.provider, {
          credentials,
          baseUrl: integration.baseUrl,
          // A connect or repair makes several calls and API Gateway gives up after 30 s: keep
          // each call and each wait short, and let the admin retry a 503 instead.
          timeoutMs: 5_000,
          maxDelayMs: 2_000,
          log: adapters.log,
          network,
        })),
  };
}

/** `/admin/*`: authenticate, route, map the result. Typed errors are mapped by `httpErrors`. */
export function makeHandler(deps: AdminDeps) {
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyResultV2> => {
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
    const method = event.requestContext.http.method.toUpperCase();
    const path = (event.rawPath || '/').replace(/\/+$/, '');
    if (method === 'GET' && path === INDEX_PATH) return jsonResponse(200, adminIndex(deps.auth));
    const context: AdminContext = {
      principal: authenticate(deps.auth, event, headers.authorization),
      webhookBase: (deps.webhookBaseUrl ?? `https://${event.requestContext.domainName}`).replace(/\/+$/, ''),
    };
    const request: Omit<AdminRequest, 'id'> = {
      method,
      path,
      query: event.queryStringParameters ?? {},
      headers,
      body: () => parseBody(event),
    };
    const result: AdminResult = await route(deps, context, request);
    const response = jsonResponse(result.status, result.body ?? {});
    if (result.body === undefined) response.body = '';
    Object.assign(response.headers, result.headers);
    return response;
  };
}

/** The middy-wrapped handler: errors mapped once. */
export function createAdminHandler(deps: AdminDeps) {
  return middy(makeHandler(deps)).use(httpErrors(deps.log));
}

/**
 * Who is calling. IAM: API Gateway verified the SigV4 signature and passes the principal; none
 * means the route is not IAM-protected, which is refused. Token: a constant-time comparison
 * of `Authorization: Bearer <token>`. Throws UnauthorizedError.
 */
export function authenticate(auth: AdminAuth, event: APIGatewayProxyEventV2, authorization?: string): string {
  if (auth.kind === 'iam') {
    const iam = (event as APIGatewayProxyEventV2WithIAMAuthorizer).requestContext.authorizer?.iam;
    const principal = iam?.userArn ?? iam?.callerId;
    if (!principal) throw new UnauthorizedError('the admin API takes IAM-signed (SigV4) requests only');
    return principal;
  }
  const given = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
  // Digests make the lengths equal, so timingSafeEqual tells nothing about the token's length.
  const digest = (text: string) => createHash('sha256').update(text).digest();
  if (!given || !timingSafeEqual(digest(given), digest(auth.token))) {
    throw new UnauthorizedError('send the admin token as "Authorization: Bearer <token>"');
  }
  return LOCAL_ADMIN;
}

function parseBody(event: APIGatewayProxyEventV2): unknown {
  if (!event.body) return undefined;
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError('the request body is not valid JSON');
  }
}
