import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { type CloudClientOptions, createCloudClient } from '../../shared/bitbucket/rest/cloud-client';
import {
  BitbucketApiError,
  BitbucketRequestRejectedError,
  BitbucketTimeoutError,
  BitbucketUnavailableError,
} from '../../shared/bitbucket/rest/errors';
import { createHttpClient, parseRetryAfter } from '../../shared/bitbucket/rest/http';
import { Deadline, withDeadline } from '../../shared/deadline';
import type { Log } from '../../shared/observability';
import { type FakeCloud, startFakeCloud } from '../support/fake-bitbucket/fake-cloud';

const TOKEN = 'tok-3f9a7c2e5b8d41aa';
const REF = { owner: 'acme', slug: 'web' };
const HOOK = { url: 'https://hooks.example.com/w', events: ['repo:push'], description: 'Hookgate' };

let fake: FakeCloud;
let sleeps: number[];
let logged: string[];

const captureLog: Log = {
  debug: (...args) => logged.push(JSON.stringify(args)),
  info: (...args) => logged.push(JSON.stringify(args)),
  warn: (...args) => logged.push(JSON.stringify(args)),
  error: (...args) => logged.push(JSON.stringify(args)),
  appendKeys: () => {},
  removeKeys: () => {},
};

beforeEach(async () => {
  fake = await startFakeCloud();
  fake.addAccessToken(TOKEN, ['repository', 'repository:admin', 'pullrequest', 'webhook']);
  fake.addRepository({ workspace: 'acme', slug: 'web' });
  sleeps = [];
  logged = [];
});

afterEach(async () => {
  await fake.close();
});

function client(extra: Partial<CloudClientOptions> = {}) {
  return createCloudClient({
    baseUrl: fake.apiUrl,
    credentials: { kind: 'access-token', token: TOKEN },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    log: captureLog,
    // The fake Bitbucket listens on 127.0.0.1, which only local mode may call.
    network: 'local',
    ...extra,
  });
}

describe('rate limiting', () => {
  it('waits as long as Retry-After says after a 429, then succeeds', async () => {
    fake.failNext(1, 429, { retryAfter: '2' });
    await expect(client().getRepository(REF)).resolves.toMatchObject({ fullName: 'acme/web' });
    expect(sleeps).toEqual([2000]);
    expect(fake.requests).toHaveLength(2);
  });

  it('reads a Retry-After given as an HTTP date', async () => {
    const now = Date.parse('2026-07-01T00:00:00Z');
    fake.failNext(1, 429, { retryAfter: 'Wed, 01 Jul 2026 00:00:05 GMT' });
    await client({ now: () => now }).getRepository(REF);
    expect(sleeps).toEqual([5000]);
  });

  it('honours Retry-After on a 503 as well', async () => {
    fake.failNext(1, 503, { retryAfter: '3' });
    await client().getRepository(REF);
    expect(sleeps).toEqual([3000]);
  });

  it('backs off on a 429 without Retry-After', async () => {
    fake.failNext(1, 429);
    await client().getRepository(REF);
    expect(sleeps).toEqual([188]);
  });

  it('gives up at once when Retry-After asks for longer than allowed', async () => {
    fake.failNext(1, 429, { retryAfter: '3600' });
    const error = await client()
      .getRepository(REF)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BitbucketUnavailableError);
    expect(error).toMatchObject({ status: 503, upstreamStatus: 429, retryAfterSeconds: 3600 });
    expect(sleeps).toEqual([]);
    expect(fake.requests).toHaveLength(1);
  });
});

describe('server errors and network faults', () => {
  it('retries 5xx with jittered exponential backoff, then succeeds', async () => {
    fake.failNext(2, 500);
    await expect(client().listHooks(REF)).resolves.toEqual([]);
    // Equal jitter with random() = 0.5: three quarters of 250 ms, then of 500 ms.
    expect(sleeps).toEqual([188, 375]);
    expect(fake.requests).toHaveLength(3);
  });

  it('spreads the backoff between half and all of each step', async () => {
    fake.failNext(2, 502);
    await client({ random: () => 0 }).getRepository(REF);
    fake.failNext(2, 502);
    await client({ random: () => 0.999999 }).getRepository(REF);
    expect(sleeps).toEqual([125, 250, 250, 500]);
  });

  it('throws BitbucketUnavailableError once the attempts run out', async () => {
    fake.failNext(3, 503);
    const error = await client()
      .getRepository(REF)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BitbucketUnavailableError);
    expect(error).toMatchObject({
      status: 503,
      upstreamStatus: 503,
      attempts: 3,
      code: 'bitbucket-unavailable',
    });
    expect(fake.requests).toHaveLength(3);
  });

  it('makes as many attempts as configured', async () => {
    fake.failNext(5, 500);
    await expect(client({ maxAttempts: 5 }).getRepository(REF)).rejects.toMatchObject({ attempts: 5 });
    expect(fake.requests).toHaveLength(5);
  });

  it('does not retry a 4xx other than 429', async () => {
    fake.failNext(1, 400, {
      json: { type: 'error', error: { message: 'Bad request', detail: 'pagelen too big' } },
    });
    const error = await client()
      .listHooks(REF)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BitbucketRequestRejectedError);
    expect(error).toMatchObject({ bitbucketMessage: 'Bad request: pagelen too big' });
    expect(fake.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('does not repeat a POST that failed with a 500, which may have created the hook', async () => {
    fake.failNext(1, 500);
    await expect(client().createHook(REF, HOOK)).rejects.toBeInstanceOf(BitbucketUnavailableError);
    expect(fake.requests).toHaveLength(1);
  });

  it('repeats a POST that Bitbucket refused with 503 or 429', async () => {
    fake.failNext(1, 503);
    fake.failNext(1, 429, { retryAfter: '1' });
    await expect(client().createHook(REF, HOOK)).resolves.toMatchObject({ url: HOOK.url });
    expect(fake.repository('acme/web').hooks.size).toBe(1);
    expect(fake.requests).toHaveLength(3);
  });

  it('retries a read whose connection was cut', async () => {
    fake.dropNext(1);
    await expect(client().getRepository(REF)).resolves.toMatchObject({ fullName: 'acme/web' });
    expect(fake.requests).toHaveLength(2);
  });

  it('throws BitbucketTimeoutError when an answer takes longer than the timeout', async () => {
    fake.delayNext(1, 2_000);
    const started = Date.now();
    const error = await client({ timeoutMs: 50 })
      .getRepository(REF)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BitbucketTimeoutError);
    expect(error).toMatchObject({ status: 504, code: 'bitbucket-timeout' });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(fake.requests).toHaveLength(1);
  });
});

describe('error messages', () => {
  it('carry Bitbucket’s message, the method and the path, and never the token', async () => {
    fake.failNext(3, 500, { json: { type: 'error', error: { message: 'Something broke' } } });
    const error = (await client()
      .getRepository(REF)
      .catch((e: unknown) => e)) as BitbucketUnavailableError;
    expect(error.message).toBe(
      'Bitbucket failed (HTTP 500) on GET /2.0/repositories/acme/web: Something broke',
    );
    expect(logged).toHaveLength(2);
    const everything = [
      error.message,
      error.stack,
      JSON.stringify(error),
      String(error.cause),
      ...logged,
    ].join('\n');
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toMatch(/authorization/i);
  });

  it('leave the token out when Bitbucket rejects it', async () => {
    fake.revoke(TOKEN);
    const error = (await client()
      .getRepository(REF)
      .catch((e: unknown) => e)) as Error;
    expect(error.message).toContain('Token is invalid, expired, or not supported for this endpoint.');
    expect(`${error.message}${JSON.stringify(error)}`).not.toContain(TOKEN);
  });
});

describe('the request core', () => {
  const page = z.object({ uuid: z.string() });

  function stubbed(answers: unknown[]) {
    const calls: string[] = [];
    const http = createHttpClient({
      baseUrl: 'https://api.bitbucket.org/2.0',
      authorizer: { header: async () => 'Bearer secret' },
      sleep: async () => {},
      fetch: async (input) => {
        calls.push(String(input));
        return Response.json(answers.shift());
      },
    });
    return { http, calls };
  }

  it('refuses to follow a pagination link to another host, keeping the credentials home', async () => {
    const { http, calls } = stubbed([
      {
        values: [{ uuid: 'a' }],
        next: 'https://collector.example.net/2.0/repositories/acme/web/hooks?page=2',
      },
    ]);
    await expect(http.cloudPages({ path: '/repositories/acme/web/hooks' }, page)).rejects.toThrow(
      'Bitbucket sent a link outside its API',
    );
    expect(calls).toEqual(['https://api.bitbucket.org/2.0/repositories/acme/web/hooks']);
  });

  it('treats an answer of the wrong shape as BitbucketApiError (502)', async () => {
    const { http } = stubbed([{ uuid: 42 }]);
    const error = await http.json({ path: '/repositories/acme/web' }, page).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BitbucketApiError);
    expect(error).toMatchObject({ status: 502, code: 'bitbucket-error' });
    expect((error as Error).message).toContain('uuid');
  });

  it('reads Retry-After as seconds or as a date, and ignores nonsense', () => {
    const now = Date.parse('2026-07-01T00:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Wed, 01 Jul 2026 00:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Tue, 30 Jun 2026 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe('the invocation deadline', () => {
  it('cuts the attempt timeout to what is left of the deadline', async () => {
    fake.delayNext(1, 2_000);
    const started = Date.now();
    const error = await withDeadline(Deadline.in(300), () =>
      client({ timeoutMs: 5_000 }).getRepository(REF),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BitbucketTimeoutError);
    expect((error as Error).message).toMatch(/within (2\d\d|300) ms/);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('does not retry when the backoff would outlive the deadline', async () => {
    fake.failNext(1, 503);
    const error = await withDeadline(Deadline.in(400), () =>
      client({ baseDelayMs: 1_000, maxDelayMs: 5_000 }).getRepository(REF),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BitbucketUnavailableError);
    expect((error as Error).message).toMatch(/no time is left to retry/);
    expect(sleeps).toEqual([]);
    expect(fake.requests).toHaveLength(1);
  });

  it('sends nothing once the deadline is spent', async () => {
    const error = await withDeadline(Deadline.in(0), () => client().getRepository(REF)).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BitbucketTimeoutError);
    expect(fake.requests).toHaveLength(0);
  });
});
