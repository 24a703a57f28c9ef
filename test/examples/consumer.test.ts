import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { DeleteMessageCommand, type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ConsumerDeps, consumeOnce, type GitRunner } from '../../examples/consumer/consumer';
import { BITBUCKET_CLOUD_KNOWN_HOSTS } from '../../shared/domain/known-hosts';
import type { TriggerMessage } from '../../shared/domain/trigger-message';

const sqs = mockClient(SQSClient);
const secretsManager = mockClient(SecretsManagerClient);

const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'not-a-real-key' };
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/111122223333/hookgate-prod-triggers.fifo';
const DEPLOY_KEY_ID = 'hookgate/prod/projects/p-1/deploy-key';
const DEPLOY_KEY = {
  privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----',
  publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINotARealKey hookgate',
  fingerprint: 'SHA256:notarealfingerprint',
};

function trigger(overrides: Partial<TriggerMessage> = {}): TriggerMessage {
  return {
    schema: 'hookgate.trigger/v1',
    triggerId: 'a'.repeat(64),
    createdAt: '2025-03-01T10:00:05.000Z',
    integration: 'acme-cloud',
    provider: 'bitbucket-cloud',
    project: {
      id: 'p-1',
      repository: 'acme/widgets',
      repositoryId: '{3f1c5f5e-0000-4000-8000-000000000001}',
      cloneUrl: 'git@bitbucket.org:acme/widgets.git',
      httpsUrl: 'https://bitbucket.org/acme/widgets.git',
      defaultBranch: 'main',
    },
    reason: 'default-branch',
    ref: { type: 'branch', name: 'main' },
    commit: { sha: '0123456789abcdef0123456789abcdef01234567', abbreviated: false, message: 'Fix the gears' },
    trust: 'trusted',
    secretsAllowed: true,
    checkout: { deployKeySecretId: DEPLOY_KEY_ID, knownHosts: [...BITBUCKET_CLOUD_KNOWN_HOSTS] },
    delivery: { id: 'd-1', eventKey: 'repo:push', receivedAt: '2025-03-01T10:00:00.000Z' },
    ...overrides,
  };
}

function sqsMessage(id: string, body: unknown, group = 'p-1'): Message {
  return {
    MessageId: id,
    ReceiptHandle: `receipt-${id}`,
    Body: typeof body === 'string' ? body : JSON.stringify(body),
    Attributes: { MessageGroupId: group },
  };
}

interface GitCall {
  args: string[];
  cwd: string;
  env: Record<string, string>;
  keyFile?: { content: string; mode: number };
  knownHosts?: string;
}

/** Records each git call, and what the key and known_hosts files held while git ran. */
function fakeGit(fail?: (args: string[]) => boolean): { git: GitRunner; calls: GitCall[] } {
  const calls: GitCall[] = [];
  const git: GitRunner = async (args, options) => {
    const keyPath = /-i '([^']+)'/.exec(options.env.GIT_SSH_COMMAND ?? '')?.[1];
    const knownHostsPath = /UserKnownHostsFile='([^']+)'/.exec(options.env.GIT_SSH_COMMAND ?? '')?.[1];
    calls.push({
      args,
      ...options,
      ...(keyPath
        ? { keyFile: { content: readFileSync(keyPath, 'utf8'), mode: statSync(keyPath).mode & 0o777 } }
        : {}),
      ...(knownHostsPath ? { knownHosts: readFileSync(knownHostsPath, 'utf8') } : {}),
    });
    if (fail?.(args)) throw new Error(`git ${args[0]} failed: fatal: could not read from remote repository`);
  };
  return { git, calls };
}

let workRoot: string;
const logs: string[] = [];

function deps(overrides: Partial<ConsumerDeps> = {}): ConsumerDeps {
  return {
    sqs: new SQSClient({ region: 'eu-west-1', credentials }),
    secrets: new SecretsManagerClient({ region: 'eu-west-1', credentials }),
    queueUrl: QUEUE_URL,
    workRoot,
    log: (line) => logs.push(line),
    ...overrides,
  };
}

function receive(...messages: Message[]): void {
  sqs.on(ReceiveMessageCommand).resolves({ Messages: messages });
  sqs.on(DeleteMessageCommand).resolves({});
}

const deleted = () => sqs.commandCalls(DeleteMessageCommand).map((call) => call.args[0].input.ReceiptHandle);

beforeEach(() => {
  sqs.reset();
  secretsManager.reset();
  logs.length = 0;
  workRoot = mkdtempSync(join(tmpdir(), 'hookgate-consumer-test-'));
  secretsManager
    .on(GetSecretValueCommand, { SecretId: DEPLOY_KEY_ID })
    .resolves({ SecretString: JSON.stringify(DEPLOY_KEY) });
});

afterEach(() => {
  rmSync(workRoot, { recursive: true, force: true });
});

describe('the example trigger consumer', () => {
  it('long-polls triggers.fifo for a batch with the message group ids', async () => {
    receive();
    await consumeOnce(deps({ git: fakeGit().git }));
    expect(sqs.commandCalls(ReceiveMessageCommand)[0]?.args[0].input).toMatchObject({
      QueueUrl: QUEUE_URL,
      WaitTimeSeconds: 20,
      MessageSystemAttributeNames: ['MessageGroupId'],
    });
  });

  it('clones the project at the commit with the deploy key and known hosts, then deletes the message', async () => {
    receive(sqsMessage('m-1', trigger()));
    const { git, calls } = fakeGit();
    const builds: { triggerId: string; dir: string }[] = [];

    const outcomes = await consumeOnce(
      deps({
        git,
        build: async ({ dir, trigger }) => void builds.push({ triggerId: trigger.triggerId, dir }),
      }),
    );

    expect(outcomes).toEqual(['done']);
    expect(calls.map((call) => call.args)).toEqual([
      ['clone', '--no-checkout', '--', 'git@bitbucket.org:acme/widgets.git', expect.stringMatching(/repo$/)],
      ['checkout', '--detach', '0123456789abcdef0123456789abcdef01234567'],
    ]);
    expect(calls[1]?.cwd).toBe(calls[0]?.args[4]);
    expect(builds).toEqual([{ triggerId: 'a'.repeat(64), dir: calls[0]?.args[4] }]);
    expect(deleted()).toEqual(['receipt-m-1']);
  });

  it('gives git only the deploy key (mode 0600) and the trigger’s known hosts, strictly checked', async () => {
    receive(sqsMessage('m-1', trigger()));
    const { git, calls } = fakeGit();

    await consumeOnce(deps({ git }));

    const clone = calls[0] as GitCall;
    expect(clone.env.GIT_SSH_COMMAND).toMatch(/-o IdentitiesOnly=yes/);
    expect(clone.env.GIT_SSH_COMMAND).toMatch(/-o StrictHostKeyChecking=yes/);
    expect(clone.keyFile).toEqual({ content: `${DEPLOY_KEY.privateKey}\n`, mode: 0o600 });
    expect(clone.knownHosts).toBe(`${BITBUCKET_CLOUD_KNOWN_HOSTS.join('\n')}\n`);
    expect(secretsManager.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: DEPLOY_KEY_ID,
    });
  });

  it('removes the key, known hosts and checkout once done, whether git succeeded or not', async () => {
    const failing = 'fedcba9876543210fedcba9876543210fedcba98';
    receive(
      sqsMessage('m-1', trigger()),
      sqsMessage('m-2', trigger({ commit: { sha: failing, abbreviated: false } }), 'p-2'),
    );
    const { git, calls } = fakeGit((args) => args.includes(failing));

    expect(await consumeOnce(deps({ git }))).toEqual(['done', 'failed']);
    expect(calls.map((call) => call.keyFile?.mode)).toEqual([0o600, 0o600, 0o600, 0o600]);

    expect(readdirSync(workRoot)).toEqual([]);
  });

  it('deletes the message once the build has started, and keeps the checkout until the build finishes', async () => {
    receive(sqsMessage('m-1', trigger()));
    let finish = () => {};
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    let checkout = '';
    const running = new Set<Promise<void>>();

    const outcomes = await consumeOnce(
      deps({
        git: fakeGit().git,
        running,
        build: async ({ dir }) => {
          checkout = dir;
          return { finished };
        },
      }),
    );

    expect(outcomes).toEqual(['done']);
    expect(deleted()).toEqual(['receipt-m-1']);
    // The fake git writes nothing: the build's work directory is what must still be there.
    expect(existsSync(dirname(checkout))).toBe(true);
    expect(running.size).toBe(1);
    finish();
    await Promise.all(running);
    expect(readdirSync(workRoot)).toEqual([]);
    expect(running.size).toBe(0);
  });

  it('removes the deploy key before the build starts, so the build never sees it', async () => {
    receive(sqsMessage('m-1', trigger()));
    const { git, calls } = fakeGit();
    const seen: string[] = [];

    await consumeOnce(
      deps({
        git,
        build: async ({ dir }) => {
          seen.push(...readdirSync(dirname(dir), { recursive: true }).map(String));
        },
      }),
    );

    const keyFile = /-i '([^']+)'/.exec(calls[0]?.env.GIT_SSH_COMMAND ?? '')?.[1] ?? '';
    expect(keyFile).not.toBe('');
    expect(seen.filter((name) => !name.startsWith('repo'))).toEqual([]);
    expect(existsSync(keyFile)).toBe(false);
  });

  it('logs a build that fails after it started, and still removes its checkout', async () => {
    receive(sqsMessage('m-1', trigger()));
    const running = new Set<Promise<void>>();

    await consumeOnce(
      deps({
        git: fakeGit().git,
        running,
        build: async () => ({ finished: Promise.reject(new Error('tests failed')) }),
      }),
    );
    await Promise.all(running);

    expect(deleted()).toEqual(['receipt-m-1']);
    expect(logs.join('\n')).toMatch(/a build failed after it started: tests failed/);
    expect(readdirSync(workRoot)).toEqual([]);
  });

  it('keeps the message when git fails, so SQS delivers it again (and dead-letters it in the end)', async () => {
    receive(sqsMessage('m-1', trigger()));
    const { git } = fakeGit((args) => args[0] === 'clone');

    expect(await consumeOnce(deps({ git }))).toEqual(['failed']);
    expect(deleted()).toEqual([]);
    expect(logs.join('\n')).toMatch(/m-1 not handled.*could not read from remote repository/);
  });

  it('keeps the message when the build fails to start', async () => {
    receive(sqsMessage('m-1', trigger()));
    const build = async () => {
      throw new Error('pipeline refused');
    };

    expect(await consumeOnce(deps({ git: fakeGit().git, build }))).toEqual(['failed']);
    expect(deleted()).toEqual([]);
  });

  it('keeps a message that is not a v1 trigger, and never runs git for it', async () => {
    receive(
      sqsMessage('m-1', 'not json', 'g-1'),
      sqsMessage('m-2', { ...trigger(), schema: 'hookgate.trigger/v2' }, 'g-2'),
      sqsMessage(
        'm-3',
        { ...trigger(), commit: { sha: '--upload-pack=touch /tmp/pwned', abbreviated: false } },
        'g-3',
      ),
    );
    const { git, calls } = fakeGit();

    expect(await consumeOnce(deps({ git }))).toEqual(['failed', 'failed', 'failed']);
    expect(calls).toEqual([]);
    expect(deleted()).toEqual([]);
  });

  it('keeps the message when the deploy key is missing or malformed, without logging the secret', async () => {
    secretsManager
      .on(GetSecretValueCommand, { SecretId: 'hookgate/prod/projects/p-2/deploy-key' })
      .rejects(
        new ResourceNotFoundException({ message: 'Secrets Manager can’t find the secret.', $metadata: {} }),
      );
    secretsManager
      .on(GetSecretValueCommand, { SecretId: 'hookgate/prod/projects/p-3/deploy-key' })
      .resolves({ SecretString: 'PRIVATE-KEY-MATERIAL' });
    receive(
      sqsMessage(
        'm-2',
        trigger({ checkout: { deployKeySecretId: 'hookgate/prod/projects/p-2/deploy-key', knownHosts: [] } }),
        'p-2',
      ),
      sqsMessage(
        'm-3',
        trigger({ checkout: { deployKeySecretId: 'hookgate/prod/projects/p-3/deploy-key', knownHosts: [] } }),
        'p-3',
      ),
    );
    const { git, calls } = fakeGit();

    expect(await consumeOnce(deps({ git }))).toEqual(['failed', 'failed']);
    expect(calls).toEqual([]);
    expect(deleted()).toEqual([]);
    expect(logs.join('\n')).not.toContain('PRIVATE-KEY-MATERIAL');
  });

  it('leaves the later messages of a failed project for later, and goes on with other projects', async () => {
    receive(
      sqsMessage('m-1', trigger(), 'p-1'),
      sqsMessage('m-2', trigger({ triggerId: 'b'.repeat(64) }), 'p-1'),
      sqsMessage('m-3', trigger({ triggerId: 'c'.repeat(64) }), 'p-2'),
    );
    let clones = 0;
    const git: GitRunner = async (args) => {
      if (args[0] === 'clone' && ++clones === 1) throw new Error('git clone failed: timeout');
    };

    expect(await consumeOnce(deps({ git }))).toEqual(['failed', 'skipped', 'done']);
    expect(deleted()).toEqual(['receipt-m-3']);
  });

  it.skipIf(!hasGit())(
    'checks out the commit with the real git runner (from a local repository)',
    async () => {
      const source = join(workRoot, 'source');
      const git = (...args: string[]) => execFileSync('git', args, { cwd: source, encoding: 'utf8' }).trim();
      execFileSync('git', ['init', '-q', source]);
      git(
        '-c',
        'user.name=Test',
        '-c',
        'user.email=test@example.com',
        'commit',
        '-q',
        '--allow-empty',
        '-m',
        'one',
      );
      const sha = git('rev-parse', 'HEAD');
      git(
        '-c',
        'user.name=Test',
        '-c',
        'user.email=test@example.com',
        'commit',
        '-q',
        '--allow-empty',
        '-m',
        'two',
      );
      receive(
        sqsMessage(
          'm-1',
          trigger({
            project: { ...trigger().project, cloneUrl: source },
            commit: { sha, abbreviated: false },
          }),
        ),
      );
      const heads: string[] = [];
      const build = async ({ dir }: { dir: string }) => {
        heads.push(execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim());
      };

      expect(await consumeOnce(deps({ build }))).toEqual(['done']);
      expect(heads).toEqual([sha]);
      expect(deleted()).toEqual(['receipt-m-1']);
    },
  );
});

function hasGit(): boolean {
  try {
    execFileSync('git', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
