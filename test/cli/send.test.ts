import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { findFixture } from '../support/fixtures';
import { type FakeAdmin, runCli, startFakeAdmin } from './admin/support';

// `hookgate send` posts a payload as the Bitbucket that sends it would: Cloud's headers for a
// Cloud event, Data Center's for a Data Center one, signed over the exact bytes of the file.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SECRET = 'send-test-secret';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let hook: FakeAdmin;
let dir: string;
beforeAll(async () => {
  hook = await startFakeAdmin();
  dir = mkdtempSync(join(tmpdir(), 'hookgate-send-'));
});
afterAll(async () => {
  await hook.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  hook.reply(202, { deliveryId: 'd-1', status: 'received' });
});

function send(payload: string, ...args: string[]) {
  return runCli(['send', payload, '--url', `${hook.url}/webhooks/local`, '--secret', SECRET, ...args]);
}

function signatureOf(path: string): string {
  return `sha256=${createHmac('sha256', SECRET).update(readFileSync(path)).digest('hex')}`;
}

describe('hookgate send', () => {
  it("sends a Data Center event with Data Center's headers and none of Cloud's", async () => {
    const payload = findFixture('server/jenkins-bbsource__pushPayload.json').absolutePath;
    const result = await send(payload, '--event-key', 'repo:refs_changed', '--delivery-id', 'dc-1');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const { headers, body } = hook.last();
    expect(headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'Atlassian HttpClient 4.2.0 / Bitbucket-9.5.2 (9005002) / Default',
      'x-event-key': 'repo:refs_changed',
      'x-request-id': 'dc-1',
      'x-hub-signature': signatureOf(payload),
    });
    expect(headers['x-request-uuid']).toBeUndefined();
    expect(headers['x-attempt-number']).toBeUndefined();
    expect(body).toBe(readFileSync(payload, 'utf8'));
  });

  it('tells Data Center by the body when the event key does not tell', async () => {
    // A DC body carries its own `eventKey`; the key given is not one of either platform.
    const payload = findFixture('server/jenkins-bbsource__pushPayload.json').absolutePath;
    await send(payload, '--event-key', 'something:new');
    expect(hook.last().headers['x-request-id']).toMatch(UUID);
    expect(hook.last().headers['user-agent']).toMatch(/^Atlassian HttpClient/);
  });

  it("sends a Cloud event with Cloud's headers", async () => {
    const payload = join(ROOT, 'examples/payloads/cloud-push-main.json');
    const result = await send(payload, '--event-key', 'repo:push');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const { headers } = hook.last();
    expect(headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'Bitbucket-Webhooks/2.0',
      'x-event-key': 'repo:push',
      'x-attempt-number': '1',
      'x-hub-signature': signatureOf(payload),
    });
    expect(headers['x-request-uuid']).toMatch(UUID);
    expect(headers['x-request-id']).toBeUndefined();
  });

  it('ends quietly with its own exit code when the reader of its output goes away', async () => {
    // An answer far over a pipe's buffer, so most of it is written after `head` has gone.
    hook.reply(202, { lines: Array.from({ length: 20_000 }, (_, i) => `line ${i}`) });
    const payload = join(ROOT, 'examples/payloads/cloud-push-main.json');
    const errors = join(dir, 'stderr.txt');
    const command = [
      `"${process.execPath}" bin/hookgate.mjs send "${payload}" --event-key repo:push`,
      `--url ${hook.url}/webhooks/local --secret ${SECRET} 2>"${errors}" | head -1;`,
      'exit $PIPESTATUS',
    ].join(' ');
    const result = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile('bash', ['-c', command], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 }, (error, stdout) =>
        resolve({ code: error ? Number(error.code) : 0, stdout }),
      );
    });
    expect(readFileSync(errors, 'utf8')).toBe('');
    expect(result).toEqual({ code: 0, stdout: '202 Accepted\n' });
  });
});
