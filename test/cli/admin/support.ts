import { execFile } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const CLI = join(ROOT, 'bin/hookgate.mjs');

/** One request as the fake admin API received it. */
export interface Received {
  method: string;
  /** The path as sent, still percent-encoded. */
  path: string;
  /** The query string as sent, without `?`. */
  rawQuery: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface CannedReply {
  status: number;
  body?: unknown;
}

export interface FakeAdmin {
  url: string;
  received: Received[];
  /** The last request received; fails when there was none. */
  last(): Received;
  /** Answers every next request with this status and JSON body (200 `{}` until set). */
  reply(status: number, body?: unknown): void;
  close(): Promise<void>;
}

/** A loopback HTTP server that records every request and answers with canned JSON. */
export async function startFakeAdmin(): Promise<FakeAdmin> {
  const received: Received[] = [];
  let canned: CannedReply = { status: 200, body: {} };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = req.url ?? '/';
      const at = raw.indexOf('?');
      const rawQuery = at < 0 ? '' : raw.slice(at + 1);
      received.push({
        method: req.method ?? '',
        path: at < 0 ? raw : raw.slice(0, at),
        rawQuery,
        query: Object.fromEntries(new URLSearchParams(rawQuery)),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      if (canned.body === undefined) {
        res.writeHead(canned.status).end();
      } else {
        res.writeHead(canned.status, { 'content-type': 'application/json' }).end(JSON.stringify(canned.body));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    last() {
      const request = received.at(-1);
      if (!request) throw new Error('the fake admin API received no request');
      return request;
    },
    reply(status, body) {
      canned = { status, body };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real CLI (bundled by test/global-setup.ts) with a clean environment: nothing from
 * the caller's AWS or Hookgate settings leaks in, and the credential chain never reaches out.
 */
export function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
  home = ROOT,
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 30_000,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: home,
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_CONFIG_FILE: join(home, 'no-aws-config'),
          AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-aws-credentials'),
          ...env,
        },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr: error && code === -1 ? `${stderr}${error.message}` : stderr });
      },
    );
  });
}

export interface SigV4Check {
  method: string;
  path: string;
  rawQuery: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  secretAccessKey: string;
}

export interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

/** Splits `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`. */
export function parseAuthorization(header: string | undefined): ParsedAuthorization {
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      header ?? '',
    );
  if (!match) throw new Error(`not a SigV4 authorization header: ${header}`);
  const [, accessKeyId, date, region, service, signedHeaders, signature] = match as unknown as string[];
  return {
    accessKeyId: accessKeyId as string,
    date: date as string,
    region: region as string,
    service: service as string,
    signedHeaders: (signedHeaders as string).split(';'),
    signature: signature as string,
  };
}

/**
 * The signature AWS computes for a request as it arrives, written from the SigV4 spec with
 * node:crypto only (no SDK code): canonical request, string to sign, derived key.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 */
export function computeSignature(request: SigV4Check): string {
  const auth = parseAuthorization(header(request.headers, 'authorization'));
  const amzDate = header(request.headers, 'x-amz-date') ?? '';
  const canonicalUri = request.path
    .split('/')
    .map((segment) => rfc3986(segment))
    .join('/');
  const canonicalQuery = request.rawQuery
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf('=');
      const key = decodeURIComponent(at < 0 ? pair : pair.slice(0, at));
      const value = at < 0 ? '' : decodeURIComponent(pair.slice(at + 1));
      return [rfc3986(key), rfc3986(value)] as const;
    })
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  const names = [...auth.signedHeaders].sort();
  const canonicalHeaders = names
    .map((name) => `${name}:${(header(request.headers, name) ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const canonicalRequest = [
    request.method,
    canonicalUri,
    canonicalQuery,
    canonicalHeaders,
    names.join(';'),
    sha256Hex(request.body),
  ].join('\n');
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  let key: Buffer = hmac(`AWS4${request.secretAccessKey}`, auth.date);
  for (const part of [auth.region, auth.service, 'aws4_request']) key = hmac(key, part);
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

function header(headers: SigV4Check['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
