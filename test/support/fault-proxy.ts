import * as http from 'node:http';
import type { Socket } from 'node:net';

/**
 * What the proxy does to one call of an operation instead of (or besides) forwarding it:
 * - `hang`: never answers and never forwards; the client's socket is destroyed on `reset`/`stop`.
 * - `delay`: forwards after `ms` (applied even if the client gave up meanwhile, as AWS applies a
 *   request that reached it), then answers if the client is still there.
 * - `status`: answers 500 or 503 with the service's JSON (or XML) error document, unforwarded.
 * - `throttle`: answers 400 with the service's throttling error, unforwarded.
 * - `drop-reply`: forwards, waits for moto's whole answer, then destroys the client's socket.
 */
export type Fault =
  | { kind: 'hang' }
  | { kind: 'delay'; ms: number }
  | { kind: 'status'; status: 500 | 503 }
  | { kind: 'throttle' }
  | { kind: 'drop-reply' };

export type FaultKind = Fault['kind'];

/** One call the proxy saw. */
export interface ProxyCall {
  /** `X-Amz-Target` (`DynamoDB_20120810.PutItem`), else the query API's `Action` (`SendMessage`). */
  operation: string;
  /** The door (`FaultProxy.door`) it came through. */
  door: string;
  /** Epoch ms when the proxy started handling it (a frozen door's call: when thawed). */
  at: number;
  /** Epoch ms when it was answered or abandoned; undefined while pending. */
  endedAt?: number;
  /** The status the client received; undefined when it received none. */
  status?: number;
  fault?: FaultKind;
  /** Whether moto received it (and so may have applied it). */
  forwarded: boolean;
}

/**
 * A separate listening port onto the same proxy, so that a test can tell one client (a Lambda
 * sandbox) from another: freeze it between invocations, close it when the sandbox dies.
 */
export interface ProxyDoor {
  name: string;
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** Holds every new request, unforwarded and unanswered, until `thaw` (a frozen sandbox). */
  freeze(): void;
  /** Handles the held requests now, and later ones at once. */
  thaw(): void;
  /** How many requests it holds now. */
  holding(): number;
  /** Destroys this door's connections, drops what it holds and stops listening (a killed sandbox). */
  close(): Promise<void>;
}

export interface FaultProxy {
  /** The `main` door's endpoint. */
  endpoint: string;
  /**
   * Applies `fault` to the next `times` calls of `operation` (every call when omitted), after any
   * fault already scripted for it. `operation` is an `X-Amz-Target` or a query `Action`. With
   * `after`, that many calls of `operation` pass untouched first (to fault its third call, say).
   */
  inject(operation: string, fault: Fault, options?: { times?: number; after?: number }): void;
  /** Forgets the faults of `operation` (of every operation when omitted); calls already held stay held. */
  clear(operation?: string): void;
  /** Every call seen since the last reset, in order; those of `operation` only when given. */
  calls(operation?: string): ProxyCall[];
  /** Opens another door (a free port); the same name twice is an error. */
  door(name: string): Promise<ProxyDoor>;
  /** Forgets faults and calls, destroys hung and held clients, cancels pending delays. */
  reset(): void;
  /** `reset`, then closes every door. Idempotent. */
  stop(): Promise<void>;
}

interface Rule {
  operation: string;
  fault: Fault;
  remaining: number;
  /** Calls still to pass untouched before the fault applies. */
  skip: number;
}

interface Pending {
  door: string;
  release(): void;
}

/**
 * Starts a loopback proxy to `target` (moto) on a free 127.0.0.1 port. It forwards every request
 * unchanged (the Host header included, so SigV4 signatures still verify) and applies the faults
 * scripted per operation.
 */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let rules: Rule[] = [];
  let calls: ProxyCall[] = [];
  // Hung, held and delayed requests: what reset must release so that nothing outlives a test.
  const pending = new Set<Pending>();
  const doors = new Map<string, ProxyDoor & { sockets: Set<Socket> }>();

  const takeFault = (operation: string): Fault | undefined => {
    const rule = rules.find((r) => r.operation === operation && r.remaining > 0);
    if (!rule) return undefined;
    if (rule.skip > 0) {
      rule.skip -= 1;
      return undefined;
    }
    rule.remaining -= 1;
    return rule.fault;
  };

  const handle = (
    door: string,
    request: http.IncomingMessage,
    body: Buffer,
    response: http.ServerResponse,
  ) => {
    const operation = operationOf(request, body);
    const fault = takeFault(operation);
    const call: ProxyCall = {
      operation,
      door,
      at: Date.now(),
      forwarded: false,
      ...(fault ? { fault: fault.kind } : {}),
    };
    calls.push(call);
    const end = (status?: number) => {
      if (call.endedAt !== undefined) return;
      call.endedAt = Date.now();
      if (status !== undefined) call.status = status;
    };
    response.on('close', () => end());

    const answer = (status: number, headers: http.OutgoingHttpHeaders, payload: Buffer) => {
      if (response.destroyed || response.writableEnded) return end();
      response.writeHead(status, { ...headers, 'content-length': payload.length });
      response.end(payload);
      end(status);
    };
    const forward = (then: (status: number, headers: http.OutgoingHttpHeaders, payload: Buffer) => void) => {
      call.forwarded = true;
      const outgoing = http.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: request.method,
          path: request.url,
          headers: request.headers,
          agent,
        },
        (reply) => {
          const chunks: Buffer[] = [];
          reply.on('data', (chunk: Buffer) => chunks.push(chunk));
          reply.on('end', () => {
            const { 'transfer-encoding': _chunked, connection: _connection, ...headers } = reply.headers;
            then(reply.statusCode ?? 502, headers, Buffer.concat(chunks));
          });
        },
      );
      outgoing.on('error', (error) =>
        answer(502, { 'content-type': 'text/plain' }, Buffer.from(error.message)),
      );
      outgoing.end(body);
    };
    const hold = (release: () => void): Pending => {
      const entry: Pending = {
        door,
        release: () => {
          pending.delete(entry);
          release();
        },
      };
      pending.add(entry);
      return entry;
    };

    switch (fault?.kind) {
      case undefined:
        return forward(answer);
      case 'hang': {
        const entry = hold(() => {
          response.destroy();
          end();
        });
        response.on('close', () => pending.delete(entry));
        return;
      }
      case 'delay': {
        const timer = setTimeout(() => {
          pending.delete(entry);
          forward(answer);
        }, fault.ms);
        const entry = hold(() => {
          clearTimeout(timer);
          response.destroy();
          end();
        });
        return;
      }
      case 'status':
      case 'throttle': {
        const failure = errorAnswer(request, operation, fault);
        return answer(failure.status, failure.headers, Buffer.from(failure.body));
      }
      case 'drop-reply':
        return forward(() => {
          response.destroy();
          end();
        });
    }
  };

  const openDoor = async (name: string): Promise<ProxyDoor> => {
    if (doors.has(name)) throw new Error(`the proxy already has a door named ${name}`);
    let frozen = false;
    const held = new Map<Pending, () => void>();
    const sockets = new Set<Socket>();
    const server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const run = () => handle(name, request, Buffer.concat(chunks), response);
        if (!frozen) return run();
        const entry: Pending = {
          door: name,
          release: () => {
            pending.delete(entry);
            held.delete(entry);
            response.destroy();
          },
        };
        pending.add(entry);
        held.set(entry, run);
        // A client that gives up on a held request leaves nothing to forward.
        response.on('close', () => {
          pending.delete(entry);
          held.delete(entry);
        });
      });
    });
    server.keepAliveTimeout = 60_000;
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (!address || typeof address !== 'object') throw new Error('the proxy has no port');
    const door = {
      name,
      endpoint: `http://127.0.0.1:${address.port}`,
      sockets,
      freeze() {
        frozen = true;
      },
      holding: () => held.size,
      thaw() {
        frozen = false;
        const runs = [...held];
        held.clear();
        for (const [entry, run] of runs) {
          pending.delete(entry);
          run();
        }
      },
      async close() {
        if (!doors.has(name)) return;
        doors.delete(name);
        held.clear();
        for (const entry of [...pending]) if (entry.door === name) entry.release();
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
    doors.set(name, door);
    return door;
  };

  const releaseAll = () => {
    for (const entry of [...pending]) entry.release();
  };
  const main = await openDoor('main');
  return {
    endpoint: main.endpoint,
    inject(operation, fault, options) {
      const times = options?.times ?? Number.POSITIVE_INFINITY;
      const after = options?.after ?? 0;
      if (!(times >= 1)) throw new Error(`times must be at least 1, got ${times}`);
      if (!(Number.isInteger(after) && after >= 0))
        throw new Error(`after must be a whole number, got ${after}`);
      rules.push({ operation, fault, remaining: times, skip: after });
    },
    clear(operation) {
      rules = operation === undefined ? [] : rules.filter((r) => r.operation !== operation);
    },
    calls(operation) {
      return calls.filter((c) => operation === undefined || c.operation === operation).map((c) => ({ ...c }));
    },
    door: openDoor,
    reset() {
      rules = [];
      calls = [];
      releaseAll();
    },
    async stop() {
      rules = [];
      releaseAll();
      await Promise.all([...doors.values()].map((door) => door.close()));
      agent.destroy();
    },
  };
}

/** The operation of an AWS request: its `X-Amz-Target`, else the query API's `Action`. */
export function operationOf(request: http.IncomingMessage, body: Buffer): string {
  const target = request.headers['x-amz-target'];
  if (typeof target === 'string' && target) return target;
  const query = new URL(request.url ?? '/', 'http://proxy').searchParams.get('Action');
  if (query) return query;
  const type = request.headers['content-type'] ?? '';
  if (type.startsWith('application/x-www-form-urlencoded')) {
    const action = new URLSearchParams(body.toString('utf8')).get('Action');
    if (action) return action;
  }
  return `${request.method} ${request.url}`;
}

type ErrorFault = Extract<Fault, { kind: 'status' | 'throttle' }>;

/** The error answer the service itself would give, in its protocol (JSON with `__type`, or query XML). */
function errorAnswer(
  request: http.IncomingMessage,
  operation: string,
  fault: ErrorFault,
): { status: number; headers: http.OutgoingHttpHeaders; body: string } {
  const service = serviceOf(request, operation);
  const { code, message, status } = errorOf(service, fault);
  const json = typeof request.headers['x-amz-target'] === 'string';
  if (!json) {
    const type = status < 500 ? 'Sender' : 'Receiver';
    return {
      status,
      headers: { 'content-type': 'text/xml' },
      body: `<?xml version="1.0"?><ErrorResponse><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>`,
    };
  }
  const namespace: Record<string, string> = {
    dynamodb: 'com.amazonaws.dynamodb.v20120810#',
    sqs: 'com.amazonaws.sqs#',
  };
  const headers: http.OutgoingHttpHeaders = {
    'content-type': request.headers['content-type'] ?? 'application/x-amz-json-1.0',
    'x-amzn-requestid': 'fault-proxy',
  };
  // SQS's JSON protocol is query-compatible: the SDK reads the code from this header too.
  if (service === 'sqs') headers['x-amzn-query-error'] = `${code};${status < 500 ? 'Sender' : 'Receiver'}`;
  return {
    status,
    headers,
    body: JSON.stringify({ __type: `${namespace[service] ?? ''}${code}`, message }),
  };
}

function errorOf(service: string, fault: ErrorFault): { code: string; message: string; status: number } {
  if (fault.kind === 'throttle') {
    if (service === 'dynamodb') {
      return {
        code: 'ProvisionedThroughputExceededException',
        message: 'The level of configured provisioned throughput for the table was exceeded.',
        status: 400,
      };
    }
    if (service === 'sqs') return { code: 'RequestThrottled', message: 'Request is throttled.', status: 400 };
    return { code: 'ThrottlingException', message: 'Rate exceeded', status: 400 };
  }
  if (fault.status === 503) {
    return { code: 'ServiceUnavailable', message: 'Service is unavailable.', status: 503 };
  }
  return {
    code: service === 'dynamodb' ? 'InternalServerError' : 'InternalFailure',
    message: 'Internal server error',
    status: 500,
  };
}

/** `dynamodb`, `sqs`, `secretsmanager`: from the target's prefix, else the signature's scope. */
function serviceOf(request: http.IncomingMessage, operation: string): string {
  const prefix = operation.includes('.') ? (operation.split('.')[0] as string) : '';
  if (prefix.startsWith('DynamoDB')) return 'dynamodb';
  if (prefix === 'AmazonSQS') return 'sqs';
  if (prefix === 'secretsmanager') return 'secretsmanager';
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(request.headers.authorization ?? '');
  return scope?.[1] ?? 'unknown';
}
