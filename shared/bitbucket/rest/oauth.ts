import * as z from 'zod/mini';
import { BitbucketAuthError, BitbucketRequestRejectedError } from './errors';
import { type Authorizer, createHttpClient, type HttpClientOptions } from './http';

/** Bitbucket Cloud's OAuth 2.0 token endpoint. */
export const DEFAULT_OAUTH_TOKEN_URL = 'https://bitbucket.org/site/oauth2/access_token';

/** A token is renewed this long before Bitbucket says it expires (at most half its lifetime). */
const EXPIRY_MARGIN_MS = 60_000;

const TokenAnswerSchema = z.object({
  access_token: z.string().check(z.minLength(1)),
  expires_in: z.number(),
});

export interface OAuthClientCredentials {
  clientId: string;
  clientSecret: string;
}

export type OAuthOptions = Omit<HttpClientOptions, 'baseUrl' | 'authorizer'> & { tokenUrl?: string };

/**
 * OAuth 2.0 client credentials grant (RFC 6749 §4.4) against Bitbucket Cloud: an Authorizer that
 * fetches an access token, keeps it until shortly before it expires, and asks once for
 * concurrent callers. Its `header()` throws BitbucketAuthError when Bitbucket refuses the client,
 * BitbucketUnavailableError when it fails; `invalidate()` drops the cached token (Bitbucket
 * answered 401) and is true when there was one to drop.
 */
export function oauthTokenSource(
  credentials: OAuthClientCredentials,
  options: OAuthOptions = {},
): Authorizer {
  const { tokenUrl = DEFAULT_OAUTH_TOKEN_URL, ...http } = options;
  const client = createHttpClient({ ...http, baseUrl: tokenUrl });
  const now = options.now ?? Date.now;
  const basic = basicAuth(credentials.clientId, credentials.clientSecret);
  let cached: { token: string; renewAt: number } | undefined;
  let pending: Promise<string> | undefined;

  async function fetchToken(): Promise<string> {
    let answer: z.output<typeof TokenAnswerSchema>;
    try {
      answer = await client.json(
        {
          method: 'POST',
          path: '',
          form: { grant_type: 'client_credentials' },
          authorization: basic,
          // Asking for a token twice does no harm.
          repeatable: true,
        },
        TokenAnswerSchema,
      );
    } catch (error) {
      // RFC 6749 §5.2: a refused client is a 400 (`invalid_client`, `unauthorized_client`, …).
      if (error instanceof BitbucketRequestRejectedError) {
        throw new BitbucketAuthError(
          'Bitbucket refused the OAuth consumer',
          { ...error, reason: 'unauthenticated' },
          { cause: error },
        );
      }
      throw error;
    }
    const lifetimeMs = answer.expires_in * 1000;
    cached = {
      token: answer.access_token,
      renewAt: now() + lifetimeMs - Math.min(EXPIRY_MARGIN_MS, lifetimeMs / 2),
    };
    return answer.access_token;
  }

  return {
    async header() {
      if (cached && now() < cached.renewAt) return `Bearer ${cached.token}`;
      pending ??= fetchToken().finally(() => {
        pending = undefined;
      });
      return `Bearer ${await pending}`;
    },
    invalidate() {
      const had = cached !== undefined;
      cached = undefined;
      return had;
    },
  };
}

/** `Basic base64(user:secret)`. */
export function basicAuth(user: string, secret: string): string {
  return `Basic ${Buffer.from(`${user}:${secret}`, 'utf8').toString('base64')}`;
}
