import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { httpApiEvent, lambdaContext, type Route } from './lambda-events';
import { StartupError } from './startup-error';

/** API Gateway's payload limit for HTTP APIs; the webhook handler applies its own, smaller one. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

export type HttpApiHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyResultV2>;

export interface LocalServerOptions {
  /** The webhook function's handler. */
  webhook: HttpApiHandler;
  /** The admin function's handler. */
  admin: HttpApiHandler;
  /** Called with every answer the webhook route gives (the console reports the refusals). */
  onWebhookResponse?: (request: { method: string; path: string }, status: number, body: string) => void;
  onError?: (error: Error) => void;
}

export interface LocalServer {
  /** Listens on 127.0.0.1 and returns the port. A port in use or refused is a StartupError. */
  listen(port: number): Promise<number>;
  /** Stops accepting connections and resolves once the requests in flight are answered. */
  close(): Promise<void>;
}

/**
 * The local API Gateway: `POST /webhooks/{integration}` becomes an HTTP API event for the webhook
 * handler and any method on `/admin/{proxy+}` one for the admin handler (which authenticates and
 * answers 404 or 405 itself). Any other path 404, a wrong method on the webhook route 405. Errors
 * are `{error: {code, message}}` like the handlers'.
 */
export function createLocalServer(options: LocalServerOptions): LocalServer {
  let closing = false;
  const server = createServer((request, response) => {
    response.once('finish', () => {
      // Once stopping, a kept-alive connection is closed as soon as its answer is out.
      if (closing) server.closeIdleConnections();
    });
    handle(options, request, response).catch((error: unknown) => {
      options.onError?.(error as Error);
      if (!response.headersSent)
        send(response, 500, { error: { code: 'internal', message: 'internal error' } });
      else response.destroy();
    });
  });
  return {
    listen: (port) => listen(server, port),
    close: () =>
      new Promise((resolve) => {
        if (!server.listening) return resolve();
        closing = true;
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

async function handle(options: LocalServerOptions, request: IncomingMessage, response: ServerResponse) {
  const method = request.method ?? 'GET';
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  const route = routeOf(method, path);
  if (route.kind === 'not-found') {
    await drain(request);
    return send(response, 404, { error: { code: 'not-found', message: route.message } });
  }
  if (route.kind === 'method-not-allowed') {
    await drain(request);
    response.setHeader('allow', 'POST');
    return send(response, 405, {
      error: { code: 'method-not-allowed', message: `${path} takes POST, not ${method}` },
    });
  }
  const body = await readBody(request);
  if (!body) {
    response.setHeader('connection', 'close');
    return send(response, 413, {
      error: { code: 'payload-too-large', message: `the request is over ${MAX_REQUEST_BYTES} bytes` },
    });
  }
  const event = httpApiEvent(
    {
      method,
      url: request.url ?? '/',
      headers: request.headers,
      body,
      sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
    },
    route.route,
  );
  if (route.kind === 'admin') {
    // API Gateway gives up on an integration after 30 s; the admin function ends at 29 s.
    write(response, await options.admin(event, lambdaContext('hookgate-local-admin', 29_000)));
    return;
  }
  const result = await options.webhook(event, lambdaContext('hookgate-local-webhook'));
  const answer = write(response, result);
  options.onWebhookResponse?.({ method, path }, answer.status, answer.body);
}

type Routed =
  | { kind: 'webhook' | 'admin'; route: Route }
  | { kind: 'method-not-allowed' }
  | { kind: 'not-found'; message: string };

/** The route API Gateway would match: `POST /webhooks/{integration}` or `ANY /admin/{proxy+}`. */
export function routeOf(method: string, path: string): Routed {
  const noRoute = { kind: 'not-found', message: `no route for ${method} ${path}` } as const;
  const webhook = /^\/webhooks\/([^/]+)$/.exec(path);
  if (webhook?.[1]) {
    if (method !== 'POST') return { kind: 'method-not-allowed' };
    const integration = decoded(webhook[1]);
    if (integration === undefined) return noRoute;
    return {
      kind: 'webhook',
      route: { routeKey: 'POST /webhooks/{integration}', pathParameters: { integration } },
    };
  }
  // A greedy path variable matches one segment at least; `/admin` and `/admin/` (the URL the
  // banner prints) go to the admin handler as `ANY /admin`, which answers its index there.
  if (path === '/admin' || path === '/admin/')
    return { kind: 'admin', route: { routeKey: 'ANY /admin', pathParameters: {} } };
  const admin = /^\/admin\/(.+)$/.exec(path);
  if (admin?.[1]) {
    const proxy = decoded(admin[1]);
    if (proxy === undefined) return noRoute;
    return { kind: 'admin', route: { routeKey: 'ANY /admin/{proxy+}', pathParameters: { proxy } } };
  }
  return noRoute;
}

function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** The request body, or undefined when it is over the limit (read to its end either way). */
async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    // Leaving the loop early would destroy the socket before the 413 is written.
    if (size <= MAX_REQUEST_BYTES) chunks.push(chunk as Buffer);
  }
  return size > MAX_REQUEST_BYTES ? undefined : Buffer.concat(chunks);
}

async function drain(request: IncomingMessage): Promise<void> {
  for await (const _ of request) {
    // Discarded: the answer does not depend on the body.
  }
}

function write(response: ServerResponse, result: APIGatewayProxyResultV2): { status: number; body: string } {
  if (typeof result === 'string') {
    response.setHeader('content-type', 'application/json');
    response.statusCode = 200;
    response.end(result);
    return { status: 200, body: result };
  }
  const status = result.statusCode ?? 200;
  for (const [name, value] of Object.entries(result.headers ?? {})) response.setHeader(name, String(value));
  if (result.cookies?.length) response.setHeader('set-cookie', result.cookies);
  const body = result.body ?? '';
  response.statusCode = status;
  response.end(result.isBase64Encoded ? Buffer.from(body, 'base64') : body);
  return { status, body: result.isBase64Encoded ? '' : body };
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.statusCode = status;
  response.setHeader('content-type', 'application/json');
  response.end(JSON.stringify(body));
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const reason =
        error.code === 'EADDRINUSE'
          ? `port ${port} on 127.0.0.1 is already in use (pass --port to pick another)`
          : error.code === 'EACCES'
            ? `not allowed to listen on port ${port} (pass --port to pick another)`
            : `cannot listen on 127.0.0.1:${port}: ${error.message}`;
      reject(new StartupError(reason));
    };
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
