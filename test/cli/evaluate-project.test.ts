import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryDetailView, EvaluateAnswer, ProjectView } from '../../shared/admin/views';
import { ensureFreshBundle, freePort, killAll } from '../local/dev-process';
import { adminClient, startStack, waitUntil } from '../local/stack-client';
import { runCli } from './admin/support';

// "Why didn't it build?" answered with the service's own answer: `hookgate evaluate --project-id`
// and `hookgate admin evaluate` ask the running local stack, which uses the project's settings,
// default branch and pull requests, and so agree with what the stack decided for the delivery.

const SECRET = 'evaluate-project-secret';
const ADMIN_TOKEN = 'evaluate-project-admin-token';
const PAYLOAD = 'examples/payloads/cloud-branch-created.json';
const REPOSITORY_ID = '{3deb8c29-778a-450c-8f69-3e50a18079df}';

let scratch: string;
let dataDir: string;
let port: number;
let admin: ReturnType<typeof adminClient>;
let projectId: string;

beforeAll(async () => {
  ensureFreshBundle();
  scratch = mkdtempSync(join(tmpdir(), 'hookgate-evaluate-project-'));
  dataDir = join(scratch, 'data');
  port = await freePort();
  await startStack({ port, dataDir, secret: SECRET, adminToken: ADMIN_TOKEN });
  admin = adminClient(`http://127.0.0.1:${port}`, ADMIN_TOKEN);
  // As a user would: the CLI finds the stack and its token in the data dir.
  const connected = await runCli([
    'admin',
    'projects',
    'connect',
    'local',
    'amuniz/test-repos',
    '--repository-id',
    REPOSITORY_ID,
    '--default-branch',
    'main',
    '--data-dir',
    dataDir,
    '--json',
  ]);
  expect(connected.stderr).toBe('');
  projectId = (JSON.parse(connected.stdout) as { project: ProjectView }).project.id;
  const set = await runCli([
    'admin',
    'projects',
    'set',
    projectId,
    '--set',
    'onlyBuildPullRequests=yes',
    '--data-dir',
    dataDir,
  ]);
  expect(set.stderr).toBe('');
  expect(set.stdout).toMatch(/^settings\.onlyBuildPullRequests\s+true$/m);
}, 90_000);

afterAll(async () => {
  await killAll();
  rmSync(scratch, { recursive: true, force: true });
});

describe('hookgate evaluate --project-id', () => {
  it("answers with the project's settings what the stack decided for the same delivery", async () => {
    const sent = await runCli([
      'send',
      PAYLOAD,
      '--event-key',
      'repo:push',
      '--delivery-id',
      'evaluate-project-1',
      '--data-dir',
      dataDir,
    ]);
    expect(sent.code).toBe(0);
    let decided: DeliveryDetailView | undefined;
    const done = await waitUntil(async () => {
      const answer = await admin.call('GET', '/admin/deliveries/evaluate-project-1?integration=local');
      decided = answer.body as DeliveryDetailView;
      return answer.status === 200 && decided.status === 'processed';
    }, 20_000);
    expect(done, JSON.stringify(decided)).toBe(true);

    const result = await runCli([
      'evaluate',
      PAYLOAD,
      '--event-key',
      'repo:push',
      '--project-id',
      projectId,
      '--data-dir',
      dataDir,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const { decisions } = JSON.parse(result.stdout) as EvaluateAnswer;
    expect(decisions).toMatchObject([
      { action: 'skip', reason: 'no-open-pull-request', ref: { type: 'branch', name: 'feature/test' } },
    ]);
    expect(decisions).toEqual(decided?.decisions);
  });

  it('gives the answer of POST /admin/evaluate, where the rules alone would build', async () => {
    const payload: unknown = JSON.parse(readFileSync(PAYLOAD, 'utf8'));
    const api = await admin.call('POST', '/admin/evaluate', { eventKey: 'repo:push', payload, projectId });
    const cli = await runCli([
      'evaluate',
      PAYLOAD,
      '--event-key',
      'repo:push',
      '--project-id',
      projectId,
      '--data-dir',
      dataDir,
    ]);
    expect(JSON.parse(cli.stdout)).toEqual(api.body);
    const alone = await runCli(['evaluate', PAYLOAD, '--event-key', 'repo:push']);
    expect(JSON.parse(alone.stdout).decisions).toMatchObject([{ action: 'trigger', reason: 'branch-push' }]);
  });

  it('takes --state in place of the open pull requests', async () => {
    const state = join(scratch, 'state.json');
    writeFileSync(state, JSON.stringify({ openPullRequests: [{ id: 1, sourceBranch: 'feature/test' }] }));
    const result = await runCli([
      'evaluate',
      PAYLOAD,
      '--event-key',
      'repo:push',
      '--project-id',
      projectId,
      '--state',
      state,
      '--data-dir',
      dataDir,
    ]);
    expect(JSON.parse(result.stdout).decisions).toMatchObject([
      { action: 'trigger', reason: 'pr-branch-push' },
    ]);
  });

  it('says which project it does not know, exit 1', async () => {
    const result = await runCli([
      'evaluate',
      PAYLOAD,
      '--event-key',
      'repo:push',
      '--project-id',
      'prj-0000000000000000',
      '--data-dir',
      dataDir,
    ]);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: 'hookgate evaluate: 404 not-found: no project with id "prj-0000000000000000"\n',
    });
  });

  it('refuses to answer without the admin API, exit 1, rather than answer without the settings', async () => {
    const noStack = await runCli([
      'evaluate',
      PAYLOAD,
      '--event-key',
      'repo:push',
      '--project-id',
      projectId,
      '--data-dir',
      join(scratch, 'never-started'),
    ]);
    expect(noStack.code).toBe(1);
    expect(noStack.stdout).toBe('');
    expect(noStack.stderr).toMatch(
      /^hookgate evaluate: --project-id takes the project's settings, default branch and open pull requests from the admin API, which cannot be reached: no admin token: .*never-started\n$/,
    );
    const closed = await freePort();
    const refused = await runCli([
      'evaluate',
      PAYLOAD,
      '--event-key',
      'repo:push',
      '--project-id',
      projectId,
      '--endpoint',
      `http://127.0.0.1:${closed}`,
      '--token',
      ADMIN_TOKEN,
    ]);
    expect(refused).toEqual({
      code: 1,
      stdout: '',
      stderr: `hookgate evaluate: --project-id takes the project's settings, default branch and open pull requests from the admin API, which cannot be reached: cannot reach http://127.0.0.1:${closed}: connection refused (is \`hookgate dev\` running? or pass --endpoint)\n`,
    });
  });
});

describe('hookgate admin evaluate', () => {
  it('prints the decisions as a table, and the answer as it came with --json', async () => {
    const args = ['admin', 'evaluate', PAYLOAD, '--event-key', 'repo:push', '--project-id', projectId];
    const table = await runCli([...args, '--data-dir', dataDir]);
    expect(table.stderr).toBe('');
    expect(table.stdout).toMatch(/^ACTION\s+REASON\s+REF\s+MESSAGE$/m);
    expect(table.stdout).toMatch(/^skip\s+no-open-pull-request\s+branch feature\/test\s+only pull requests/m);
    const json = await runCli([...args, '--data-dir', dataDir, '--json']);
    const { decisions } = JSON.parse(json.stdout) as EvaluateAnswer;
    expect(decisions.map((d) => d.reason)).toEqual(['no-open-pull-request']);
  });

  it('evaluates with the settings and default branch given when no project is named', async () => {
    const settings = join(scratch, 'settings.json');
    writeFileSync(settings, JSON.stringify({ ignoreBranches: ['feature/*'] }));
    const result = await runCli([
      'admin',
      'evaluate',
      PAYLOAD,
      '--event-key',
      'repo:push',
      '--settings',
      settings,
      '--data-dir',
      dataDir,
    ]);
    expect(result.stdout).toMatch(/^skip\s+branch-ignored\s+branch feature\/test/m);
  });
});
