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

  // The API names its own fields and routes; the CLI user knows the options and commands.
  it.each([
    [
      'the options an integration without credentials needs, not the API fields',
      ['projects', 'connect', 'local', 'acme/widgets'],
      400,
      {
        code: 'invalid-request',
        message:
          'integration "local" has no credentials, so Bitbucket cannot be asked: pass repositoryId and defaultBranch',
      },
      'hookgate admin: 400 invalid-request: integration "local" has no credentials, so Bitbucket cannot be asked: pass --repository-id and --default-branch\n',
    ],
    [
      'the health command where repair cannot change the repository',
      ['projects', 'repair', 'prj-1'],
      409,
      {
        code: 'no-credentials',
        message:
          'integration "local" has no credentials, so Hookgate cannot change the repository: add credentials, or fix what GET /admin/projects/prj-1/health reports by hand',
      },
      'hookgate admin: 409 no-credentials: integration "local" has no credentials, so Hookgate cannot change the repository: add credentials, or fix what `hookgate admin projects health prj-1` reports by hand\n',
    ],
    [
      'the --integration option where a delivery id is in two integrations',
      ['deliveries', 'get', 'd-1'],
      409,
      { code: 'ambiguous', message: 'delivery d-1 exists in integrations "a", "b": add ?integration=' },
      'hookgate admin: 409 ambiguous: delivery d-1 exists in integrations "a", "b": add --integration <name>\n',
    ],
    [
      'the option of a field the API refused, keeping plain words',
      ['deliveries', 'list', '--integration', 'Bad'],
      400,
      { code: 'invalid-request', message: 'integration must be an integration name, not "Bad"' },
      'hookgate admin: 400 invalid-request: --integration must be an integration name, not "Bad"\n',
    ],
  ])('names %s', async (_, args, status, error, stderr) => {
    api.reply(status, { error });
    expect(await admin(...args)).toEqual({ code: 1, stdout: '', stderr });
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
    'an unknown option': [
      ['integrations', 'list', '--colour'],
      /^hookgate admin: unknown option --colour \(see hookgate admin integrations list --help\)\n$/,
    ],
    'an option without its value': [['projects', 'list', '--integration'], /--integration needs a value/],
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
    'a --set boolean that is not yes or no': [
      ['projects', 'set', 'p1', '--set', 'onlyBuildPullRequests=maybe'],
      /--set onlyBuildPullRequests: expected true, false, yes or no, got "maybe"/,
    ],
    'a --set list in JSON that is not of strings': [
      ['projects', 'set', 'p1', '--set', 'ignoreBranches=[1, 2]'],
      /--set ignoreBranches: expected a JSON array of strings or comma-separated values, got \[1, 2\]/,
    ],
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
    'a deliveries list without --integration or --project': [
      ['deliveries', 'list'],
      /give --integration <name> \(every delivery it received\) or --project <id> \(those decided for it\)$/m,
    ],
    'a deliveries list with both --integration and --project': [
      ['deliveries', 'list', '--integration', 'a', '--project', 'p1'],
      /give one of --integration <name> .* or --project <id> .*, not both/,
    ],
    'a --limit that is not a number': [
      ['deliveries', 'list', '--integration', 'a', '--limit', 'ten'],
      /--limit must be a whole number from 1 to 100, not "ten"/,
    ],
    'a --limit over the API bound': [
      ['deliveries', 'list', '--integration', 'a', '--limit', '101'],
      /--limit must be a whole number from 1 to 100, not "101"/,
    ],
    'an evaluate without --event-key': [
      ['evaluate', 'examples/payloads/cloud-push-main.json'],
      /^hookgate admin: missing --event-key: the event the payload was sent for, e\.g\. repo:push/,
    ],
    'an evaluate with --project-id and --settings': [
      [
        'evaluate',
        'examples/payloads/cloud-push-main.json',
        '--event-key',
        'repo:push',
        '--project-id',
        'p1',
        '--settings',
        's.json',
      ],
      /--project-id brings the project's own settings and default branch: leave out --settings and --default-branch/,
    ],
    'a missing known hosts file': [
      ['integrations', 'update', 'x', '--ssh-known-hosts-file', '/no/known_hosts'],
      /cannot read known hosts file \/no\/known_hosts: no such file/,
    ],
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
      expect(result.stderr).not.toMatch(/header|repositoryId|defaultBranch/);
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
    expect(own.stdout).toMatch(
      /^usage: hookgate admin <integrations\|projects\|deliveries\|evaluate> \[<verb>\]/,
    );
    expect(own.stdout).toContain('    evaluate <payload.json> --event-key <key>');
    expect(own.stdout).toContain('projects set <id> [--settings-file F] [--set key=value]...');
    const all = await runCli(['--help']);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^ {2}admin\s+manage integrations, projects and deliveries/m);
    expect(all.stdout).toContain('usage: hookgate admin');
    expect(all.stdout).toContain('usage: hookgate evaluate');
  });
});
