import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ReceivedMessage } from '../../local/local-queue';
import { triggerSink } from '../../local/trigger-sink';
import type { TriggerMessage } from '../../shared/domain/trigger-message';

const SHA = 'e42fac24456e4a56f1b7f9358afc3070e3b7ddec';
const trigger = (triggerId: string): TriggerMessage => ({
  schema: 'hookgate.trigger/v1',
  triggerId,
  createdAt: '2026-01-01T00:00:00.000Z',
  integration: 'local',
  provider: 'bitbucket-cloud',
  project: {
    id: 'prj-1',
    repository: 'cloudbeers/temp',
    repositoryId: '{r}',
    cloneUrl: 'git@bitbucket.org:cloudbeers/temp.git',
    defaultBranch: 'main',
  },
  reason: 'default-branch',
  ref: { type: 'branch', name: 'main' },
  commit: { sha: SHA, abbreviated: false },
  trust: 'trusted',
  secretsAllowed: true,
  checkout: { deployKeySecretId: 'hookgate/local/projects/prj-1/deploy-key', knownHosts: [] },
  delivery: { id: 'd1', eventKey: 'repo:push', receivedAt: '2026-01-01T00:00:00.000Z' },
});
const received = (id: string, receiveCount = 1, groupId = 'prj-1'): ReceivedMessage => ({
  messageId: `m-${id}`,
  body: JSON.stringify(trigger(id.repeat(64).slice(0, 64))),
  groupId,
  deduplicationId: id,
  receiveCount,
  sentAt: 0,
});

let dir: string;
let out: string[];
let err: string[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hookgate-sink-'));
  out = [];
  err = [];
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const sink = (exec?: string) =>
  triggerSink({
    ndjsonPath: join(dir, 'triggers.ndjson'),
    maxReceiveCount: 5,
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    ...(exec ? { exec } : {}),
  });

describe('the local trigger sink', () => {
  it('prints one line per trigger and appends the full message to the NDJSON file', async () => {
    expect(await sink()([received('a'), received('b')])).toEqual([]);
    expect(out).toEqual([
      'trigger  cloudbeers/temp  branch main  e42fac2  default-branch',
      'trigger  cloudbeers/temp  branch main  e42fac2  default-branch',
    ]);
    const lines = readFileSync(join(dir, 'triggers.ndjson'), 'utf8').trim().split('\n');
    expect(lines.map((line) => JSON.parse(line).triggerId)).toEqual(['a'.repeat(64), 'b'.repeat(64)]);
  });

  it('fails a trigger whose command exits non-zero, and the later triggers of its project with it', async () => {
    const failed = await sink(
      'echo "trying $HOOKGATE_TRIGGER_ID"; case "$HOOKGATE_TRIGGER_ID" in a*) exit 3;; esac',
    )([received('a'), received('b'), received('c', 1, 'prj-2')]);
    expect(failed).toEqual(['m-a', 'm-b']);
    // b waits behind a (same project), so its command never ran; c is another project.
    expect(out.filter((line) => line.startsWith('[exec]'))).toEqual([
      `[exec] trying ${'a'.repeat(64)}`,
      `[exec] trying ${'c'.repeat(64)}`,
    ]);
    expect(err[0]).toMatch(
      /^\[exec\] the command exited with code 3 for trigger a{12} \(attempt 1 of 5\); it will be offered again$/,
    );
  });

  it('offers a failed trigger again, printed with its attempt, but writes it to the file once', async () => {
    // Fails the first time only: the failing run leaves the flag file.
    const flag = join(dir, 'ran-once');
    const consumer = sink(`test -e '${flag}' || { touch '${flag}'; exit 1; }`);
    expect(await consumer([received('a', 1)])).toEqual(['m-a']);
    expect(await consumer([received('a', 2)])).toEqual([]);
    expect(out).toEqual([
      'trigger  cloudbeers/temp  branch main  e42fac2  default-branch',
      'trigger  cloudbeers/temp  branch main  e42fac2  default-branch  (attempt 2 of 5)',
    ]);
    expect(readFileSync(join(dir, 'triggers.ndjson'), 'utf8').trim().split('\n')).toHaveLength(1);
  });
});
