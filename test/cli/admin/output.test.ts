import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminContext } from '../../../shared/admin/context';
import type { ProjectConnectedAnswer } from '../../../shared/admin/projects';
import {
  type DeliveryPageAnswer,
  deliveryDetail,
  deliverySummary,
  type IntegrationCreatedAnswer,
  type ItemsAnswer,
  integrationView,
  type ProjectView,
  projectView,
  type RepairAnswer,
  type SecretRotatedAnswer,
} from '../../../shared/admin/views';
import { DEFAULT_SETTINGS } from '../../../shared/domain/settings';
import type { DeliveryRecord, ProjectRecord } from '../../../shared/store/store';
import { integrationRecord } from '../../support/records';
import { type FakeAdmin, runCli, startFakeAdmin } from './support';

// What `hookgate admin` prints: aligned tables for people, the API's own body with --json. The
// fake API answers what the real one builds: the views of shared/admin/views.ts over records.

let api: FakeAdmin;
beforeAll(async () => {
  api = await startFakeAdmin();
});
afterAll(() => api.close());

function admin(...args: string[]) {
  return runCli(['admin', ...args, '--endpoint', api.url, '--token', 'tok']);
}

const CONTEXT: AdminContext = { principal: 'test', webhookBase: 'https://hooks.example.com' };

const ACME = integrationRecord({
  name: 'acme-cloud',
  labels: ['team-a', 'prod'],
  version: 3,
  webhookSecretId: 'hookgate/test/integrations/acme-cloud/webhook-secret',
});

const INTEGRATIONS = {
  items: [
    integrationView(CONTEXT, ACME),
    integrationView(
      CONTEXT,
      integrationRecord({
        name: 'dc',
        provider: 'bitbucket-data-center',
        scope: { space: 'platform' },
        version: 12,
        webhookSecretId: 'hookgate/test/integrations/dc/webhook-secret',
      }),
    ),
  ],
};

const PROJECT: ProjectRecord = {
  id: 'p1',
  integration: 'acme-cloud',
  provider: 'bitbucket-cloud',
  repositoryId: '{6a3c7a4e-0000-4000-8000-000000000001}',
  fullName: 'acme/widgets',
  cloneUrls: { ssh: 'git@bitbucket.org:acme/widgets.git' },
  defaultBranch: 'main',
  settings: DEFAULT_SETTINGS,
  deployKeySecretId: 'hookgate/test/projects/p1/deploy-key',
  createdAt: '2026-11-22T06:00:00.000Z',
  updatedAt: '2026-11-22T06:00:00.000Z',
};

const DELIVERY: DeliveryRecord = {
  integration: 'acme-cloud',
  deliveryId: 'd-1',
  provider: 'bitbucket-cloud',
  eventKey: 'repo:push',
  headers: { 'x-event-key': 'repo:push', 'x-hub-signature': 'sha256=00' },
  bodyGzip: new Uint8Array(),
  receivedAt: '2026-11-22T06:00:00.000Z',
  status: 'processed',
  projectId: 'p1',
  decisions: [
    {
      action: 'trigger',
      reason: 'default-branch',
      message: 'push to the default branch main',
      ref: { type: 'branch', name: 'main' },
      commit: { sha: 'a'.repeat(40), abbreviated: false },
      triggerId: 't-1',
      trust: 'trusted',
      secretsAllowed: true,
    },
    {
      action: 'skip',
      reason: 'branch-ignored',
      message: 'wip/x is ignored',
      ref: { type: 'branch', name: 'wip/x' },
    },
    {
      action: 'trigger',
      reason: 'branch-push',
      message: 'push to feature/y',
      ref: { type: 'branch', name: 'feature/y' },
      commit: { sha: 'b'.repeat(40), abbreviated: false },
      triggerId: 't-2',
      trust: 'trusted',
      secretsAllowed: true,
    },
  ],
};

/** The start offset of each header word, which every row's cells must share. */
function columnStarts(header: string): number[] {
  return [...header.matchAll(/\S+/g)].map((match) => match.index ?? 0);
}

describe('hookgate admin output', () => {
  it('lists integrations as a table with aligned columns', async () => {
    api.reply(200, INTEGRATIONS);
    const { code, stdout } = await admin('integrations', 'list');
    expect(code).toBe(0);
    const [header, ...rows] = stdout.trimEnd().split('\n') as [string, ...string[]];
    expect(header.split(/\s+/)).toEqual(['NAME', 'PROVIDER', 'SCOPE', 'LABELS', 'STATUS', 'VERSION']);
    expect(rows).toHaveLength(2);
    const starts = columnStarts(header);
    expect(rows[0]?.slice(starts[2], starts[3]).trim()).toBe('default');
    expect(rows[0]?.slice(starts[3], starts[4]).trim()).toBe('team-a, prod');
    expect(rows[1]?.slice(starts[0], starts[1]).trim()).toBe('dc');
    expect(rows[1]?.slice(starts[2], starts[3]).trim()).toBe('space:platform');
    expect(rows[1]?.slice(starts[5]).trim()).toBe('12');
  });

  it('prints the body exactly as the API sent it with --json', async () => {
    api.reply(200, INTEGRATIONS);
    const { code, stdout } = await admin('integrations', 'list', '--json');
    expect(code).toBe(0);
    expect(stdout).toBe(`${JSON.stringify(INTEGRATIONS)}\n`);
  });

  it('takes the connection options before the resource and verb as well', async () => {
    api.reply(200, INTEGRATIONS);
    const { code, stdout } = await runCli([
      'admin',
      '--endpoint',
      api.url,
      '--token',
      'tok',
      '--json',
      'integrations',
      'list',
    ]);
    expect(code).toBe(0);
    expect(api.last().path).toBe('/admin/integrations');
    expect(stdout).toBe(`${JSON.stringify(INTEGRATIONS)}\n`);
  });

  it('says so when there are no integrations', async () => {
    api.reply(200, { items: [] });
    expect((await admin('integrations', 'list')).stdout).toBe('no integrations\n');
  });

  it('shows one integration field by field', async () => {
    api.reply(200, integrationView(CONTEXT, { ...ACME, description: 'Line one\nline two' }));
    const { stdout } = await admin('integrations', 'get', 'acme-cloud');
    expect(stdout).toMatch(/^FIELD\s+VALUE\n/);
    expect(stdout).toMatch(/^name\s+acme-cloud$/m);
    expect(stdout).toMatch(/^labels\s+team-a, prod$/m);
    expect(stdout).toMatch(/^description\s+Line one line two$/m);
  });

  it('prints the webhook URL and the secret after create, and says the secret is shown once', async () => {
    const created: IntegrationCreatedAnswer = {
      integration: integrationView(CONTEXT, ACME),
      webhookUrl: 'https://hooks.example.com/webhooks/acme-cloud',
      webhookSecret: 's3cr3t-value',
    };
    api.reply(201, created);
    const { code, stdout } = await admin(
      'integrations',
      'create',
      'acme-cloud',
      '--provider',
      'bitbucket-cloud',
      '--default',
    );
    expect(code).toBe(0);
    expect(stdout).toContain('created integration acme-cloud (bitbucket-cloud, default)');
    expect(stdout).toMatch(/^webhook URL\s+https:\/\/hooks\.example\.com\/webhooks\/acme-cloud$/m);
    expect(stdout).toMatch(/^webhook secret\s+s3cr3t-value$/m);
    expect(stdout).toMatch(/shown once/);
  });

  it('prints the new secret and until when the previous one is accepted after rotate-secret', async () => {
    const rotated: SecretRotatedAnswer = {
      webhookSecret: 'n3w',
      previousValidUntil: '2026-11-23T07:00:00.000Z',
      projects: [],
    };
    api.reply(200, rotated);
    const { stdout } = await admin('integrations', 'rotate-secret', 'acme-cloud');
    expect(stdout).toMatch(/^webhook secret\s+n3w$/m);
    expect(stdout).toMatch(/^previous valid until\s+2026-11-23T07:00:00\.000Z$/m);
    expect(stdout).toMatch(/shown once/);
  });

  it('says when there was no previous secret to keep accepting, and lists the hooks it updated', async () => {
    const rotated: SecretRotatedAnswer = {
      webhookSecret: 'n3w',
      previousValidUntil: null,
      projects: [
        { projectId: 'p1', repository: 'acme/widgets', status: 'updated', hookIds: ['{h1}'] },
        { projectId: 'p2', repository: 'acme/gears', status: 'not-found', reason: 'no webhook with URL x' },
      ],
    };
    api.reply(200, rotated);
    const { stdout } = await admin('integrations', 'rotate-secret', 'acme-cloud');
    expect(stdout).toMatch(/^previous valid until\s+none \(there was no previous secret\)$/m);
    expect(stdout).toMatch(/^PROJECT\s+REPOSITORY\s+WEBHOOK\s+REASON$/m);
    expect(stdout).toMatch(/^p1\s+acme\/widgets\s+updated$/m);
    expect(stdout).toMatch(/^p2\s+acme\/gears\s+not-found\s+no webhook with URL x$/m);
  });

  it('says what rotate-secret did to the webhooks: updated, skipped, not found, failed', async () => {
    const rotate = async (statuses: string[]) => {
      api.reply(200, {
        webhookSecret: 'n3w',
        previousValidUntil: null,
        projects: statuses.map((status, i) => ({ projectId: `p${i}`, repository: `acme/r${i}`, status })),
      });
      return (await admin('integrations', 'rotate-secret', 'local')).stdout;
    };
    const manual = await rotate(['skipped', 'skipped']);
    expect(manual).toMatch(
      /^The new secret is shown once\. Webhooks of connected projects: 2 skipped \(no credentials\)\.$/m,
    );
    expect(manual).toMatch(
      /^Put it on the webhooks not updated \(below\) and any other webhook to this integration/m,
    );
    expect(manual).not.toContain('were updated');

    const mixed = await rotate(['updated', 'not-found', 'failed', 'updated']);
    expect(mixed).toMatch(/: 2 updated, 1 not found \(run projects repair\), 1 failed\.$/m);

    const managed = await rotate(['updated']);
    expect(managed).toMatch(/: 1 updated\.$/m);
    expect(managed).toMatch(
      /^Put it on any other webhook to this integration before the previous secret expires\.$/m,
    );

    expect(await rotate([])).toMatch(/No project is connected, so no webhook was updated\.$/m);
  });

  it('lists the projects of an integration', async () => {
    const projects: ItemsAnswer<ProjectView> = { items: [projectView(CONTEXT, PROJECT)] };
    api.reply(200, projects);
    const { stdout } = await admin('projects', 'list', '--integration', 'acme-cloud');
    expect(stdout).toMatch(/^ID\s+REPOSITORY\s+INTEGRATION\s+DEFAULT BRANCH\s+STATUS$/m);
    expect(stdout).toMatch(/^p1\s+acme\/widgets\s+acme-cloud\s+main\s+connected$/m);
  });

  it('says what to set up by hand after connecting through an integration without credentials', async () => {
    const connected: ProjectConnectedAnswer = {
      project: projectView(CONTEXT, { ...PROJECT, id: 'p9' }),
      publicKey: 'ssh-ed25519 AAAA hookgate',
      webhookUrl: 'https://hooks.example.com/webhooks/acme-cloud',
      manualSetup: {
        webhook: {
          url: 'https://hooks.example.com/webhooks/acme-cloud',
          events: ['repo:push'],
          secret: 'the webhook secret of integration "acme-cloud"',
        },
        deployKey: {
          publicKey: 'ssh-ed25519 AAAA hookgate',
          label: 'hookgate-test-p9',
          permission: 'read-only',
        },
      },
    };
    api.reply(201, connected);
    const { code, stdout } = await admin('projects', 'connect', 'acme-cloud', 'acme/widgets');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^connected acme\/widgets through acme-cloud as project p9$/m);
    expect(stdout).toMatch(/by hand/);
    expect(stdout).toMatch(/^project\.settings\.onlyBuildPullRequests\s+false$/m);
    expect(stdout).toMatch(/^manualSetup\.webhook\.events\s+repo:push$/m);
    expect(stdout).toMatch(/^publicKey\s+ssh-ed25519 AAAA hookgate$/m);
  });

  it('shows what repair did and the health after it', async () => {
    const repaired: RepairAnswer = {
      actions: [{ action: 'update-webhook', result: 'done', target: 'hook-1' }],
      health: { status: 'ok', checks: [{ name: 'webhook', status: 'ok' }] },
    };
    api.reply(200, repaired);
    const { stdout } = await admin('projects', 'repair', 'p1');
    expect(stdout).toMatch(/^ACTION\s+RESULT\s+TARGET\s+REASON$/m);
    expect(stdout).toMatch(/^update-webhook\s+done\s+hook-1$/m);
    expect(stdout).toMatch(/^project p1: ok$/m);
    expect(stdout).toMatch(/^webhook\s+ok$/m);
  });

  it('says which manual build was queued, or that the request id had queued it already', async () => {
    const answer = {
      deliveryId: 'build-r1',
      status: 'decided',
      reason: 'manual',
      triggerId: 'ab'.repeat(32),
      ref: { type: 'branch', name: 'main' },
      commit: { sha: 'e42fac24456e4a56f1b7f9358afc3070e3b7ddec', abbreviated: false },
    };
    api.reply(202, answer);
    const first = await admin('projects', 'build', 'p1', '--branch', 'main');
    expect(first.stdout).toMatch(/^queued a manual build of branch main at e42fac24456e$/m);
    expect(first.stdout).toMatch(/^hookgate admin deliveries get build-r1 shows how it went$/m);
    expect(first.stdout).toMatch(/^triggerId\s+(ab){32}$/m);

    api.reply(202, { ...answer, duplicate: true });
    const again = await admin('projects', 'build', 'p1', '--branch', 'main', '--request-id', 'r1');
    expect(again.stdout).toMatch(
      /^this request id already queued a manual build of branch main at e42fac24456e$/m,
    );
  });

  it('shows project health as a check, status, reason table', async () => {
    api.reply(200, {
      status: 'broken',
      checks: [
        { name: 'webhook', status: 'ok' },
        { name: 'deploy-key', status: 'broken', reason: 'not on Bitbucket' },
      ],
    });
    const { stdout } = await admin('projects', 'health', 'p1');
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('project p1: broken');
    expect(lines[1]?.split(/\s+/)).toEqual(['CHECK', 'STATUS', 'REASON']);
    expect(lines[2]).toMatch(/^webhook\s+ok$/);
    expect(lines[3]).toMatch(/^deploy-key\s+broken\s+not on Bitbucket$/);
    const starts = columnStarts(lines[1] ?? '');
    expect(lines[3]?.slice(starts[2]).trim()).toBe('not on Bitbucket');
  });

  it('lists deliveries with a decision summary and the next page cursor', async () => {
    const page: DeliveryPageAnswer = { items: [deliverySummary(DELIVERY)], next: 'c2' };
    api.reply(200, page);
    const { stdout } = await admin('deliveries', 'list', '--integration', 'acme-cloud');
    expect(stdout.split('\n')[0]?.split(/\s+/)).toEqual([
      'ID',
      'INTEGRATION',
      'EVENT',
      'STATUS',
      'PROJECT',
      'RECEIVED',
      'DECISIONS',
    ]);
    expect(stdout).toMatch(
      /^d-1\s+acme-cloud\s+repo:push\s+processed\s+p1\s+2026-11-22T06:00:00\.000Z\s+2 trigger, 1 skip$/m,
    );
    expect(stdout).toMatch(/^more: add --next c2$/m);
  });

  it('says which triggers a delivery sent and which an earlier delivery had already sent', async () => {
    const item = (id: string, decisions: unknown[]) => ({
      deliveryId: id,
      integration: 'local',
      eventKey: 'repo:push',
      status: 'processed',
      projectId: 'p1',
      receivedAt: '2026-11-22T06:00:00.000Z',
      decisions,
    });
    api.reply(200, {
      items: [
        item('d-3', [{ action: 'trigger', sent: false }]),
        item('d-2', [
          { action: 'trigger', sent: true },
          { action: 'skip' },
          { action: 'trigger', sent: false },
        ]),
        item('d-1', [{ action: 'trigger', sent: true }]),
      ],
      next: null,
    });
    const { stdout } = await admin('deliveries', 'list', '--integration', 'local');
    expect(stdout).toMatch(/^d-3\s.*\s1 trigger \(already sent\)$/m);
    expect(stdout).toMatch(/^d-2\s.*\s2 trigger \(1 sent, 1 already sent\), 1 skip$/m);
    expect(stdout).toMatch(/^d-1\s.*\s1 trigger \(sent\)$/m);

    api.reply(200, {
      ...deliveryDetail({ ...DELIVERY, deliveryId: 'd-3', status: 'processed', decisions: [] }),
      decisions: [
        {
          action: 'trigger',
          reason: 'default-branch',
          message: '"main" is the default branch, which is always built',
          ref: { type: 'branch', name: 'main' },
          sent: false,
        },
      ],
    });
    const detail = await admin('deliveries', 'get', 'd-3');
    expect(detail.stdout).toMatch(/^trigger \(already sent\)\s+default-branch\s+branch main\s+"main" is/m);
  });

  it('shows a delivery with its decisions in a table', async () => {
    api.reply(200, deliveryDetail(DELIVERY));
    const { stdout } = await admin('deliveries', 'get', 'd-1');
    expect(stdout).toMatch(/^eventKey\s+repo:push$/m);
    expect(stdout).toMatch(/^headers\.x-event-key\s+repo:push$/m);
    expect(stdout).not.toMatch(/x-hub-signature/);
    expect(stdout).not.toMatch(/^decisions/m);
    expect(stdout).toMatch(/^ACTION\s+REASON\s+REF\s+MESSAGE$/m);
    expect(stdout).toMatch(/^trigger\s+default-branch\s+branch main\s+push to the default branch main$/m);
    expect(stdout).toMatch(/^skip\s+branch-ignored\s+branch wip\/x\s+wip\/x is ignored$/m);
  });

  it('confirms a delete that answers 204, and prints nothing for it with --json', async () => {
    api.reply(204);
    const plain = await admin('integrations', 'delete', 'acme-cloud');
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^deleted integration acme-cloud/);
    const json = await admin('integrations', 'delete', 'acme-cloud', '--json');
    expect(json.code).toBe(0);
    expect(json.stdout).toBe('');
  });
});
