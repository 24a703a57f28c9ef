import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AdminApiError,
  AdminClient,
  AdminConnectionError,
  bearerSigner,
  isLoopback,
  regionOfEndpoint,
  type Signer,
  sigV4Signer,
} from '../../../cli/admin-client';
import { computeSignature, parseAuthorization, type Received } from './support';

// The HTTP client on an injected fetch: what goes on the wire, how answers and failures come back.

interface Sent {
  url: URL;
  init: RequestInit;
}

function recordingFetch(status = 200, body: unknown = {}): { fetch: typeof fetch; sent: Sent[] } {
  const sent: Sent[] = [];
  const fake = async (input: string | URL | Request, init?: RequestInit) => {
    sent.push({ url: new URL(String(input)), init: init ?? {} });
    return new Response(body === undefined ? null : JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json' },
    });
  };
  return { fetch: fake as typeof fetch, sent };
}

/** The request as a server sees it: fetch adds Host from the URL. */
function asReceived({ url, init }: Sent): Received {
  const headers: Record<string, string> = { host: url.host };
  for (const [name, value] of Object.entries((init.headers ?? {}) as Record<string, string>)) {
    headers[name.toLowerCase()] = value;
  }
  return {
    method: init.method ?? 'GET',
    path: url.pathname,
    rawQuery: url.search.slice(1),
    query: Object.fromEntries(url.searchParams),
    headers,
    body: typeof init.body === 'string' ? init.body : '',
  };
}

const FAKE_KEY = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

describe('the independent SigV4 check used by these tests', () => {
  // AWS SigV4 test suite, get-vanilla and get-vanilla-query-order-key-case (aws-sig-v4-test-suite).
  it('reproduces the AWS test-suite signatures', () => {
    const vanilla = {
      method: 'GET',
      path: '/',
      rawQuery: '',
      body: '',
      secretAccessKey: FAKE_KEY.secretAccessKey,
      headers: {
        host: 'example.amazonaws.com',
        'x-amz-date': '20150830T123600Z',
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
      },
    };
    expect(computeSignature(vanilla)).toBe(
      '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    );
    const queryOrder = {
      ...vanilla,
      rawQuery: 'Param2=value2&Param1=value1',
      headers: {
        ...vanilla.headers,
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
      },
    };
    expect(computeSignature(queryOrder)).toBe(
      'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
    );
  });
});

describe('AdminClient', () => {
  it('joins the endpoint (stage path kept) and path, escapes the query and sends the JSON body', async () => {
    const { fetch, sent } = recordingFetch(201, { ok: true });
    const client = new AdminClient('https://api.example.com/prod/', bearerSigner('t0ken'), fetch);
    const response = await client.request({
      method: 'POST',
      path: '/admin/integrations',
      query: { label: "team a's (ci)*", scope: undefined },
      body: { name: 'acme' },
      headers: { 'If-Match': '3' },
    });
    expect(response).toEqual({ status: 201, text: '{"ok":true}', body: { ok: true } });
    const [{ url, init }] = sent as [Sent];
    expect(url.href).toBe('https://api.example.com/prod/admin/integrations?label=team%20a%27s%20%28ci%29%2A');
    expect(init.method).toBe('POST');
    expect(init.body).toBe('{"name":"acme"}');
    expect(init.headers).toMatchObject({
      authorization: 'Bearer t0ken',
      'content-type': 'application/json',
      accept: 'application/json',
      'if-match': '3',
    });
    expect(init.headers).not.toHaveProperty('host');
  });

  it("takes the stack's AdminUrl output as it is, dropping its trailing /admin/", async () => {
    const { fetch, sent } = recordingFetch(200, { items: [] });
    const client = new AdminClient(
      'https://abc.execute-api.eu-west-1.amazonaws.com/admin/',
      bearerSigner('t'),
      fetch,
    );
    await client.request({ method: 'GET', path: '/admin/integrations' });
    const [{ url }] = sent as [Sent];
    expect(url.href).toBe('https://abc.execute-api.eu-west-1.amazonaws.com/admin/integrations');
  });

  it("turns the API's {error:{code,message}} into AdminApiError", async () => {
    const { fetch } = recordingFetch(409, {
      error: { code: 'conflict', message: 'integration acme exists' },
    });
    const client = new AdminClient('http://127.0.0.1:1', bearerSigner('t'), fetch);
    const error = await client
      .request({ method: 'GET', path: '/admin/integrations' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AdminApiError);
    expect(error).toMatchObject({ status: 409, code: 'conflict', message: 'integration acme exists' });
  });

  it("reads API Gateway's own {message} refusals, which carry no code", async () => {
    const { fetch } = recordingFetch(403, { message: 'Forbidden' });
    const client = new AdminClient('http://127.0.0.1:1', bearerSigner('t'), fetch);
    const error = await client
      .request({ method: 'GET', path: '/admin/integrations' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 403, code: 'forbidden', message: 'Forbidden' });
  });

  it('reports an unreachable endpoint as AdminConnectionError naming the origin', async () => {
    const failing = (async () => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
      });
    }) as typeof fetch;
    const client = new AdminClient('http://127.0.0.1:9', bearerSigner('t'), failing);
    const error = await client.request({ method: 'GET', path: '/admin/deliveries' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AdminConnectionError);
    expect((error as Error).message).toBe('cannot reach http://127.0.0.1:9: connection refused');
  });

  it('hands the signer the exact method, URL, headers and body it will send', async () => {
    const seen: Parameters<Signer>[0][] = [];
    const signer: Signer = async (request) => {
      seen.push(request);
      return { ...request.headers, 'x-signed': 'yes' };
    };
    const { fetch, sent } = recordingFetch();
    await new AdminClient('http://127.0.0.1:3000', signer, fetch).request({
      method: 'PATCH',
      path: '/admin/projects/p%201',
      body: { settings: {} },
    });
    expect(seen[0]?.url.href).toBe('http://127.0.0.1:3000/admin/projects/p%201');
    expect(seen[0]?.body).toBe('{"settings":{}}');
    expect(sent[0]?.init.headers).toMatchObject({ 'x-signed': 'yes' });
  });
});

describe('sigV4Signer', () => {
  it('signs for execute-api in a way AWS would verify, body and query included', async () => {
    const { fetch, sent } = recordingFetch();
    const signer = await sigV4Signer({ region: 'eu-west-1', credentials: FAKE_KEY });
    const client = new AdminClient('https://abc123.execute-api.eu-west-1.amazonaws.com', signer, fetch);
    await client.request({
      method: 'POST',
      path: `/admin/deliveries/${encodeURIComponent('{a b}')}/replay`,
      query: { integration: 'acme cloud', b: '1' },
      body: { why: 'test' },
    });
    const received = asReceived(sent[0] as Sent);
    const auth = parseAuthorization(received.headers.authorization as string);
    expect(auth).toMatchObject({ accessKeyId: 'AKIDEXAMPLE', region: 'eu-west-1', service: 'execute-api' });
    expect(auth.signedHeaders).toEqual(expect.arrayContaining(['host', 'x-amz-date', 'content-type']));
    expect(auth.signature).toBe(computeSignature({ ...received, secretAccessKey: FAKE_KEY.secretAccessKey }));
  });

  it('signs the session token of temporary credentials', async () => {
    const { fetch, sent } = recordingFetch();
    const signer = await sigV4Signer({
      region: 'us-east-1',
      credentials: { ...FAKE_KEY, sessionToken: 'SESSION' },
    });
    await new AdminClient('https://x.execute-api.us-east-1.amazonaws.com', signer, fetch).request({
      method: 'GET',
      path: '/admin/integrations',
    });
    const received = asReceived(sent[0] as Sent);
    expect(received.headers['x-amz-security-token']).toBe('SESSION');
    const auth = parseAuthorization(received.headers.authorization as string);
    expect(auth.signedHeaders).toContain('x-amz-security-token');
    expect(auth.signature).toBe(computeSignature({ ...received, secretAccessKey: FAKE_KEY.secretAccessKey }));
  });
});

describe('endpoint helpers', () => {
  it('reads the region from an execute-api host only', () => {
    expect(regionOfEndpoint('https://abc123.execute-api.eu-west-1.amazonaws.com')).toBe('eu-west-1');
    expect(regionOfEndpoint('https://abc123.execute-api.cn-north-1.amazonaws.com.cn/prod')).toBe(
      'cn-north-1',
    );
    expect(regionOfEndpoint('https://hooks.example.com')).toBeUndefined();
    expect(regionOfEndpoint('not a url')).toBeUndefined();
  });

  it('knows loopback endpoints', () => {
    expect(isLoopback('http://127.0.0.1:3000')).toBe(true);
    expect(isLoopback('http://localhost:3000')).toBe(true);
    expect(isLoopback('http://[::1]:3000')).toBe(true);
    expect(isLoopback('https://abc.execute-api.eu-west-1.amazonaws.com')).toBe(false);
    expect(isLoopback('http://127.example.com')).toBe(false);
  });
});

describe('runAdmin on a deployed endpoint', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('signs with the default credential chain for the region of the execute-api host', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDCHAIN');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'chain-secret');
    vi.stubEnv('AWS_SESSION_TOKEN', '');
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('HOOKGATE_ADMIN_TOKEN', '');
    vi.stubEnv('HOOKGATE_ENDPOINT', '');
    const { runAdmin } = await import('../../../cli/admin');
    const { fetch, sent } = recordingFetch(200, { items: [] });
    let printed = '';
    await runAdmin(
      ['integrations', 'list', '--endpoint', 'https://abc123.execute-api.ap-southeast-2.amazonaws.com'],
      (text) => {
        printed += text;
      },
      { fetch },
    );
    expect(printed).toBe('no integrations\n');
    const received = asReceived(sent[0] as Sent);
    const auth = parseAuthorization(received.headers.authorization as string);
    expect(auth).toMatchObject({
      accessKeyId: 'AKIDCHAIN',
      region: 'ap-southeast-2',
      service: 'execute-api',
    });
    expect(auth.signature).toBe(computeSignature({ ...received, secretAccessKey: 'chain-secret' }));
  });
});
