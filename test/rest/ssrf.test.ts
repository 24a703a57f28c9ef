import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { checkBaseUrl, forbiddenHostReason } from '../../shared/bitbucket/rest/address-policy';
import { createBitbucketClient } from '../../shared/bitbucket/rest/create-client';
import { BitbucketAddressRefusedError, BitbucketApiError } from '../../shared/bitbucket/rest/errors';
import { createHttpClient } from '../../shared/bitbucket/rest/http';
import { ValidationError } from '../../shared/errors';

const LOOPBACK = [
  'http://127.0.0.1',
  'http://localhost',
  'http://LocalHost.',
  'http://app.localhost',
  'http://[::1]',
  'http://2130706433',
  'http://0x7f000001',
  'http://017700000001',
  'http://127.1',
  'http://127.255.255.254:7990',
  'http://0.0.0.0',
  'http://[::ffff:127.0.0.1]',
  'http://[::ffff:7f00:1]',
  'http://[::127.0.0.1]',
  'http://[64:ff9b::127.0.0.1]',
];
const LINK_LOCAL_OR_METADATA = [
  'http://169.254.169.254',
  'http://169.254.170.2',
  'http://2852039166',
  'http://0xa9fea9fe',
  'http://[::ffff:169.254.169.254]',
  'http://[fd00:ec2::254]',
  'http://[fe80::1]',
  'http://169.254.1.1',
  'http://metadata.google.internal',
  'http://metadata.google.internal.',
  'http://metadata',
];
const PRIVATE = [
  'https://10.0.0.5',
  'https://172.16.4.2:8443',
  'https://192.168.1.10/bitbucket',
  'https://[fd12:3456::1]',
  'https://bitbucket.internal.example.com',
];

describe('the base URL of an integration', () => {
  it.each(LOOPBACK)('refuses %s on AWS, naming loopback', (url) => {
    expect(() => checkBaseUrl('bitbucket-data-center', url, 'aws')).toThrow(/must not name a loopback/);
  });

  it.each(LOOPBACK)('allows %s in local mode', (url) => {
    expect(checkBaseUrl('bitbucket-data-center', url, 'local')).toBe(url.replace(/\/+$/, ''));
  });

  it.each(LINK_LOCAL_OR_METADATA)('refuses %s on AWS and in local mode', (url) => {
    for (const policy of ['aws', 'local'] as const) {
      expect(() => checkBaseUrl('bitbucket-data-center', url, policy)).toThrow(
        /must not name a (link-local|cloud metadata)/,
      );
    }
  });

  it.each(PRIVATE)('allows the private or internal address %s on AWS (Data Center lives there)', (url) => {
    expect(checkBaseUrl('bitbucket-data-center', url, 'aws')).toBe(url);
  });

  it('keeps refusing other schemes, credentials and queries, and requires it on Data Center', () => {
    expect(() => checkBaseUrl('bitbucket-data-center', 'file:///etc/passwd', 'local')).toThrow(
      ValidationError,
    );
    expect(() => checkBaseUrl('bitbucket-data-center', 'https://u:p@bb.example.com', 'aws')).toThrow(
      /credentials/,
    );
    expect(() => checkBaseUrl('bitbucket-data-center', 'https://bb.example.com/?a=1', 'aws')).toThrow(
      /query/,
    );
    expect(() => checkBaseUrl('bitbucket-data-center', undefined, 'aws')).toThrow(/needs baseUrl/);
    expect(checkBaseUrl('bitbucket-cloud', undefined, 'aws')).toBeUndefined();
  });

  it('is checked when a client is built, not only by the admin API', () => {
    expect(() =>
      createBitbucketClient('bitbucket-data-center', {
        baseUrl: 'http://[fd00:ec2::254]',
        credentials: { kind: 'http-access-token', token: 't' },
        network: 'local',
      }),
    ).toThrow(/cloud metadata/);
    expect(() =>
      createBitbucketClient('bitbucket-cloud', {
        baseUrl: 'http://127.0.0.1:9/2.0',
        credentials: { kind: 'access-token', token: 't' },
      }),
    ).toThrow(/loopback/);
  });

  it('says nothing against ordinary public hosts', () => {
    expect(forbiddenHostReason('api.bitbucket.org', 'aws')).toBeUndefined();
    expect(forbiddenHostReason('8.8.8.8', 'aws')).toBeUndefined();
  });
});

describe('a request to a host name', () => {
  const answer = z.object({ ok: z.boolean() });
  const calls: string[] = [];
  const client = (resolved: string[], network: 'aws' | 'local' = 'aws') =>
    createHttpClient({
      baseUrl: 'https://bitbucket.corp.example.com/rest',
      network,
      lookup: async () => resolved,
      fetch: async (input) => {
        calls.push(String(input));
        return Response.json({ ok: true });
      },
    });

  afterEach(() => {
    calls.length = 0;
  });

  it('is not sent when the name resolves to the metadata service, in either mode', async () => {
    for (const network of ['aws', 'local'] as const) {
      const error = await client(['10.0.0.4', '169.254.169.254'], network)
        .json({ path: '/api/latest/projects' }, answer)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BitbucketAddressRefusedError);
      expect(error).toMatchObject({ status: 422, message: expect.stringMatching(/cloud metadata/) });
    }
    expect(calls).toEqual([]);
  });

  it('is not sent on AWS when the name resolves to loopback, and is in local mode', async () => {
    await expect(client(['::ffff:127.0.0.1']).json({ path: '/x' }, answer)).rejects.toThrow(/loopback/);
    expect(calls).toEqual([]);
    await expect(client(['127.0.0.1'], 'local').json({ path: '/x' }, answer)).resolves.toEqual({ ok: true });
    expect(calls).toHaveLength(1);
  });

  it('is sent when the name resolves to a private address', async () => {
    await expect(client(['10.1.2.3']).json({ path: '/x' }, answer)).resolves.toEqual({ ok: true });
  });
});

describe('redirects and error bodies', () => {
  let servers: Server[] = [];

  afterEach(async () => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    servers = [];
  });

  async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
    const server = createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('does not follow a redirect to another origin, so the credential stays home', async () => {
    const seen: (string | undefined)[] = [];
    const elsewhere = await serve((request, response) => {
      seen.push(request.headers.authorization);
      response.end('{}');
    });
    const bitbucket = await serve((_request, response) => {
      response.writeHead(302, { location: `${elsewhere}/steal` }).end();
    });
    const http = createHttpClient({
      baseUrl: bitbucket,
      network: 'local',
      authorizer: { header: async () => 'Bearer secret-token' },
    });
    const error = await http.send({ path: '/repos' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BitbucketApiError);
    expect((error as Error).message).toMatch(/redirected to another origin; not followed/);
    expect(seen).toEqual([]);
  });

  it('follows a redirect on the same origin', async () => {
    const base = await serve((request, response) => {
      if (request.url === '/old') response.writeHead(301, { location: '/new' }).end();
      else response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    const http = createHttpClient({ baseUrl: base, network: 'local' });
    await expect(http.send({ path: '/old' })).resolves.toMatchObject({ status: 200, body: { ok: true } });
  });

  it('quotes Bitbucket JSON error messages but never another body', async () => {
    const base = await serve((request, response) => {
      if (request.url === '/json') {
        response
          .writeHead(400, { 'content-type': 'application/json' })
          .end('{"errors":[{"message":"Webhook URL is invalid"}]}');
      } else {
        response.writeHead(400, { 'content-type': 'text/plain' }).end('ami-id\ninstance-id\niam/credentials');
      }
    });
    const http = createHttpClient({ baseUrl: base, network: 'local' });
    const json = (await http.send({ path: '/json' }).catch((e: Error) => e)) as Error;
    expect(json.message).toContain('Webhook URL is invalid');
    const text = (await http.send({ path: '/text' }).catch((e: Error) => e)) as Error;
    expect(text.message).toBe('Bitbucket refused the request (HTTP 400) on GET /text');
    expect(text).toMatchObject({ bitbucketMessage: undefined });
  });
});
