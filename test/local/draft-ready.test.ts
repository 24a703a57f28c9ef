import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { projectIdOf } from '../../shared/admin/project-id';
import { readFixtureJson } from '../support/fixtures';
import { ensureFreshBundle, freePort, killAll } from './dev-process';
import { adminClient, cloudPush, type Delivery, send, startStack, triggersIn } from './stack-client';

// The draft-marked-ready story on the real local stack, with real Cloud captures: PR #1 of the
// repository {3deb8c29-…}, whose captured `pullrequest:updated` (2026) carries `draft: false`.

const SECRET = 'draft-ready-secret';
const ADMIN_TOKEN = 'draft-ready-admin-token';
const REPOSITORY_ID = '{3deb8c29-778a-450c-8f69-3e50a18079df}';
const BRANCH = 'release/release-1';

let scratch: string;

beforeAll(() => {
  ensureFreshBundle();
  scratch = mkdtempSync(join(tmpdir(), 'hookgate-draft-ready-'));
});

afterEach(async () => {
  await killAll();
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** The captured pull request, as a draft or not, its source at `sha`. */
function pullRequestUpdated(deliveryId: string, draft: boolean, sha: string): Delivery {
  const payload = readFixtureJson<any>('cloud/jenkins-bbsource__pullrequest_updated.json');
  payload.pullrequest.draft = draft;
  payload.pullrequest.source.commit.hash = sha.slice(0, 12);
  return {
    deliveryId,
    platform: 'cloud',
    eventKey: 'pullrequest:updated',
    body: Buffer.from(JSON.stringify(payload)),
  };
}

describe('a draft marked ready for review on the local stack', () => {
  it('skips the draft push, builds the ready pull request once, and not again on a repeat', async () => {
    const port = await freePort();
    const dataDir = mkdtempSync(join(scratch, 'data-'));
    const dev = await startStack({ port, dataDir, secret: SECRET, adminToken: ADMIN_TOKEN });
    const base = `http://127.0.0.1:${port}`;
    const webhook = `${base}/webhooks/local`;
    const admin = adminClient(base, ADMIN_TOKEN);
    const connected = await admin.call('POST', '/admin/projects', {
      integration: 'local',
      repository: 'nfalco79/test-repos',
      repositoryId: REPOSITORY_ID,
      defaultBranch: 'master',
    });
    expect(connected.status).toBe(201);
    const projectId = projectIdOf('local', REPOSITORY_ID);
    const patched = await admin.call('PATCH', `/admin/projects/${projectId}`, {
      settings: { onlyBuildPullRequests: true, buildDraftPullRequests: false },
    });
    expect(patched.status).toBe(200);

    const push = cloudPush('draft-ready', BRANCH); // amuniz/test-repos: the same repository id
    const sha = push.sha as string;
    const short = sha.slice(0, 7);
    expect(
      await send(webhook, pullRequestUpdated('a0000000-0000-4000-8000-000000000001', true, sha), SECRET),
    ).toEqual({ status: 202 });
    await dev.waitFor(new RegExp(`^ {2}skip {4}covered-by-push: pull request #1: .*\\[${short}\\]$`, 'm'));
    expect(await send(webhook, push, SECRET)).toEqual({ status: 202 });
    await dev.waitFor(
      new RegExp(`^ {2}skip {4}draft: branch "${BRANCH}" has only draft pull requests.*\\[${short}\\]$`, 'm'),
    );

    const ready = pullRequestUpdated('a0000000-0000-4000-8000-000000000002', false, sha);
    expect(await send(webhook, ready, SECRET)).toEqual({ status: 202 });
    await dev.waitFor(
      new RegExp(`^trigger {2}\\S+ {2}pull-request pull-requests/1 {2}${short} {2}pr-ready$`, 'm'),
    );

    // Bitbucket retrying it (a duplicate, decided or processed by now), and the same change
    // arriving again under another delivery id.
    expect(await send(webhook, ready, SECRET, 2)).toEqual({ status: 202, duplicateOf: expect.any(String) });
    const again = pullRequestUpdated('a0000000-0000-4000-8000-000000000003', false, sha);
    expect(await send(webhook, again, SECRET)).toEqual({ status: 202 });
    await dev.waitFor(
      /^ {2}skip {4}pr-metadata: pull request #1 was updated but its source commit is unchanged/m,
    );

    expect(triggersIn(dataDir)).toEqual([
      expect.objectContaining({
        reason: 'pr-ready',
        ref: { type: 'pull-request', name: 'pull-requests/1' },
        commit: { sha: sha.slice(0, 12), abbreviated: true },
      }),
    ]);
    expect(dev.stderr).toBe('');
  }, 60_000);
});
