import { describe, expect, it } from 'vitest';
import { normaliseDelivery } from '../../shared/bitbucket/normalise';
import { payloadRepositoryId } from '../../shared/bitbucket/repository-id';
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
