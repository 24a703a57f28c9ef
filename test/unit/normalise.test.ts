import { describe, expect, it } from 'vitest';
import { inferProvider } from '../../shared/bitbucket/event-keys';
import { normaliseDelivery } from '../../shared/bitbucket/normalise';
import type {
  HookEvent,
  PullRequestEvent,
  PushEvent,
  RepositoryUpdatedEvent,
} from '../../shared/domain/events';
import { InvalidPayloadError, UnknownProviderError } from '../../shared/errors';
import { readFixtureJson } from '../support/fixtures';

function normalise(file: string, eventKey: string | undefined): HookEvent {
  return normaliseDelivery({ eventKey, body: readFixtureJson(file) });
}

describe('normalising pushes', () => {
  it('keeps every change of a push that carries several', () => {
    const push = normalise('cloud/jenkins-bbsource__multipleChangesPayload.json', 'repo:push') as PushEvent;
    expect(push.changes.map((c) => [c.refType, c.name, c.action, c.truncated])).toEqual([
      ['branch', 'main', 'updated', false],
      ['branch', 'manchu', 'created', true],
      ['tag', 'v0.1', 'created', false],
    ]);
  });

  it('reads a delete that has no commits and no links', () => {
    const push = normalise('cloud/drone-go-scm__push_branch_delete.json', 'repo:push') as PushEvent;
    expect(push.changes).toEqual([
      {
        refType: 'branch',
        name: 'develop',
        action: 'deleted',
        forced: false,
        truncated: false,
        commit: null,
        previousSha: '141977fedf5cf35aa290ac87d4b5177ac4cd9de1',
      },
    ]);
  });

  it('reads a lightweight tag whose message, date and tagger are null', () => {
    const push = normalise('cloud/jenkins-bbsource__tag_created.json', 'repo:push') as PushEvent;
    expect(push.changes[0]).toMatchObject({ refType: 'tag', name: 'simple-tag', action: 'created' });
    expect(push.changes[0]?.commit?.sha).toBe('7ef5981d59145c3ed300b1ab77b93907d33abe59');
  });

  it('keeps the forced and truncated flags of a force push', () => {
    const push = normalise('cloud/jenkins-bbsource__commit_created.json', 'repo:push') as PushEvent;
    expect(push.changes[0]).toMatchObject({ forced: true, truncated: true, action: 'updated' });
    expect(push.changes[0]?.commit?.message).toBeTruthy();
  });

  it('reads an empty change list as a push with no changes', () => {
    expect(
      (normalise('cloud/jenkins-bbsource__emptyPayload.json', 'repo:push') as PushEvent).changes,
    ).toEqual([]);
    expect(
      (normalise('server/jenkins-bbsource__emptyPayload.json', 'repo:refs_changed') as PushEvent).changes,
    ).toEqual([]);
  });

  it('derives Cloud clone URLs from the full name and uses the uuid as identity', () => {
    const push = normalise('cloud/drone-go-scm__push.json', 'repo:push') as PushEvent;
    expect(push.repository).toEqual({
      id: '{bc771cbf-829e-4c4b-b71f-a0eb3ac2b860}',
      fullName: 'brydzewski/foo',
      cloneUrls: {
        ssh: 'git@bitbucket.org:brydzewski/foo.git',
        https: 'https://bitbucket.org/brydzewski/foo.git',
      },
    });
    expect(push.actor).toMatchObject({ name: 'Brad Rydzewski' });
  });

  it('reads Data Center ref changes, clone links and the numeric repository id', () => {
    const push = normalise('server/woodpecker__HookPush.json', 'repo:refs_changed') as PushEvent;
    expect(push.repository).toEqual({
      id: '1684',
      fullName: 'DEV/deployment-automation',
      cloneUrls: {
        ssh: 'ssh://git@bitbucket.example.com:7999/dev/deployment-automation.git',
        https: 'https://bitbucket.example.com/scm/dev/deployment-automation.git',
      },
    });
    expect(push.changes[0]).toMatchObject({ refType: 'branch', name: 'renovate-all', action: 'updated' });
  });

  it('reads Data Center creates and deletes from the change type and the all-zero hash', () => {
    const created = normalise('server/drone-go-scm__push_tag_create.json', 'repo:refs_changed') as PushEvent;
    expect(created.changes[0]).toMatchObject({ refType: 'tag', name: 'v1.1.0', action: 'created' });
    expect(created.changes[0]?.previousSha).toBeUndefined();
    const deleted = normalise(
      'server/jenkins-bbsource__branch_deleted.json',
      'repo:refs_changed',
    ) as PushEvent;
    expect(deleted.changes[0]).toMatchObject({ action: 'deleted', commit: null });
  });

  it('builds an annotated Data Center tag at the tagged commit, with its message', () => {
    const push = normalise(
      'server/jenkins-bbsource__annotated_tag_created.json',
      'repo:refs_changed',
    ) as PushEvent;
    expect(push.changes[0]?.commit).toEqual({
      sha: 'fb522a6f08c7c7df337312e4e65ec1b57710672e',
      abbreviated: false,
      message: 'Suppress echo command part',
    });
  });

  it('reads a mirror synchronisation as a push', () => {
    const push = normalise('server/jenkins-bbsource__mirrorSynchronized.json', 'mirror:repo_synchronized');
    expect(push).toMatchObject({ kind: 'push', changes: [{ name: 'main', action: 'updated' }] });
    const limited = normalise(
      'server/jenkins-bbsource__mirrorSynchronized_refLimitExceeded.json',
      'mirror:repo_synchronized',
    );
    expect(limited).toMatchObject({ kind: 'push', changes: [], refLimitExceeded: true });
  });
});

describe('normalising pull requests', () => {
  it('marks Cloud pull-request commits as abbreviated and a missing draft as false', () => {
    const pr = normalise('cloud/drone-go-scm__pr_created.json', 'pullrequest:created') as PullRequestEvent;
    expect(pr.pullRequest.source.commit).toEqual({ sha: '507a576e59b3', abbreviated: true });
    expect(pr.pullRequest.draft).toBe(false);
    expect(pr.action).toBe('opened');
  });

  it('reads draft when Bitbucket sends it', () => {
    const pr = normalise(
      'cloud/jenkins-bbsource__pullrequest_updated.json',
      'pullrequest:updated',
    ) as PullRequestEvent;
    expect(pr.pullRequest.draft).toBe(false);
    const dc = normalise('server/jenkins-bbsource__newPRPayload.json', 'pr:opened') as PullRequestEvent;
    expect(dc.pullRequest).toMatchObject({ draft: false, state: 'open' });
  });

  it('tells a fork from the same repository on both platforms', () => {
    const cloudFork = normalise('cloud/jenkins-bbsource__createPayloadFork.json', 'pullrequest:created');
    expect((cloudFork as PullRequestEvent).pullRequest.fromFork).toBe(true);
    const cloudOrigin = normalise('cloud/jenkins-bbsource__createPayloadOrigin.json', 'pullrequest:created');
    expect((cloudOrigin as PullRequestEvent).pullRequest.fromFork).toBe(false);
    const dcFork = normalise(
      'server/woodpecker__HookPullRequestOpenedFromFork.json',
      'pr:opened',
    ) as PullRequestEvent;
    expect(dcFork.pullRequest.fromFork).toBe(true);
    expect(dcFork.repository.fullName).toBe('DEV/deployment-automation');
    expect(dcFork.pullRequest.source.repository.fullName).toBe('~JOHN.DOE_EXAMPLE.COM/deployment-automation');
  });

  it('sees a fork whose capture kept the destination uuid on the source side', () => {
    const pr = normalise('cloud/atlantis__bitbucket-cloud-pull-event-created.json', 'pullrequest:created');
    expect((pr as PullRequestEvent).pullRequest.fromFork).toBe(true);
  });

  it('reads a Data Center pull request opened from a tag', () => {
    const pr = normalise(
      'server/jenkins-bbsource__prOpenFromTagPayload.json',
      'pr:opened',
    ) as PullRequestEvent;
    expect(pr.pullRequest.source).toMatchObject({ branch: 'v1.0', refType: 'tag' });
  });

  it('maps each pull-request event key to what it means', () => {
    const action = (file: string, key: string) => (normalise(file, key) as PullRequestEvent).action;
    expect(action('cloud/drone-go-scm__pr_updated.json', 'pullrequest:updated')).toBe('updated');
    expect(action('cloud/drone-go-scm__pr_fulfilled.json', 'pullrequest:fulfilled')).toBe('closed');
    expect(action('server/drone-go-scm__pr_from_ref_updated.json', 'pr:from_ref_updated')).toBe(
      'source-moved',
    );
    expect(action('server/drone-go-scm__pr_modified_meta.json', 'pr:modified')).toBe('metadata');
    expect(action('server/jx-go-scm__pr_deleted.json', 'pr:deleted')).toBe('closed');
  });

  it.each([
    ['cloud/drone-go-scm__pr_fulfilled.json', 'pullrequest:fulfilled', 'merged'],
    ['cloud/drone-go-scm__pr_declined.json', 'pullrequest:rejected', 'declined'],
    ['cloud/drone-go-scm__pr_updated.json', 'pullrequest:superseded', 'superseded'],
    ['server/drone-go-scm__pr_merged.json', 'pr:merged', 'merged'],
    ['server/drone-go-scm__pr_declined.json', 'pr:declined', 'declined'],
    ['server/go-playground-webhooks__pr-deleted.json', 'pr:deleted', 'declined'],
  ])(
    'takes the state of a closed pull request (%s) from its key %s, even over an open payload',
    (file, key, state) => {
      const pr = normalise(file, key) as PullRequestEvent;
      expect(pr.action).toBe('closed');
      expect(pr.pullRequest.state).toBe(state);
    },
  );

  it('takes the state from the payload when the key does not tell', () => {
    const pr = normalise('server/drone-go-scm__pr_open.json', 'pr:opened') as PullRequestEvent;
    expect(pr.pullRequest.state).toBe('open');
    const merged = normalise('cloud/atlantis__bitbucket-cloud-comment-event.json', 'pullrequest:updated');
    expect((merged as PullRequestEvent).pullRequest.state).toBe('merged');
  });

  it('accepts both Data Center spellings of "changes requested" as unused events', () => {
    for (const key of ['pr:reviewer:needs_work', 'pr:reviewer:changes_requested']) {
      const hook = normalise('server/jx-go-scm__pr_needs_work.json', key);
      expect(hook).toMatchObject({ kind: 'unused', eventKey: key, provider: 'bitbucket-data-center' });
      expect(hook.kind === 'unused' && hook.repository?.id).toBeTruthy();
    }
  });
});

describe('normalising repository events and pings', () => {
  it('reads a Cloud rename with the previous full name', () => {
    const hook = normalise(
      'cloud/go-playground-webhooks__repo-updated.json',
      'repo:updated',
    ) as RepositoryUpdatedEvent;
    expect(hook).toMatchObject({
      kind: 'repository-updated',
      previousFullName: 'teamawesome/repository_name',
    });
  });

  it('reads a Data Center repo:modified with the old and new names', () => {
    const hook = normalise(
      'server/go-playground-webhooks__repo-modified.json',
      'repo:modified',
    ) as RepositoryUpdatedEvent;
    expect(hook.kind).toBe('repository-updated');
    expect(hook.previousFullName).toBe('gopher/webhook-test-2');
  });

  it('reads a ping without an event key from its body', () => {
    expect(
      normaliseDelivery({ eventKey: undefined, body: readFixtureJson('server/jenkins-bbsource__ping.json') }),
    ).toEqual({
      kind: 'ping',
      provider: 'bitbucket-data-center',
      eventKey: 'diagnostics:ping',
    });
  });
});

describe('bad input', () => {
  it('refuses a used event whose payload lacks what the rules read, naming where', () => {
    expect(() => normaliseDelivery({ eventKey: 'repo:push', body: { repository: {} } })).toThrow(
      InvalidPayloadError,
    );
    expect(() => normaliseDelivery({ eventKey: 'repo:push', body: { repository: {} } })).toThrow(/push/);
    expect(() => normaliseDelivery({ eventKey: 'pr:opened', body: [] })).toThrow(InvalidPayloadError);
  });

  it('says where a real payload is wrong, what it expected there and what kind of value it found', () => {
    const push = readFixtureJson<Record<string, unknown>>('cloud/drone-go-scm__push.json');
    expect(() =>
      normaliseDelivery({ eventKey: 'repo:push', body: { ...push, repository: 'acme/widgets' } }),
    ).toThrow(
      new InvalidPayloadError(
        'repo:push payload is not valid at repository: expected an object, got a string',
      ),
    );
    const dcPush = readFixtureJson<Record<string, unknown>>('server/woodpecker__HookPush.json');
    const { changes: _changes, ...withoutChanges } = dcPush;
    expect(() => normaliseDelivery({ eventKey: 'repo:refs_changed', body: withoutChanges })).toThrow(
      new InvalidPayloadError(
        'repo:refs_changed payload is not valid at changes: expected an array, got nothing',
      ),
    );
  });

  it('asks for the provider when neither key nor body tells', () => {
    expect(() => normaliseDelivery({ eventKey: 'something:new', body: {} })).toThrow(UnknownProviderError);
    expect(normaliseDelivery({ eventKey: 'something:new', body: {}, provider: 'bitbucket-cloud' }).kind).toBe(
      'unused',
    );
  });

  it('refuses an event of the other platform, saying which is which', () => {
    const dcPush = readFixtureJson('server/woodpecker__HookPush.json');
    expect(() =>
      normaliseDelivery({ eventKey: 'repo:refs_changed', body: dcPush, provider: 'bitbucket-cloud' }),
    ).toThrow(/Bitbucket Data Center event, but this was sent as Bitbucket Cloud/);
  });

  it('infers Data Center from the body when the key is unknown', () => {
    expect(inferProvider('repo:secret_scanned', { eventKey: 'repo:secret_scanned' })).toBe(
      'bitbucket-data-center',
    );
    expect(inferProvider('repo:push', {})).toBe('bitbucket-cloud');
  });

  it('requires an event key for anything but a ping', () => {
    expect(() => normaliseDelivery({ eventKey: undefined, body: { push: { changes: [] } } })).toThrow(
      /X-Event-Key/,
    );
  });
});
