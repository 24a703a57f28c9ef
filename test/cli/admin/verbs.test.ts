import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeAdmin, runCli, startFakeAdmin } from './support';

// Every verb of `hookgate admin`, run through the real CLI against a recording fake admin API:
// the method, path, query, body and headers each one sends.

const TOKEN = 'local-admin-token';
let api: FakeAdmin;
let dir: string;

beforeAll(async () => {
  api = await startFakeAdmin();
  dir = mkdtempSync(join(tmpdir(), 'hookgate-admin-verbs-'));
  writeFileSync(join(dir, 'creds.json'), JSON.stringify({ type: 'access-token', token: 'bb-token' }));
  writeFileSync(
    join(dir, 'settings.json'),
    JSON.stringify({ buildTags: true, onlyBuildPullRequests: false }),
  );
  // A Data Center server's known_hosts as ssh-keyscan writes it, with a comment and blank lines.
  writeFileSync(
    join(dir, 'known_hosts'),
    [
      '# bitbucket.example.com:7999 SSH-2.0-SSHD-CORE',
      `[bitbucket.example.com]:7999 ${ED25519}`,
      '',
      `[bitbucket.example.com]:7999 ${ECDSA}  `,
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'empty_known_hosts'), '\n');
  writeFileSync(
    join(dir, 'state.json'),
    JSON.stringify({ openPullRequests: [{ id: 7, sourceBranch: 'feature/test' }] }),
  );
});

const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIazEu89wgQZ4bqs3d63QSMzYVa0MuJ2e2gKTKqu+UUO';
const ECDSA =
  'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBPIQmuzMBuKdWeF4+a2sjSSpBK0iqitSQ+5BM9KhpexuGt20JpTVM7u5BDZngncgrqDMbWdxMWWOGtZ9UgbqgZE=';
afterAll(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  api.reply(200, {});
});

// What is sent, not what is printed: --json leaves the canned answer unread.
function admin(...args: string[]) {
  return runCli(['admin', ...args, '--endpoint', api.url, '--token', TOKEN, '--json']);
}

interface Case {
  args: string[];
  method: string;
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  headers?: Record<string, string>;
}

const file = (name: string) => join(dir, name);

const CLOUD_BRANCH_CREATED: unknown = JSON.parse(
  readFileSync(new URL('../../../examples/payloads/cloud-branch-created.json', import.meta.url), 'utf8'),
);

const CASES: Record<string, Case> = {
  'integrations list filters by label, scope and provider': {
    args: [
      'integrations',
      'list',
      '--label',
      'team a',
      '--scope',
      'default',
      '--provider',
      'bitbucket-cloud',
    ],
    method: 'GET',
    path: '/admin/integrations',
    query: { label: 'team a', scope: 'default', provider: 'bitbucket-cloud' },
  },
  'integrations list joins several labels with commas and can include deleted ones': {
    args: ['integrations', 'list', '--label', 'a', '--label', 'b', '--include-deleted'],
    method: 'GET',
    path: '/admin/integrations',
    query: { label: 'a,b', includeDeleted: 'true' },
  },
  'integrations list without filters sends no query': {
    args: ['integrations', 'list'],
    method: 'GET',
    path: '/admin/integrations',
    query: {},
  },
  'integrations get names the integration in the path': {
    args: ['integrations', 'get', 'acme-cloud'],
    method: 'GET',
    path: '/admin/integrations/acme-cloud',
  },
  'integrations create sends every field, a space scope and the credentials file': {
    args: [
      'integrations',
      'create',
      'acme-dc',
      '--provider',
      'bitbucket-data-center',
      '--space',
      'platform',
      '--label',
      'team-a',
      '--label',
      'prod',
      '--description',
      'Our **DC**',
      '--base-url',
      'https://bitbucket.example.com',
      '--credentials-file',
      '<creds.json>',
      '--ssh-known-hosts-file',
      '<known_hosts>',
    ],
    method: 'POST',
    path: '/admin/integrations',
    body: {
      name: 'acme-dc',
      provider: 'bitbucket-data-center',
      scope: { space: 'platform' },
      labels: ['team-a', 'prod'],
      description: 'Our **DC**',
      baseUrl: 'https://bitbucket.example.com',
      sshKnownHosts: [`[bitbucket.example.com]:7999 ${ED25519}`, `[bitbucket.example.com]:7999 ${ECDSA}`],
      credentials: { type: 'access-token', token: 'bb-token' },
    },
  },
  'integrations update --ssh-known-hosts-file replaces the known hosts lines': {
    args: ['integrations', 'update', 'acme-dc', '--ssh-known-hosts-file', '<known_hosts>'],
    method: 'PATCH',
    path: '/admin/integrations/acme-dc',
    body: {
      sshKnownHosts: [`[bitbucket.example.com]:7999 ${ED25519}`, `[bitbucket.example.com]:7999 ${ECDSA}`],
    },
  },
  'integrations update with an empty known hosts file removes them': {
    args: ['integrations', 'update', 'acme-dc', '--ssh-known-hosts-file', '<empty_known_hosts>'],
    method: 'PATCH',
    path: '/admin/integrations/acme-dc',
    body: { sshKnownHosts: [] },
  },
  'integrations create --default sends the default scope and empty labels and description': {
    args: ['integrations', 'create', 'acme-cloud', '--provider', 'bitbucket-cloud', '--default'],
    method: 'POST',
    path: '/admin/integrations',
    body: { name: 'acme-cloud', provider: 'bitbucket-cloud', scope: 'default', labels: [], description: '' },
  },
  'integrations update sends only what changes, with If-Match': {
    args: [
      'integrations',
      'update',
      'acme-cloud',
      '--label',
      'x',
      '--description',
      'new',
      '--space',
      'sp',
      '--if-match',
      '3',
    ],
    method: 'PATCH',
    path: '/admin/integrations/acme-cloud',
    body: { labels: ['x'], description: 'new', scope: { space: 'sp' } },
    headers: { 'if-match': '3' },
  },
  'integrations update can move to the default scope and replace credentials': {
    args: ['integrations', 'update', 'acme-cloud', '--default', '--credentials-file', '<creds.json>'],
    method: 'PATCH',
    path: '/admin/integrations/acme-cloud',
    body: { scope: 'default', credentials: { type: 'access-token', token: 'bb-token' } },
  },
  'integrations update --remove-credentials sends credentials: null': {
    args: ['integrations', 'update', 'acme-cloud', '--remove-credentials'],
    method: 'PATCH',
    path: '/admin/integrations/acme-cloud',
    body: { credentials: null },
  },
  'integrations delete, asking nothing without a terminal': {
    args: ['integrations', 'delete', 'acme-cloud'],
    method: 'DELETE',
    path: '/admin/integrations/acme-cloud',
  },
  'integrations rotate-secret': {
    args: ['integrations', 'rotate-secret', 'acme-cloud'],
    method: 'POST',
    path: '/admin/integrations/acme-cloud/rotate-secret',
  },
  'projects connect with a manual repository id, default branch and settings': {
    args: [
      'projects',
      'connect',
      'acme-cloud',
      'acme-corp/widgets',
      '--repository-id',
      '{6a3c7a4e-0000-4000-8000-000000000001}',
      '--default-branch',
      'trunk',
      '--settings-file',
      '<settings.json>',
      '--pipeline-file',
      'ci/pipeline.yml',
    ],
    method: 'POST',
    path: '/admin/projects',
    body: {
      integration: 'acme-cloud',
      repository: 'acme-corp/widgets',
      repositoryId: '{6a3c7a4e-0000-4000-8000-000000000001}',
      defaultBranch: 'trunk',
      settings: { buildTags: true, onlyBuildPullRequests: false },
      pipelineFile: 'ci/pipeline.yml',
    },
  },
  'projects connect a Data Center PROJECT/slug with nothing else': {
    args: ['projects', 'connect', 'acme-dc', 'PROJ/repo'],
    method: 'POST',
    path: '/admin/projects',
    body: { integration: 'acme-dc', repository: 'PROJ/repo' },
  },
  'projects list the projects of one integration': {
    args: ['projects', 'list', '--integration', 'acme-cloud'],
    method: 'GET',
    path: '/admin/projects',
    query: { integration: 'acme-cloud' },
  },
  'projects get escapes the id': {
    args: ['projects', 'get', '{abc def}'],
    method: 'GET',
    path: '/admin/projects/%7Babc%20def%7D',
  },
  'projects set merges --set over the settings file, lists comma-separated or JSON': {
    args: [
      'projects',
      'set',
      'p1',
      '--settings-file',
      '<settings.json>',
      '--set',
      'onlyBuildPullRequests=true',
      '--set',
      'alwaysBuildBranches=["release/*"]',
      '--set',
      'ignoreBranches=wip/*',
      '--set',
      'tagPatterns=v*, release-*',
      '--pipeline-file',
      '.ci/pipeline.yml',
    ],
    method: 'PATCH',
    path: '/admin/projects/p1',
    body: {
      settings: {
        buildTags: true,
        onlyBuildPullRequests: true,
        alwaysBuildBranches: ['release/*'],
        ignoreBranches: ['wip/*'],
        tagPatterns: ['v*', 'release-*'],
      },
      pipelineFile: '.ci/pipeline.yml',
    },
  },
  'projects set takes yes and no for booleans, and either for skipMarkers': {
    args: [
      'projects',
      'set',
      'p1',
      '--set',
      'onlyBuildPullRequests=yes',
      '--set',
      'buildTags=No',
      '--set',
      'skipMarkers=[skip ci],[ci skip]',
      '--set',
      'buildDraftPullRequests=false',
    ],
    method: 'PATCH',
    path: '/admin/projects/p1',
    body: {
      settings: {
        onlyBuildPullRequests: true,
        buildTags: false,
        skipMarkers: ['[skip ci]', '[ci skip]'],
        buildDraftPullRequests: false,
      },
    },
  },
  'projects set takes path globs comma-separated': {
    args: [
      'projects',
      'set',
      'p1',
      '--set',
      'includePaths=services/api/**,libs/**',
      '--set',
      'excludePaths=**/*.md',
    ],
    method: 'PATCH',
    path: '/admin/projects/p1',
    body: { settings: { includePaths: ['services/api/**', 'libs/**'], excludePaths: ['**/*.md'] } },
  },
  'projects set --pipeline-file and --default-branch alone send no settings': {
    args: [
      'projects',
      'set',
      'p1',
      '--pipeline-file',
      'bitbucket-pipelines.yml',
      '--default-branch',
      'trunk',
    ],
    method: 'PATCH',
    path: '/admin/projects/p1',
    body: { pipelineFile: 'bitbucket-pipelines.yml', defaultBranch: 'trunk' },
  },
  'projects disconnect, asking nothing without a terminal': {
    args: ['projects', 'disconnect', 'p1'],
    method: 'DELETE',
    path: '/admin/projects/p1',
  },
  'projects health': {
    args: ['projects', 'health', 'p1'],
    method: 'GET',
    path: '/admin/projects/p1/health',
  },
  'projects repair': {
    args: ['projects', 'repair', 'p1'],
    method: 'POST',
    path: '/admin/projects/p1/repair',
  },
  'projects repair --rotate-deploy-key asks for a new key': {
    args: ['projects', 'repair', 'p1', '--rotate-deploy-key'],
    method: 'POST',
    path: '/admin/projects/p1/repair',
    body: { rotateDeployKey: true },
  },
  'projects build of a branch at a given commit, with the request id given': {
    args: [
      'projects',
      'build',
      'p1',
      '--branch',
      'release/1.x',
      '--commit',
      'e42fac2',
      '--request-id',
      'ci-41',
    ],
    method: 'POST',
    path: '/admin/projects/p1/builds',
    body: { branch: 'release/1.x', commit: 'e42fac2', requestId: 'ci-41' },
  },
  'projects build of a pull request sends its number, with a request id of its own': {
    args: ['projects', 'build', 'p1', '--pull-request', '7'],
    method: 'POST',
    path: '/admin/projects/p1/builds',
    body: { pullRequest: 7, requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) },
  },
  'projects build of a tag': {
    args: ['projects', 'build', 'p1', '--tag', 'v1.0'],
    method: 'POST',
    path: '/admin/projects/p1/builds',
    body: { tag: 'v1.0', requestId: expect.any(String) },
  },
  'deliveries list of an integration with the limit and the page cursor': {
    args: ['deliveries', 'list', '--integration', 'acme-cloud', '--limit', '100', '--next', 'eyJrIjoxfQ=='],
    method: 'GET',
    path: '/admin/deliveries',
    query: { integration: 'acme-cloud', limit: '100', next: 'eyJrIjoxfQ==' },
  },
  'deliveries list of a project': {
    args: ['deliveries', 'list', '--project', 'p1'],
    method: 'GET',
    path: '/admin/deliveries',
    query: { project: 'p1' },
  },
  'deliveries get with its integration': {
    args: ['deliveries', 'get', 'd-1', '--integration', 'acme-cloud'],
    method: 'GET',
    path: '/admin/deliveries/d-1',
    query: { integration: 'acme-cloud' },
  },
  'deliveries replay with its integration': {
    args: ['deliveries', 'replay', 'd-1', '--integration', 'acme-cloud'],
    method: 'POST',
    path: '/admin/deliveries/d-1/replay',
    query: { integration: 'acme-cloud' },
  },
  'evaluate sends the payload, event key and project': {
    args: [
      'evaluate',
      'examples/payloads/cloud-branch-created.json',
      '--event-key',
      'repo:push',
      '--project-id',
      'p1',
    ],
    method: 'POST',
    path: '/admin/evaluate',
    body: { eventKey: 'repo:push', payload: CLOUD_BRANCH_CREATED, projectId: 'p1' },
  },
  'evaluate without a project sends the settings, default branch, state and provider': {
    args: [
      'evaluate',
      'examples/payloads/cloud-branch-created.json',
      '--event-key',
      'repo:push',
      '--settings',
      '<settings.json>',
      '--default-branch',
      'trunk',
      '--state',
      '<state.json>',
      '--provider',
      'bitbucket-cloud',
    ],
    method: 'POST',
    path: '/admin/evaluate',
    body: {
      eventKey: 'repo:push',
      payload: CLOUD_BRANCH_CREATED,
      provider: 'bitbucket-cloud',
      settings: { buildTags: true, onlyBuildPullRequests: false },
      defaultBranch: 'trunk',
      state: { openPullRequests: [{ id: 7, sourceBranch: 'feature/test' }] },
    },
  },
};

describe('hookgate admin sends', () => {
  it.each(Object.entries(CASES))('%s', async (_, expected) => {
    const before = api.received.length;
    const args = expected.args.map((arg) => (arg.startsWith('<') ? file(arg.slice(1, -1)) : arg));
    const result = await admin(...args);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(api.received).toHaveLength(before + 1);
    const request = api.last();
    expect(request.method).toBe(expected.method);
    expect(request.path).toBe(expected.path);
    if (expected.query) expect(request.query).toEqual(expected.query);
    expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request.headers.accept).toBe('application/json');
    if (expected.body === undefined) {
      expect(request.body).toBe('');
      expect(request.headers['content-type']).toBeUndefined();
    } else {
      expect(JSON.parse(request.body)).toEqual(expected.body);
      expect(request.headers['content-type']).toBe('application/json');
    }
    for (const [name, value] of Object.entries(expected.headers ?? {}))
      expect(request.headers[name]).toBe(value);
    if (!expected.headers?.['if-match']) expect(request.headers['if-match']).toBeUndefined();
  });
});
