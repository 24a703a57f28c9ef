import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { projectIdOf } from '../../shared/admin/project-id';
import { signBody } from '../../shared/bitbucket/signature';
import type { TriggerMessage } from '../../shared/domain/trigger-message';
import { ensureFreshBundle, freePort, killAll, ROOT, runCli, startDev } from './dev-process';

// The local stack as a person runs it: `npm start` (or bin/hookgate.mjs dev) in a child process,
// real signed deliveries over HTTP, and what it prints and writes.

const PAYLOADS = join(ROOT, 'examples/payloads');
const PUSH_MAIN = join(PAYLOADS, 'cloud-push-main.json');
const SHA_MAIN = 'e42fac24456e4a56f1b7f9358afc3070e3b7ddec'; // head of main in cloud-push-main.json
const BRANCH_CREATED = join(PAYLOADS, 'cloud-branch-created.json');
const SHA_BRANCH = '174561d625c9623b60d8aba09b7f08ddc9df45cd'; // feature/test in cloud-branch-created.json
const REPO_BRANCH_CREATED = '{3deb8c29-778a-450c-8f69-3e50a18079df}'; // its repository.uuid
const DC_PUSH = join(PAYLOADS, 'dc-refs-changed-main.json');
const SECRET = 'local-test-secret';
const URL_LINE = /http:\/\/127\.0\.0\.1:(\d+)\/webhooks\/local/;
/** The banner's last line: everything above it is printed. */
const READY = /^Waiting for deliveries; Ctrl-C stops\.$/m;
const ADMIN_TOKEN_LINE = /^ {2}admin token {2}(\S+)/m;

let scratch: string;

beforeAll(() => {
  ensureFreshBundle();
  scratch = mkdtempSync(join(tmpdir(), 'hookgate-dev-'));
});

afterEach(async () => {
  await killAll();
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

function tempDir(): string {
  return mkdtempSync(join(scratch, 'data-'));
}

/** POSTs a payload file signed like Bitbucket Cloud. */
async function deliver(
  url: string,
  path: string,
  eventKey: string,
  deliveryId = randomUUID(),
  secret = SECRET,
) {
  const body = readFileSync(path);
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-event-key': eventKey,
      'x-request-uuid': deliveryId,
      'x-hub-signature': signBody(body, secret),
    },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

function triggersIn(dataDir: string): TriggerMessage[] {
  const path = join(dataDir, 'triggers.ndjson');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as TriggerMessage);
}

/** One admin API call, with the bearer token when one is given. */
async function adminCall(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Record<string, any> };
}

const count = (text: string, pattern: RegExp) => text.match(new RegExp(pattern, 'gm'))?.length ?? 0;

describe('hookgate dev (npm start)', () => {
  it('turns signed deliveries into one trigger per commit, refuses bad signatures, and keeps state across a restart', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const dev = startDev(['--port', String(port), '--data-dir', dataDir, '--secret', SECRET], { npm: true });
    await dev.waitFor(READY);
    const url = `http://127.0.0.1:${dev.stdout.match(URL_LINE)?.[1]}/webhooks/local`;
    expect(url).toBe(`http://127.0.0.1:${port}/webhooks/local`);
    expect(dev.stdout).toContain('npx hookgate send');

    // A real push, sent by `hookgate send` with the URL and secret it reads from the data dir.
    const pushId = randomUUID();
    const sent = await runCli([
      'send',
      PUSH_MAIN,
      '--event-key',
      'repo:push',
      '--data-dir',
      dataDir,
      '--delivery-id',
      pushId,
    ]);
    expect(sent.exit.code).toBe(0);
    expect(sent.stdout).toMatch(/^202 Accepted/);
    await dev.waitFor(/^trigger {2}cloudbeers\/temp {2}branch main {2}e42fac2 {2}default-branch$/m);
    expect(dev.stdout).toMatch(/^connected cloudbeers\/temp as project prj-[0-9a-f]{16}/m);
    expect(dev.stdout).toMatch(/^ {2}trigger default-branch: .*\[e42fac2\]$/m);
    expect(triggersIn(dataDir)).toEqual([
      expect.objectContaining({
        schema: 'hookgate.trigger/v1',
        provider: 'bitbucket-cloud',
        reason: 'default-branch',
        ref: { type: 'branch', name: 'main' },
        commit: expect.objectContaining({ sha: SHA_MAIN, abbreviated: false }),
      }),
    ]);

    // A wrong signature is refused and leaves no trace: the same id is new afterwards.
    const forgedId = randomUUID();
    const forged = await deliver(url, BRANCH_CREATED, 'repo:push', forgedId, 'not-the-secret');
    expect(forged.status).toBe(401);
    expect(forged.body.error.code).toBe('invalid-signature');
    await dev.waitFor(/^rejected POST \/webhooks\/local {2}401 invalid-signature/m);

    // The same delivery id again is a duplicate; a new id with the same commit is no new trigger.
    const again = await deliver(url, PUSH_MAIN, 'repo:push', pushId);
    expect(again).toEqual({
      status: 202,
      body: { deliveryId: pushId, status: 'processed', duplicate: true },
    });
    const sameCommit = await deliver(url, PUSH_MAIN, 'repo:push');
    expect(sameCommit.status).toBe(202);
    expect(sameCommit.body.duplicate).toBeUndefined();
    await dev.waitFor(/was already sent for this ref and commit by an earlier delivery/);

    // Data Center deliveries go to the same integration and are read as Data Center.
    expect((await deliver(url, DC_PUSH, 'repo:refs_changed')).status).toBe(202);
    await dev.waitFor(/^trigger {2}AMUNIZ\/test-repos {2}branch main {2}9fdd7b9 {2}default-branch$/m);

    // Accepted just before Ctrl-C: the delivery is processed now or at the next start, never lost.
    expect((await deliver(url, BRANCH_CREATED, 'repo:push', forgedId)).body).toEqual({
      deliveryId: forgedId,
      status: 'received',
    });
    dev.signal('SIGINT');
    await dev.exited;
    expect(dev.stdout).toMatch(/^stopped; state kept in /m);
    expect(dev.stderr).toBe('');
    expect(existsSync(join(dataDir, 'hookgate.lock'))).toBe(false);

    const restarted = startDev(['--port', String(port), '--data-dir', dataDir]);
    await restarted.waitFor(READY);
    expect(restarted.stdout).not.toContain('first start');
    expect(restarted.stdout).toContain(`secret       ${SECRET}`);
    const repeat = await deliver(url, PUSH_MAIN, 'repo:push', pushId);
    expect(repeat).toEqual({
      status: 202,
      body: { deliveryId: pushId, status: 'processed', duplicate: true },
    });
    await expect
      .poll(() => triggersIn(dataDir).map((t) => t.commit.sha), { timeout: 10_000 })
      .toEqual([SHA_MAIN, expect.stringMatching(/^9fdd7b9/), SHA_BRANCH]);
    expect(triggersIn(dataDir)[1]?.provider).toBe('bitbucket-data-center');
    expect(count(dev.stdout + restarted.stdout, /^trigger {2}cloudbeers\/temp {2}branch main /)).toBe(1);

    restarted.signal('SIGTERM');
    expect(await restarted.exited).toEqual({ code: 0, signal: null });
  }, 45_000);

  it('runs --exec once per trigger with the trigger in its environment, its output prefixed', async () => {
    const dataDir = tempDir();
    const seen = join(dataDir, 'seen.txt');
    const port = await freePort();
    const dev = startDev([
      '--port',
      String(port),
      '--data-dir',
      dataDir,
      '--secret',
      SECRET,
      '--exec',
      `echo "$HOOKGATE_SHA $HOOKGATE_REF_TYPE $HOOKGATE_REF $HOOKGATE_REASON $HOOKGATE_PROJECT" >> '${seen}'; echo "built $HOOKGATE_REF"; echo "$HOOKGATE_TRIGGER" | grep -q "$HOOKGATE_TRIGGER_ID"`,
    ]);
    const url = `http://127.0.0.1:${(await dev.waitFor(URL_LINE))[1]}/webhooks/local`;
    expect((await deliver(url, PUSH_MAIN, 'repo:push')).status).toBe(202);
    await dev.waitFor(/^\[exec\] built main$/m);
    expect(readFileSync(seen, 'utf8')).toMatch(
      new RegExp(`^${SHA_MAIN} branch main default-branch prj-[0-9a-f]{16}\\n$`),
    );
    expect(dev.stderr).toBe('');
  }, 30_000);

  it('processes at the next start a delivery accepted just before the process was killed', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const args = ['--port', String(port), '--data-dir', dataDir, '--secret', SECRET];
    const first = startDev(args);
    await first.waitFor(READY);
    const url = `http://127.0.0.1:${port}/webhooks/local`;
    // SIGKILL the moment the 202 arrives: no clean stop, nothing flushed but what was promised.
    const accepted = await deliver(url, BRANCH_CREATED, 'repo:push');
    first.signal('SIGKILL');
    expect(accepted.status).toBe(202);
    await first.exited;

    const second = startDev(args);
    await second.waitFor(READY);
    await second.waitFor(
      /^trigger {2}amuniz\/test-repos {2}branch feature\/test {2}174561d {2}branch-push$/m,
    );
    expect(triggersIn(dataDir).map((t) => t.commit.sha)).toEqual([SHA_BRANCH]);
  });

  it('exits 1 with one line on stderr when the port is in use', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const dev = startDev(['--port', String(port), '--data-dir', tempDir()]);
      expect((await dev.exited).code).toBe(1);
      expect(dev.stderr).toBe(
        `hookgate dev: port ${port} on 127.0.0.1 is already in use (pass --port to pick another)\n`,
      );
      expect(dev.stdout).toBe('');
    } finally {
      blocker.close();
    }
  });

  it('exits 1 with one line on stderr when the data dir cannot be written', async () => {
    // A file where a folder should be: unwritable even for root, which ignores permission bits.
    const file = join(scratch, `not-a-folder-${randomUUID()}`);
    writeFileSync(file, '');
    const dev = startDev(['--port', String(await freePort()), '--data-dir', join(file, 'data')]);
    expect((await dev.exited).code).toBe(1);
    expect(dev.stderr).toMatch(
      /^hookgate dev: cannot use data dir .*: not a directory \(a file is in the way\)\n$/,
    );
    expect(dev.stdout).toBe('');
  });

  it('exits 1 with one line when another stack already uses the data dir', async () => {
    const dataDir = tempDir();
    const first = startDev(['--port', String(await freePort()), '--data-dir', dataDir]);
    await first.waitFor(URL_LINE);
    const second = startDev(['--port', String(await freePort()), '--data-dir', dataDir]);
    expect((await second.exited).code).toBe(1);
    expect(second.stderr).toMatch(/^hookgate dev: data dir .* is in use by another hookgate \(pid \d+\)/);
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('hookgate dev: the admin API', () => {
  it('answers /admin/* with the printed token only, and hookgate admin reads that token from the data dir', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const dev = startDev(['--port', String(port), '--data-dir', dataDir], { npm: true });
    await dev.waitFor(READY);
    const token = dev.stdout.match(ADMIN_TOKEN_LINE)?.[1] ?? '';
    expect(token).toMatch(/^[\w-]{32}$/);
    expect(dev.stdout).toContain(`admin API    http://127.0.0.1:${port}/admin/`);
    const base = `http://127.0.0.1:${port}`;

    const anonymous = await adminCall(base, 'GET', '/admin/integrations');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('unauthorized');
    expect((await adminCall(base, 'GET', '/admin/integrations', { token: `${token}x` })).status).toBe(401);

    const listed = await adminCall(base, 'GET', '/admin/integrations', { token });
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([
      expect.objectContaining({
        name: 'local',
        provider: 'bitbucket-cloud',
        status: 'active',
        webhookUrl: `http://127.0.0.1:${port}/webhooks/local`,
      }),
    ]);

    // `local` holds the Cloud default as an integration created through the API would.
    const secondDefault = await adminCall(base, 'POST', '/admin/integrations', {
      token,
      body: { name: 'acme', provider: 'bitbucket-cloud', scope: 'default' },
    });
    expect(secondDefault.status).toBe(409);
    expect(secondDefault.body.error.code).toBe('default-taken');

    const cli = await runCli(['admin', 'integrations', 'list', '--data-dir', dataDir]);
    expect(cli.stderr).toBe('');
    expect(cli.exit.code).toBe(0);
    expect(cli.stdout).toMatch(/^NAME +PROVIDER +SCOPE/);
    expect(cli.stdout).toMatch(/^local +bitbucket-cloud +default +local +active +1$/m);
    expect(dev.stderr).toBe('');
  }, 30_000);

  it('applies settings changed through the admin API to the next delivery, and lists it with its decisions', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const dev = startDev(['--port', String(port), '--data-dir', dataDir, '--secret', SECRET]);
    await dev.waitFor(READY);
    const token = dev.stdout.match(ADMIN_TOKEN_LINE)?.[1] ?? '';
    const base = `http://127.0.0.1:${port}`;

    // Without credentials: the repository id and default branch are given, nothing is registered.
    const connected = await adminCall(base, 'POST', '/admin/projects', {
      token,
      body: {
        integration: 'local',
        repository: 'amuniz/test-repos',
        repositoryId: REPO_BRANCH_CREATED,
        defaultBranch: 'main',
      },
    });
    expect(connected.status).toBe(201);
    const projectId = projectIdOf('local', REPO_BRANCH_CREATED);
    expect(connected.body.project).toMatchObject({ id: projectId, defaultBranch: 'main' });
    expect(connected.body.manualSetup.webhook.url).toBe(`${base}/webhooks/local`);

    const patched = await adminCall(base, 'PATCH', `/admin/projects/${projectId}`, {
      token,
      body: { settings: { onlyBuildPullRequests: true } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.settings).toMatchObject({ onlyBuildPullRequests: true, buildTags: false });
    await dev.waitFor(
      new RegExp(
        `^admin project\\.update project/${projectId} {2}fields=settings settings=onlyBuildPullRequests$`,
        'm',
      ),
    );

    // A push to a branch other than the default one, with no pull request open for it.
    const deliveryId = randomUUID();
    expect((await deliver(`${base}/webhooks/local`, BRANCH_CREATED, 'repo:push', deliveryId)).status).toBe(
      202,
    );
    await dev.waitFor(/^ {2}skip {4}no-open-pull-request: .*feature\/test.*\[174561d\]$/m);
    expect(dev.stdout).not.toMatch(/^connected /m);

    await expect
      .poll(
        async () => (await adminCall(base, 'GET', '/admin/deliveries?integration=local', { token })).body,
        {
          timeout: 10_000,
        },
      )
      .toEqual({
        items: [
          expect.objectContaining({
            deliveryId,
            integration: 'local',
            eventKey: 'repo:push',
            status: 'processed',
            projectId,
            decisions: [
              expect.objectContaining({
                action: 'skip',
                reason: 'no-open-pull-request',
                ref: { type: 'branch', name: 'feature/test' },
              }),
            ],
          }),
        ],
        next: null,
      });
    expect(triggersIn(dataDir)).toEqual([]);
    expect(dev.stderr).toBe('');
  }, 30_000);

  it('builds a commit again when asked through the admin API and hookgate admin projects build', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const dev = startDev(['--port', String(port), '--data-dir', dataDir, '--secret', SECRET]);
    await dev.waitFor(READY);
    const token = dev.stdout.match(ADMIN_TOKEN_LINE)?.[1] ?? '';
    const base = `http://127.0.0.1:${port}`;

    // A push to main, triggered once; the same push again is not sent again.
    for (let attempt = 0; attempt < 2; attempt++) {
      expect((await deliver(`${base}/webhooks/local`, PUSH_MAIN, 'repo:push')).status).toBe(202);
    }
    await dev.waitFor(/already sent/);
    expect(triggersIn(dataDir).map((t) => t.reason)).toEqual(['default-branch']);
    const projectId = triggersIn(dataDir)[0]?.project.id ?? '';

    // `local` has no credentials: the commit must be given.
    const refused = await adminCall(base, 'POST', `/admin/projects/${projectId}/builds`, {
      token,
      body: { branch: 'main' },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(/--commit <sha>/);

    const cli = await runCli([
      'admin',
      'projects',
      'build',
      projectId,
      '--branch',
      'main',
      '--commit',
      SHA_MAIN,
      '--data-dir',
      dataDir,
    ]);
    expect(cli.stderr).toBe('');
    expect(cli.exit.code).toBe(0);
    expect(cli.stdout).toMatch(/^queued a manual build of branch main at e42fac24456e$/m);
    await dev.waitFor(/^trigger {2}cloudbeers\/temp {2}branch main {2}e42fac2 {2}manual$/m);
    expect(dev.stdout).toMatch(
      new RegExp(`^admin project\\.build project/${projectId} {2}delivery=build-`, 'm'),
    );

    const triggers = triggersIn(dataDir);
    expect(triggers.map((t) => t.reason)).toEqual(['default-branch', 'manual']);
    expect(triggers[1]?.commit.sha).toBe(SHA_MAIN);
    expect(triggers[1]?.triggerId).not.toBe(triggers[0]?.triggerId);
    const listed = await adminCall(base, 'GET', `/admin/deliveries?project=${projectId}`, { token });
    expect(listed.body.items[0]).toMatchObject({ eventKey: 'hookgate:manual-build', status: 'processed' });
    expect(dev.stderr).toBe('');
  }, 30_000);
});

describe('hookgate dev: integrations changed through the admin API', () => {
  it('serves a revived integration at once, and a restart after deleting local revives it', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const url = `${base}/webhooks/local`;
    const dev = startDev(['--port', String(port), '--data-dir', dataDir, '--secret', SECRET]);
    await dev.waitFor(READY);
    const token = dev.stdout.match(ADMIN_TOKEN_LINE)?.[1] ?? '';
    expect((await deliver(url, PUSH_MAIN, 'repo:push')).status).toBe(202);
    await dev.waitFor(/^trigger {2}cloudbeers\/temp /m);

    expect((await adminCall(base, 'DELETE', '/admin/integrations/local', { token })).status).toBe(204);
    expect((await deliver(url, BRANCH_CREATED, 'repo:push')).status).toBe(410);
    const revived = await adminCall(base, 'POST', '/admin/integrations', {
      token,
      body: { name: 'local', provider: 'bitbucket-cloud', scope: 'default' },
    });
    expect(revived.status).toBe(201);
    // At once: the webhook's cached "deleted" and its cached secret are dropped by the admin write.
    const next = await deliver(url, BRANCH_CREATED, 'repo:push', randomUUID(), revived.body.webhookSecret);
    expect(next.status).toBe(202);
    await dev.waitFor(/^trigger {2}amuniz\/test-repos {2}branch feature\/test /m);

    expect((await adminCall(base, 'DELETE', '/admin/integrations/local', { token })).status).toBe(204);
    dev.signal('SIGTERM');
    expect(await dev.exited).toEqual({ code: 0, signal: null });

    const restarted = startDev(['--port', String(port), '--data-dir', dataDir]);
    await restarted.waitFor(READY);
    expect(restarted.stdout).toMatch(/^revived the integration "local" \(it had been deleted/m);
    const secret = restarted.stdout.match(/^ {2}secret {7}(\S+)$/m)?.[1] ?? '';
    expect(secret).not.toBe(SECRET);
    expect(secret).not.toBe(revived.body.webhookSecret);
    const listed = await adminCall(base, 'GET', '/admin/integrations/local', { token });
    // Created, deleted, revived through the API, deleted, revived by the restart.
    expect(listed.body).toMatchObject({ status: 'active', scope: 'default', version: 5 });
    // The project detached by the delete is attached again by its repository's next delivery.
    const dc = await deliver(url, DC_PUSH, 'repo:refs_changed', randomUUID(), secret);
    expect(dc.status).toBe(202);
    await restarted.waitFor(/^trigger {2}AMUNIZ\/test-repos {2}branch main {2}9fdd7b9 {2}default-branch$/m);
    const sent = await runCli(['send', BRANCH_CREATED, '--event-key', 'repo:push', '--data-dir', dataDir]);
    expect(sent.stdout).toMatch(/^202 Accepted/);
    expect(restarted.stderr).toBe('');
  }, 45_000);

  it('refuses, on its delivery line, a delivery of the other platform sent to an integration of one provider', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const dev = startDev(['--port', String(port), '--data-dir', dataDir, '--secret', SECRET]);
    await dev.waitFor(READY);
    const token = dev.stdout.match(ADMIN_TOKEN_LINE)?.[1] ?? '';
    const created = await adminCall(base, 'POST', '/admin/integrations', {
      token,
      body: {
        name: 'acme-dc',
        provider: 'bitbucket-data-center',
        scope: 'default',
        baseUrl: 'http://127.0.0.1:7990',
      },
    });
    expect(created.status).toBe(201);

    const cloud = await deliver(
      `${base}/webhooks/acme-dc`,
      PUSH_MAIN,
      'repo:push',
      randomUUID(),
      created.body.webhookSecret,
    );
    expect(cloud.status).toBe(202);
    await dev.waitFor(
      /^ {2}invalid: "repo:push" is a Bitbucket Cloud event, but this was sent as Bitbucket Data Center: point the webhook at an integration of the right provider$/m,
    );

    // `local` takes both; a Data Center repository connected through it is a Data Center project.
    const connected = await adminCall(base, 'POST', '/admin/projects', {
      token,
      body: {
        integration: 'local',
        repository: 'AMUNIZ/test-repos',
        repositoryId: '1',
        defaultBranch: 'main',
      },
    });
    expect(connected.status).toBe(201);
    expect(connected.body.project).toMatchObject({
      id: projectIdOf('local', '1'),
      provider: 'bitbucket-data-center',
      cloneUrls: { ssh: 'ssh://git@clone-url-unknown.invalid/AMUNIZ/test-repos.git' },
    });
    expect((await deliver(`${base}/webhooks/local`, DC_PUSH, 'repo:refs_changed')).status).toBe(202);
    await dev.waitFor(/^trigger {2}AMUNIZ\/test-repos {2}branch main {2}9fdd7b9 {2}default-branch$/m);
    expect(dev.stdout).not.toMatch(/^connected /m);
    expect(triggersIn(dataDir)).toEqual([
      expect.objectContaining({
        provider: 'bitbucket-data-center',
        project: expect.objectContaining({
          id: projectIdOf('local', '1'),
          cloneUrl: 'ssh://git@localhost:7999/amuniz/test-repos.git',
        }),
      }),
    ]);
    expect(dev.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^warning: delivery payload could not be read \[integration=acme-dc /),
    ]);
  }, 30_000);
});

describe('hookgate send', () => {
  it('exits 2 with one line naming --event-key when the event key is missing', async () => {
    const sent = await runCli(['send', PUSH_MAIN]);
    expect(sent.exit.code).toBe(2);
    expect(sent.stderr).toMatch(/^hookgate send: missing --event-key: [^\n]+\n$/);
  });

  it('exits 1 and prints the answer when the server refuses the delivery', async () => {
    const dataDir = tempDir();
    const dev = startDev(['--port', String(await freePort()), '--data-dir', dataDir]);
    const url = `http://127.0.0.1:${(await dev.waitFor(URL_LINE))[1]}/webhooks/local`;
    const sent = await runCli([
      'send',
      PUSH_MAIN,
      '--event-key',
      'repo:push',
      '--url',
      url,
      '--secret',
      'wrong',
    ]);
    expect(sent.exit.code).toBe(1);
    expect(sent.stdout).toMatch(/^401 Unauthorized\n\{\n {2}"error": \{\n {4}"code": "invalid-signature"/);
  });
});
