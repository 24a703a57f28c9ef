import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { SignatureV4 } from '@smithy/signature-v4';

/** One call to the admin API. `path` starts with `/admin/`; undefined query values are left out. */
export interface AdminRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * A 2xx answer: the body as sent (for --json) and parsed. `Body` is the answer type of the route
 * (shared/admin/views.ts), which a verb names; the client itself cannot know it (undefined when
 * the answer is empty or not JSON).
 */
export interface AdminResponse<Body = unknown> {
  status: number;
  text: string;
  body: Body;
}

/** What a signer sees: the request exactly as it will be sent. */
export interface OutgoingRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

/** Returns the headers to send: the request's own plus the authentication ones. */
export type Signer = (request: OutgoingRequest) => Promise<Record<string, string>>;

/** A non-2xx answer from the admin API, with the API's `{error:{code,message}}` when it sent one. */
export class AdminApiError extends Error {
  override name = 'AdminApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The request never got an answer: no connection, a timeout, or no credentials to sign it with. */
export class AdminConnectionError extends Error {
  override name = 'AdminConnectionError';
}

const TIMEOUT_MS = 30_000;

/**
 * Calls the admin API at `endpoint`: the API's base URL (a stage path like `/prod` is kept), or
 * the stack's `AdminUrl` output as it is, whose trailing `/admin/` is dropped.
 */
export class AdminClient {
  private readonly base: string;
  private readonly fetch: typeof fetch;

  constructor(
    endpoint: string,
    private readonly signer: Signer,
    fetchImpl: typeof fetch = fetch,
  ) {
    this.base = endpoint.replace(/\/+$/, '').replace(/\/admin$/, '');
    this.fetch = fetchImpl;
  }

  /**
   * Sends one request and returns the 2xx answer. Throws AdminApiError for any other status and
   * AdminConnectionError when there is no answer.
   */
  async request(request: AdminRequest): Promise<AdminResponse> {
    const url = new URL(`${this.base}${request.path}${queryString(request.query)}`);
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...lowerCaseKeys(request.headers ?? {}),
    };
    const signed = await this.signer({
      method: request.method,
      url,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    // fetch sets Host from the URL, to the same value the signature covers.
    const { host: _host, ...sent } = signed;
    let response: Response;
    let text: string;
    try {
      response = await this.fetch(url, {
        method: request.method,
        headers: sent,
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      text = await response.text();
    } catch (error) {
      throw new AdminConnectionError(`cannot reach ${url.origin}: ${reasonOf(error)}`, { cause: error });
    }
    const parsed = parseJson(text);
    if (!response.ok) throw apiErrorOf(response, text, parsed);
    return { status: response.status, text, body: parsed };
  }
}

/** Authenticates with the local stack's admin token. */
export function bearerSigner(token: string): Signer {
  return async ({ headers }) => ({ ...headers, authorization: `Bearer ${token}` });
}

export type Credentials = ConstructorParameters<typeof SignatureV4>[0]['credentials'];

/**
 * Signs with AWS Signature V4 for API Gateway (`execute-api`), with the given credentials or
 * else the default chain (environment, shared config and SSO, container and instance roles).
 * The SDK modules load only here, so token mode and the other commands never pay for them.
 */
export async function sigV4Signer(options: { region: string; credentials?: Credentials }): Promise<Signer> {
  const { SignatureV4 } = await import('@smithy/signature-v4');
  const credentials =
    options.credentials ?? (await import('@aws-sdk/credential-provider-node')).defaultProvider();
  const signer = new SignatureV4({
    service: 'execute-api',
    region: options.region,
    credentials,
    sha256: Sha256,
  });
  return async ({ method, url, headers, body }) => {
    const query: Record<string, string | string[]> = {};
    for (const [key, value] of url.searchParams) {
      const seen = query[key];
      query[key] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
    }
    let signed: Awaited<ReturnType<SignatureV4['presign']>>;
    try {
      signed = await signer.sign({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query,
        headers: { ...headers, host: url.host },
        ...(body === undefined ? {} : { body }),
      });
    } catch (error) {
      throw new AdminConnectionError(`no AWS credentials to sign with: ${firstLine(reasonOf(error))}`, {
        cause: error,
      });
    }
    return signed.headers as Record<string, string>;
  };
}

/** The region in an `{id}.execute-api.{region}.amazonaws.com` host, else undefined. */
export function regionOfEndpoint(endpoint: string): string | undefined {
  let host: string;
  try {
    host = new URL(endpoint).hostname;
  } catch {
    return undefined;
  }
  return /^[^.]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(host)?.[1];
}

/** True for localhost and loopback addresses, where the local stack (`hookgate dev`) listens. */
export function isLoopback(endpoint: string): boolean {
  let host: string;
  try {
    host = new URL(endpoint).hostname;
  } catch {
    return false;
  }
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** SHA-256 and HMAC-SHA-256 from node:crypto, in the shape SignatureV4 asks for. */
export class Sha256 {
  private hash: Hash | Hmac;

  constructor(private readonly secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = this.fresh();
  }

  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }

  reset(): void {
    this.hash = this.fresh();
  }

  private fresh(): Hash | Hmac {
    if (this.secret === undefined) return createHash('sha256');
    const key =
      typeof this.secret === 'string'
        ? this.secret
        : ArrayBuffer.isView(this.secret)
          ? Buffer.from(this.secret.buffer, this.secret.byteOffset, this.secret.byteLength)
          : Buffer.from(this.secret);
    return createHmac('sha256', key);
  }
}

/** RFC 3986 escaping, the same the SigV4 canonical query uses, so the URL and the signature agree. */
function queryString(query: Record<string, string | undefined> | undefined): string {
  const pairs = Object.entries(query ?? {}).filter((pair): pair is [string, string] => pair[1] !== undefined);
  if (pairs.length === 0) return '';
  return `?${pairs.map(([key, value]) => `${escapeUri(key)}=${escapeUri(value)}`).join('&')}`;
}

function escapeUri(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([key, value]) => [key.toLowerCase(), value]));
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function apiErrorOf(response: Response, text: string, body: unknown): AdminApiError {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  // API Gateway's own refusals (IAM, throttling) carry `{"message": ...}` and no code.
  const message =
    typeof error?.message === 'string'
      ? error.message
      : typeof (body as { message?: unknown } | undefined)?.message === 'string'
        ? (body as { message: string }).message
        : text.trim() || response.statusText || STATUS_CODES[response.status] || 'no message';
  const code =
    typeof error?.code === 'string'
      ? error.code
      : (response.statusText || STATUS_CODES[response.status] || 'error').toLowerCase().replace(/\s+/g, '-');
  return new AdminApiError(response.status, code, firstLine(message));
}

function firstLine(text: string): string {
  return text.replace(/\s*\n[\s\S]*$/, '').slice(0, 500);
}

function reasonOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused';
  if (cause?.code === 'ENOTFOUND') return 'host not found';
  if ((error as Error)?.name === 'TimeoutError') return `no answer within ${TIMEOUT_MS / 1000} s`;
  return cause?.message ?? (error as Error)?.message ?? String(error);
}
