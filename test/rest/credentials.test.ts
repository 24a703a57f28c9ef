import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { createCloudClient } from '../../shared/bitbucket/rest/cloud-client';
import {
  APP_PASSWORDS_REFUSED,
  authorizationHeader,
  type Credentials,
  loadCredentials,
  parseCredentials,
  safeParseCredentials,
} from '../../shared/bitbucket/rest/credentials';
import { DependencyError, ValidationError } from '../../shared/errors';
import { type FakeCloud, startFakeCloud } from '../support/fake-bitbucket/fake-cloud';
import { MemorySecretStore } from '../support/memory-secret-store';

const ALL_SCOPES = ['repository', 'repository:admin', 'pullrequest', 'webhook'];
const REF = { owner: 'acme', slug: 'web' };
const OAUTH: Credentials = {
  kind: 'oauth-client-credentials',
  clientId: 'consumer-id',
  clientSecret: 'consumer-secret',
};

describe('parsing stored credentials', () => {
  it('accepts an API token, an access token and an OAuth consumer for Bitbucket Cloud', () => {
    const inputs = [
      { kind: 'api-token', email: 'dev@example.com', token: 'ATATT3x' },
      { kind: 'access-token', token: 'ATCTT3x' },
      { kind: 'oauth-client-credentials', clientId: 'id', clientSecret: 'secret' },
    ];
    for (const input of inputs) expect(parseCredentials(input, 'bitbucket-cloud')).toEqual(input);
  });

  it('accepts an HTTP access token for Bitbucket Data Center', () => {
    const input = { kind: 'http-access-token', token: 'BBDC-abc' };
    expect(parseCredentials(input, 'bitbucket-data-center')).toEqual(input);
  });

  it.each([
    ['an app-password kind', { kind: 'app-password', username: 'dev', password: 'pw' }],
    ['a username with an appPassword', { username: 'dev', appPassword: 'pw' }],
    ['a username with a password', { username: 'dev', password: 'pw' }],
    ['an app_password kind with a token', { kind: 'app_password', token: 'pw' }],
  ])('refuses %s for Cloud, saying app passwords were removed on 2026-07-28', (_, input) => {
    const error = (() => {
      try {
        parseCredentials(input, 'bitbucket-cloud');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toBe(APP_PASSWORDS_REFUSED);
    expect(APP_PASSWORDS_REFUSED).toMatch(
      /removed app passwords on 2026-07-28.*API token.*email.*access token/,
    );
  });

  it('refuses an API token given with a username instead of the account email', () => {
    expect(() =>
      parseCredentials({ kind: 'api-token', email: 'dev', token: 't' }, 'bitbucket-cloud'),
    ).toThrow(/email: must be the Atlassian account email/);
  });

  it('takes the addresses z.email takes, and refuses the others', () => {
    const emails = [
      'dev@example.com',
      'first.last+ci@sub.example.co.uk',
      "o'brien@example.org",
      'dev',
      'dev@localhost',
      '.dev@example.com',
      'dev@example.c',
      'dev@-example.com',
      'dev @example.com',
    ];
    for (const email of emails) {
      const input = { kind: 'api-token', email, token: 't' };
      const zod = z.email().safeParse(email).success;
      expect(safeParseCredentials(input).success, email).toBe(zod);
    }
    expect(emails.filter((email) => z.email().safeParse(email).success)).toHaveLength(3);
  });

  it('names the problems of credentials by kind, or the kind itself when it is not one', () => {
    expect(safeParseCredentials({ kind: 'access-token', token: 'a b' })).toEqual({
      success: false,
      problems: ['token: must be a non-empty string without whitespace'],
    });
    expect(safeParseCredentials({ kind: 'oauth-client-credentials', clientId: 'id' })).toMatchObject({
      success: false,
      problems: [expect.stringMatching(/^clientSecret: /)],
    });
    for (const input of [{ kind: 'ssh-key' }, { token: 't' }, { kind: 'toString', token: 't' }]) {
      expect(safeParseCredentials(input)).toEqual({
        success: false,
        problems: [
          "kind: must be one of 'api-token', 'access-token', 'http-access-token', 'oauth-client-credentials'",
        ],
      });
    }
    for (const input of ['token', null, [{ kind: 'access-token', token: 't' }]]) {
      expect(safeParseCredentials(input)).toEqual({
        success: false,
        problems: ['credentials: must be an object with a kind'],
      });
    }
    expect(() => parseCredentials({ kind: 'ssh-key' }, 'bitbucket-cloud')).toThrow(
      /^invalid credentials: kind: must be one of .*; Bitbucket Cloud takes kind 'api-token'/,
    );
  });

  it('keeps only the fields of the kind', () => {
    expect(safeParseCredentials({ kind: 'access-token', token: 't', note: 'x' })).toEqual({
      success: true,
      data: { kind: 'access-token', token: 't' },
    });
  });

  it('refuses a token with a line break pasted into it', () => {
    expect(() => parseCredentials({ kind: 'access-token', token: 'abc\n' }, 'bitbucket-cloud')).toThrow(
      ValidationError,
    );
  });

  it('refuses credentials meant for the other platform', () => {
    expect(() => parseCredentials({ kind: 'http-access-token', token: 't' }, 'bitbucket-cloud')).toThrow(
      /do not work with bitbucket-cloud/,
    );
    expect(() => parseCredentials({ kind: 'access-token', token: 't' }, 'bitbucket-data-center')).toThrow(
      /Data Center takes kind 'http-access-token'/,
    );
  });

  it('refuses a Data Center username and password with the Data Center advice', () => {
    expect(() => parseCredentials({ username: 'dev', password: 'pw' }, 'bitbucket-data-center')).toThrow(
      /Data Center takes kind 'http-access-token'/,
    );
  });
});

describe("loading an integration's credentials", () => {
  const SECRET_ID = 'hookgate/test/integrations/acme/credentials';
  const integration = { name: 'acme', credentialsSecretId: SECRET_ID };
  let secrets: MemorySecretStore;

  beforeEach(() => {
    secrets = new MemorySecretStore();
  });

  it('reads, parses and checks them, and answers undefined for an integration without any', async () => {
    const stored = { kind: 'access-token', token: 'ATCTT3x' };
    await secrets.put(SECRET_ID, JSON.stringify(stored));
    expect(await loadCredentials(secrets, integration)).toEqual(stored);
    expect(await loadCredentials(secrets, { name: 'manual' })).toBeUndefined();
  });

  it.each([
    ['missing', undefined, 'the credentials of integration "acme" are missing from the secret store'],
    ['not JSON', '{kind', 'the credentials of integration "acme" are not JSON'],
    [
      'malformed',
      JSON.stringify({ kind: 'access-token', token: 'two words' }),
      'the credentials of integration "acme" are malformed (token: must be a non-empty string without whitespace)',
    ],
  ])('refuses them %s as a ValidationError, which no retry fixes', async (_, text, message) => {
    if (text !== undefined) await secrets.put(SECRET_ID, text);
    const loading = loadCredentials(secrets, integration);
    await expect(loading).rejects.toThrow(new ValidationError(message));
    await expect(loading.catch((error) => error.retryable)).resolves.toBe(false);
  });

  it("passes on the secret store's failure, which a retry may fix", async () => {
    const failure = new DependencyError('secrets unavailable');
    secrets.get = async () => {
      throw failure;
    };
    await expect(loadCredentials(secrets, integration)).rejects.toBe(failure);
  });
});

describe('authorization headers', () => {
  let fake: FakeCloud;

  beforeEach(async () => {
    fake = await startFakeCloud();
    fake.addRepository({ workspace: 'acme', slug: 'web' });
    fake.addOAuthConsumer('consumer-id', 'consumer-secret', ALL_SCOPES, 3600);
  });

  afterEach(async () => {
    await fake.close();
  });

  it('builds Basic email:token for an API token and Bearer for access tokens', async () => {
    await expect(
      authorizationHeader({ kind: 'api-token', email: 'dev@example.com', token: 'api-token-value' }),
    ).resolves.toBe('Basic ZGV2QGV4YW1wbGUuY29tOmFwaS10b2tlbi12YWx1ZQ==');
    await expect(authorizationHeader({ kind: 'access-token', token: 'tok' })).resolves.toBe('Bearer tok');
    await expect(authorizationHeader({ kind: 'http-access-token', token: 'dc' })).resolves.toBe('Bearer dc');
  });

  it('exchanges an OAuth consumer for a token once, then reuses it', async () => {
    const options = { tokenUrl: fake.tokenUrl, network: 'local' as const };
    const first = await authorizationHeader(OAUTH, options);
    const second = await authorizationHeader(OAUTH, options);
    expect(first).toBe(`Bearer ${fake.issuedTokens[0]}`);
    expect(second).toBe(first);
    expect(fake.requests).toHaveLength(1);
    const request = fake.requests[0];
    expect(request?.authorization).toBe('Basic Y29uc3VtZXItaWQ6Y29uc3VtZXItc2VjcmV0');
    expect(request?.contentType).toBe('application/x-www-form-urlencoded');
    expect(String(request?.body)).toBe('grant_type=client_credentials');
  });

  it('sends Basic email:token on every call of a client with an API token', async () => {
    fake.addApiToken('dev@example.com', 'api-token-value');
    const client = createCloudClient({
      baseUrl: fake.apiUrl,
      network: 'local',
      credentials: { kind: 'api-token', email: 'dev@example.com', token: 'api-token-value' },
    });
    await client.getRepository(REF);
    await client.listHooks(REF);
    expect(fake.requests.map((r) => r.authorization)).toEqual([
      'Basic ZGV2QGV4YW1wbGUuY29tOmFwaS10b2tlbi12YWx1ZQ==',
      'Basic ZGV2QGV4YW1wbGUuY29tOmFwaS10b2tlbi12YWx1ZQ==',
    ]);
  });

  it('sends Bearer on every call of a client with an access token', async () => {
    fake.addAccessToken('repo-token', ALL_SCOPES);
    const client = createCloudClient({
      baseUrl: fake.apiUrl,
      network: 'local',
      credentials: { kind: 'access-token', token: 'repo-token' },
    });
    await client.getRepository(REF);
    expect(fake.requests[0]?.authorization).toBe('Bearer repo-token');
  });

  describe('with OAuth client credentials', () => {
    let now = 1_000_000;
    const oauthClient = () =>
      createCloudClient({
        baseUrl: fake.apiUrl,
        network: 'local',
        tokenUrl: fake.tokenUrl,
        credentials: OAUTH,
        now: () => now,
        sleep: async () => {},
      });
    const tokenRequests = () => fake.requestsTo('/site/oauth2/access_token').length;

    it('asks for one token for calls that start together and reuses it', async () => {
      const client = oauthClient();
      await Promise.all([client.getRepository(REF), client.listHooks(REF), client.listDeployKeys(REF)]);
      await client.getRepository(REF);
      expect(tokenRequests()).toBe(1);
      const apiCalls = fake.requests.filter((r) => r.path.startsWith('/2.0/'));
      expect(apiCalls.map((r) => r.authorization)).toEqual(Array(4).fill(`Bearer ${fake.issuedTokens[0]}`));
    });

    it('renews the token shortly before it expires', async () => {
      const client = oauthClient();
      await client.getRepository(REF);
      now += 3_540_000 - 1;
      await client.getRepository(REF);
      expect(tokenRequests()).toBe(1);
      now += 1;
      await client.getRepository(REF);
      expect(tokenRequests()).toBe(2);
      expect(fake.requests.at(-1)?.authorization).toBe(`Bearer ${fake.issuedTokens[1]}`);
    });

    it('fetches a new token once when Bitbucket rejects the cached one', async () => {
      const client = oauthClient();
      await client.getRepository(REF);
      fake.revoke(fake.issuedTokens[0] ?? '');
      await expect(client.getRepository(REF)).resolves.toMatchObject({ fullName: 'acme/web' });
      expect(tokenRequests()).toBe(2);
    });

    it('reports a consumer Bitbucket refuses as invalid credentials, with Bitbucket’s reason', async () => {
      fake.oauthConsumers.delete('consumer-id');
      await expect(oauthClient().checkCredentials(REF)).resolves.toEqual({
        valid: false,
        missingScopes: [],
        detail: 'invalid_client: Invalid OAuth client credentials',
      });
      await expect(oauthClient().getRepository(REF)).rejects.toMatchObject({
        name: 'BitbucketAuthError',
        reason: 'unauthenticated',
      });
    });

    it('reports the scopes the consumer lacks', async () => {
      fake.addOAuthConsumer('consumer-id', 'consumer-secret', ['repository', 'pullrequest']);
      const check = await oauthClient().checkCredentials(REF);
      expect(check).toMatchObject({ valid: true, missingScopes: ['repository:admin', 'webhook'] });
    });
  });
});
