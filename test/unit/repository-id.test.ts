import { describe, expect, it } from 'vitest';
import { normaliseDelivery } from '../../shared/bitbucket/normalise';
import {
  normaliseRepositoryId,
  payloadRepositoryId,
  providerOfRepositoryId,
} from '../../shared/bitbucket/repository-id';
import { repositoryIdOf } from '../../shared/ingest/accept-delivery';
import { listFixtures, readFixtureJson } from '../support/fixtures';

describe('the repository id of a payload', () => {
  it('is the id normalisation gives the repository, for every corpus payload', () => {
    let compared = 0;
    for (const fixture of listFixtures()) {
      const body = readFixtureJson(fixture);
      const event = normaliseDelivery({ eventKey: fixture.eventKey, body });
      const id = 'repository' in event ? event.repository?.id : undefined;
      if (!id) continue;
      expect(payloadRepositoryId(body), fixture.path).toBe(id);
      expect(repositoryIdOf(body), fixture.path).toBe(id);
      compared++;
    }
    expect(compared).toBeGreaterThan(100);
  });

  it('reads a Data Center pull request by its target and a rename by its new side', () => {
    expect(payloadRepositoryId({ pullRequest: { toRef: { repository: { id: 7 } } } })).toBe('7');
    expect(payloadRepositoryId({ old: { id: 1 }, new: { id: 8 } })).toBe('8');
  });

  it('prefers a uuid to a numeric id, and skips an empty or mistyped field', () => {
    expect(payloadRepositoryId({ repository: { uuid: '{a}', id: 3 } })).toBe('{a}');
    expect(payloadRepositoryId({ repository: { uuid: '', id: 3 } })).toBe('3');
    expect(payloadRepositoryId({ repository: { uuid: 5, id: 3 } })).toBe('3');
    expect(payloadRepositoryId({ repository: { id: '3' }, new: { id: 4 } })).toBe('4');
    expect(payloadRepositoryId({ repository: [], pullRequest: 'x', new: { id: 4 } })).toBe('4');
  });

  it('is undefined, never an error, for a payload that names no repository', () => {
    for (const payload of [
      undefined,
      null,
      'x',
      3,
      [],
      {},
      { repository: null },
      { pullRequest: { toRef: 1 } },
    ]) {
      expect(payloadRepositoryId(payload)).toBeUndefined();
      expect(repositoryIdOf(payload)).toBeUndefined();
    }
  });

  it('keeps out of the message group an id that is too long or not printable, without trying the next', () => {
    expect(repositoryIdOf({ repository: { uuid: 'x'.repeat(64) } })).toBe('x'.repeat(64));
    expect(repositoryIdOf({ repository: { uuid: 'x'.repeat(65) }, new: { id: 3 } })).toBeUndefined();
    expect(repositoryIdOf({ repository: { uuid: '{a b}' } })).toBeUndefined();
  });
});

describe('a repository id given by a person', () => {
  const uuid = '{3deb8c29-778a-450c-8f69-3e50a18079df}'; // amuniz/test-repos in the Cloud captures

  it('is a Cloud uuid in braces and lower case, as payloads carry it', () => {
    for (const given of [
      uuid,
      uuid.slice(1, -1),
      uuid.toUpperCase(),
      ` ${uuid.slice(1, -1).toUpperCase()} `,
    ]) {
      expect(normaliseRepositoryId('bitbucket-cloud', given), given).toBe(uuid);
    }
    expect(payloadRepositoryId(readFixtureJson('cloud/jenkins-bbsource__branch_created.json'))).toBe(uuid);
  });

  it('is a Data Center number without leading zeros, as payloads carry it', () => {
    expect(normaliseRepositoryId('bitbucket-data-center', '42')).toBe('42');
    expect(normaliseRepositoryId('bitbucket-data-center', '0042')).toBe('42');
    expect(normaliseRepositoryId('bitbucket-data-center', '2147483647')).toBe('2147483647');
  });

  it('is refused when it is not the shape of the platform', () => {
    for (const given of ['42', `{${uuid.slice(1, 9)}}`, uuid.slice(0, -1), `${uuid}x`, '']) {
      expect(normaliseRepositoryId('bitbucket-cloud', given), given).toBeUndefined();
    }
    for (const given of [uuid, '0', '-1', '1.5', '2147483648', '4e2', '']) {
      expect(normaliseRepositoryId('bitbucket-data-center', given), given).toBeUndefined();
    }
  });

  it('tells the platform by its shape', () => {
    expect(providerOfRepositoryId(uuid)).toBe('bitbucket-cloud');
    expect(providerOfRepositoryId('42')).toBe('bitbucket-data-center');
    expect(providerOfRepositoryId('acme/web')).toBeUndefined();
  });
});
