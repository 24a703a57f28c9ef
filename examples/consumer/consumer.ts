import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import * as z from 'zod/mini';
import { type TriggerMessage, TriggerMessageSchema } from '../../shared/domain/trigger-message';

/**
 * The deploy key document Hookgate keeps in Secrets Manager under `checkout.deployKeySecretId`:
 * an OpenSSH private key, its public half (registered on the repository, read-only) and its
 * fingerprint.
 */
export const DeployKeySchema = z.object({
  privateKey: z.string().check(z.minLength(1)),
  publicKey: z.string(),
  fingerprint: z.string(),
});

/** Runs `git` with these arguments; rejects when git fails. Injected so tests need no git. */
export type GitRunner = (
  args: string[],
  options: { cwd: string; env: Record<string, string> },
) => Promise<void>;

/**
 * A build the runner started that still works in the checkout: the checkout is removed when
 * `finished` settles (a rejection is logged; the message is gone by then, so nothing retries it).
 */
export interface RunningBuild {
  finished: Promise<unknown>;
}

/**
 * Starts the pipeline for a checkout and resolves once it has started: the message is deleted
 * then, so the project's next trigger does not wait for this build to finish. Resolve with a
 * `RunningBuild` when the build keeps using the checkout; otherwise the checkout is removed at
 * once. A rejection leaves the message for SQS to deliver again.
 */
export type Build = (checkout: {
  dir: string;
  trigger: TriggerMessage;
}) => Promise<RunningBuild | undefined> | Promise<void>;

export interface ConsumerDeps {
  sqs: SQSClient;
  secrets: SecretsManagerClient;
  /** The stack's `TriggersQueueUrl` output. */
  queueUrl: string;
  git?: GitRunner;
  build?: Build;
  /** Where temporary checkouts go (default: the OS temp directory). */
  workRoot?: string;
  log?: (message: string) => void;
  /**
   * Builds still running in their checkout, each until its checkout is removed: await them
   * (`Promise.all`) before the process exits.
   */
  running?: Set<Promise<void>>;
}

export type Outcome = 'done' | 'failed' | 'skipped';

/**
 * Receives one batch from `triggers.fifo` (long polling) and handles its messages in order. A
 * message is deleted once its checkout succeeded and its build has started; a failed one comes
 * back after the visibility timeout, and after 5 receives moves to the dead-letter queue, which
 * alarms. Later messages of a failed message's group are left alone too, so a project's order holds.
 */
export async function consumeOnce(deps: ConsumerDeps): Promise<Outcome[]> {
  const { Messages = [] } = await deps.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: deps.queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 20,
      MessageSystemAttributeNames: ['MessageGroupId'],
    }),
  );
  const failedGroups = new Set<string>();
  const outcomes: Outcome[] = [];
  for (const message of Messages) {
    const group = message.Attributes?.MessageGroupId ?? '';
    if (failedGroups.has(group)) {
      outcomes.push('skipped');
      continue;
    }
    const outcome = await handleMessage(deps, message);
    if (outcome === 'failed') failedGroups.add(group);
    outcomes.push(outcome);
  }
  return outcomes;
}

/**
 * Validates one trigger, checks it out and starts its build; deletes the message once the build
 * has started. The checkout is removed when the build no longer needs it.
 */
export async function handleMessage(deps: ConsumerDeps, message: Message): Promise<Outcome> {
  const log = deps.log ?? console.log;
  const work = await mkdtemp(join(deps.workRoot ?? tmpdir(), 'hookgate-'));
  let running: RunningBuild | undefined;
  try {
    const trigger = parseTrigger(message.Body ?? '');
    log(
      `trigger ${trigger.triggerId}: ${trigger.project.repository} ${trigger.ref.type} ${trigger.ref.name} @ ${trigger.commit.sha} (${trigger.reason}, ${trigger.trust})`,
    );
    const dir = await checkout(deps, trigger, work);
    running = (await deps.build?.({ dir, trigger })) ?? undefined;
    await deps.sqs.send(
      new DeleteMessageCommand({ QueueUrl: deps.queueUrl, ReceiptHandle: message.ReceiptHandle }),
    );
    return 'done';
  } catch (error) {
    log(`message ${message.MessageId} not handled, it will come back: ${(error as Error).message}`);
    return 'failed';
  } finally {
    const remove = () => rm(work, { recursive: true, force: true });
    if (!running) await remove();
    else {
      const cleanup = running.finished
        .then(
          () => undefined,
          (error: unknown) => log(`a build failed after it started: ${(error as Error)?.message ?? error}`),
        )
        .then(remove);
      deps.running?.add(cleanup);
      void cleanup.finally(() => deps.running?.delete(cleanup));
    }
  }
}

/** Parses and validates a `hookgate.trigger/v1` message body. Throws on anything else. */
export function parseTrigger(body: string): TriggerMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new Error('message body is not JSON');
  }
  const result = TriggerMessageSchema.safeParse(json);
  if (!result.success) throw new Error(`not a hookgate.trigger/v1 message: ${result.error.message}`);
  return result.data;
}

/**
 * Clones the project at the trigger's commit with its deploy key into `work/repo` and returns
 * that directory. The key and known_hosts files (key mode 0600) are removed as soon as git is
 * done, whatever happens, so the build never sees the key.
 */
async function checkout(deps: ConsumerDeps, trigger: TriggerMessage, work: string): Promise<string> {
  // It becomes a git argument: a hash and nothing else (never something git reads as an option).
  if (!/^[0-9a-f]{7,64}$/.test(trigger.commit.sha))
    throw new Error(`commit ${trigger.commit.sha} is not a hash`);
  const key = await deployKey(deps.secrets, trigger.checkout.deployKeySecretId);
  const ssh = await mkdtemp(join(work, 'ssh-'));
  const dir = join(work, 'repo');
  try {
    const keyFile = join(ssh, 'deploy-key');
    const knownHostsFile = join(ssh, 'known_hosts');
    await writeFile(keyFile, key.privateKey.endsWith('\n') ? key.privateKey : `${key.privateKey}\n`, {
      mode: 0o600,
    });
    await writeFile(knownHostsFile, `${trigger.checkout.knownHosts.join('\n')}\n`, { mode: 0o600 });
    const env = {
      // Only this key, only these host keys: an unknown or changed host key fails the clone.
      GIT_SSH_COMMAND: `ssh -i ${quote(keyFile)} -o IdentitiesOnly=yes -o UserKnownHostsFile=${quote(knownHostsFile)} -o StrictHostKeyChecking=yes`,
      GIT_TERMINAL_PROMPT: '0',
    };
    const git = deps.git ?? runGit;
    await git(['clone', '--no-checkout', '--', trigger.project.cloneUrl, dir], { cwd: work, env });
    await git(['checkout', '--detach', trigger.commit.sha], { cwd: dir, env });
    return dir;
  } finally {
    await rm(ssh, { recursive: true, force: true });
  }
}

async function deployKey(
  secrets: SecretsManagerClient,
  secretId: string,
): Promise<z.infer<typeof DeployKeySchema>> {
  const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
  // Never echo the secret (JSON.parse's message quotes its input): say which one is wrong only.
  const malformed = new Error(`deploy key ${secretId} is not JSON {privateKey, publicKey, fingerprint}`);
  let json: unknown;
  try {
    json = JSON.parse(SecretString ?? '');
  } catch {
    throw malformed;
  }
  const result = DeployKeySchema.safeParse(json);
  if (!result.success) throw malformed;
  return result.data;
}

/** `git` from PATH, with the given environment added to this process's. */
export const runGit: GitRunner = (args, { cwd, env }) =>
  new Promise((resolve, reject) => {
    execFile('git', args, { cwd, env: { ...process.env, ...env } }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`git ${args[0]} failed: ${stderr.trim() || error.message}`));
      else resolve();
    });
  });

function quote(path: string): string {
  return `'${path.replace(/'/g, `'\\''`)}'`;
}
