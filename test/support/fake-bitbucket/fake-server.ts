import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the fake received it, for tests to assert on. */
/** A changed file of a fake diff: its path, and its old path when it was renamed. */
export interface FakeChangedFile {
  path: string;
  oldPath?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
  contentType: string | undefined;
  body: unknown;
}

export interface FakeRequest {
  method: string;
  /** Decoded path segments. */
  segments: string[];
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, form fields (URLSearchParams) or text. */
  body: unknown;
  /** `http://127.0.0.1:port`, to build absolute links. */
  origin: string;
}

export interface FakeResponse {
  status: number;
  json?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

/** What the next responses do instead of answering normally. */
export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string; json?: unknown }
  | { kind: 'delay'; ms: number }
  | { kind: 'drop' };

export type Handler = (request: FakeRequest) => FakeResponse | Promise<FakeResponse>;

/**
 * A loopback HTTP server for the Bitbucket fakes: records every request and lets tests inject
 * faults (error statuses with `Retry-After`, slow answers, dropped connections) for the next N.
 */
export class FakeHttpServer {
  readonly requests: RecordedRequest[] = [];
  private readonly faults: Fault[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly server = createServer((req, res) => {
    void this.serve(req, res);
  });
  url = '';

  constructor(private readonly handler: Handler) {}

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
  }

  /** The next `count` requests get `status` (with `Retry-After` when given) instead of an answer. */
  failNext(count: number, status: number, options: { retryAfter?: string; json?: unknown } = {}): void {
    for (let i = 0; i < count; i += 1) this.faults.push({ kind: 'status', status, ...options });
  }

  /** The next `count` requests are answered only after `ms` milliseconds. */
  delayNext(count: number, ms: number): void {
    for (let i = 0; i < count; i += 1) this.faults.push({ kind: 'delay', ms });
  }

  /** The next `count` requests have their connection cut without an answer. */
  dropNext(count: number): void {
    for (let i = 0; i < count; i += 1) this.faults.push({ kind: 'drop' });
  }

  /** Requests whose path ends with `suffix` (or all of them). */
  requestsTo(suffix = ''): RecordedRequest[] {
    return this.requests.filter((r) => r.path.endsWith(suffix));
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const raw = await readAll(req);
    const contentType = req.headers['content-type'];
    const body = parseBody(raw, contentType);
    this.requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      authorization: req.headers.authorization,
      contentType,
      body,
    });

    const fault = this.faults.shift();
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      const headers: Record<string, string> = fault.retryAfter ? { 'retry-after': fault.retryAfter } : {};
      send(res, { status: fault.status, json: fault.json ?? { injected: fault.status }, headers });
      return;
    }
    if (fault?.kind === 'delay') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          resolve();
        }, fault.ms);
        this.timers.add(timer);
      });
      if (res.destroyed) return;
    }

    let response: FakeResponse;
    try {
      response = await this.handler({
        method: req.method ?? 'GET',
        segments: url.pathname.split('/').filter(Boolean).map(decodeURIComponent),
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body,
        origin: `http://${req.headers.host ?? '127.0.0.1'}`,
      });
    } catch (error) {
      response = { status: 500, text: String(error) };
    }
    send(res, response);
  }
}

function send(res: ServerResponse, response: FakeResponse): void {
  if (res.destroyed) return;
  const headers = { ...response.headers };
  let payload = '';
  if (response.json !== undefined) {
    headers['content-type'] = 'application/json; charset=utf-8';
    payload = JSON.stringify(response.json);
  } else if (response.text !== undefined) {
    headers['content-type'] ??= 'text/plain; charset=utf-8';
    payload = response.text;
  }
  res.writeHead(response.status, headers);
  res.end(payload);
}

async function readAll(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(raw: string, contentType: string | undefined): unknown {
  if (!raw) return undefined;
  if (contentType?.includes('application/json')) {
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  }
  if (contentType?.includes('application/x-www-form-urlencoded')) return new URLSearchParams(raw);
  return raw;
}

/** Reads `Authorization: Basic` as `[user, secret]`. */
export function readBasic(header: string | undefined): [string, string] | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? undefined : [decoded.slice(0, colon), decoded.slice(colon + 1)];
}

/** Reads `Authorization: Bearer` as the token. */
export function readBearer(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
}

/** Splits an OpenSSH public key line into `type base64` and its comment. */
export function splitPublicKey(text: string): { body: string; comment: string } | undefined {
  const [type, data, ...comment] = text.trim().split(/\s+/);
  if (!type || !data || !/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp\d+)$/.test(type)) return undefined;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data)) return undefined;
  return { body: `${type} ${data}`, comment: comment.join(' ') };
}

/** A 40-hex commit id from a seed string, so fixtures stay readable. */
export function fakeSha(seed: string): string {
  let hex = '';
  for (let i = 0; hex.length < 40; i += 1) {
    let h = 2166136261 ^ i;
    for (const ch of seed) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
    hex += (h >>> 0).toString(16).padStart(8, '0');
  }
  return hex.slice(0, 40);
}
