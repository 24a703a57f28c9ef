import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pacedLoad } from '../../bench/lib/paced-load';

describe('paced load', () => {
  const received: string[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push(body);
      // Every third request is refused, as a stack answering 503 would.
      response.writeHead(received.length % 3 === 0 ? 503 : 202).end(`{"n":${received.length}}`);
    });
  });
  let origin = '';

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends rate × duration requests, each built when due, and reports every answer', async () => {
    let built = 0;
    const answers: number[] = [];
    const result = await pacedLoad({
      origin,
      rate: 60,
      durationSeconds: 0.1,
      maxInFlight: 8,
      timeoutMs: 5_000,
      next: () => {
        built += 1;
        return {
          path: '/webhooks/x',
          headers: { 'content-type': 'text/plain' },
          body: Buffer.from(`r${built}`),
        };
      },
      onResponse: (status) => answers.push(status),
    });
    expect(built).toBe(6);
    expect(received.sort()).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
    expect(result).toMatchObject({ sent: 6, skipped: 0, answered: 6, errors: 2 });
    expect(answers.filter((status) => status === 503)).toHaveLength(2);
    expect(result.latenciesMs).toHaveLength(6);
  });

  it('sends to loopback only', async () => {
    await expect(
      pacedLoad({
        origin: 'http://example.com',
        rate: 1,
        durationSeconds: 1,
        maxInFlight: 1,
        timeoutMs: 1_000,
        next: () => ({ path: '/', headers: {}, body: Buffer.alloc(0) }),
        onResponse: () => undefined,
      }),
    ).rejects.toThrow(/loopback/);
  });
});
