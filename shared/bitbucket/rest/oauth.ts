import * as z from 'zod/mini';
import { BitbucketAuthError, BitbucketRequestRejectedError } from './errors';
import { type Authorizer, createHttpClient, type HttpClient, type HttpClientOptions } from './http';

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
 * OAuth 2.0 client credentials grant (RFC 6749 §4.4) against Bitbucket Cloud: fetches an access
 * token, keeps it until shortly before it expires, and asks once for concurrent callers.
 */
export class OAuthTokenSource implements Authorizer {
  private readonly http: HttpClient;
  private readonly now: () => number;
  private readonly basic: string;
  private cached: { token: string; renewAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(credentials: OAuthClientCredentials, options: OAuthOptions = {}) {
    const { tokenUrl = DEFAULT_OAUTH_TOKEN_URL, ...http } = options;
    this.http = createHttpClient({ ...http, baseUrl: tokenUrl });
    this.now = options.now ?? Date.now;
    this.basic = basicAuth(credentials.clientId, credentials.clientSecret);
  }

  /**
   * `Bearer <token>`, fetching a token when none is cached or it is about to expire.
   * Throws BitbucketAuthError when Bitbucket refuses the client, BitbucketUnavailableError when it fails.
   */
  async header(): Promise<string> {
    if (this.cached && this.now() < this.cached.renewAt) return `Bearer ${this.cached.token}`;
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = undefined;
    });
    return `Bearer ${await this.pending}`;
  }

  /** Drops the cached token (Bitbucket answered 401); true when there was one to drop. */
  invalidate(): boolean {
    const had = this.cached !== undefined;
    this.cached = undefined;
    return had;
  }

  private async fetchToken(): Promise<string> {
    let answer: z.output<typeof TokenAnswerSchema>;
    try {
      answer = await this.http.json(
        {
          method: 'POST',
          path: '',
          form: { grant_type: 'client_credentials' },
          authorization: this.basic,
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
          {
            method: error.method,
            path: error.path,
            upstreamStatus: error.upstreamStatus,
            bitbucketMessage: error.bitbucketMessage,
            attempts: error.attempts,
            reason: 'unauthenticated',
          },
          { cause: error },
        );
      }
      throw error;
    }
    const lifetimeMs = answer.expires_in * 1000;
    this.cached = {
      token: answer.access_token,
      renewAt: this.now() + lifetimeMs - Math.min(EXPIRY_MARGIN_MS, lifetimeMs / 2),
    };
    return answer.access_token;
  }
}

/** `Basic base64(user:secret)`. */
export function basicAuth(user: string, secret: string): string {
  return `Basic ${Buffer.from(`${user}:${secret}`, 'utf8').toString('base64')}`;
}
