import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeAdmin, runCli, startFakeAdmin } from './support';

// Failures are one line on stderr: the API's refusal or an unreachable endpoint exit 1,
// a command-line mistake exits 2 and sends nothing.

let api: FakeAdmin;
beforeAll(async () => {
  api = await startFakeAdmin();
});
afterAll(() => api.close());

function admin(...args: string[]) {
  return runCli(['admin', ...args, '--endpoint', api.url, '--token', 'tok']);
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('hookgate admin errors', () => {
  it("prints the API's error as one line and exits 1", async () => {
    api.reply(404, { error: { code: 'not-found', message: 'no integration "nope"' } });
    const result = await admin('integrations', 'get', 'nope');
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: 'hookgate admin: 404 not-found: no integration "nope"\n',
    });
  });

  it('prints the API error as one line with --json too', async () => {
    api.reply(412, {
      error: { code: 'version-mismatch', message: 'integration acme changed: version is 4' },
    });
    const result = await admin('integrations', 'update', 'acme', '--label', 'x', '--if-match', '3', '--json');
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: 'hookgate admin: 412 version-mismatch: integration acme changed: version is 4\n',
    });
  });

  it("prints API Gateway's own refusal, which has no error code", async () => {
    api.reply(403, { message: 'Forbidden' });
    const result = await admin('projects', 'get', 'p1');
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'hookgate admin: 403 forbidden: Forbidden\n' });
  });

  it('keeps a multi-line error message to one line', async () => {
    api.reply(500, { error: { code: 'internal', message: 'first\nsecond' } });
    const result = await admin('projects', 'get', 'p1');
    expect(result.stderr).toBe('hookgate admin: 500 internal: first\n');
  });

  it('reports an endpoint nobody listens on as one line, exit 1', async () => {
    const port = await closedPort();
    const result = await runCli([
      'admin',
      'integrations',
      'list',
      '--endpoint',
      `http://127.0.0.1:${port}`,
      '--token',
      't',
    ]);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `hookgate admin: cannot reach http://127.0.0.1:${port}: connection refused\n`,
    });
  });

  const USAGE_ERRORS: Record<string, [string[], RegExp]> = {
    'a missing resource': [[], /missing the resource/],
    'an unknown resource': [['widgets', 'list'], /unknown resource "widgets"/],
    'an unknown verb': [
      ['integrations', 'frobnicate'],
      /unknown verb "frobnicate" for integrations \(try: list, get/,
    ],
    'a missing name': [['integrations', 'get'], /missing <name>: hookgate admin integrations get <name>/],
    'an extra argument': [['projects', 'get', 'p1', 'p2'], /unexpected argument "p2"/],
    'an unknown option': [['integrations', 'list', '--colour'], /--colour/],
    'an unknown provider': [
      ['integrations', 'create', 'x', '--provider', 'github', '--default'],
      /--provider must be one of/,
    ],
    'a create without a provider': [['integrations', 'create', 'x', '--default'], /--provider is required/],
    'a create without a scope': [
      ['integrations', 'create', 'x', '--provider', 'bitbucket-cloud'],
      /--default .* or --space/,
    ],
    'both --default and --space': [
      ['integrations', 'update', 'x', '--default', '--space', 's'],
      /exclude each other/,
    ],
    'both --credentials-file and --remove-credentials': [
      ['integrations', 'update', 'x', '--credentials-file', 'c.json', '--remove-credentials'],
      /exclude each other/,
    ],
    'a projects list without --integration': [['projects', 'list'], /--integration is required/],
    'an update with nothing to change': [['integrations', 'update', 'x'], /nothing to update/],
    'a project set with nothing to change': [['projects', 'set', 'p1'], /nothing to change/],
    'an unknown setting': [
      ['projects', 'set', 'p1', '--set', 'onlyBuildPullRequest=true'],
      /unknown setting "onlyBuildPullRequest"/,
    ],
    'a --set without =': [['projects', 'set', 'p1', '--set', 'buildTags'], /--set takes key=value/],
    'a repository that is not owner/slug': [
      ['projects', 'connect', 'acme', 'widgets'],
      /workspace\/slug .* PROJECT\/slug/,
    ],
    'a build of nothing': [['projects', 'build', 'p1'], /exactly one of --branch, --tag and --pull-request/],
    'a build of a branch and a tag': [
      ['projects', 'build', 'p1', '--branch', 'main', '--tag', 'v1'],
      /exactly one of --branch, --tag and --pull-request/,
    ],
    'a build of a pull request that is not a number': [
      ['projects', 'build', 'p1', '--pull-request', '#7'],
      /--pull-request takes the pull request's number/,
    ],
    'a bad --limit': [['deliveries', 'list', '--limit', 'ten'], /--limit must be a whole number/],
    'a missing credentials file': [
      [
        'integrations',
        'create',
        'x',
        '--provider',
        'bitbucket-cloud',
        '--default',
        '--credentials-file',
        '/no/such.json',
      ],
      /cannot read credentials file \/no\/such\.json: no such file/,
    ],
    'a bad --auth': [['integrations', 'list', '--auth', 'basic'], /--auth must be iam or token/],
    'an empty option value': [['integrations', 'list', '--label', ''], /--label must not be empty/],
  };

  it.each(Object.entries(USAGE_ERRORS))(
    'exits 2 with one line and sends nothing for %s',
    async (_, [args, message]) => {
      const before = api.received.length;
      const result = await admin(...args);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^hookgate admin: [^\n]+\n$/);
      expect(result.stderr).toMatch(message);
      expect(api.received).toHaveLength(before);
    },
  );

  it('rejects an endpoint that is not an http(s) URL', async () => {
    const result = await runCli(['admin', 'integrations', 'list', '--endpoint', 'ftp://x', '--token', 't']);
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: 'hookgate admin: --endpoint must be an http(s) URL, not "ftp://x"\n',
    });
  });

  it('prints the admin usage on --help, and hookgate --help lists admin', async () => {
    const own = await runCli(['admin', '--help']);
    expect(own.code).toBe(0);
    expect(own.stdout).toMatch(/^usage: hookgate admin <integrations\|projects\|deliveries> <verb>/);
    expect(own.stdout).toContain('projects set <id> [--settings-file F] [--set key=value]...');
    const all = await runCli(['--help']);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^ {2}admin\s+manage integrations, projects and deliveries/m);
    expect(all.stdout).toContain('usage: hookgate admin');
    expect(all.stdout).toContain('usage: hookgate evaluate');
  });
});
