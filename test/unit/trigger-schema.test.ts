import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildTriggerMessage, type TriggerInput } from '../../shared/domain/build-trigger';
import { type Decision, isTrigger, type TriggerDecision } from '../../shared/domain/decision';
import { BITBUCKET_CLOUD_KNOWN_HOSTS } from '../../shared/domain/known-hosts';
import { triggerJsonSchemaText } from '../../shared/domain/trigger-json-schema';
import { TriggerMessageSchema } from '../../shared/domain/trigger-message';
import { evaluateDelivery } from '../../shared/evaluate';
import { readFixtureJson } from '../support/fixtures';

const COMMITTED = new URL('../../schemas/trigger-v1.schema.json', import.meta.url);

function decisionsFor(path: string, eventKey: string, settings: object = {}): Decision[] {
  return evaluateDelivery({ eventKey, payload: readFixtureJson(path), defaultBranch: 'main', settings })
    .decisions;
}

function inputFor(decision: Decision | undefined): TriggerInput {
  return {
    // Unchecked on purpose: a decision read back from the store is not validated either.
    decision: decision as TriggerDecision,
    integration: 'acme-cloud',
    provider: 'bitbucket-cloud',
    project: {
      id: 'prj-1',
      fullName: 'cloudbeers/temp',
      repositoryId: '{708c9715-0ecc-4a5d-87ed-63c4ba48ea06}',
      cloneUrl: 'git@bitbucket.org:cloudbeers/temp.git',
      httpsUrl: 'https://bitbucket.org/cloudbeers/temp.git',
      defaultBranch: 'main',
      deployKeySecretId: 'hookgate/test/projects/prj-1/deploy-key',
      knownHosts: BITBUCKET_CLOUD_KNOWN_HOSTS,
    },
    delivery: { id: 'a1b2c3', eventKey: 'repo:push', receivedAt: '2026-01-02T03:04:05.000Z' },
    actor: { name: 'Stephen Connolly', login: 'stephenc' },
    createdAt: '2026-01-02T03:04:06.000Z',
  };
}

describe('schemas/trigger-v1.schema.json', () => {
  it('is the JSON Schema generated from TriggerMessageSchema', () => {
    expect(
      readFileSync(COMMITTED, 'utf8'),
      'schemas/trigger-v1.schema.json is out of date: run `npm run gen:schema`',
    ).toBe(triggerJsonSchemaText());
  });
});

describe('buildTriggerMessage', () => {
  it('builds a valid v1 message from a default-branch push trigger', () => {
    const [main] = decisionsFor('cloud/jenkins-bbsource__multipleChangesPayload.json', 'repo:push');
    expect(main).toMatchObject({ action: 'trigger', reason: 'default-branch' });
    const message = buildTriggerMessage(inputFor(main));
    expect(TriggerMessageSchema.safeParse(message).error).toBeUndefined();
    expect(message).toMatchObject({
      schema: 'hookgate.trigger/v1',
      triggerId: main && isTrigger(main) ? main.triggerId : 'not a trigger',
      ref: { type: 'branch', name: 'main' },
      commit: { sha: '325d37697849f4b1fe42cb19c20134af08e03a82', abbreviated: false },
      trust: 'trusted',
    });
  });

  it('builds a valid untrusted message from a forked pull-request trigger', () => {
    const [forked] = decisionsFor('cloud/jenkins-bbsource__createPayloadFork.json', 'pullrequest:created', {
      buildForkedPullRequests: true,
    });
    expect(forked).toMatchObject({ action: 'trigger', reason: 'forked-pr' });
    const message = buildTriggerMessage(inputFor(forked));
    expect(TriggerMessageSchema.safeParse(message).error).toBeUndefined();
    expect(message).toMatchObject({
      trust: 'untrusted',
      secretsAllowed: false,
      commit: { sha: '1c48041a96db', abbreviated: true },
      pullRequest: { id: 3, fromFork: true, sourceRepository: 'stephenc/temp-fork' },
    });
  });

  it('refuses a decision that is not a trigger', () => {
    const [deleted] = decisionsFor('cloud/jenkins-bbsource__branch_deleted.json', 'repo:push');
    expect(deleted).toMatchObject({ action: 'skip', reason: 'ref-deleted' });
    expect(() => buildTriggerMessage(inputFor(deleted))).toThrow(/not a trigger/);
  });
});
