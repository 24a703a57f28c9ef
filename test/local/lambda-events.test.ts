import { describe, expect, it } from 'vitest';
import { routeOf } from '../../local/http-server';
import { httpApiEvent, sqsEvent } from '../../local/lambda-events';

const route = { routeKey: 'POST /webhooks/{integration}', pathParameters: { integration: 'local' } };

describe('local API Gateway and SQS events', () => {
  it('passes a JSON body as text, with lower-case headers and the path parameter', () => {
    const body = Buffer.from('{"push":{"changes":[]}}');
    const event = httpApiEvent(
      {
        method: 'POST',
        url: '/webhooks/local?x=1&x=2',
        headers: { 'content-type': 'application/json', 'x-event-key': 'repo:push', host: '127.0.0.1:3000' },
        body,
        sourceIp: '127.0.0.1',
      },
      route,
    );
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /webhooks/{integration}',
      rawPath: '/webhooks/local',
      rawQueryString: 'x=1&x=2',
      queryStringParameters: { x: '1,2' },
      headers: { 'content-type': 'application/json', 'x-event-key': 'repo:push' },
      pathParameters: { integration: 'local' },
      body: '{"push":{"changes":[]}}',
      isBase64Encoded: false,
      requestContext: { http: { method: 'POST', path: '/webhooks/local', sourceIp: '127.0.0.1' } },
    });
  });

  it('base64-encodes a body that is not valid UTF-8, so the signed bytes arrive unchanged', () => {
    const body = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    const event = httpApiEvent(
      {
        method: 'POST',
        url: '/webhooks/local',
        headers: { 'content-type': 'application/json' },
        body,
        sourceIp: '::1',
      },
      route,
    );
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body ?? '', 'base64').equals(body)).toBe(true);
  });

  it('routes webhooks by method and path, and /admin, /admin/ and every method under /admin/ to the admin handler', () => {
    expect(routeOf('POST', '/webhooks/my%20hooks')).toEqual({
      kind: 'webhook',
      route: { routeKey: 'POST /webhooks/{integration}', pathParameters: { integration: 'my hooks' } },
    });
    expect(routeOf('GET', '/webhooks/local')).toEqual({ kind: 'method-not-allowed' });
    expect(routeOf('POST', '/webhooks/local/extra').kind).toBe('not-found');
    for (const method of ['GET', 'POST', 'PATCH', 'DELETE']) {
      expect(routeOf(method, '/admin/projects/prj-1/health')).toEqual({
        kind: 'admin',
        route: { routeKey: 'ANY /admin/{proxy+}', pathParameters: { proxy: 'projects/prj-1/health' } },
      });
    }
    // The base URL the banner prints goes to the admin handler, which answers its index there.
    for (const path of ['/admin', '/admin/']) {
      expect(routeOf('GET', path)).toEqual({
        kind: 'admin',
        route: { routeKey: 'ANY /admin', pathParameters: {} },
      });
    }
    expect(routeOf('GET', '/administrator')).toEqual({
      kind: 'not-found',
      message: 'no route for GET /administrator',
    });
    expect(routeOf('GET', '/')).toEqual({ kind: 'not-found', message: 'no route for GET /' });
  });

  it('gives the admin handler the raw path and the query as API Gateway does', () => {
    const event = httpApiEvent(
      {
        method: 'GET',
        url: '/admin/deliveries/a%2Fb?integration=local&limit=5',
        headers: { authorization: 'Bearer t', host: '127.0.0.1:3000' },
        body: Buffer.alloc(0),
        sourceIp: '127.0.0.1',
      },
      { routeKey: 'ANY /admin/{proxy+}', pathParameters: { proxy: 'deliveries/a/b' } },
    );
    expect(event).toMatchObject({
      rawPath: '/admin/deliveries/a%2Fb',
      rawQueryString: 'integration=local&limit=5',
      queryStringParameters: { integration: 'local', limit: '5' },
      headers: { authorization: 'Bearer t' },
      requestContext: { http: { method: 'GET', path: '/admin/deliveries/a%2Fb' } },
    });
    expect(event.body).toBeUndefined();
  });

  it('builds SQS records with the FIFO attributes and the receive count', () => {
    const event = sqsEvent('deliveries.fifo', [
      {
        messageId: 'm1',
        body: '{}',
        groupId: 'local#r',
        deduplicationId: 'd1',
        receiveCount: 2,
        sentAt: 1000,
      },
    ]);
    expect(event.Records[0]).toMatchObject({
      messageId: 'm1',
      body: '{}',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:deliveries.fifo',
      attributes: { MessageGroupId: 'local#r', MessageDeduplicationId: 'd1', ApproximateReceiveCount: '2' },
    });
  });
});
