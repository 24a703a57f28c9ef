import { describe, expect, it } from 'vitest';
import { normaliseDelivery } from '../../shared/bitbucket/normalise';
import type { HookEvent } from '../../shared/domain/events';
import { fixtureFilesOnDisk, listFixtures, readFixtureJson } from '../support/fixtures';

// Event keys the rules act on (DESIGN §4) and the kind each normalises to; every other key is `unused`.
const KIND_OF_KEY: Record<string, HookEvent['kind']> = {
  'repo:push': 'push',
  'repo:refs_changed': 'push',
  'mirror:repo_synchronized': 'push',
  'pullrequest:created': 'pull-request',
  'pullrequest:updated': 'pull-request',
  'pullrequest:fulfilled': 'pull-request',
  'pullrequest:rejected': 'pull-request',
  'pr:opened': 'pull-request',
  'pr:from_ref_updated': 'pull-request',
  'pr:modified': 'pull-request',
  'pr:merged': 'pull-request',
  'pr:declined': 'pull-request',
  'pr:deleted': 'pull-request',
  'repo:updated': 'repository-updated',
  'repo:modified': 'repository-updated',
  'diagnostics:ping': 'ping',
};

const PROVIDER_OF_PLATFORM = { cloud: 'bitbucket-cloud', server: 'bitbucket-data-center' } as const;

interface RawChange {
  refType: 'branch' | 'tag';
  name: string;
  deleted: boolean;
}

interface RawPayload {
  push?: {
    changes: { old: { type: string; name: string } | null; new: { type: string; name: string } | null }[];
  };
  changes?: { ref?: { id: string }; refId?: string; type: string }[];
  pullrequest?: { source: { commit: { hash: string } } };
}

// Read straight from the payload, without the normaliser: Cloud `push.changes[]`, DC `changes[]`.
function rawChanges(platform: 'cloud' | 'server', body: RawPayload): RawChange[] {
  if (platform === 'cloud') {
    return (body.push?.changes ?? []).map((change) => {
      const ref = change.new ?? change.old;
      return {
        refType: ref?.type === 'tag' ? 'tag' : 'branch',
        name: ref?.name ?? '',
        deleted: change.new === null,
      };
    });
  }
  return (body.changes ?? []).map((change) => {
    const refId = change.ref?.id ?? change.refId ?? '';
    return {
      refType: refId.startsWith('refs/tags/') ? 'tag' : 'branch',
      name: refId.replace(/^refs\/(heads|tags)\//, ''),
      deleted: change.type === 'DELETE',
    };
  });
}

const fixtures = listFixtures();

describe('the payload corpus', () => {
  it('holds exactly the files MANIFEST.tsv lists', () => {
    const listed = listFixtures({ includeHeaders: true }).map((f) => f.path);
    expect([...fixtureFilesOnDisk()].sort()).toEqual([...listed].sort());
    expect(fixtures).toHaveLength(118);
  });

  for (const fixture of fixtures) {
    describe(fixture.path, () => {
      const body = readFixtureJson<RawPayload>(fixture);
      const expectedKind = KIND_OF_KEY[fixture.eventKey] ?? 'unused';
      const normalise = (): HookEvent => normaliseDelivery({ eventKey: fixture.eventKey, body });

      it(`normalises without throwing as a ${expectedKind} event keeping its key ${fixture.eventKey}`, () => {
        const event = normalise();
        expect(event.kind).toBe(expectedKind);
        expect(event.eventKey).toBe(fixture.eventKey);
        expect(event.provider).toBe(PROVIDER_OF_PLATFORM[fixture.platform]);
      });

      if (expectedKind === 'pull-request' && fixture.platform === 'cloud') {
        it('keeps the 12-character Cloud PR hashes and marks them abbreviated', () => {
          const event = normalise();
          if (event.kind !== 'pull-request') expect.unreachable(`normalised as ${event.kind}`);
          const { source, destination } = event.pullRequest;
          expect(source.commit.sha).toBe(body.pullrequest?.source.commit.hash);
          expect(source.commit).toMatchObject({
            sha: expect.stringMatching(/^[0-9a-f]{12}$/),
            abbreviated: true,
          });
          expect(destination.commit).toMatchObject({
            sha: expect.stringMatching(/^[0-9a-f]{12}$/),
            abbreviated: true,
          });
        });
      }

      if (expectedKind === 'push') {
        it('gives one normalised change per raw ref change, in payload order', () => {
          const event = normalise();
          if (event.kind !== 'push') expect.unreachable(`normalised as ${event.kind}`);
          const normalised = event.changes.map((change) => ({
            refType: change.refType,
            name: change.name,
            deleted: change.action === 'deleted',
          }));
          expect(normalised).toEqual(rawChanges(fixture.platform, body));
          for (const change of event.changes) {
            if (change.action === 'deleted') expect(change.commit).toBeNull();
            else
              expect(change.commit).toMatchObject({
                sha: expect.stringMatching(/^[0-9a-f]{40}$/),
                abbreviated: false,
              });
          }
        });
      }
    });
  }
});
