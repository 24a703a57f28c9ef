import * as http from 'node:http';
import * as https from 'node:https';
import { currentDeadline } from '../deadline';
import { type AwsCredentials, SigningKeyCache, signPost } from './sigv4';

/** One signed request, ready to send. */
export interface AwsHttpRequest {
  url: URL;
  headers: Record<string, string>;
  body: string;
  /** This attempt's timeout; the client also enforces it, whatever the transport does. */
  timeoutMs?: number;
  /** Aborted when the attempt times out, so a transport can drop its connection. */
  signal?: AbortSignal;
}

export interface AwsHttpResponse {
  status: number;
  body: string;
}

/** Sends a request and resolves with the answer; rejects on a network fault or timeout. */
export type AwsTransport = (request: AwsHttpRequest) => Promise<AwsHttpResponse>;

export interface AwsJsonClientOptions {
  /** The signing name and endpoint prefix: `dynamodb`, `sqs`, `secretsmanager`. */
  service: string;
  /** The `X-Amz-Target` prefix: `DynamoDB_20120810`, `AmazonSQS`, `secretsmanager`. */
  targetPrefix: string;
  /** `1.0` for DynamoDB and SQS, `1.1` for Secrets Manager. */
  jsonVersion: '1.0' | '1.1';
  /** Signed for, and part of the default endpoint (a function's config.ts reads AWS_REGION). */
  region: string;
  /** [`https://<service>.<region>.amazonaws.com`] */
  endpoint?: string;
  /** The keys, or a function called for them at every attempt (see the functions' config.ts). */
  credentials: AwsCredentials | (() => AwsCredentials);
  /** Requests sent at most, the first included [3, as the SDK's standard retry mode]. */
  maxAttempts?: number;
  /** Per attempt, cut to what is left of `currentDeadline()` [5 000 ms]. */
  timeoutMs?: number;
  /** [Node's http or https, keep-alive] The benchmark passes an in-process fake here. */
  transport?: AwsTransport;
  /** Maps each request and response body (DynamoDB's binary attributes). */
  replacer?: (this: unknown, key: string, value: unknown) => unknown;
  reviver?: (this: unknown, key: string, value: unknown) => unknown;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => Date;
}

/** Where a client connects and what it signs with: what a function's config.ts gives each service. */
export type AwsConnection = Pick<AwsJsonClientOptions, 'region' | 'endpoint' | 'credentials'>;

/** An error answer of an AWS service: `name` is its error code (`ConditionalCheckFailedException`). */
export class AwsServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    /** The whole error document (DynamoDB puts the current `Item` of a failed condition here). */
    readonly details: Record<string, unknown>,
    readonly attempts: number,
  ) {
    super(message);
    this.name = code;
  }
}

/** A request that got no answer: the network failed or the timeout passed. */
export class AwsNetworkError extends Error {
  override name = 'AwsNetworkError';
}

/** The invocation's budget was spent before a first attempt could be made; nothing was sent. */
export class AwsDeadlineError extends AwsNetworkError {
  override name = 'AwsDeadlineError';
}

/**
 * The shortest attempt worth starting: a DynamoDB, SQS or Secrets Manager call in the region
 * answers in a few milliseconds, so an attempt with less than this left would mostly time out.
 */
export const MIN_ATTEMPT_MS = 100;

// Error codes the SDK's standard retry mode treats as throttling or transient.
const RETRYABLE_CODES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottledException',
  'RequestThrottled',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalServerError',
  'InternalFailure',
  'ServiceUnavailable',
]);

/** Longest wait between attempts, as the SDK's standard retry mode. */
const MAX_BACKOFF_MS = 20_000;

/**
 * A small client for the AWS JSON protocols (DynamoDB, SQS, Secrets Manager) on Node's http
 * module: SigV4 signing, keep-alive connections, and the SDK's standard retry policy (up to 3
 * attempts, full-jitter exponential backoff from 100 ms, for throttling, 5xx and network faults),
 * all inside the invocation's budget (`currentDeadline()`, DESIGN §11): each attempt's timeout is
 * cut to what is left, and a retry is made only when its backoff and a minimal attempt still fit. The webhook function and local mode call AWS through
 * it: an SDK v3 call costs about 0.4 ms of CPU in its middleware stack, this path about a
 * seventh of that (bench/README.md).
 */
export class AwsJsonClient {
  private readonly endpoint: URL;
  private readonly region: string;
  private readonly contentType: string;
  private readonly keys = new SigningKeyCache();
  private readonly agent: http.Agent;
  private readonly transport: AwsTransport;

  constructor(private readonly options: AwsJsonClientOptions) {
    this.region = options.region;
    if (!this.region) throw new Error(`no AWS region for ${options.service}`);
    this.endpoint = new URL(options.endpoint ?? `https://${options.service}.${this.region}.amazonaws.com`);
    this.contentType = `application/x-amz-json-${options.jsonVersion}`;
    const Agent = this.endpoint.protocol === 'http:' ? http.Agent : https.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: 50 });
    this.transport = options.transport ?? nodeTransport(this.agent);
  }

  /**
   * Calls `operation` with `input` and resolves with its output. Throws AwsServiceError, or
   * AwsNetworkError (AwsDeadlineError when the budget was spent before anything was sent).
   */
  async call<T>(operation: string, input: object): Promise<T> {
    const { credentials, sleep = delay, random = Math.random, now = () => new Date() } = this.options;
    const maxAttempts = this.options.maxAttempts ?? 3;
    const limitMs = this.options.timeoutMs ?? 5_000;
    const deadline = currentDeadline();
    const minimalMs = Math.min(MIN_ATTEMPT_MS, limitMs);
    const body = JSON.stringify(input, this.options.replacer);
    const headers = {
      'content-type': this.contentType,
      'x-amz-target': `${this.options.targetPrefix}.${operation}`,
    };
    for (let attempt = 1; ; attempt++) {
      const timeoutMs = deadline.attemptTimeoutMs(limitMs);
      if (timeoutMs < minimalMs) {
        throw new AwsDeadlineError(`${operation}: the invocation's budget is spent (${timeoutMs} ms left)`);
      }
      // Signed per attempt: a signature is valid for 5 minutes, and backoff may outlast a clock step.
      const signed = signPost(
        { url: this.endpoint, headers, body },
        typeof credentials === 'function' ? credentials() : credentials,
        this.region,
        this.options.service,
        now(),
        this.keys,
      );
      let response: AwsHttpResponse | undefined;
      let failure: Error | undefined;
      try {
        response = await this.attempt({ url: this.endpoint, headers: signed, body }, timeoutMs);
      } catch (error) {
        failure =
          error instanceof AwsNetworkError
            ? error
            : new AwsNetworkError((error as Error).message, { cause: error });
      }
      if (response) {
        if (response.status >= 200 && response.status < 300) {
          return (response.body ? JSON.parse(response.body, this.options.reviver) : {}) as T;
        }
        const error = serviceError(response, attempt);
        if (response.status < 500 && !RETRYABLE_CODES.has(error.code)) throw error;
        failure = error;
      }
      const backoffMs = random() * Math.min(MAX_BACKOFF_MS, 100 * 2 ** (attempt - 1));
      // A retry that cannot finish inside the budget only delays the 503 the caller must give.
      if (attempt >= maxAttempts || deadline.shorterThan(backoffMs + minimalMs)) throw failure as Error;
      await sleep(backoffMs);
    }
  }

  /** One request, abandoned after `timeoutMs` whether or not the transport gives up by itself. */
  private async attempt(request: AwsHttpRequest, timeoutMs: number): Promise<AwsHttpResponse> {
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new AwsNetworkError(`no answer within ${timeoutMs} ms`);
        abort.abort(error);
        reject(error);
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.transport({ ...request, timeoutMs, signal: abort.signal }), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes idle keep-alive connections (the local stack stops its DynamoDB this way). */
  destroy(): void {
    this.agent.destroy();
  }
}

function nodeTransport(agent: http.Agent): AwsTransport {
  return (request) =>
    new Promise((resolve, reject) => {
      const send = request.url.protocol === 'http:' ? http.request : https.request;
      const timeoutMs = request.timeoutMs ?? 5_000;
      const outgoing = send(
        request.url,
        {
          method: 'POST',
          headers: request.headers,
          agent,
          timeout: timeoutMs,
          ...(request.signal ? { signal: request.signal } : {}),
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', (error) => reject(new AwsNetworkError(error.message, { cause: error })));
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
        },
      );
      outgoing.on('timeout', () => outgoing.destroy(new AwsNetworkError(`no answer within ${timeoutMs} ms`)));
      outgoing.on('error', (error) =>
        reject(
          error instanceof AwsNetworkError ? error : new AwsNetworkError(error.message, { cause: error }),
        ),
      );
      outgoing.end(request.body);
    });
}

function serviceError(response: AwsHttpResponse, attempt: number): AwsServiceError {
  let document: Record<string, unknown> = {};
  try {
    document = JSON.parse(response.body) as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  const type = typeof document.__type === 'string' ? document.__type : `HTTP${response.status}`;
  const code = type.slice(type.lastIndexOf('#') + 1);
  const message = document.message ?? document.Message ?? `${code} (HTTP ${response.status})`;
  return new AwsServiceError(code, String(message), response.status, document, attempt);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
